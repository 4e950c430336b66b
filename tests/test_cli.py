"The command line as a user runs it: a subprocess, real exit codes, real run directories."
import csv, json, os, re, subprocess, sys
from pathlib import Path
from omegaconf import OmegaConf
from conftest import beyond_allocator_note, cli

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

def test_a_run_without_test_reports_its_validation(run_cli, tmp_path):
    "test=false on the digits: the report line has the validation metrics and no comparison with the SVC (it has no test accuracy)."
    p = run_cli('experiment=quickstart', 'trainer.max_epochs=1', 'trainer.limit_train_batches=1', 'trainer.limit_val_batches=1',
                'test=false', 'name=untested')
    assert p.returncode == 0, p.stderr
    assert 'val_acc=' in p.stdout and 'test_acc' not in p.stdout and 'SVC' not in p.stdout, p.stdout
    assert beyond_allocator_note(p.stderr) == [], p.stderr

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
    "On glibc's allocator (a machine without tcmalloc): a refusal and --cfg stay one line or none; a run that went well says it once."
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

FIVE = ('ant', 'bee', 'cat', 'dog', 'eel')

def _loose_pngs(folder: Path, n: int = 20) -> list[Path]:
    "`n` PNGs of mixed sizes and modes at three depths of `folder`, with hidden ones beside them (left out)."
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for sub in ('', 'more', 'more/deeper', '.hidden'): (folder/sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        size = (20 + i, 24 + 2 * i)
        im = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
        (im.convert('L') if i % 5 == 0 else im).save(folder/['', 'more', 'more/deeper'][i % 3]/f'new{i:02d}.png')
    im.save(folder/'.hidden'/'x.png'); im.save(folder/'.x.png')
    return sorted(p for p in folder.rglob('*.png') if '.hidden' not in p.parts and not p.name.startswith('.'))

STANDALONE = """
import csv, json, sys, numpy as np, torch
from PIL import Image
model = torch.export.load(sys.argv[1]).module()
rows = list(csv.DictReader(open(sys.argv[2])))
worst = 0.0
for r in rows:
    x = torch.from_numpy(np.asarray(Image.open(r['image']).convert('RGB'))).permute(2, 0, 1)[None]
    p = model(x)[0]
    worst = max(worst, max(abs(p[i].item() - float(r[c])) for i, c in enumerate(json.load(open(sys.argv[3]))['classes'])))
assert not any(m.startswith('visionlab') for m in sys.modules)
print(len(rows), worst)
"""

def test_image_folder_counts_its_classes_and_predicts_on_loose_images(run_cli, tmp_path):
    "A folder of 5 classes without data.num_classes trains; visionlab-predict names the classes of 20 loose PNGs; the export alone reproduces them."
    from fixtures import write_image_folder
    write_image_folder(tmp_path/'five', classes=FIVE, per_class=4)
    p = run_cli('data=image_folder', f'data.data_root_dir={tmp_path/"five"}', 'data.image_size=16', 'data.batch_size=8',
                'trainer.max_epochs=1', 'trainer.limit_train_batches=2', 'model.lr=0.001', 'name=five')
    assert p.returncode == 0, p.stderr
    run = tmp_path/'exp'/'five'
    assert OmegaConf.load(run/'config.yaml').data.num_classes == 5
    assert json.loads((run/'classes.json').read_text())['classes'] == list(FIVE)
    files = _loose_pngs(tmp_path/'new')
    pr = subprocess.run([cli('visionlab-predict'), str(run), '--images', str(tmp_path/'new'), '--out', 'preds.csv', '--export', 'm.pt2'],
                        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert pr.returncode == 0, pr.stderr
    rows = list(csv.DictReader(open(tmp_path/'preds.csv')))
    assert [r['image'] for r in rows] == [str(f) for f in files] and len(rows) == 20
    assert {r['prediction'] for r in rows} <= set(FIVE) and list(rows[0])[3:] == list(FIVE)
    assert min(float(r['probability']) for r in rows) < 0.9          # a model that is not saturated: the comparison below means something
    assert rows[0]['prediction'] in pr.stdout and '[20 rows x 8 columns' in pr.stdout and 'new/more/deeper/new02.png' in pr.stdout, pr.stdout
    labels = json.loads((tmp_path/'m.labels.json').read_text())
    assert labels['classes'] == list(FIVE)
    alone = subprocess.run([sys.executable, '-c', STANDALONE, 'm.pt2', 'preds.csv', 'm.labels.json'], capture_output=True, text=True,
                           timeout=300, cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != 'PYTHONPATH'})
    assert alone.returncode == 0, alone.stderr
    n, worst = alone.stdout.split()
    assert n == '20' and float(worst) < 1e-5, alone.stdout

def test_explicit_num_classes_that_is_too_small_is_refused(run_cli, tmp_path):
    from fixtures import write_image_folder
    write_image_folder(tmp_path/'five', classes=FIVE, per_class=2)
    p = run_cli('data=image_folder', f'data.data_root_dir={tmp_path/"five"}', 'data.num_classes=3', 'trainer.max_epochs=1')
    assert p.returncode == 2 and 'data.num_classes=3 but image_folder has 5 classes' in p.stderr and p.stderr.count('\n') == 1, p.stderr
    assert not (tmp_path/'exp').exists()
