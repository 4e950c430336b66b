"model=timm through the command line: a 2-epoch digits run, a close-match refusal, local torchvision/timm weights, and the extra named when timm is missing."
import json, os, subprocess
import pytest
import torch
from conftest import cli

timm = pytest.importorskip('timm')
FAST = ['data=digits', 'trainer.limit_train_batches=3', 'trainer.limit_val_batches=1', 'trainer.limit_test_batches=1', 'seed=0']

def test_timm_resnet18_trains_two_epochs_on_digits(tmp_path, run_cli):
    p = run_cli('model=timm', 'model.arch=resnet18', 'trainer.max_epochs=2', 'name=t', *FAST)
    assert p.returncode == 0, p.stderr
    res = json.loads((tmp_path/'exp'/'t'/'results.json').read_text())
    assert res['status'] == 'finished' and res['epoch'] == 2 and 'test_acc' in res['metrics']

def test_unknown_timm_name_is_one_line_naming_the_close_match(run_cli):
    p = run_cli('model=timm', 'model.arch=resnet181', 'data=digits')
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "'resnet18'" in p.stderr and 'Traceback' not in p.stderr

@pytest.mark.parametrize('kind', ['torchvision.pth', 'timm.safetensors'])
def test_local_weights_of_the_same_architecture_load(tmp_path, run_cli, kind):
    "ImageNet-shaped weights saved by torchvision or timm start a 10-class, 1-channel timm ResNet-18: the stem and the head stay new."
    if kind.startswith('torchvision'):
        import torchvision
        path = tmp_path/'resnet18.pth'; torch.save(torchvision.models.resnet18().state_dict(), path)
    else:
        from safetensors.torch import save_file
        path = tmp_path/'resnet18.safetensors'; save_file(timm.create_model('resnet18', pretrained=False).state_dict(), path)
    p = run_cli('model=timm', 'model.arch=resnet18', 'trainer.max_epochs=1', 'name=w', f'model.init_from={path}', *FAST)
    assert p.returncode == 0, p.stderr
    line = next(l for l in p.stderr.splitlines() if 'model.init_from: loaded' in l)
    assert f'loaded 119 of 122 tensors from {path}' in line and 'conv1.weight (64x3x7x7 there, 64x1x7x7 here)' in line, line
    assert 'fc.weight (1000x512 there, 10x512 here)' in line, line

def test_model_timm_without_timm_names_the_extra(tmp_path):
    fake = tmp_path/'no_timm'/'timm'; fake.mkdir(parents=True)
    (fake/'__init__.py').write_text("raise ImportError('timm is not installed here')\n")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(fake.parent), os.environ.get('PYTHONPATH', '')])}
    p = subprocess.run([cli('visionlab-train'), 'model=timm', 'data=digits', f'exp_dir={tmp_path/"exp"}'],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert '.[timm]' in p.stderr and not (tmp_path/'exp').exists()
