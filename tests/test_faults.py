"""Fault injection, as a user meets faults: `visionlab-train` / `visionlab-predict` run as subprocesses, killed with
SIGKILL at chosen moments, run twice at once, moved, resumed with a foreign checkpoint, poisoned with inf.
Each test checks the exit status, the whole stderr, and that the run directory holds what it promises."""
import csv, json, os, re, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from conftest import cli
from fixtures import checkpoint_epoch as _epoch, kill_when as _kill_when
from visionlab.core import load_checkpoint

ENV = {**os.environ, 'WANDB_MODE': 'disabled', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1',
       'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
FAST = ['data=digits', 'seed=3', 'data.batch_size=16', 'trainer.limit_train_batches=6', 'trainer.limit_val_batches=2',
        'trainer.limit_test_batches=2', 'trainer.enable_progress_bar=false', 'model.lr=0.05']
EPOCHS = 4

def _popen(*args):
    return subprocess.Popen([cli('visionlab-train'), *FAST, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)

def _run(*args, tool='visionlab-train', fast=True):
    return subprocess.run([cli(tool), *(FAST if fast else []), *args], capture_output=True, text=True, timeout=600, env=ENV)

def _resume(run_dir, *args):
    return subprocess.run([cli('visionlab-train'), f'resume={run_dir}', 'trainer.enable_progress_bar=false', *args],
                          capture_output=True, text=True, timeout=600, env=ENV)

def _rows(run_dir): return list(csv.DictReader(open(run_dir/'metrics.csv')))

def _temps(root): return sorted(p for p in Path(root).rglob('*.tmp'))

def _snapshot(d: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(d.rglob('*')) if p.is_file()}

@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "An uninterrupted run of EPOCHS epochs."
    exp = tmp_path_factory.mktemp('ref')
    p = _run(f'trainer.max_epochs={EPOCHS}', f'exp_dir={exp}', 'name=ref')
    assert p.returncode == 0, p.stderr
    return exp/'ref'

def test_three_kills_two_resumes_keep_every_metric_row(reference, tmp_path):
    "Killed mid-epoch 1, killed in the resume right after epoch 2's checkpoint, killed after the last checkpoint: every row once."
    run = tmp_path/'exp'/'k'
    last = run/'checkpoints'/'last.ckpt'
    first = _popen(f'trainer.max_epochs={EPOCHS}', f'exp_dir={tmp_path/"exp"}', 'name=k')
    assert _kill_when(first, lambda: _epoch(last) == 0, delay=1.0)           # epoch 0 is committed once epoch 1 runs
    resumed = subprocess.Popen([cli('visionlab-train'), f'resume={run}', 'trainer.enable_progress_bar=false'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    assert _kill_when(resumed, lambda: _epoch(last) == 2)        # just after epoch 2's checkpoint
    again = subprocess.Popen([cli('visionlab-train'), f'resume={run}', 'trainer.enable_progress_bar=false'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    assert _kill_when(again, lambda: _epoch(last) == EPOCHS - 1)  # after the last checkpoint, before the results
    p = _resume(run)
    assert p.returncode == 0, p.stderr
    assert _rows(run) == _rows(reference)                                   # every row, once, as uninterrupted
    a, b = (json.loads((d/'results.json').read_text()) for d in (reference, run))
    assert (a['status'], a['metrics']) == (b['status'], b['metrics'])
    assert _temps(run) == [] and not (run/'.lock').exists()

def test_kill_during_checkpoint_write_leaves_no_partial_file(tmp_path):
    "Killed while a checkpoint is only a temporary file: last.ckpt stays whole; the resume removes the leftover and finishes."
    run = tmp_path/'exp'/'w'
    proc = _popen(f'trainer.max_epochs=3', f'exp_dir={tmp_path/"exp"}', 'name=w')
    ckdir = run/'checkpoints'
    assert _kill_when(proc, lambda: (ckdir/'last.ckpt').exists() and any(ckdir.glob('*.tmp')))   # epoch 1's, not yet renamed
    assert _temps(run), 'killed after the temporary file was committed'
    for f in ckdir.glob('*.ckpt'): assert _epoch(f) is not None, f'{f} is partial'
    p = _resume(run)
    assert p.returncode == 0, p.stderr
    assert _temps(tmp_path) == []

def test_failed_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    "A write that fails half-way (a full disk, a copy that breaks) leaves the previous checkpoint and no temporary file."
    import visionlab.runs as runs
    from visionlab.trainer import AtomicCheckpointIO
    io = AtomicCheckpointIO()
    io.save_checkpoint(dict(epoch=0, global_step=1, state_dict={'w': torch.zeros(3)}), tmp_path/'last.ckpt'); io.commit()
    real = torch.save
    def half(obj, f): f.write(b'PK\x03\x04 half'); raise OSError(28, 'No space left on device')
    monkeypatch.setattr(torch, 'save', half)
    from visionlab.core import VisionlabError
    with pytest.raises(VisionlabError, match=re.escape(f"checkpoint {tmp_path/'last.ckpt'} not written, the disk is full: ")):
        io.save_checkpoint(dict(epoch=1, global_step=2, state_dict={'w': torch.ones(3)}), tmp_path/'last.ckpt')
    monkeypatch.setattr(torch, 'save', real)
    assert _epoch(tmp_path/'last.ckpt') == 0 and _temps(tmp_path) == []

def test_full_disk_in_torchs_zip_writer_names_the_file_and_the_free_space(tmp_path, monkeypatch):
    "torch's writer reports a full disk as `RuntimeError: [enforce fail at inline_container.cc:672] . unexpected pos`."
    import visionlab.runs as runs
    from visionlab.core import VisionlabError
    from visionlab.trainer import AtomicCheckpointIO
    def cut(obj, f): f.write(b'PK\x03\x04'); raise RuntimeError('[enforce fail at inline_container.cc:672] . unexpected pos 192064 vs 191960')
    monkeypatch.setattr(torch, 'save', cut)
    monkeypatch.setattr(runs, 'free_bytes', lambda path: 3 * 2**20 // 10)        # what a full disk leaves
    with pytest.raises(VisionlabError) as e:
        AtomicCheckpointIO().save_checkpoint(dict(epoch=0, global_step=1, state_dict={'w': torch.zeros(2**20)}), tmp_path/'last.ckpt')
    assert str(e.value) == (f"checkpoint {tmp_path/'last.ckpt'} not written, the disk is full: 0.3 MiB free in {tmp_path} "
                            "(the earlier checkpoints are intact): free some space, then resume the run")
    monkeypatch.setattr(runs, 'free_bytes', lambda path: 2**40)                   # space enough: torch's own error stays
    with pytest.raises(RuntimeError, match='unexpected pos'):
        AtomicCheckpointIO().save_checkpoint(dict(epoch=0, global_step=1, state_dict={'w': torch.zeros(4)}), tmp_path/'last.ckpt')
    assert _temps(tmp_path) == []

def test_nonfinite_state_never_reaches_a_checkpoint(tmp_path):
    import lightning as L
    from visionlab.train import train
    from visionlab.core import VisionlabError
    class Poison(L.Callback):          # a BatchNorm's running variance turns inf in epoch 1; the training loss stays finite
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if trainer.current_epoch == 1 and batch_idx == 2:
                bn = next(m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d))
                bn.running_var.fill_(float('inf'))
    os.environ['WANDB_MODE'] = 'disabled'
    with pytest.raises(VisionlabError) as e:
        train([*FAST, 'trainer.max_epochs=3', f'exp_dir={tmp_path}', 'name=nan'], callbacks=[Poison()])
    run = tmp_path/'nan'
    assert 'non-finite validation loss' in str(e.value) or 'non-finite model state' in str(e.value), e.value
    assert f"the last good checkpoint is {run/'checkpoints'/'last.ckpt'} (end of epoch 0)" in str(e.value)
    for f in (run/'checkpoints').glob('*.ckpt'):
        ck = load_checkpoint(f, mmap=False)
        assert all(torch.isfinite(v).all() for v in ck['state_dict'].values() if v.is_floating_point()), f
    assert json.loads((run/'results.json').read_text())['status'] == 'failed'
    p = _run(str(run), tool='visionlab-predict', fast=False)                 # the good checkpoint predicts
    assert p.returncode == 0 and 'test_acc=' in p.stdout, p.stderr

def test_second_resume_of_a_running_run_is_refused(tmp_path):
    exp = tmp_path/'exp'
    p = _run('trainer.max_epochs=1', f'exp_dir={exp}', 'name=c', 'model.scheduler=none')
    assert p.returncode == 0, p.stderr
    owner = subprocess.Popen([cli('visionlab-train'), f'resume={exp/"c"}', 'trainer.max_epochs=60', 'trainer.enable_progress_bar=false'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    end = time.time() + 120
    while not (exp/'c'/'.lock').exists() and time.time() < end: time.sleep(0.02)
    second = _resume(exp/'c', 'trainer.max_epochs=60')
    running = owner.poll() is None
    owner.send_signal(signal.SIGKILL); owner.communicate()
    assert running, 'the first resume ended before the second one started: this machine is too fast for the test'
    assert second.returncode == 2 and second.stderr.count('\n') == 1, second.stderr
    assert second.stderr.startswith('visionlab-train: error: ') and f'in use by process {owner.pid}' in second.stderr, second.stderr

def test_stale_lock_of_a_killed_run_is_taken_over(tmp_path):
    run = tmp_path/'exp'/'s'
    proc = _popen('trainer.max_epochs=3', f'exp_dir={tmp_path/"exp"}', 'name=s')
    assert _kill_when(proc, lambda: (run/'checkpoints'/'last.ckpt').exists())
    assert (run/'.lock').exists()
    p = _resume(run)
    assert p.returncode == 0, p.stderr
    assert not (run/'.lock').exists() and json.loads((run/'results.json').read_text())['status'] == 'finished'

def test_finished_run_resume_is_refused_untouched(tmp_path):
    exp = tmp_path/'exp'
    assert _run('trainer.max_epochs=1', f'exp_dir={exp}', 'name=f').returncode == 0
    before = _snapshot(exp/'f')
    for args in ([], ['trainer.max_epochs=200']):
        p = _resume(exp/'f', *args)
        assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'nothing to resume' in p.stderr, p.stderr
    assert _snapshot(exp/'f') == before

def test_resume_with_a_foreign_checkpoint_changes_nothing(tmp_path):
    exp = tmp_path/'exp'
    assert _run('trainer.max_epochs=1', f'exp_dir={exp}', 'name=a', 'model.scheduler=none').returncode == 0
    assert _run('trainer.max_epochs=1', f'exp_dir={exp}', 'name=b', 'model.arch=resnet34').returncode == 0
    shutil.copy(exp/'b'/'checkpoints'/'last.ckpt', exp/'a'/'checkpoints'/'last.ckpt')
    before = _snapshot(exp/'a')
    p = _resume(exp/'a', 'trainer.max_epochs=2')
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'does not fit the model' in p.stderr, p.stderr
    assert _snapshot(exp/'a') == before

def test_moved_runs_resume_and_predict_from_their_own_files(tmp_path):
    exp, away = tmp_path/'exp', tmp_path/'elsewhere'
    proc = _popen('trainer.max_epochs=3', f'exp_dir={exp}', 'name=m')
    assert _kill_when(proc, lambda: _epoch(exp/'m'/'checkpoints'/'last.ckpt') == 0)
    away.mkdir(); shutil.move(exp/'m', away/'m')
    p = _resume(away/'m')
    assert p.returncode == 0, p.stderr
    assert sorted(f.name for f in (away/'m'/'checkpoints').iterdir())[-1] == 'last.ckpt'      # no last-v1.ckpt
    assert _epoch(away/'m'/'checkpoints'/'last.ckpt') == 2
    info = json.loads((away/'m'/'results.json').read_text())
    assert info['status'] == 'finished' and info['best_checkpoint'].startswith('checkpoints/best-epoch=')
    shutil.move(away/'m', exp/'m2')                                            # moved again, finished
    p = _run(str(exp/'m2'), '--out', str(tmp_path/'p.csv'), tool='visionlab-predict', fast=False)
    assert p.returncode == 0 and 'test_acc=' in p.stdout, p.stderr
    shutil.copytree(exp/'m2', exp/'gone'); shutil.rmtree(exp/'gone'/'checkpoints')
    p = _run(str(exp/'gone'), tool='visionlab-predict', fast=False)            # never another run's checkpoint
    assert p.returncode == 2 and p.stderr.count('\n') == 1 and 'no checkpoint in' in p.stderr, p.stderr

def test_sigterm_mid_epoch_is_a_clean_resumable_stop(reference, tmp_path):
    "What SLURM sends before a preemption: a checkpoint at the signal, results.json `stopped`, the resume= hint, exit 143; the resume ends as the uninterrupted run."
    exp = tmp_path/'exp'
    run, end = exp/'t', time.time() + 600
    last = run/'checkpoints'/'last.ckpt'
    proc = _popen(f'trainer.max_epochs={EPOCHS}', f'exp_dir={exp}', 'name=t')
    while _epoch(last) != 0:                                   # epoch 0 is committed as epoch 1 starts
        assert proc.poll() is None and time.time() < end, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 143, err
    assert err.splitlines()[-1] == 'visionlab-train: stopped by SIGTERM', err
    assert 'Received SIGTERM' not in err and f'keeps the state at the signal; continue with: visionlab-train resume={run}' in err, err
    ck = torch.load(last, weights_only=True)
    assert ck['epoch'] == 1 and ck['visionlab_mid_epoch'] and 0 < ck['visionlab_restart']['batches'] < 6, ck['global_step']
    info = json.loads((run/'results.json').read_text())
    assert info['status'] == 'stopped' and info['error'].startswith('stopped by SIGTERM at epoch 1'), info
    assert not (run/'.lock').exists() and _temps(run) == []

    p = _resume(run)
    assert p.returncode == 0, p.stderr
    a, b = (torch.load(d/'checkpoints'/'last.ckpt', weights_only=True) for d in (reference, run))
    assert (a['epoch'], a['global_step']) == (b['epoch'], b['global_step']) == (EPOCHS - 1, EPOCHS * 6)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    assert all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict'])   # bit-identical weights
    ma, mb = (json.loads((d/'results.json').read_text()) for d in (reference, run))
    assert (ma['status'], ma['metrics']) == (mb['status'], mb['metrics'])

def test_run_directory_removed_while_training_stops_and_recreates_nothing(tmp_path):
    exp = tmp_path/'exp'
    run, end = exp/'gone', time.time() + 600
    proc = _popen(f'trainer.max_epochs={EPOCHS}', f'exp_dir={exp}', 'name=gone')
    while _epoch(run/'checkpoints'/'last.ckpt') != 0:
        assert proc.poll() is None and time.time() < end, proc.communicate()
        time.sleep(0.01)
    while run.exists():                                         # the run may add a file while the folder is removed
        shutil.rmtree(run, ignore_errors=True)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1 and err.count('\n') == 1, err
    assert err == f"visionlab-train: failed: the run directory {run} was removed while the run trained: the run stopped and re-created nothing\n"
    assert not run.exists() and os.listdir(exp) == []

SLOW_TEST = '''"Test-only module (imports=[vl_slowtest]): each test batch marks the test phase in a file and takes half a second."
import os, time
from pathlib import Path
from visionlab.module import VisionModule
_step = VisionModule.test_step
def test_step(self, *a, **k):
    Path(os.environ['VL_IN_TEST']).touch(); time.sleep(0.5)
    return _step(self, *a, **k)
VisionModule.test_step = test_step
'''

def test_sigterm_in_the_test_phase_keeps_the_fit_and_says_how_to_test(tmp_path):
    "SIGTERM while the finished fit is tested: exit 143 (never a silent -15), results.json `stopped` with the fit's metrics, one line that says so; the resume tests it."
    (tmp_path/'vl_slowtest.py').write_text(SLOW_TEST)
    run, marker, end = tmp_path/'exp'/'t', tmp_path/'in_test', time.time() + 600
    proc = subprocess.Popen([cli('visionlab-train'), *FAST, 'trainer.max_epochs=1', 'trainer.limit_test_batches=20', 'imports=[vl_slowtest]',
                             f'exp_dir={tmp_path/"exp"}', 'name=t'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env={**ENV, 'VL_IN_TEST': str(marker)})
    while not marker.exists():
        assert proc.poll() is None and time.time() < end, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 143, err
    assert err.splitlines()[-1] == 'visionlab-train: stopped by SIGTERM' and 'Received SIGTERM' not in err, err
    assert f'stopped by SIGTERM while testing (the fit had finished, its metrics are kept): ' in err, err
    assert f'continue with: visionlab-train resume={run} (it tests)' in err, err
    info = json.loads((run/'results.json').read_text())
    assert info['status'] == 'stopped' and 'val_acc' in info['metrics'] and 'test_acc' not in info['metrics'], info
    p = _resume(run)
    assert p.returncode == 0, p.stderr
    info = json.loads((run/'results.json').read_text())
    assert info['status'] == 'finished' and 'test_acc' in info['metrics'], info

def test_resume_onto_other_data_is_refused(tmp_path):
    "A run whose results.json was removed, resumed with data.data_root_dir at a folder of other classes: one line naming both folders' classes and roots, nothing written."
    from fixtures import write_image_folder
    pets, bugs = tmp_path/'pets', tmp_path/'bugs'
    write_image_folder(pets, classes=('cat', 'dog'), per_class=8); write_image_folder(bugs, classes=('ant', 'bee'), per_class=8)
    data = ['data=image_folder', 'data.batch_size=4', 'data.image_size=8', 'trainer.max_epochs=1', 'trainer.limit_train_batches=2',
            'trainer.limit_val_batches=1', 'trainer.limit_test_batches=1', 'trainer.enable_progress_bar=false']
    p = _run(*data, f'data.data_root_dir={pets}', f'exp_dir={tmp_path/"exp"}', 'name=r', fast=False)
    assert p.returncode == 0, p.stderr
    run = tmp_path/'exp'/'r'
    (run/'results.json').unlink()                                  # as if it had been killed
    before = _snapshot(run)
    p = _resume(run, f'data.data_root_dir={bugs}')
    assert p.returncode == 2 and p.stderr.count('\n') == 1, p.stderr
    assert p.stderr == (f"visionlab-train: error: resume: the data at data.data_root_dir={bugs} has the classes ant, bee, the run trained on "
                        f"cat, dog (data.data_root_dir={pets}): resume on the run's data, or start a new run\n"), p.stderr
    assert _snapshot(run) == before

def test_an_ascii_console_prints_a_non_ascii_run_name(tmp_path):
    "LANG=C with PYTHONIOENCODING=ascii: a run named 'Über' trains and reports (the name escaped), never a UnicodeEncodeError after the work is done."
    env = {**ENV, 'LANG': 'C', 'LC_ALL': 'C', 'PYTHONIOENCODING': 'ascii'}
    p = subprocess.run([cli('visionlab-train'), *FAST, 'trainer.max_epochs=1', f'exp_dir={tmp_path/"exp"}', "name='Über'"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0 and 'UnicodeEncodeError' not in p.stderr, p.stderr
    assert 'run dir: ' in p.stdout and '\\xdcber' in p.stdout, p.stdout
    assert json.loads((tmp_path/'exp'/'Über'/'results.json').read_text())['status'] == 'finished'

SLURM_TASK = {'SLURM_NTASKS': '1', 'SLURM_NTASKS_PER_NODE': '1', 'SLURM_JOB_NAME': 'train', 'SLURM_JOB_ID': '4242', 'SLURM_PROCID': '0',
              'SLURM_LOCALID': '0', 'SLURM_NODEID': '0', 'SLURM_NODELIST': 'localhost', 'SLURM_JOB_NUM_NODES': '1'}

def test_sigterm_under_slurm_stops_for_a_requeue_that_resumes(tmp_path):
    "As `srun` starts a task (SLURM's variables set): SLURM's SIGTERM (preemption, scancel, --signal=TERM@120) is the kit's clean stop, Lightning writes no hpc_ckpt of its own and requeues nothing; the requeued job's resume= continues the run."
    exp, env = tmp_path/'exp', {**ENV, **SLURM_TASK}
    run, end = exp/'s', time.time() + 600
    proc = subprocess.Popen([cli('visionlab-train'), *FAST, 'trainer.max_epochs=3', f'exp_dir={exp}', 'name=s'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    while _epoch(run/'checkpoints'/'last.ckpt') != 0:
        assert proc.poll() is None and time.time() < end, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 143 and err.splitlines()[-1] == 'visionlab-train: stopped by SIGTERM', err
    assert f'continue with: visionlab-train resume={run}' in err and 'requeue' not in err.lower(), err
    assert not list(run.rglob('hpc_ckpt*')) and json.loads((run/'results.json').read_text())['status'] == 'stopped'
    p = subprocess.run([cli('visionlab-train'), f'resume={run}', 'trainer.enable_progress_bar=false'], capture_output=True, text=True,
                       timeout=600, env={**env, 'SLURM_RESTART_COUNT': '1'})
    assert p.returncode == 0, p.stderr
    assert json.loads((run/'results.json').read_text())['status'] == 'finished'

def test_slurm_launcher_signals_before_the_time_limit_and_does_not_resubmit():
    "hydra/launcher=slurm: submitit signals 120 s before the time limit and resubmits no timed-out job (a resubmitted job would start its run anew); the guide shows resume=."
    from visionlab.sweeps import hydra_config
    launcher = hydra_config(['data=digits'], ['hydra/launcher=slurm']).hydra.launcher
    assert (launcher.signal_delay_s, launcher.max_num_timeout, launcher.timeout_min) == (120, 0, 720)
    guide = (Path(__file__).resolve().parents[1]/'nbs'/'guides'/'01_command_line.ipynb').read_text()
    assert 'auto_requeue=False' in guide and 'SLURM_RESTART_COUNT' in guide and 'scontrol requeue' in guide
