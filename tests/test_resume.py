"Kill and resume: a run SIGKILLed in the middle of an epoch and resumed ends exactly like an uninterrupted one."
import csv, json, os, signal, subprocess, time
import pytest
import torch
from conftest import cli
from fixtures import checkpoint_epoch as _epoch
from visionlab.optim import OptimSettings, lr_at
from visionlab.core import load_checkpoint

EPOCHS = 4                                                      # a 4-epoch cosine: the LR changes every epoch
ARGS = ['data=digits', 'seed=7', f'trainer.max_epochs={EPOCHS}', 'data.batch_size=16', 'model.lr=0.1', 'model.scheduler=CosineAnneal',
        'trainer.limit_val_batches=2', 'trainer.limit_test_batches=2', 'trainer.enable_progress_bar=false']
# optimizer wrapping -> (overrides, training batches per epoch); a SAM batch costs two passes, so fewer batches
CASES = {'plain': ([], 18), 'sam': (['model.sam=true'], 10), 'asam': (['model.adaptive_sam=true'], 10),
         'ema': (['model.ema_decay=0.9'], 18), 'swa': (['model.swa_epochs=3'], 18)}   # averaged weights: state_dict is the average


def _start(exp, name, args):
    return subprocess.Popen([cli('visionlab-train'), *ARGS, *args, f'exp_dir={exp}', f'name={name}'],
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

def _lrs(run_dir):
    "The (step, LR) rows that the LearningRateMonitor wrote to `metrics.csv`, one at the start of each epoch."
    rows = list(csv.DictReader(open(run_dir/'metrics.csv')))
    col = next(k for k in rows[0] if k.startswith('lr-'))
    return [(int(r['step']), float(r[col])) for r in rows if r[col]]

@pytest.mark.parametrize('case', list(CASES))
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path, case):
    overrides, batches = CASES[case]
    args = [*overrides, f'trainer.limit_train_batches={batches}']
    exp = tmp_path/'exp'
    ref = _start(exp, 'ref', args)                                    # the uninterrupted run; time one epoch
    t0 = _wait_epoch(exp/'ref'/'checkpoints'/'last.ckpt', 0, ref)
    t1 = _wait_epoch(exp/'ref'/'checkpoints'/'last.ckpt', 1, ref)
    out, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err
    epoch_time = t1 - t0

    for attempt, frac in enumerate((0.5, 0.25, 0.1)):          # kill about the middle of epoch 1; sooner if the machine is slow
        name = f'killed{attempt}'
        run = _start(exp, name, args)
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

    ref_lrs = dict(_lrs(exp/'ref'))                              # the LR of each epoch, logged at its first step
    assert sorted(ref_lrs) == [e * batches for e in range(EPOCHS)]
    assert list(ref_lrs.values()) == pytest.approx([lr_at(e, OptimSettings(max_epochs=EPOCHS)) for e in range(EPOCHS)])
    got = _lrs(exp/name)                                         # the resumed run logs each epoch's LR once, the same
    assert sorted(s for s, _ in got) == sorted(ref_lrs) and all(lr == ref_lrs[s] for s, lr in got), got
    a = load_checkpoint(exp/'ref'/'checkpoints'/'last.ckpt', mmap=False)
    b = load_checkpoint(last, mmap=False)
    assert (a['epoch'], a['global_step']) == (b['epoch'], b['global_step']) == (EPOCHS - 1, EPOCHS * batches)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    assert all(torch.equal(a['state_dict'][k], b['state_dict'][k]) for k in a['state_dict'])
    for part in ('current_model_state', 'averaging_state'):          # EMA/SWA: the training weights and the average's counter too
        assert (part in a) == (part in b) == (case in ('ema', 'swa'))
        if part in a: assert a[part].keys() == b[part].keys() and all(torch.equal(a[part][k], b[part][k]) for k in a[part])
    ma = json.loads((exp/'ref'/'results.json').read_text())['metrics']
    mb = json.loads((exp/name/'results.json').read_text())['metrics']
    assert {'test_acc', 'val_acc', 'val_loss', 'train_loss_epoch'} <= set(ma)
    assert ma == mb
