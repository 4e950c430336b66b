"""`import visionlab` (and the modules a training script needs) vs `import lightning`, each in a fresh
interpreter, interleaved, median of N runs; then a whole one-step run of `visionlab-train` (the quickstart's data and
network, one training batch, one validation batch, no test) against the import floor `import torch, lightning.pytorch`,
each a fresh process, interleaved.

    python benchmarks/import_time.py [N]
"""
import os, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

CASES = {
    'lightning': 'import lightning',
    'visionlab': 'import visionlab',
    'visionlab.train': 'import visionlab.train',
    'visionlab.cli': 'import visionlab.cli',
}

def once(stmt: str) -> float:
    code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout)

def main(n: int = 7):
    for stmt in CASES.values(): once(stmt)                # warm the file cache
    times = {k: [] for k in CASES}
    for _ in range(n):
        for k, stmt in CASES.items(): times[k].append(once(stmt))
    base = statistics.median(times['lightning'])
    print(f"{'import':<18}{'median s':>10}{'vs lightning':>14}   (n={n})")
    for k, ts in times.items():
        m = statistics.median(ts)
        print(f"{k:<18}{m:>10.3f}{m / base:>13.2f}x")

FLOOR = [sys.executable, '-c', 'import torch, lightning.pytorch']
ONE_STEP = ['experiment=quickstart', 'trainer.max_epochs=1', 'trainer.limit_train_batches=1', 'trainer.limit_val_batches=1',
            'test=false', 'trainer.enable_progress_bar=false']

def wall(cmd: list[str], **kw) -> float:
    t = time.perf_counter(); subprocess.run(cmd, capture_output=True, check=True, **kw); return time.perf_counter() - t

def one_step(n: int = 5):
    "A one-step `visionlab-train` run's wall time against the import floor, interleaved, medians and their ratio."
    cli = shutil.which('visionlab-train') or str(Path(sys.executable).parent/'visionlab-train')
    floor, run = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n + 1):                          # the first pair warms the file cache
            f, r = wall(FLOOR), wall([cli, *ONE_STEP, f'exp_dir={tmp}', f'name=run{i}'], cwd=tmp)
            if i: floor.append(f); run.append(r)
    a, b = statistics.median(floor), statistics.median(run)
    print(f"\none-step run vs import floor (n={n}): import torch, lightning.pytorch {a:.2f} s; visionlab-train one step {b:.2f} s; "
          f"ratio {b / a:.2f}x (load average {os.getloadavg()[0]:.1f})")

if __name__ == '__main__':
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    main(n); one_step(max(3, n // 2 + 1))
