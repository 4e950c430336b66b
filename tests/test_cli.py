"The command line as a user runs it: a subprocess, real exit codes, real run directories."
import csv, json, re, subprocess
from pathlib import Path
from omegaconf import OmegaConf
from conftest import cli

FAST = ['data=digits', 'trainer.max_epochs=1', 'trainer.limit_train_batches=4', 'trainer.limit_val_batches=2',
        'trainer.limit_test_batches=2']

def test_one_epoch_writes_a_run_dir(run_cli, tmp_path):
    p = run_cli('model=resnet', *FAST, 'model.lr=0.05', 'name=one')
    assert p.returncode == 0, p.stderr
    run = tmp_path/'exp'/'one'
    assert 'test_acc=' in p.stdout and str(run) in p.stdout
    assert re.search(r'test_acc=\S+ .*\(\d+\.\d s, fit \d+\.\d s\)  run dir: ', p.stdout), p.stdout   # the run's time and the fit's
    info = json.loads((run/'results.json').read_text())
    assert 0 < info['fit_time'] + info['test_time'] < info['wall_time']
    cfg = OmegaConf.load(run/'config.yaml')
    assert cfg.model.lr == 0.05 and cfg.data.name == 'digits'
    rows = list(csv.DictReader(open(run/'metrics.csv')))
    assert any(r.get('test_acc') for r in rows) and any(r.get('val_loss') for r in rows)
    assert (run/'checkpoints'/'last.ckpt').exists() and list((run/'checkpoints').glob('best-*.ckpt'))

def test_bad_override_exits_2_with_one_line(run_cli, tmp_path):
    for args, phrase in [(['model.lrr=0.1'], "unknown key 'model.lrr': did you mean 'model.lr'?"),
                         (['model.optimizer=sgdd'], "did you mean 'SGD'"),
                         (['model=resnett'], "unknown model 'resnett'"),
                         (['model.lr=abc'], "model.lr='abc' is not a valid float"),
                         (['allocator=tcmaloc'], "allocator='tcmaloc' is not valid: did you mean 'tcmalloc'?")]:
        p = run_cli(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.count('\n') == 1 and phrase in p.stderr and 'Traceback' not in p.stderr, p.stderr
        assert p.stdout == ''
    assert not (tmp_path/'exp').exists()      # nothing written for a refused run

def test_allocator_is_chosen_before_torch_is_imported(run_cli, tmp_path, monkeypatch):
    "One run re-executes itself with tcmalloc before its heavy imports (torch is imported once); allocator=glibc stays."
    from visionlab.allocator import find_tcmalloc, REEXEC_FLAG
    for var in ('LD_PRELOAD', REEXEC_FLAG): monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('PYTHONPROFILEIMPORTTIME', '1')           # inherited by the re-executed process: both report
    for name, extra, used in [('auto', [], 'tcmalloc' if find_tcmalloc() else 'glibc'), ('glibc', ['allocator=glibc'], 'glibc')]:
        p = run_cli(*FAST, f'name={name}', *extra)
        assert p.returncode == 0, p.stderr[-2000:]
        assert len(re.findall(r'\|\s+torch$', p.stderr, flags=re.M)) == 1, name
        assert json.loads((tmp_path/'exp'/name/'results.json').read_text())['allocator']['allocator'] == used

def test_allocator_note_only_when_a_fit_starts(run_cli, tmp_path, monkeypatch):
    "On glibc's allocator (a machine without tcmalloc): a refusal and --cfg stay one line or none; a fit says it once."
    from visionlab.allocator import REEXEC_FLAG, TCMALLOC_ENV
    for var in ('LD_PRELOAD', REEXEC_FLAG): monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(TCMALLOC_ENV, '')                          # as where libtcmalloc-minimal4 is not installed
    note = "this process trains on glibc's allocator"
    p = run_cli('model=wide_resnet', 'model.depth=27', 'data=digits')
    assert (p.returncode, p.stderr.count('\n')) == (2, 1) and 'depth=27 is not valid' in p.stderr, p.stderr
    p = run_cli('--cfg', 'data=digits')
    assert p.returncode == 0 and note not in p.stderr, p.stderr
    p = run_cli(*FAST, 'name=glibc')
    assert p.returncode == 0 and p.stderr.count(note) == 1, p.stderr
    assert json.loads((tmp_path/'exp'/'glibc'/'results.json').read_text())['allocator']['allocator'] == 'glibc'

def test_multirun_makes_one_run_dir_per_value(run_cli, tmp_path):
    p = run_cli('-m', *FAST, 'model.lr=0.01,0.1')
    assert p.returncode == 0, p.stderr
    runs = sorted((tmp_path/'exp').iterdir())
    assert len(runs) == 2
    assert sorted(OmegaConf.load(r/'config.yaml').model.lr for r in runs) == [0.01, 0.1]
    assert '[1/2] ' in p.stdout and '[2/2] ' in p.stdout

def test_cross_validation_trains_every_fold(run_cli, tmp_path):
    "data.cv.k=3 from the command line: three fold runs through the one training path, then their summary."
    p = run_cli(*FAST, 'data.cv.k=3', 'name=cv')
    assert p.returncode == 0, p.stderr
    assert sorted(d.name for d in (tmp_path/'exp').iterdir()) == ['cv-cv.json', 'cv-fold0', 'cv-fold1', 'cv-fold2']
    assert all(f'fold {i}: test_acc=' in p.stdout for i in range(3)) and 'mean' in p.stdout and 'std' in p.stdout

def test_multirun_validates_every_job_first(run_cli, tmp_path):
    p = run_cli('-m', *FAST, 'model.lr=0.1,-1')
    assert p.returncode == 2 and 'model.lr=-1.0 is out of range' in p.stderr
    assert not (tmp_path/'exp').exists()

MY_MODELS = """
from torch import nn
from visionlab.models.core import register_model, init_weights

@register_model('tiny', small_image_stem=True)
def tiny_convnet(num_classes=10, input_channels=3, resnet_dropout=0.0):
    net = nn.Sequential(nn.Conv2d(input_channels, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Dropout(resnet_dropout), nn.Linear(8, num_classes))
    init_weights(net)
    return net
"""

def test_own_model_from_a_module_in_the_working_directory(run_cli, tmp_path):
    "A user's model file beside the shell: `imports=[my_models] model=<its family>` trains it; predict imports it when named again."
    (tmp_path/'my_models.py').write_text(MY_MODELS)
    p = run_cli('imports=[my_models]', 'model=tiny', *FAST, 'model.resnet_dropout=0.1', 'name=mine')
    assert p.returncode == 0, p.stderr
    run = tmp_path/'exp'/'mine'
    cfg = OmegaConf.load(run/'config.yaml')
    assert (cfg.model.family, cfg.model.arch, list(cfg.imports)) == ('tiny', 'tiny_convnet', ['my_models'])
    pr = subprocess.run([cli('visionlab-predict'), str(run)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert pr.returncode == 2 and pr.stderr.count('\n') == 1 and 'add imports=[my_models] if you trust that code' in pr.stderr, pr.stderr
    pr = subprocess.run([cli('visionlab-predict'), str(run), 'imports=[my_models]'], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert pr.returncode == 0 and 'test_acc=' in pr.stdout, pr.stderr
    p = run_cli('model=tiny', *FAST)                    # without the import the family does not exist
    assert p.returncode == 2 and "unknown model 'tiny'" in p.stderr and p.stderr.count('\n') == 1, p.stderr
