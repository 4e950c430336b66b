"""Reading a run never runs code. A checkpoint, a `config.yaml` and a CIFAR batch are crafted to create a marker file
when they are unpickled or imported, and read by every path a user reads a run by: `visionlab-predict RUN`,
`--checkpoint last`, `--export`, `load_run`, `predict_run`, `export_run`, `ConfigPanel.from_run`, `visionlab-train
resume=RUN` and a CIFAR folder. No marker may appear; a checkpoint is refused in one line naming the file and the
opt-in, a run's `imports:` are left out. A legitimate run still predicts, and resumes to the same metrics."""
import io, json, os, pickle, shutil, subprocess
from pathlib import Path
import pytest, torch
from conftest import cli
from fixtures import write_cifar

ENV = {**os.environ, 'WANDB_MODE': 'disabled', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1',
       'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
FAST = ['data=digits', 'seed=3', 'data.batch_size=16', 'trainer.limit_train_batches=4', 'trainer.limit_val_batches=2',
        'trainer.limit_test_batches=2', 'trainer.enable_progress_bar=false']


class Opens:
    "Pickled as the call `io.open(marker, 'w')`: whoever unpickles it creates `marker`."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (io.open, (self.marker, 'w'))


def _run(*args, tool='visionlab-train', cwd=None):
    return subprocess.run([cli(tool), *args], capture_output=True, text=True, timeout=600, env=ENV, cwd=cwd)

def _one_line(p, code: int, *words):
    assert p.returncode == code and p.stderr.count('\n') == 1 and all(w in p.stderr for w in words), (p.returncode, p.stderr)

def _snapshot(d: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def good(tmp_path_factory):
    "A legitimate finished run of 2 epochs."
    exp = tmp_path_factory.mktemp('exp')
    p = _run(*FAST, 'trainer.max_epochs=2', f'exp_dir={exp}', 'name=good')
    assert p.returncode == 0, p.stderr
    return exp/'good'

@pytest.fixture
def poisoned(good, tmp_path):
    "A copy of `good` whose every checkpoint also holds an object that creates `tmp_path/marker` when unpickled."
    run = tmp_path/'poisoned'
    shutil.copytree(good, run)
    for f in (run/'checkpoints').glob('*.ckpt'):
        ck = torch.load(f, weights_only=True)
        ck['extra'] = Opens(tmp_path/'marker')
        torch.save(ck, f)
    return run

@pytest.fixture
def importing(good, tmp_path):
    "A copy of `good` whose config.yaml says `imports: [vl_helpers]`, beside a `vl_helpers.py` that creates the marker."
    run = tmp_path/'importing'
    shutil.copytree(good, run)
    text = (run/'config.yaml').read_text()
    assert '\nimports: []\n' in text
    (run/'config.yaml').write_text(text.replace('\nimports: []\n', '\nimports: [vl_helpers]\n'))
    (tmp_path/'vl_helpers.py').write_text(f"open({str(tmp_path/'marker')!r}, 'w').close()\n")
    return run


@pytest.mark.parametrize('args', [[], ['--checkpoint', 'last'], ['--export', 'm.pt2'], ['--split', 'val', '--out', 'p.csv']])
def test_predict_refuses_a_checkpoint_that_runs_code(poisoned, tmp_path, args):
    p = _run(str(poisoned), *args, tool='visionlab-predict', cwd=tmp_path)
    _one_line(p, 2, 'visionlab-predict: error: checkpoint', str(poisoned/'checkpoints'), 'holds Python objects, not only tensors',
              'GLOBAL io.open', '--trust-checkpoint')
    assert not (tmp_path/'marker').exists() and not (tmp_path/'m.pt2').exists()

def test_python_api_refuses_a_checkpoint_that_runs_code(poisoned, tmp_path):
    from visionlab.core import UntrustedCheckpoint
    from visionlab.predict import load_run, predict_run, export_run
    for read in (lambda: load_run(poisoned), lambda: load_run(poisoned, 'last'), lambda: predict_run(poisoned),
                 lambda: export_run(poisoned, tmp_path/'m.pt2')):
        with pytest.raises(UntrustedCheckpoint, match='trust_checkpoint=True'): read()
        assert not (tmp_path/'marker').exists()

@pytest.mark.parametrize('finished', [True, False])
def test_resume_refuses_a_checkpoint_that_runs_code(poisoned, tmp_path, finished):
    "A finished run, and one killed after its last epoch (no results.json): refused before anything runs or is written."
    if not finished: (poisoned/'results.json').unlink()
    before = _snapshot(poisoned)
    p = _run(f'resume={poisoned}', 'trainer.enable_progress_bar=false', cwd=tmp_path)
    _one_line(p, 2, 'visionlab-train: error: checkpoint', 'holds Python objects, not only tensors', '--trust-checkpoint')
    assert not (tmp_path/'marker').exists()
    assert _snapshot(poisoned) == before

def test_trusting_a_checkpoint_is_the_users_explicit_choice(poisoned, tmp_path):
    p = _run(str(poisoned), '--trust-checkpoint', tool='visionlab-predict', cwd=tmp_path)
    assert p.returncode == 0 and 'test_acc=' in p.stdout, p.stderr
    assert (tmp_path/'marker').exists()                      # the opt-in reads the file as it is


def test_a_runs_imports_are_never_imported_on_read(importing, tmp_path, monkeypatch):
    p = _run(str(importing), '--out', str(tmp_path/'p.csv'), tool='visionlab-predict', cwd=tmp_path)
    assert p.returncode == 0 and 'test_acc=' in p.stdout, p.stderr   # the model needs nothing of vl_helpers
    p = _run(f'resume={importing}', 'trainer.enable_progress_bar=false', cwd=tmp_path)
    _one_line(p, 2, 'nothing to resume')
    assert not (tmp_path/'marker').exists()
    monkeypatch.chdir(tmp_path)
    from visionlab.predict import load_run, predict_run
    from visionlab.panel import ConfigPanel
    assert list(load_run(importing).config.imports) == []
    predict_run(importing, out=tmp_path/'p2.csv')
    ConfigPanel.from_run(importing)
    assert not (tmp_path/'marker').exists()

def test_a_resume_imports_only_what_the_command_line_names(importing, tmp_path):
    (importing/'results.json').unlink()                       # killed after its last epoch: the resume tests it
    p = _run(f'resume={importing}', 'trainer.enable_progress_bar=false', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path/'marker').exists()
    (importing/'results.json').unlink()
    p = _run(f'resume={importing}', 'imports=[vl_helpers]', 'trainer.enable_progress_bar=false', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path/'marker').exists()                       # named again by the user: imported


def test_a_cifar_batch_that_runs_code_is_refused(tmp_path):
    folder = write_cifar(tmp_path/'cifar10', 'cifar10', n_train=20, n_test=4)
    (folder/'data_batch_2').write_bytes(pickle.dumps({'data': Opens(tmp_path/'marker'), 'labels': []}))
    p = _run('data=cifar10', f'data.data_root_dir={tmp_path}', 'trainer.max_epochs=1', f'exp_dir={tmp_path/"exp"}',
             'trainer.enable_progress_bar=false', cwd=tmp_path)
    _one_line(p, 2, 'is not a readable CIFAR10 folder', 'data_batch_2: it holds a io.open')
    assert not (tmp_path/'marker').exists()
    assert not list((tmp_path/'exp').glob('*'))               # refused before a run directory was made


def test_resume_never_appends_through_a_symbolic_link(good, tmp_path):
    run, outside = tmp_path/'linked', tmp_path/'outside.jsonl'
    shutil.copytree(good, run)
    (run/'results.json').unlink()
    shutil.move(run/'metrics.jsonl', outside)
    (run/'metrics.jsonl').symlink_to(outside)
    before = outside.read_bytes()
    p = _run(f'resume={run}', 'trainer.enable_progress_bar=false', cwd=tmp_path)
    _one_line(p, 2, f"{run/'metrics.jsonl'} is a symbolic link")
    assert outside.read_bytes() == before


def test_a_legitimate_run_resumes_to_the_same_metrics_and_predicts(good, tmp_path):
    run = tmp_path/'again'
    shutil.copytree(good, run)
    (run/'results.json').unlink()                             # killed after its last epoch: the resume tests it
    p = _run(f'resume={run}', 'trainer.enable_progress_bar=false', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    a, b = (json.loads((d/'results.json').read_text()) for d in (good, run))
    assert b['status'] == 'finished' and a['metrics'] == b['metrics']
    pa, pb = (_run(str(d), '--out', str(tmp_path/f'{d.name}.csv'), tool='visionlab-predict', cwd=tmp_path) for d in (good, run))
    assert pa.returncode == pb.returncode == 0 and 'test_acc=' in pb.stdout, pb.stderr
    assert pa.stdout.split('predictions:')[0] == pb.stdout.split('predictions:')[0]
    assert (tmp_path/'good.csv').read_bytes() == (tmp_path/'again.csv').read_bytes()
