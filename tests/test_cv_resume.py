"Kill and resume a cross-validation: SIGKILLed during fold 1 and resumed by name, it ends exactly like an uninterrupted one."
import json, os, signal, subprocess, time
from pathlib import Path
import pytest
from conftest import cli
from fixtures import checkpoint_epoch, kill_when

ENV = {**os.environ, 'WANDB_MODE': 'disabled', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1',
       'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
ARGS = ['data=digits', 'model=cifar_resnet', 'model.arch=resnet8', 'data.cv.k=3', 'trainer.max_epochs=2', 'seed=3',
        'data.batch_size=16', 'trainer.limit_train_batches=40', 'trainer.limit_val_batches=2', 'trainer.limit_test_batches=2',
        'trainer.enable_progress_bar=false']

def _train(*args, popen=False):
    cmd = [cli('visionlab-train'), *args]
    if popen: return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)

def _metrics(run_dir: Path) -> dict: return json.loads((run_dir/'results.json').read_text())['metrics']

def _sessions(run_dir: Path) -> list[int]:
    "The first step of each training session that wrote to the run's metric records."
    rows = [json.loads(l) for l in (run_dir/'metrics.jsonl').read_text().splitlines() if l.strip()]
    return [r['session'] for r in rows if 'session' in r]

def _summary(exp: Path, name: str) -> dict:
    s = json.loads((exp/f'{name}-cv.json').read_text())
    return dict(k=s['k'], mean=s['mean'], std=s['std'], folds=[(f['fold'], f['metrics']) for f in s['folds']])

def _kill_in_fold1(exp: Path, name: str) -> bool:
    "Start the cross-validation `name`; SIGKILL it once fold 1 has saved its first epoch; True if fold 1 was still training."
    run = _train(*ARGS, f'exp_dir={exp}', f'name={name}', popen=True)
    fold1 = exp/f'{name}-fold1'
    alive = kill_when(run, lambda: checkpoint_epoch(fold1/'checkpoints'/'last.ckpt') == 0)
    assert run.returncode == -signal.SIGKILL
    return alive and not (fold1/'results.json').exists() and not (exp/f'{name}-fold2').exists()

def test_cv_killed_in_fold1_resumes_by_name_as_uninterrupted(tmp_path):
    exp = tmp_path/'exp'
    ref = _train(*ARGS, f'exp_dir={exp}', 'name=ref')
    assert ref.returncode == 0, ref.stderr
    name = next((n for n in ('cut0', 'cut1', 'cut2') if _kill_in_fold1(exp, n)), None)
    if name is None: pytest.fail('every kill came after fold 1 had ended: this machine is too slow or too noisy for the test')
    assert json.loads((exp/f'{name}-fold0'/'results.json').read_text())['status'] == 'finished'
    fold0 = {p: p.read_bytes() for p in (exp/f'{name}-fold0').rglob('*') if p.is_file()}

    p = _train(f'resume={exp/name}', 'trainer.enable_progress_bar=false')
    assert p.returncode == 0, p.stderr
    assert 'Checkpoint directory' not in p.stderr, p.stderr
    assert f'cross-validation summary: {exp}/{name}-cv.json' in p.stdout, p.stdout
    assert {p: p.read_bytes() for p in (exp/f'{name}-fold0').rglob('*') if p.is_file()} == fold0     # kept as it was
    assert _sessions(exp/f'{name}-fold1') == [0, 40]                         # fold 1 resumed after its first epoch, not rerun
    assert _sessions(exp/f'{name}-fold2') == [0]
    for i in range(3):
        assert _metrics(exp/f'{name}-fold{i}') == _metrics(exp/f'ref-fold{i}'), i
    assert _summary(exp, name) == _summary(exp, 'ref')

    for again in (exp/name, exp/f'{name}-cv.json'):                        # nothing left to do: refused in one line
        p = _train(f'resume={again}')
        assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'nothing to resume' in p.stderr, p.stderr

def test_resuming_one_fold_names_the_command_that_continues_all(tmp_path):
    exp = tmp_path/'exp'
    assert _kill_in_fold1(exp, 'one') or pytest.skip('fold 1 had ended before the kill')
    p = _train(f'resume={exp}/one-fold1', 'trainer.enable_progress_bar=false')
    assert p.returncode == 0, p.stderr
    note = [l for l in p.stderr.splitlines() if 'is fold 1 of the 3-fold cross-validation one' in l]
    assert len(note) == 1 and note[0].endswith(f'continue them all with: visionlab-train resume={exp}/one'), p.stderr
    assert not (exp/'one-fold2').exists() and not (exp/'one-cv.json').exists()
    p = _train(f'resume={exp}/one')                                     # the command it gives: fold 2 and the summary
    assert p.returncode == 0, p.stderr
    assert (exp/'one-fold2'/'results.json').exists() and (exp/'one-cv.json').exists()

def test_ctrl_c_in_fold1_names_the_command_that_continues_all(tmp_path):
    exp = tmp_path/'exp'
    run = _train(*ARGS, f'exp_dir={exp}', 'name=c', popen=True)
    end = time.time() + 600
    while checkpoint_epoch(exp/'c-fold1'/'checkpoints'/'last.ckpt') is None and time.time() < end:
        assert run.poll() is None, run.communicate()
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=600)
    if run.returncode == 0: pytest.skip('the cross-validation ended before Ctrl-C arrived')
    assert run.returncode == 130 and f'continue with: visionlab-train resume={exp}/c\n' in err, err
    p = _train(f'resume={exp}/c')
    assert p.returncode == 0 and (exp/'c-cv.json').exists(), p.stderr

def test_panel_resume_of_a_cross_validation_takes_the_same_path(tmp_path):
    "The panel trains through `train`: `resume=<exp_dir>/<name>` loaded into it continues the cross-validation."
    import shutil, torch
    from visionlab.train import train
    from visionlab.panel import ConfigPanel
    torch.set_num_threads(1)
    exp = tmp_path/'exp'
    tiny = [a for a in ARGS if 'limit_train_batches' not in a] + ['trainer.limit_train_batches=2', f'exp_dir={exp}']
    whole = train(tiny + ['name=cv'])
    shutil.rmtree(exp/'cv-fold2'); (exp/'cv-cv.json').unlink()                  # as if stopped before fold 2 began
    panel = ConfigPanel([f'resume={exp}/cv', 'trainer.enable_progress_bar=false'], background=False)
    panel.start(); panel.raise_error()
    assert [r.run_dir for r in panel.result.folds] == [exp/'cv-fold0', exp/'cv-fold1', exp/'cv-fold2']
    assert [r.metrics for r in panel.result.folds] == [r.metrics for r in whole.folds]
    assert json.loads((exp/'cv-cv.json').read_text())['mean'] == whole.mean
