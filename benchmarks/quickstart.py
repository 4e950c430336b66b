"""Time-to-99 % on the digits, in one run: the README quickstart (`visionlab-train experiment=quickstart`, through the real
command line in a subprocess per seed), scikit-learn's SVC on the same split, and a plain PyTorch loop of the same network
with the same recipe (optimizer, schedule, epochs, batch size, label smoothing, augmentation) on the same split.

    python benchmarks/quickstart.py                    # seeds 0-4
    python benchmarks/quickstart.py --seeds 0 --experiment quickstart_resnet18
    python benchmarks/quickstart.py --threads 1        # on a machine other jobs keep busy

Per seed: the kit's test accuracy, its fit time (results.json's fit_time: Trainer.fit, validation included), its run
time (wall_time: trainer, fit and test) and its start-up (the process's wall time minus the run time); the plain loop's test accuracy, fit time and the time at which its test accuracy
first reached the target (the test evaluations themselves off the clock). The load average is printed with each line.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

os.environ.setdefault('WANDB_MODE', 'disabled')
import torch
import torch.nn.functional as F
from visionlab.config import compose
from visionlab.data import datamodule_from_config
from visionlab.models.core import model_from_config
from visionlab.optim import OptimSettings, build_optimizer, build_scheduler
from visionlab.baselines import svc_baseline

CLI = ([shutil.which('visionlab-train')] if shutil.which('visionlab-train') else
       [sys.executable, '-c', 'import sys; from visionlab.cli import train_main; sys.exit(train_main())'])

THREADS = {}   # --threads N: OMP_NUM_THREADS for the CLI, torch.set_num_threads here (on a busy machine, 1 avoids OpenMP spinning)

def kit_run(experiment: str, seed: int, overrides) -> dict:
    "The real CLI in a subprocess: test_acc, fit and run time (results.json), start-up time (the rest of the process)."
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*CLI, f'experiment={experiment}', f'seed={seed}', f'exp_dir={tmp}',
               'trainer.enable_progress_bar=false', *overrides]
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **THREADS))
        total = time.perf_counter() - t
        if out.returncode: raise RuntimeError(out.stderr[-2000:])
        res = json.loads(next(Path(tmp).rglob('results.json')).read_text())
    return dict(acc=res['metrics']['test_acc'], fit=res['fit_time'], run=res['wall_time'], startup=total - res['wall_time'],
                stdout=out.stdout)

def accuracy(net, x, y) -> float:
    net.eval()
    with torch.no_grad(): acc = (net(x).argmax(1) == y).float().mean().item()
    net.train()
    return acc

def plain_run(experiment: str, seed: int, target: float, overrides) -> dict:
    "The same network and recipe in a hand-written loop (no Lightning): test accuracy, fit time, time to `target`."
    cfg = compose([f'experiment={experiment}', f'seed={seed}', *overrides])
    torch.manual_seed(seed)
    dm = datamodule_from_config(cfg); dm.setup('fit'); dm.use_batched()   # the batched policies: augment (train), normalise
    (x, y), (xt, yt) = (dm.train_dataset.images, dm.train_dataset.targets), (dm.test_dataset.images, dm.test_dataset.targets)
    augment, xt = dm.batch_train, dm.batch_eval(xt)
    net = model_from_config(cfg.model).train()
    opt = build_optimizer(net, OptimSettings.from_config(cfg))
    sched = build_scheduler(opt, OptimSettings.from_config(cfg))
    bs, fit, hit = cfg.data.batch_size, 0.0, None
    for _ in range(cfg.trainer.max_epochs):
        t = time.perf_counter()
        for idx in torch.randperm(len(x)).split(bs):
            loss = F.cross_entropy(net(augment(x[idx])), y[idx], label_smoothing=cfg.model.label_smoothing)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        sched.step()
        fit += time.perf_counter() - t
        if hit is None and accuracy(net, xt, yt) >= target: hit = fit
    return dict(acc=accuracy(net, xt, yt), fit=fit, hit=hit)

def show(rows: list[dict], key: str) -> str:
    vals = [r[key] for r in rows if r[key] is not None]
    return f"median {statistics.median(vals):.2f}, max {max(vals):.2f}" if vals else 'never'

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, nargs='*', default=[0, 1, 2, 3, 4])
    ap.add_argument('--target', type=float, default=0.99)
    ap.add_argument('--experiment', default='quickstart')
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('overrides', nargs='*', default=[])
    a = ap.parse_args()
    if a.threads: THREADS.update(OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads)); torch.set_num_threads(a.threads)
    svc = svc_baseline(compose([f'experiment={a.experiment}', f'seed={a.seeds[0]}', *a.overrides]))
    kits, plains = [], []
    for seed in a.seeds:                        # kit and plain loop alternate, so drifting load hits both
        kits.append(kit_run(a.experiment, seed, a.overrides)); plains.append(plain_run(a.experiment, seed, a.target, a.overrides))
        k, p = kits[-1], plains[-1]
        print(f"seed {seed}: kit test_acc {k['acc']:.4f}, fit {k['fit']:.1f} s, run {k['run']:.1f} s, start-up {k['startup']:.1f} s | plain loop "
              f"test_acc {p['acc']:.4f}, fit {p['fit']:.1f} s, >= {a.target} at {p['hit'] and round(p['hit'], 1)} s "
              f"| load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\nexperiment={a.experiment}, seeds {a.seeds}, {torch.get_num_threads()} threads")
    print(f"kit (visionlab-train): test_acc min {min(k['acc'] for k in kits):.4f}; fit s {show(kits, 'fit')}; run s {show(kits, 'run')}; "
          f"start-up s {show(kits, 'startup')}")
    print(f"plain PyTorch loop   : test_acc min {min(p['acc'] for p in plains):.4f}; fit s {show(plains, 'fit')}; "
          f"time to {a.target} s {show(plains, 'hit')}")
    print(f"scikit-learn SVC     : test_acc {svc['svc_acc']:.4f} in {svc['svc_seconds']:.2f} s (never {a.target})")
    print(f"ratio kit fit / plain fit (median): {statistics.median(k['fit'] for k in kits) / statistics.median(p['fit'] for p in plains):.2f}")
    return kits, plains, svc

if __name__ == '__main__':
    main()
