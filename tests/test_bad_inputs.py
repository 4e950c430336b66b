"""Bad inputs: each costs one readable line and the right exit status (2 user error, 1 failure),
and leaves no half-written run directory (none at all for inputs refused before training)."""
import contextlib, io, json, os, subprocess
from pathlib import Path
import pytest, torch
from conftest import cli

FAST = ['trainer.max_epochs=1', 'trainer.limit_train_batches=2', 'trainer.limit_val_batches=1',
        'trainer.limit_test_batches=1', 'trainer.enable_progress_bar=false']

def _png_tree(root: Path, corrupt=False):
    from PIL import Image
    for c in ('a', 'b'):
        (root/'train'/c).mkdir(parents=True, exist_ok=True)
        for i in range(4): Image.new('RGB', (8, 8), (i * 40, 0, 0)).save(root/'train'/c/f'{i}.png')
    if corrupt: (root/'train'/'a'/'broken.png').write_bytes(b'not a png at all')

def _finished_run(tmp: Path) -> Path:
    from visionlab.train import train
    full_test = [a for a in FAST if not a.startswith('trainer.limit_test_batches')]   # the whole test set, as predict sees it
    return train(full_test + ['seed=0', f'exp_dir={tmp}/done', 'name=run']).run_dir

@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    "One finished run, copied for the cases that damage it."
    os.environ.setdefault('WANDB_MODE', 'disabled')
    return _finished_run(tmp_path_factory.mktemp('finished'))

def _copy(run: Path, dst: Path) -> Path:
    import shutil
    shutil.copytree(run, dst); return dst

# (id, args, setup(tmp, finished) -> extra args, exit status, key phrase)
CASES = [
    ('unknown key', ['model.lrr=0.1'], None, 2, "unknown key 'model.lrr': did you mean 'model.lr'?"),
    ('unknown top key', ['foo=1'], None, 2, "unknown key 'foo'"),
    ('float type', ['model.lr=abc'], None, 2, "model.lr='abc' is not a valid float"),
    ('int type', ['trainer.max_epochs=two'], None, 2, "trainer.max_epochs='two' is not a valid int"),
    ('negative lr', ['model.lr=-1'], None, 2, 'model.lr=-1.0 is out of range'),
    ('momentum range', ['model.momentum=1.5'], None, 2, 'model.momentum=1.5 is out of range'),
    ('batch size 0', ['data.batch_size=0'], None, 2, 'data.batch_size=0 is out of range'),
    ('val_split range', ['data.val_split=1.5'], None, 2, 'data.val_split=1.5 is out of range'),
    ('input_dim', ['model.input_dim=4'], None, 2, 'model.input_dim=4 is out of range'),
    ('unknown family', ['model=resnett'], None, 2, "unknown model 'resnett'"),
    ('unknown arch', ['model.arch=resnet19'], None, 2, "model.arch='resnet19': unknown model"),
    ('unknown dataset group', ['data=cifar11'], None, 2, "unknown data 'cifar11'"),
    ('unknown dataset name', ['data.name=nosuch'], None, 2, "data.name='nosuch'"),
    ('unknown policy', ['data.train_transforms=autoaugmnt'], None, 2, "data.train_transforms='autoaugmnt'"),
    ('unknown optimizer', ['model.optimizer=sgdd'], None, 2, "did you mean 'SGD'"),
    ('unknown scheduler', ['model.scheduler=cosine'], None, 2, "model.scheduler='cosine'"),
    ('unknown metric', ['model.metrics=[acc,foo]'], None, 2, "unknown metric 'foo'"),
    ('task choice', ['model.task=segmentation'], None, 2, "model.task='segmentation' is not valid"),
    ('option vs task', ['model.task=regression', 'model.label_smoothing=0.1'], None, 2, 'only applies to classification'),
    ('logger choice', ['logger=tensorboard'], None, 2, "logger='tensorboard' is not valid"),
    ('cv fold without k', ['data.cv.fold=1'], None, 2, 'data.cv.k is not'),
    ('warmstart too long', ['model.warmstart=5', 'trainer.max_epochs=3'], None, 2, 'must be smaller than trainer.max_epochs'),
    ('sweep without -m', ['model.lr=0.1,0.2'], None, 2, 'is a sweep: add -m'),
    ('unknown cli option', ['--fast'], None, 2, "unknown option '--fast'"),
    ('module that does not import', ['imports=[no_such_module_xyz]'], None, 2, "imports: cannot import 'no_such_module_xyz'"),
    ('env var missing', ['env=cluster'], None, 2, 'needs the environment variable'),
    ('family option', ['model.shakedrop=true'], None, 2, 'shakedrop'),
    ('width on a resnet', ['model.widen_factor=4'], None, 2, 'model.widen_factor=4 is not supported by resnet18 (family resnet); supported by: wide_resnet'),
    ('depth the family cannot have', ['model=wide_resnet', 'model.depth=27'], None, 2, 'WideResNet depth=27 is not valid: use 6n+4'),
    ('depth out of range', ['model=pyramidnet', 'model.depth=2'], None, 2, 'model.depth=2 is out of range'),
    ('cutout larger than image', ['data.train_transforms=baseline_cutout', 'data.cutout_size=64'], None, 2, 'data.cutout_size=64 is larger than the 8x8 images'),
    ('unwritable exp_dir', ['exp_dir=/proc/visionlab'], None, 2, "exp_dir='/proc/visionlab' cannot be created"),
    ('missing image folder', ['data=image_folder'], lambda t, f: [f'data.data_root_dir={t}/nothing'], 2, 'no dataset at'),
    ('corrupt image', ['data=image_folder', 'data.num_classes=2', 'data.batch_size=4'],
     lambda t, f: (_png_tree(t/'pets', corrupt=True), [f'data.data_root_dir={t}/pets'])[1], 2, 'cannot read image'),
    ('csv without its column', ['data=csv_regression'],
     lambda t, f: (_png_tree(t/'posters'), (t/'posters'/'train.csv').write_text('file,value\ntrain/a/0.png,1\n'),
                   [f'data.data_root_dir={t}/posters'])[2], 2, "no column 'image'"),
    ('resume missing dir', [], lambda t, f: [f'resume={t}/nothing'], 2, 'no such directory'),
    ('resume corrupt checkpoint', [], lambda t, f: [f'resume={_corrupt_ckpt(_copy(f, t/"c"))}'], 2, 'is corrupt or not a checkpoint'),
    ('resume without checkpoint', [], lambda t, f: [f'resume={_no_ckpt(_copy(f, t/"n"))}'], 2, 'no checkpoints/last.ckpt'),
    ('resume corrupt config', [], lambda t, f: [f'resume={_corrupt_cfg(_copy(f, t/"y"))}'], 2, 'config.yaml is corrupt'),
    ('resume changes lr', ['model.lr=0.5'], lambda t, f: [f'resume={_copy(f, t/"l")}'], 2, "model.lr=0.5 differs from the run's"),
    ('resume changes epochs', ['trainer.max_epochs=9'], lambda t, f: [f'resume={_copy(f, t/"e")}'], 2, 'LR schedule'),
    ('non-finite loss', ['model.lr=1e30', 'model.optimizer=SGD'], None, 1, 'non-finite training loss'),
]

def _corrupt_ckpt(run):
    (run/'checkpoints'/'last.ckpt').write_bytes(b'\x00garbage' * 10); return run
def _no_ckpt(run):
    for f in (run/'checkpoints').glob('*.ckpt'): f.unlink()
    return run
def _corrupt_cfg(run):
    (run/'config.yaml').write_text('model: [unclosed\n  : :'); return run

def _snapshot(d: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in d.rglob('*')} if d.exists() else {}

@pytest.mark.parametrize('name,args,setup,status,phrase', CASES, ids=[c.id if hasattr(c, 'marks') else c[0] for c in CASES])
def test_bad_input(name, args, setup, status, phrase, tmp_path, finished, monkeypatch):
    from visionlab.cli import run_cli
    monkeypatch.chdir(tmp_path)
    for k in ('VISIONLAB_DATA_DIR', 'VISIONLAB_EXP_DIR'): monkeypatch.delenv(k, raising=False)
    extra = setup(tmp_path, finished) if setup else []
    exp = tmp_path/'exp'
    before = {d: _snapshot(d) for d in tmp_path.iterdir() if d.is_dir() and d.name not in ('exp',)}
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_cli([*FAST, *args, *extra, f'exp_dir={exp}'] if not any(a.startswith('exp_dir=') for a in args) else [*FAST, *args, *extra])
    msg = err.getvalue()
    assert code == status, (name, msg)
    assert phrase in msg and msg.count('\n') == 1 and 'Traceback' not in msg, (name, msg)
    if status == 2:      # refused before training: no run dir at all, and a resumed run is untouched
        assert not exp.exists() or not any(exp.iterdir()), list(exp.iterdir())
        for d, snap in before.items():
            if (d/'config.yaml').exists(): assert _snapshot(d) == snap, f'{d} was changed'
    else:                # a failure in training: the run dir says so in results.json, with the cause
        runs = list(exp.iterdir())
        assert len(runs) == 1
        info = json.loads((runs[0]/'results.json').read_text())
        assert info['status'] == 'failed' and phrase in info['error']

def test_full_disk_is_refused_before_training(tmp_path, monkeypatch):
    import visionlab.runs
    from visionlab.cli import run_cli
    monkeypatch.setattr(visionlab.runs, 'free_bytes', lambda p: 2**20)
    err = io.StringIO()
    with contextlib.redirect_stderr(err): code = run_cli(FAST + [f'exp_dir={tmp_path}/exp', 'name=full'])
    assert code == 1 and 'not enough free disk space' in err.getvalue() and err.getvalue().count('\n') == 1
    assert not (tmp_path/'exp'/'full').exists()

def test_subprocess_errors_are_one_line(tmp_path, finished):
    "The installed console scripts, as a user runs them."
    import shutil
    bad = tmp_path/'bad'; shutil.copytree(finished, bad); _corrupt_ckpt(bad)
    for cmd, status, phrase in [
            ([cli('visionlab-train'), 'model.lrr=1', f'exp_dir={tmp_path}/exp'], 2, "unknown key 'model.lrr'"),
            ([cli('visionlab-train'), f'resume={bad}'], 2, 'is corrupt or not a checkpoint'),
            ([cli('visionlab-predict'), str(tmp_path/'nothing')], 2, 'no such directory'),
            ([cli('visionlab-predict'), str(finished), 'model.lr=1'], 2, 'takes only data.* overrides'),
            ([cli('visionlab-predict'), str(bad), '--checkpoint', 'last'], 2, 'is corrupt or not a checkpoint')]:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert p.returncode == status and phrase in p.stderr and p.stderr.count('\n') == 1, (cmd, p.stderr)
    assert not (tmp_path/'exp').exists()

def test_predict_reproduces_the_reported_test_metric(finished, tmp_path):
    p = subprocess.run([cli('visionlab-predict'), str(finished), '--out', str(tmp_path/'p.csv')],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    reported = json.loads((finished/'results.json').read_text())['metrics']['test_acc']
    assert f'test_acc={reported:.4f}' in p.stdout
    assert (tmp_path/'p.csv').read_text().startswith('id,target,prediction,score_0')
