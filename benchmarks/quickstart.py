"""Time-to-accuracy of the README quickstart (`visionlab-train experiment=quickstart`) on this machine:
the epoch at which validation accuracy first reaches the target, the training time until then, and the
final test accuracy. Several seeds; prints each and the median.

    python benchmarks/quickstart.py [--seeds 0 1 2] [--target 0.97]
"""
import argparse, csv, logging, os, statistics, tempfile, time

os.environ.setdefault('WANDB_MODE', 'disabled')
import lightning as L
from visionlab.train import train

class EpochClock(L.Callback):
    "Wall time at the end of each training epoch's validation, from the start of fit."
    def on_fit_start(self, trainer, module): self.t0, self.times = time.perf_counter(), []
    def on_validation_epoch_end(self, trainer, module):
        if not trainer.sanity_checking:
            self.times.append((time.perf_counter() - self.t0, float(trainer.callback_metrics.get('val_acc', 0))))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', type=int, nargs='*', default=[0, 1, 2])
    ap.add_argument('--target', type=float, default=0.97)
    ap.add_argument('overrides', nargs='*', default=[])
    args = ap.parse_args()
    logging.getLogger('lightning.pytorch').setLevel(logging.ERROR)
    rows = []
    for seed in args.seeds:
        clock = EpochClock()
        with tempfile.TemporaryDirectory() as tmp:              # the runs' checkpoints go with it
            res = train(['experiment=quickstart', f'seed={seed}', f'exp_dir={tmp}',
                         'trainer.enable_progress_bar=false', *args.overrides], callbacks=[clock])
        hit = next(((i + 1, t) for i, (t, acc) in enumerate(clock.times) if acc >= args.target), (None, None))
        fit_time = clock.times[-1][0]
        rows.append((seed, hit[0], hit[1], fit_time, res.metrics['test_acc'], res.wall_time))
        print(f"seed {seed}: val_acc>={args.target} at epoch {hit[0]} ({hit[1] and round(hit[1], 1)} s); "
              f"fit {fit_time:.1f} s; test_acc {res.metrics['test_acc']:.4f}; whole run {res.wall_time:.1f} s", flush=True)
    print(f"min test_acc {min(r[4] for r in rows):.4f}; median: fit {statistics.median(r[3] for r in rows):.1f} s, test_acc {statistics.median(r[4] for r in rows):.4f}, "
          f"whole run {statistics.median(r[5] for r in rows):.1f} s")

if __name__ == '__main__':
    main()
