"""Bad inputs, as a user meets them: every case runs the installed `visionlab-train` or `visionlab-predict` as a
subprocess (with this checkout on PYTHONPATH) and checks the exit status (2: a user error refused before anything
is written, 1: a failure after training started), that the whole stderr is one line with the expected phrase, and
that no file appeared, vanished or changed in the case's folder: not a run directory, not a temp file (TMPDIR is
inside it), not a byte of the existing run it holds or of the finished run that predict reads."""
import hashlib, json, os, re, shutil, subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import pytest, torch
from conftest import ROOT, beyond_allocator_note, cli

FAST = ['trainer.max_epochs=1', 'trainer.limit_train_batches=2', 'trainer.limit_val_batches=1',
        'trainer.limit_test_batches=1', 'trainer.enable_progress_bar=false']
WORKERS = 2          # subprocesses at once: the cases are independent, each in its own folder

# --- fixtures written in the real on-disk formats ---------------------------------------------------------------
def _png_tree(root: Path, classes=('a', 'b'), splits=('train',), n=4) -> Path:
    from PIL import Image
    for s in splits:
        for c in classes:
            (root/s/c).mkdir(parents=True, exist_ok=True)
            for i in range(n): Image.new('RGB', (8, 8), (i * 40, 0, 0)).save(root/s/c/f'{i}.png')
    return root

def _folder(t, *files, **tree):
    "An image folder under t/pets (classes a, b) with `files` = (relative path, bytes) added; the data args."
    root = _png_tree(t/'pets', **tree)
    for rel, data in files: (root/rel).parent.mkdir(parents=True, exist_ok=True); (root/rel).write_bytes(data)
    return ['data=image_folder', 'data.num_classes=2', 'data.batch_size=4', f'data.data_root_dir={root}']

def _csv(t, text: str, encoding='utf-8'):
    root = _png_tree(t/'posters', classes=('img',))
    (root/'train.csv').write_text(text, encoding=encoding)
    return ['data=csv_regression', 'data.image_size=8', f'data.data_root_dir={root}']

ROWS = ''.join(f'train/img/{i}.png,{i}\n' for i in range(4))

def _png_bytes(size=(8, 8), mode='RGB', fmt='PNG', noise=False) -> bytes:
    import io
    from PIL import Image
    im = Image.effect_noise(size, 60).convert(mode) if noise else Image.new(mode, size)
    b = io.BytesIO(); im.save(b, fmt); return b.getvalue()

def _file(t, name='file.txt') -> Path:
    (t/name).write_text('not a directory'); return t/name

def _copy(run: Path, dst: Path) -> Path:
    shutil.copytree(run, dst); return dst
def _corrupt_ckpt(run):
    (run/'checkpoints'/'last.ckpt').write_bytes(b'\x00garbage' * 10); return run
def _no_ckpt(run):
    for f in (run/'checkpoints').glob('*.ckpt'): f.unlink()
    return run
def _corrupt_cfg(run):
    (run/'config.yaml').write_text('model: [unclosed\n  : :'); return run

NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU')
T, P = 'visionlab-train', 'visionlab-predict'
HOME = str(Path.home())

# (id, tool, args, setup(tmp, finished) -> more args, exit status, phrase of the one stderr line)
CASES = [
    # keys, types, choices and ranges (refused by compose)
    ('unknown key', T, ['model.lrr=0.1'], None, 2, "unknown key 'model.lrr': did you mean 'model.lr'?"),
    ('unknown top key', T, ['foo=1'], None, 2, "unknown key 'foo'"),
    ('+unknown key', T, ['+model.foo=1'], None, 2, "unknown key 'model.foo': valid keys under model:"),
    ('+misspelt key', T, ['+model.lrr=0.5'], None, 2, "unknown key 'model.lrr': did you mean 'model.lr'?"),
    ('+unknown top key', T, ['+foo=1'], None, 2, "unknown key 'foo'"),
    ('float type', T, ['model.lr=abc'], None, 2, "model.lr='abc' is not a valid float"),
    ('int type', T, ['trainer.max_epochs=two'], None, 2, "trainer.max_epochs='two' is not a valid int"),
    ('negative lr', T, ['model.lr=-1'], None, 2, 'model.lr=-1.0 is out of range'),
    ('infinite lr', T, ['model.lr=inf'], None, 2, 'model.lr=inf is out of range: must be a finite positive number'),
    ('nan lr', T, ['model.lr=nan'], None, 2, 'model.lr=nan is out of range'),
    ('infinite weight decay', T, ['model.weight_decay=inf'], None, 2, 'model.weight_decay=inf is out of range: must be a finite number >= 0'),
    ('nan momentum', T, ['model.momentum=nan'], None, 2, 'model.momentum=nan is out of range'),
    ('momentum range', T, ['model.momentum=1.5'], None, 2, 'model.momentum=1.5 is out of range'),
    ('infinite label smoothing', T, ['model.label_smoothing=inf'], None, 2, 'model.label_smoothing=inf is out of range'),
    ('infinite mixup alpha', T, ['model.mixup=true', 'model.mixup_alpha=inf'], None, 2, 'model.mixup_alpha=inf is out of range'),
    ('infinite sam rho', T, ['model.sam=true', 'model.sam_rho=inf'], None, 2, 'model.sam_rho=inf is out of range'),
    ('infinite gradient clip', T, ['trainer.gradient_clip_val=inf'], None, 2, 'trainer.gradient_clip_val=inf is out of range'),
    ('negative seed', T, ['seed=-1'], None, 2, 'seed=-1 is out of range: must be in [0, 4294967295]'),
    ('seed too large', T, ['seed=99999999999'], None, 2, 'seed=99999999999 is out of range'),
    ('5000-digit number', T, ['trainer.max_epochs=' + '1' * 5000], None, 2, 'trainer.max_epochs: a number of 5000 digits is not a valid setting'),
    ('5000-digit seed', T, ['seed=' + '9' * 5000], None, 2, 'seed: a number of 5000 digits'),
    ('batch size 0', T, ['data.batch_size=0'], None, 2, 'data.batch_size=0 is out of range'),
    ('val_split range', T, ['data.val_split=1.5'], None, 2, 'data.val_split=1.5 is out of range'),
    ('nan val_split', T, ['data.val_split=nan'], None, 2, 'data.val_split=nan is out of range'),
    ('input_dim range', T, ['model.input_dim=4'], None, 2, 'model.input_dim=4 is out of range'),
    ('max_epochs 0', T, ['trainer.max_epochs=0'], None, 2, 'trainer.max_epochs=0 is out of range'),
    ('accumulate 0', T, ['trainer.accumulate_grad_batches=0'], None, 2, 'trainer.accumulate_grad_batches=0 is out of range'),
    ('cv with one fold', T, ['data.cv.k=1'], None, 2, 'data.cv.k=1 is out of range'),
    ('no training batches', T, ['trainer.limit_train_batches=0'], None, 2, 'trainer.limit_train_batches=0 is out of range: must be a number of batches (int >= 1)'),
    ('fraction 0 of training batches', T, ['trainer.limit_train_batches=0.0'], None, 2, 'trainer.limit_train_batches=0.0 is out of range'),
    ('negative val batches', T, ['trainer.limit_val_batches=-1'], None, 2, 'trainer.limit_val_batches=-1 is out of range'),
    ('negative logging interval', T, ['trainer.log_every_n_steps=-5'], None, 2, 'trainer.log_every_n_steps=-5 is out of range: must be >= 1 steps'),
    ('devices not a number', T, ['trainer.devices=abc'], None, 2, 'trainer.devices=abc is out of range: must be a number of devices'),
    ('no devices', T, ['trainer.devices=0'], None, 2, 'trainer.devices=0 is out of range'),
    ('devices -2', T, ['trainer.devices=-2'], None, 2, 'trainer.devices=-2 is out of range'),
    ('unknown strategy', T, ['trainer.strategy=bogus'], None, 2, "trainer.strategy='bogus' is not valid:"),
    ('misspelt strategy', T, ['trainer.strategy=dpp'], None, 2, "trainer.strategy='dpp' is not valid: did you mean 'ddp'"),
    pytest.param('gpu without a gpu', T, ['trainer.accelerator=gpu'], None, 2, 'trainer.accelerator=gpu: this machine has no GPU', marks=NO_GPU),
    pytest.param('cuda without a gpu', T, ['trainer.accelerator=cuda'], None, 2, 'this machine has no CUDA', marks=NO_GPU),
    ('mps on linux', T, ['trainer.accelerator=mps'], None, 2, 'trainer.accelerator=mps: this machine has no MPS'),
    ('tpu', T, ['trainer.accelerator=tpu'], None, 2, 'trainer.accelerator=tpu: this machine has no TPU'),
    ('precision choice', T, ['trainer.precision=64bit'], None, 2, "trainer.precision='64bit' is not valid"),
    ('sam and asam', T, ['model.sam=true', 'model.adaptive_sam=true'], None, 2, 'set one, model.sam=true (SAM) or model.adaptive_sam=true (ASAM'),
    ('unknown family', T, ['model=resnett'], None, 2, "unknown model 'resnett'"),
    ('model group set to nothing', T, ['model='], None, 2, 'model= picks no model config: give one of cifar_resnet, convnext, efficientnetv2'),
    ('data group null', T, ['data=null'], None, 2, 'data=null picks no data config: give one of cifar10, cifar100'),
    ('env group set to nothing', T, ['env='], None, 2, 'env= picks no env config: give one of cluster, local'),
    ('unknown arch', T, ['model.arch=resnet19'], None, 2, "model.arch='resnet19': unknown model"),
    ('unknown dataset group', T, ['data=cifar11'], None, 2, "unknown data 'cifar11'"),
    ('unknown dataset name', T, ['data.name=nosuch'], None, 2, "data.name='nosuch'"),
    ('unknown policy', T, ['data.train_transforms=autoaugmnt'], None, 2, "data.train_transforms='autoaugmnt'"),
    ('unknown optimizer', T, ['model.optimizer=sgdd'], None, 2, "did you mean 'SGD'"),
    ('unknown scheduler', T, ['model.scheduler=cosine'], None, 2, "model.scheduler='cosine'"),
    ('unknown metric', T, ['model.metrics=[acc,foo]'], None, 2, "unknown metric 'foo'"),
    ('task choice', T, ['model.task=segmentation'], None, 2, "model.task='segmentation' is not valid"),
    ('option vs task', T, ['model.task=regression', 'model.label_smoothing=0.1'], None, 2, 'only applies to classification'),
    ('logger choice', T, ['logger=tensorboard'], None, 2, "logger='tensorboard' is not valid"),
    ('cv fold without k', T, ['data.cv.fold=1'], None, 2, 'data.cv.k is not'),
    ('warmstart too long', T, ['model.warmstart=5', 'trainer.max_epochs=3'], None, 2, 'must be smaller than trainer.max_epochs'),
    ('sweep without -m', T, ['model.lr=0.1,0.2'], None, 2, 'is a sweep: add -m'),
    ('unknown cli option', T, ['--fast'], None, 2, "unknown option '--fast'"),
    ('module that does not import', T, ['imports=[no_such_module_xyz]'], None, 2, "imports: cannot import 'no_such_module_xyz'"),
    ('env var of the env group', T, ['env=cluster'], None, 2, 'needs the environment variable'),
    ('env var in a value', T, ['model.lr=${oc.env:NOPE_VISIONLAB}'], None, 2, 'model.lr: the environment variable NOPE_VISIONLAB is not set'),
    ('family option', T, ['model.shakedrop=true'], None, 2, 'shakedrop'),
    ('width on a resnet', T, ['model.widen_factor=4'], None, 2, 'model.widen_factor=4 is not supported by resnet18 (family resnet); supported by: cifar_resnet, wide_resnet'),
    ('depth the family cannot have', T, ['model=wide_resnet', 'model.depth=27'], None, 2, 'model.depth=27 is not valid for model=wide_resnet: use 6n+4'),
    ('depth out of range', T, ['model=pyramidnet', 'model.depth=2'], None, 2, 'model.depth=2 is out of range'),
    ('cutout larger than image', T, ['data.train_transforms=baseline_cutout', 'data.cutout_size=64'], None, 2, 'data.cutout_size=64 is larger than the 8x8 images'),
    # the model against its data, the metrics against the task
    ('3 channels on digits', T, ['model.input_channels=3'], None, 2, 'model.input_channels=3 does not fit data.name=digits (images with 1 channel(s)): set model.input_channels=1'),
    ('1 channel on cifar', T, ['data=cifar10', 'model.input_channels=1'], None, 2, 'model.input_channels=1 does not fit data.name=cifar10'),
    ('3-D convolutions on images', T, ['model.input_dim=3'], None, 2, 'model.input_dim=3 does not fit data.name=digits (2-D images): set model.input_dim=2'),
    ('regression on classes', T, ['model.task=regression', 'model.metrics=[mse]'], None, 2, 'model.task=regression does not fit data.name=digits (classification targets)'),
    ('regression with accuracy', T, ['data=digits_regression', 'model.metrics=[acc]'], None, 2, "model.metrics: 'acc' does not apply to model.task=regression: use mse, mae"),
    ('classification with mse', T, ['model.metrics=[mse]'], None, 2, "model.metrics: 'mse' does not apply to model.task=classification"),
    ('monitor not logged', T, ['checkpoint.monitor=val_foo'], None, 2, "checkpoint.monitor='val_foo' is not a metric this run logs"),
    ('monitor of the other task', T, ['checkpoint.monitor=val_mse'], None, 2, "checkpoint.monitor='val_mse' is not a metric this run logs"),
    ('fewer classes than the data', T, ['data.num_classes=1'], None, 2, 'data.num_classes=1: a classifier needs at least 2 classes'),
    ('empty metric list', T, ['model.metrics=[]'], None, 2, 'model.metrics=[] names no metric: give at least one for model.task=classification, e.g. model.metrics=[acc] (valid: acc,'),
    pytest.param('fp16 on a cpu', T, ['trainer.precision=16'], None, 2, 'trainer.precision=16 needs a CUDA GPU and this machine has no CUDA GPU: use', marks=NO_GPU),
    ('no validation split', T, ['data.val_split=0'], None, 2, 'data.val_split=0.0 is out of range: must be in (0, 1): the fraction of the training images held out'),
    # names and paths
    ('name climbs out of exp_dir', T, ['name=../escaped'], None, 2, "name='../escaped' is not a valid run name: it becomes one folder inside exp_dir"),
    ('name with a slash', T, ['name=a/b'], None, 2, "name='a/b' is not a valid run name"),
    ('name ..', T, ['name=..'], None, 2, "name='..' is not a valid run name"),
    ('empty name', T, ["name=''"], None, 2, "name='' is not a valid run name"),
    ('non-ASCII name unquoted', T, ['name=Über'], None, 2, '''name=Über: a value with characters beyond ASCII must be quoted: name='Über' (in a shell: "name='Über'")'''),
    ('300-character name', T, ['name=' + 'n' * 300], None, 2, 'name is 300 bytes long: a run name may have at most 200'),
    ('empty exp_dir', T, ['exp_dir='], None, 2, 'exp_dir is empty'),
    ('unwritable exp_dir', T, ['exp_dir=/proc/visionlab'], None, 2, "exp_dir='/proc/visionlab' cannot be created"),
    ('exp_dir is a file', T, [], lambda t, f: [f'exp_dir={_file(t)}'], 2, 'cannot be created'),
    ('~ in data_root_dir', T, ['data=image_folder', 'data.data_root_dir=~/visionlab-no-such-data'], None, 2,
     f'no dataset at {HOME}/visionlab-no-such-data'),
    # data on disk: checked before training
    ('missing image folder', T, ['data=image_folder'], lambda t, f: [f'data.data_root_dir={t}/nothing'], 2, 'no dataset at'),
    ('corrupt image', T, [], lambda t, f: _folder(t, ('train/a/broken.png', b'not a png at all')), 2, 'cannot read image'),
    ('zero-byte image', T, [], lambda t, f: _folder(t, ('train/b/empty.png', b'')), 2, 'empty.png is empty (0 bytes)'),
    ('truncated png', T, [], lambda t, f: _folder(t, ('train/a/cut.png', _png_bytes((64, 64), noise=True)[:-40])), 2,
     'cut.png is truncated: the PNG file ends before its end marker'),
    ('truncated jpeg', T, [], lambda t, f: _folder(t, ('val/b/cut.jpg', _png_bytes((64, 64), fmt='JPEG', noise=True)[:-300]), splits=('train', 'val')), 2,
     'cut.jpg is truncated: the JPEG file'),
    ('huge png', T, [], lambda t, f: _folder(t, ('train/a/huge.png', _png_bytes((14000, 14000), mode='1'))), 2,
     'huge.png is too large to read: Image size (196000000 pixels)'),
    ('one class', T, [], lambda t, f: _folder(t, classes=('a',)), 2, 'has one class folder (a): a classifier needs at least 2 classes'),
    ('val class that train lacks', T, [], lambda t, f: _folder(t, ('val/c/0.png', _png_bytes()), splits=('train', 'val')), 2,
     'val has classes that train/ lacks: c'),
    ('more classes than digits has', T, ['data.num_classes=1000'], None, 2, 'data.num_classes=1000 but digits has 10 classes: set data.num_classes=10'),
    ('fewer classes than digits has', T, ['data.num_classes=5'], None, 2, 'data.num_classes=5 but digits has 10 classes: set data.num_classes=10'),
    ('more classes than the folder has', T, [], lambda t, f: [a.replace('num_classes=2', 'num_classes=3') for a in _folder(t)], 2,
     'data.num_classes=3 but image_folder has 2 classes (in '),
    ('hidden folder is no class', T, [], lambda t, f: _folder(t, ('train/.ipynb_checkpoints/x.png', _png_bytes()), classes=('a',)), 2,
     'has one class folder (a): a classifier needs at least 2 classes'),
    ('csv not utf-8', T, [], lambda t, f: _csv(t, 'image,target,note\n' + ROWS.replace('\n', ',café\n'), encoding='latin-1'), 2,
     'train.csv is not UTF-8 text (a byte 0xe9: invalid continuation byte): save it as UTF-8'),
    pytest.param('unreadable class folder', T, [], lambda t, f: (_folder(t), os.chmod(t/'pets'/'train'/'b', 0))[0], 2,
                 '/pets/train/b: permission denied', marks=pytest.mark.skipif(os.geteuid() == 0, reason='root reads any folder')),
    ('empty class folder', T, [], lambda t, f: (_folder(t), shutil.rmtree(t/'pets'/'train'/'b'), (t/'pets'/'train'/'b').mkdir())[0], 2,
     'Found no valid file for the classes b'),
    ('csv without its column', T, [], lambda t, f: _csv(t, 'file,value\ntrain/img/0.png,1\n'), 2, "no column 'image'"),
    ('csv with only a header', T, [], lambda t, f: _csv(t, 'image,target\n'), 2, 'train.csv has a header but no rows'),
    ('csv with a byte-order mark', T, [], lambda t, f: _csv(t, '\ufeffimage,target\n'), 2, 'train.csv has a header but no rows'),
    ('csv target nan', T, [], lambda t, f: _csv(t, 'image,target\n' + ROWS + 'train/img/0.png,nan\n'), 2,
     "train.csv, row 6: the target is 'nan', not a finite number"),
    ('csv target inf', T, [], lambda t, f: _csv(t, 'image,target\ntrain/img/0.png,inf\n' + ROWS), 2,
     "train.csv, row 2: the target is 'inf', not a finite number"),
    ('csv target text', T, [], lambda t, f: _csv(t, 'image,target\n' + ROWS + 'train/img/1.png,one\n'), 2, "row 6: the target is 'one', not a number"),
    ('csv row names a missing file', T, [], lambda t, f: _csv(t, 'image,target\n' + ROWS + 'train/img/99.png,1\n'), 2,
     'train.csv, row 6: the image'),
    # resume
    ('resume missing dir', T, [], lambda t, f: [f'resume={t}/nothing'], 2, 'no such directory'),
    ('resume a file', T, [], lambda t, f: [f'resume={_file(t)}'], 2, 'is not a directory: give the run directory to continue'),
    ('resume corrupt checkpoint', T, [], lambda t, f: [f'resume={_corrupt_ckpt(_copy(f, t/"c"))}'], 2, 'is corrupt or not a checkpoint'),
    ('resume without checkpoint', T, [], lambda t, f: [f'resume={_no_ckpt(_copy(f, t/"n"))}'], 2, 'no checkpoints/last.ckpt'),
    ('resume corrupt config', T, [], lambda t, f: [f'resume={_corrupt_cfg(_copy(f, t/"y"))}'], 2, 'config.yaml is corrupt'),
    ('resume changes lr', T, ['model.lr=0.5'], lambda t, f: [f'resume={_copy(f, t/"l")}'], 2, "model.lr=0.5 differs from the run's"),
    ('resume changes epochs', T, ['trainer.max_epochs=9'], lambda t, f: [f'resume={_copy(f, t/"e")}'], 2, 'LR schedule'),
    # predict
    ('predict nothing', P, [], lambda t, f: [str(t/'nothing')], 2, 'no such directory'),
    ('predict no run', P, [], None, 2, 'give the run directory to predict with'),
    ('predict model key', P, ['model.lr=1'], lambda t, f: [str(f)], 2, 'takes only data.* overrides'),
    ('predict unknown data key', P, ['data.foo=1'], lambda t, f: [str(f)], 2, "unknown key 'data.foo'"),
    ('predict batch size 0', P, ['data.batch_size=0'], lambda t, f: [str(f)], 2, 'data.batch_size=0 is out of range'),
    ('predict unknown option', P, ['--fast'], lambda t, f: [str(f)], 2, "unknown option '--fast'"),
    ('predict split', P, ['--split', 'holdout'], lambda t, f: [str(f)], 2, "split='holdout' is not valid"),
    ('predict corrupt checkpoint', P, ['--checkpoint', 'last'], lambda t, f: [str(_corrupt_ckpt(_copy(f, t/'c')))], 2, 'is corrupt or not a checkpoint'),
    ('predict channels that do not fit', P, ['data.name=cifar10'], lambda t, f: [str(f)], 2,
     'data.name=cifar10: this data does not fit the trained model (model.input_channels=1 does not fit data.name=cifar10'),
    ('predict task that does not fit', P, ['data.name=digits_regression'], lambda t, f: [str(f)], 2,
     'this data does not fit the trained model (model.task=classification does not fit data.name=digits_regression'),
    ('predict out unwritable', P, ['--out', '/proc/visionlab/p.csv'], lambda t, f: [str(f)], 2, '--out /proc/visionlab/p.csv: cannot write in /proc'),
    ('predict out a directory', P, [], lambda t, f: [str(f), '--out', str(t)], 2, 'is a directory: give a file name'),
    ('predict export to a missing folder', P, [], lambda t, f: [str(f), '--export', f'{t}/missing/m.pt2'], 2,
     f'/missing/m.pt2: the folder'),
    # after training has started: exit 1, one line, and the failed run says why
    ('non-finite loss', T, ['model.lr=1e30', 'model.optimizer=SGD'], None, 1, 'non-finite training loss'),
]

def _case_id(c): return c.values[0] if hasattr(c, 'values') else c[0]
def _values(c): return c.values if hasattr(c, 'values') else c

def _hashes(d: Path) -> dict:
    "Every file under `d` with the hash of its bytes (folders too, as None); not the empty cache folder torch makes on import."
    return {str(p.relative_to(d)): (hashlib.md5(p.read_bytes()).hexdigest() if p.is_file() else None) for p in sorted(d.rglob('*'))
            if not (p.name.startswith('torchinductor_') and p.is_dir() and not any(p.iterdir()))}

def _old_run(exp: Path):
    "A run already in exp_dir, whose files must not change."
    (exp/'old'/'checkpoints').mkdir(parents=True)
    (exp/'old'/'config.yaml').write_text('seed: 0\n'); (exp/'old'/'metrics.csv').write_text('epoch,val_acc\n0,0.5\n')

def _command(tool, args, extra, exp):
    if tool == P: return [cli(P), *extra, *args]
    own_exp = any(a.startswith('exp_dir=') for a in args + extra)
    return [cli(T), *FAST, *args, *extra, *([] if own_exp else [f'exp_dir={exp}'])]

def _run_case(case, base: Path, finished: Path) -> dict:
    name, tool, args, setup, status, phrase = case
    t = base/re.sub(r'\W+', '-', name); (t/'tmp').mkdir(parents=True); _old_run(t/'exp')
    extra = setup(t, finished) if setup else []
    before = _hashes(t)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith('VISIONLAB_')},
           'PYTHONPATH': str(ROOT), 'TMPDIR': str(t/'tmp'), 'WANDB_MODE': 'disabled', 'OMP_NUM_THREADS': '1'}
    p = subprocess.run(_command(tool, args, extra, t/'exp'), capture_output=True, text=True, timeout=600, cwd=t, env=env)
    return dict(code=p.returncode, stderr=p.stderr, before=before, after=_hashes(t), dir=t)

def _finished_run(tmp: Path) -> Path:
    full_test = [a for a in FAST if not a.startswith('trainer.limit_test_batches')]   # the whole test set, as predict sees it
    p = subprocess.run([cli(T), *full_test, 'seed=0', f'exp_dir={tmp}/done', 'name=run'], capture_output=True, text=True,
                       env={**os.environ, 'PYTHONPATH': str(ROOT), 'WANDB_MODE': 'disabled'}, timeout=600)
    assert p.returncode == 0, p.stderr
    return tmp/'done'/'run'

@pytest.fixture(scope='module')
def finished(tmp_path_factory):
    "One finished run: predict reads it, resume cases damage copies of it."
    run = _finished_run(tmp_path_factory.mktemp('finished'))
    files = _hashes(run)
    yield run
    assert _hashes(run) == files, 'a case changed the finished run'

@pytest.fixture(scope='module')
def results(request, tmp_path_factory, finished):
    "Every selected case (`-k` selects), run WORKERS at a time; each test below checks its own."
    base, cases = tmp_path_factory.mktemp('cases'), [_values(c) for c in CASES]
    skipped = {_case_id(c) for c in CASES if hasattr(c, 'marks') and any(m.args and m.args[0] for m in c.marks)}
    chosen = {i.callspec.params['name'] for i in request.session.items if 'name' in getattr(getattr(i, 'callspec', None), 'params', {})}
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {c[0]: pool.submit(_run_case, c, base, finished) for c in cases if c[0] in chosen - skipped}
        return {k: f.result() for k, f in futures.items()}

@pytest.mark.parametrize('name,tool,args,setup,status,phrase', CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input(name, tool, args, setup, status, phrase, results):
    r = results[name]
    assert r['code'] == status, (name, r['stderr'][-3000:])
    lines = r['stderr'].splitlines()
    assert len(lines) == 1 and phrase in lines[0] and 'Traceback' not in r['stderr'], (name, r['stderr'][-3000:])
    assert lines[0].startswith(f"{tool}: {'error' if status == 2 else 'failed'}: "), lines[0]
    if status == 2:      # refused before anything was written: not a file more, less or changed
        assert r['after'] == r['before'], (name, set(r['after']) ^ set(r['before']))
    else:                # a failure in training: one new run dir that says so in results.json; nothing else changed
        new = sorted(set(r['after']) - set(r['before']))
        runs = {k.split('/')[1] for k in new if k.startswith('exp/')}
        assert len(runs) == 1 and all(k.startswith('exp/') for k in new), new
        assert {k: v for k, v in r['after'].items() if k in r['before']} == r['before']
        info = json.loads((r['dir']/'exp'/runs.pop()/'results.json').read_text())
        assert info['status'] == 'failed' and phrase in info['error']

def test_full_disk_is_refused_before_training(tmp_path, monkeypatch):
    "In-process: the free space is faked, which a subprocess cannot be made to see."
    import contextlib, io
    import visionlab.runs
    from visionlab.cli import run_cli
    monkeypatch.setattr(visionlab.runs, 'free_bytes', lambda p: 2**20)
    err = io.StringIO()
    with contextlib.redirect_stderr(err): code = run_cli(FAST + [f'exp_dir={tmp_path}/exp', 'name=full'])
    assert code == 1 and 'not enough free disk space' in err.getvalue() and err.getvalue().count('\n') == 1
    assert not (tmp_path/'exp'/'full').exists()

def test_last_batch_of_one_is_dropped(finished, tmp_path):
    "1,293 training digits in batches of 646 would leave a batch of one image, which batch norm cannot train on."
    p = subprocess.run([cli(T), 'trainer.max_epochs=1', 'trainer.limit_val_batches=1', 'trainer.limit_test_batches=1',
                        'trainer.enable_progress_bar=false', 'data.batch_size=646', f'exp_dir={tmp_path}/exp', 'name=b'],
                       capture_output=True, text=True, timeout=600, env={**os.environ, 'PYTHONPATH': str(ROOT)})
    assert p.returncode == 0 and beyond_allocator_note(p.stderr) == [], p.stderr
    info = json.loads((tmp_path/'exp'/'b'/'results.json').read_text())
    assert info['status'] == 'finished'

def test_predict_reproduces_the_reported_test_metric(finished, tmp_path):
    p = subprocess.run([cli(P), str(finished), '--out', str(tmp_path/'p.csv')], capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'PYTHONPATH': str(ROOT)})
    assert p.returncode == 0, p.stderr
    reported = json.loads((finished/'results.json').read_text())['metrics']['test_acc']
    assert f'test_acc={reported:.4f}' in p.stdout
    assert (tmp_path/'p.csv').read_text().startswith('id,target,prediction,score_0')

def test_hidden_files_and_folders_are_not_data(tmp_path):
    "What Jupyter and macOS leave in a folder (`.ipynb_checkpoints/` in train/ and in a class folder, `._0.png`, `.DS_Store`) is neither a class nor an image: the run trains on the 2 classes' 8 images."
    hidden = [(f'train/{d}', b) for d, b in [('.ipynb_checkpoints/0.png', _png_bytes()), ('a/.ipynb_checkpoints/0-checkpoint.png', _png_bytes()),
                                            ('a/._0.png', b'\x00\x05\x16\x07 AppleDouble'), ('b/.DS_Store', b'\x00\x00\x00\x01Bud1')]]
    args = [a for a in _folder(tmp_path, *hidden) if not a.startswith('data.num_classes')]    # counted from the folder
    p = subprocess.run([cli(T), *FAST, *args, 'data.val_split=0.25', f'exp_dir={tmp_path}/exp', 'name=h'], capture_output=True, text=True,
                       timeout=600, env={**os.environ, 'PYTHONPATH': str(ROOT), 'WANDB_MODE': 'disabled'})
    assert p.returncode == 0 and beyond_allocator_note(p.stderr) == [], p.stderr
    run = tmp_path/'exp'/'h'
    assert json.loads((run/'classes.json').read_text())['classes'] == ['a', 'b']
    from visionlab.data import ImageFolderDataModule
    dm = ImageFolderDataModule(name='pets', data_root_dir=tmp_path, val_split=0.25); dm.setup()
    assert len(dm.train_dataset) + len(dm.val_dataset) == 8 and not any('/.' in str(f) for f in dm.train_dataset.files)

def test_confusion_figure_of_many_classes_is_bounded():
    "A confusion matrix of 1,000 classes (ImageNet's) draws in seconds at a bounded size: no 45,000-pixel square, no million cell labels."
    import io, time
    import numpy as np
    from visionlab.plots import confusion_matrix_figure
    start = time.perf_counter()
    fig = confusion_matrix_figure(np.random.default_rng(0).integers(0, 5, (1000, 1000)))
    buf = io.BytesIO(); fig.savefig(buf, format='png')
    assert time.perf_counter() - start < 20 and max(fig.get_size_inches()) <= 12 and not fig.axes[0].texts
    assert len(buf.getvalue()) < 5_000_000, len(buf.getvalue())

# --- every front end refuses the same configurations --------------------------------------------------------------
NOT_CONFIG = {   # refused by visionlab-train before anything is written, but not a configuration rule
    'more classes than digits has': "the data: its classes are counted as it loads, before the run starts",
    'fewer classes than digits has': "the data: its classes are counted as it loads, before the run starts",
    'unknown cli option': "a flag of the command line, not a key",
    'unwritable exp_dir': "the machine's folders: checked as the run starts",
    '~ in data_root_dir': "the data on disk: checked as the run starts",
}
CONFIG_CASES = [pytest.param(_values(c), marks=getattr(c, 'marks', ()), id=_case_id(c)) for c in CASES
                if _values(c)[1] == T and _values(c)[3] is None and _values(c)[4] == 2 and _case_id(c) not in NOT_CONFIG]

@pytest.mark.parametrize('case', CONFIG_CASES)
def test_compose_and_the_panel_refuse_what_train_refuses(case, monkeypatch):
    "Each configuration the command line refuses (the table above): `compose` refuses it in-process with the same line, and a panel given it in 'other overrides' shows the line and keeps Train disabled."
    from visionlab.config import compose
    from visionlab.core import ConfigError
    from visionlab.panel import ConfigPanel
    for k in [k for k in os.environ if k.startswith('VISIONLAB_')]: monkeypatch.delenv(k)   # as the subprocess cases run
    name, tool, args, setup, status, phrase = case
    with pytest.raises(ConfigError) as refused: compose([*FAST, *args])
    assert phrase in str(refused.value), (name, str(refused.value))
    panel = ConfigPanel(())
    panel.extra.value = '\n'.join(args)
    assert panel.train_button.disabled and any(phrase in m for m in panel.errors.values()), (name, panel.errors)

def test_python_api_wrong_types_are_one_line_config_errors(finished, tmp_path):
    "The Python entries refuse what the command line cannot even spell with a `ConfigError` of one line, never a TypeError."
    from visionlab.core import ConfigError
    from visionlab.predict import load_run, predict_run, export_run
    from visionlab.runs import compare_runs
    cases = [(lambda: load_run(123), 'load_run(run_dir) takes a path (a str or a pathlib.Path), not 123 (int)'),
             (lambda: load_run(None), 'load_run(run_dir) takes a path (a str or a pathlib.Path), not None (NoneType)'),
             (lambda: load_run(finished, checkpoint=5), "checkpoint=5 is not valid: 'best', 'last' or a checkpoint file"),
             (lambda: predict_run(None), 'predict_run(path) takes a path'),
             (lambda: export_run(finished, out=123), '--export takes a path (a str or a pathlib.Path), not 123 (int)'),
             (lambda: compare_runs(123), 'compare_runs() takes run directories, their records or a folder holding runs, not a int'),
             (lambda: compare_runs([123]), 'read_run(run_dir) takes a path'),
             (lambda: compare_runs(tmp_path/'nothing'), 'is not a folder of runs: no such directory')]
    for call, phrase in cases:
        with pytest.raises(ConfigError) as e: call()
        assert phrase in str(e.value) and '\n' not in str(e.value), str(e.value)
    table = compare_runs([finished], metrics='test_acc')                 # one name, not its letters
    assert table.columns[-2:] == ['test_acc', 'wall_time']

def _api(module: str, name: str):
    "visionlab.<module>.<name>, imported when a case runs (the subprocess cases above import nothing)."
    import importlib
    return getattr(importlib.import_module(f'visionlab.{module}'), name)

def _panel_set(**values):
    from visionlab.panel import ConfigPanel
    return ConfigPanel(()).set(**values)

def _show(run):
    from visionlab.interpret import show_run
    return show_run(run)

def _corrupt_results(run):
    (run/'results.json').write_text('{"status": '); return run

API_CASES = [   # (id, call(finished run, tmp folder), phrase of the ConfigError's one line)
    ('compose(None)', lambda f, t: _api('config', 'compose')(None),
     "compose() takes a list of overrides such as ['model.lr=0.1'], not a NoneType"),
    ('compose with positional extras', lambda f, t: _api('config', 'compose')(['model.lr=0.1'], 'yes', 'notes'),
     "compose(validate_choices=...) takes True or False, not 'yes': the overrides go in one list"),
    ('train callbacks a string', lambda f, t: _api('train', 'train')([*FAST, f'exp_dir={t}'], callbacks='x'),
     "train(callbacks=...) takes a list of Lightning callbacks (lightning.Callback instances), not 'x' (str)"),
    ('create_model num_classes=0', lambda f, t: _api('models.core', 'create_model')('resnet8', num_classes=0),
     'model.num_classes=0 is out of range: must be >= 1'),
    ('create_model input_channels=0', lambda f, t: _api('models.core', 'create_model')('resnet8', input_channels=0),
     'model.input_channels=0 is out of range: must be >= 1'),
    ('create_model stochastic_depth=2.0', lambda f, t: _api('models.core', 'create_model')('resnet18', stochastic_depth=2.0),
     'model.stochastic_depth=2.0 is out of range: must be in [0, 1)'),
    ('create_model widen_factor=0', lambda f, t: _api('models.core', 'create_model')('wrn16_8', widen_factor=0),
     'model.widen_factor=0 is out of range: must be >= 1'),
    ('panel from_overrides([123])', lambda f, t: _api('panel', 'ConfigPanel').from_overrides([123]),
     "an override is a string such as 'model.lr=0.1', not 123 (int)"),
    ('panel.set lr text', lambda f, t: _panel_set(model__lr='abc'), "model.lr='abc' is not a valid float"),
    ('panel.set unknown arch', lambda f, t: _panel_set(model__arch='nosuch'), "model.arch='nosuch': unknown model"),
    ('show_run corrupt config.yaml', lambda f, t: _show(_corrupt_cfg(_copy(f, t/'c'))), '/c/config.yaml is corrupt: '),
    ('show_run corrupt results.json', lambda f, t: _show(_corrupt_results(_copy(f, t/'r'))), '/r/results.json is corrupt: Expecting value'),
    ('compare_runs missing folder', lambda f, t: _api('runs', 'compare_runs')(t/'nothing'),
     "is not a folder of runs: no such directory"),
    ('compare_runs unknown metric', lambda f, t: _api('runs', 'compare_runs')([f], metrics=['test_accc']),
     "compare_runs: no run has the metric 'test_accc': did you mean 'test_acc'"),
]

@pytest.mark.parametrize('name,call,phrase', API_CASES, ids=[c[0] for c in API_CASES])
def test_python_api_refuses_with_the_command_lines_line(name, call, phrase, finished, tmp_path):
    "Every public entry refuses a wrong type or value with a one-line `ConfigError` (the command line's line where it has one), never a TypeError, ValueError or TraitError."
    from visionlab.core import ConfigError
    with pytest.raises(ConfigError) as e: call(finished, tmp_path)
    assert phrase in str(e.value) and '\n' not in str(e.value), str(e.value)
    assert not (tmp_path/'exp').exists() or not any((tmp_path/'exp').iterdir())
