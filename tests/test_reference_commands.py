"""Every `python main.py ...` command of the reference's README runs as `visionlab-train ...` with the same arguments.

The commands are read from the README file itself (its fenced code blocks, backslash continuations
joined), so a command added there is tested here. Each one is run as `visionlab-train --cfg <its arguments>`
in a subprocess: exit status 0, and stderr holds only the `note:` lines saying what each reference
spelling became. README: $VISIONLAB_REFERENCE_README, else ../shared/reference/seed-README.md beside
the repository; where neither is (a clone on its own), the commands are those of `EXPECTED` below, which the
first test keeps equal to the README's wherever the README is.
"""
import os, re, shlex, subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from conftest import ROOT, cli
from visionlab.config import translate_reference

README = Path(os.environ.get('VISIONLAB_REFERENCE_README', ROOT.parent/'shared'/'reference'/'seed-README.md'))

def reference_commands(text: str) -> list[list[str]]:
    "The arguments of every `python main.py` command in the fenced code blocks of markdown `text`."
    out = []
    for block in re.findall(r'^\s*```[^\n]*\n(.*?)^\s*```', text, flags=re.S | re.M):
        for line in re.sub(r'\\\n\s*', ' ', block).splitlines():
            words = shlex.split(line.strip())
            if words[:2] == ['python', 'main.py']: out.append(words[2:])
    return out

AUTO = 'data.module._target_=augmentation.policies.cifar.AutoAugmentTransform -> data.train_transforms=autoaugment'
DATA = "(no data=) -> data=cifar10, the reference's default"
PREACT50 = ('model._target_=models.preact_resnet.PreActResNet50 -> '
            'model=preact_resnet model.arch=preact_resnet50 model.bottleneck=false')
# each README command (its arguments) -> the notes it gives and what the composed tree holds
EXPECTED = {
    'env=local model=efficientnetv2 data=cifar10':
        ([], dict(arch='efficientnetv2_s', data='cifar10')),
    'env=local model=efficientnetv2 data=cifar10 model.type=M':
        (['model.type=M -> model.arch=efficientnetv2_m'], dict(arch='efficientnetv2_m', data='cifar10')),
    'model=custom_model model.lr=0.0001 model.optimizer=Madgrad model.scheduler=CosineAnneal model.warmstart=5 '
    'model.mixup=True data.module._target_=augmentation.policies.cifar.AutoAugmentTransform':
        ([AUTO, DATA], dict(arch='custom_net', data='cifar10', policy='autoaugment', optimizer='Madgrad', warmstart=5)),
    'model=resnet model._target_=models.dynamic_resnet.ResNet34 model.lr=0.1 model.optimizer=SGD model.sam=True '
    'model.scheduler=CosineAnneal data.module._target_=augmentation.policies.cifar.AutoAugmentTransform trainer.max_epochs=200':
        (['model._target_=models.dynamic_resnet.ResNet34 -> model=resnet model.arch=resnet34', AUTO, DATA],
         dict(arch='resnet34', data='cifar10', policy='autoaugment', sam=True)),
    'model=preact_resnet model._target_=models.preact_resnet.PreActResNet50 model.lr=0.1 model.optimizer=SGD model.sam=True '
    'model.warmstart=10 trainer.max_epochs=200':
        ([PREACT50, DATA], dict(arch='preact_resnet50', bottleneck=False, data='cifar10', sam=True, epochs=200)),
    'model=preact_resnet model._target_=models.preact_resnet.PreActResNet50 model.lr=0.1 model.optimizer=SGD '
    'model.warmstart=10 trainer.max_epochs=400':
        ([PREACT50, DATA], dict(arch='preact_resnet50', bottleneck=False, data='cifar10', sam=False, epochs=400)),
    'model=wide_resnet model.lr=0.1 model.optimizer=SGD model.scheduler=CosineAnneal '
    'data.module._target_=augmentation.policies.cifar.AutoAugmentTransform trainer.max_epochs=200 model.mixup=True':
        ([AUTO, DATA], dict(arch='wrn28_10', data='cifar10', policy='autoaugment', mixup=True)),
}
KEYS = dict(arch='model.arch', data='data.name', policy='data.train_transforms', optimizer='model.optimizer',
            warmstart='model.warmstart', sam='model.sam', mixup='model.mixup', epochs='trainer.max_epochs',
            bottleneck='model.bottleneck')

# the README's custom model, as a module of the user's registering it in its own family
CUSTOM_MODEL = """
from torch import nn
from visionlab.models.core import register_model

@register_model('custom_model', small_image_stem=True)   # a 3x3 stem: fit for CIFAR's cifar_size
def custom_net(num_classes=10, input_channels=3, stochastic_depth=None):
    return nn.Sequential(nn.Conv2d(input_channels, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(16, num_classes))
"""

COMMANDS = reference_commands(README.read_text()) if README.exists() else [shlex.split(c) for c in EXPECTED]

@pytest.mark.skipif(not README.exists(), reason=f'the reference README is not at {README}')
def test_every_readme_command_is_known():
    "The README's commands are exactly those listed here: a new one must be added with its expected translation."
    assert sorted(' '.join(c) for c in COMMANDS) == sorted(EXPECTED)

@pytest.mark.parametrize('args', COMMANDS, ids=[' '.join(c)[:60] for c in COMMANDS])
def test_translation_of_each_command(args):
    assert translate_reference(args)[1] == EXPECTED[' '.join(args)][0]

def _run_cfg(args, cwd):
    "`visionlab-train --cfg <args>` as a user types it, importing this checkout."
    extra = ['imports=[custom_model]'] if 'model=custom_model' in args else []
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep)}
    return subprocess.run([cli('visionlab-train'), '--cfg', *args, *extra], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)

@pytest.mark.parametrize('args', COMMANDS, ids=[' '.join(c)[:60] for c in COMMANDS])
def test_command_composes_as_written(args, tmp_path):
    (tmp_path/'custom_model.py').write_text(CUSTOM_MODEL)
    p = _run_cfg(args, tmp_path)
    assert p.returncode == 0, p.stderr
    notes, facts = EXPECTED[' '.join(args)]
    assert p.stderr.splitlines() == [f'visionlab-train: note: {n}' for n in notes], p.stderr
    cfg = OmegaConf.create(p.stdout)
    assert {k: OmegaConf.select(cfg, KEYS[k]) for k in facts} == facts

def test_best_run_recipe_shows_the_reference_details(tmp_path):
    "`--cfg` of a table recipe shows what the reference's code ran: cutout 16, its classifier init, SAM's BN passes, its precision, the last epoch tested."
    p = _run_cfg(['experiment=cifar10_pyramidnet110_best'], tmp_path)
    assert p.returncode == 0, p.stderr
    cfg = OmegaConf.create(p.stdout)
    assert (cfg.data.cutout_size, cfg.model.classifier_init, cfg.model.sam_bn_stats) == (16, 'reference', 'both_passes')
    assert (cfg.trainer.precision, cfg.checkpoint.monitor, cfg.checkpoint.mode) == ('reference', 'epoch', 'max')
