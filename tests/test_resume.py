"Kill and resume: a run SIGKILLed in the middle of an epoch and resumed ends exactly like an uninterrupted one."
import json, os, signal, subprocess, time
import pytest
import torch
from conftest import cli

ARGS = ['data=digits', 'seed=7', 'trainer.max_epochs=3', 'data.batch_size=16', 'trainer.limit_train_batches=24',
        'trainer.limit_val_batches=2', 'trainer.limit_test_batches=2', 'trainer.enable_progress_bar=false']

def _epoch(ckpt):
    "The epoch of a checkpoint that is completely written, else None."
    try: return torch.load(ckpt, map_location='cpu', weights_only=False)['epoch']
    except Exception: return None

def _start(exp, name):
    return subprocess.Popen([cli('visionlab-train'), *ARGS, f'exp_dir={exp}', f'name={name}'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def _wait_epoch(ckpt, epoch, proc, timeout=600):
    "Wait until `ckpt` holds `epoch`; return the time it did."
    end = time.time() + timeout
    while time.time() < end:
        e = _epoch(ckpt) if ckpt.exists() else None
        if e is not None and e >= epoch: return time.time()
        assert proc.poll() in (None, 0), proc.communicate()
        time.sleep(0.05)
    raise TimeoutError(f'{ckpt} never reached epoch {epoch}')

def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    exp = tmp_path/'exp'
    ref = _start(exp, 'ref')                                    # the uninterrupted run; time one epoch
    t0 = _wait_epoch(exp/'ref'/'checkpoints'/'last.ckpt', 0, ref)
    t1 = _wait_epoch(exp/'ref'/'checkpoints'/'last.ckpt', 1, ref)
    out, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err
    epoch_time = t1 - t0

    for attempt, frac in enumerate((0.5, 0.25, 0.1)):          # kill about the middle of epoch 1; sooner if the machine is slow
        name = f'killed{attempt}'
        run = _start(exp, name)
        last = exp/name/'checkpoints'/'last.ckpt'
        _wait_epoch(last, 0, run)
        time.sleep(epoch_time * frac)
        alive = run.poll() is None
        run.send_signal(signal.SIGKILL); run.communicate()
        if alive and _epoch(last) == 0: break                    # killed after epoch 0 was saved, before epoch 1 was
    else: pytest.fail('every kill came after epoch 1 had ended: this machine is too slow or too noisy for the test')
    assert run.returncode == -signal.SIGKILL
    assert not (exp/name/'results.json').exists()

    p = subprocess.run([cli('visionlab-train'), f'resume={exp/name}', 'trainer.enable_progress_bar=false'],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert str(exp/name) in p.stdout

    a = torch.load(exp/'ref'/'checkpoints'/'last.ckpt', weights_only=False)
    b = torch.load(last, weights_only=False)
    assert (a['epoch'], a['global_step']) == (b['epoch'], b['global_step']) == (2, 72)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    assert all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict'])
    ma = json.loads((exp/'ref'/'results.json').read_text())['metrics']
    mb = json.loads((exp/name/'results.json').read_text())['metrics']
    assert {'test_acc', 'val_acc', 'val_loss', 'train_loss_epoch'} <= set(ma)
    assert ma == mb
