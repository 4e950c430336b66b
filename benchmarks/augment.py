"""Augmentation throughput: per-image torchvision v2 pipeline vs. the batched path, side by side.

    python benchmarks/augment.py [--policies baseline baseline_cutout] [--batch 256] [--repeats 5] [--threads 1]

Both paths turn the same in-memory uint8 CIFAR-sized images (synthetic, 3x32x32) into normalised
float batches: the per-image path through a DataLoader without workers (the v2 policy on each
image, then collation), the batched path by indexing whole batches and applying the policy's
batched twin (`visionlab.augment.BatchAugment`). Images/s are the median of `--repeats` runs on
`--threads` CPU threads (default 1: one core); the last column is the speed-up.
"""
from __future__ import annotations
import argparse, statistics, time
import torch

from visionlab.augment import ImageStats, build_batched
from visionlab.data import SyntheticDataModule


def images_per_s(loader, transform=None, n_images: int = 0) -> float:
    start, seen = time.perf_counter(), 0
    for x, _ in loader:
        if transform is not None: x = transform(x)
        seen += len(x)
        if seen >= n_images: break
    return seen / (time.perf_counter() - start)


def measure(policy: str, batch: int, n_images: int, repeats: int) -> tuple[float, float]:
    "Median images/s of the per-image and the batched path for `policy`."
    dm = SyntheticDataModule(name='synthetic', num_samples=n_images, batch_size=batch, val_split=0,
                             train_transforms=policy, num_workers=0)
    dm.setup()
    stats = dm.image_stats()
    batched = build_batched(policy, stats)
    assert batched is not None, f'{policy} has no batched path'
    per_image_ds = dm.train_dataset.subset(range(len(dm.train_dataset)), dm.train_transforms)
    per_image_loader = torch.utils.data.DataLoader(per_image_ds, batch_size=batch, shuffle=True, num_workers=0)
    batched_loader = torch.utils.data.DataLoader(dm.train_dataset, batch_size=batch, shuffle=True, num_workers=0,
                                                 collate_fn=lambda data: data)
    out_a, out_b = next(iter(per_image_loader))[0], batched(next(iter(batched_loader))[0])
    assert out_a.shape == out_b.shape and out_a.dtype == out_b.dtype, (out_a.shape, out_b.shape)
    a = [images_per_s(per_image_loader, n_images=n_images) for _ in range(repeats)]
    b = [images_per_s(batched_loader, batched, n_images=n_images) for _ in range(repeats)]
    return statistics.median(a), statistics.median(b)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--policies', nargs='+', default=['baseline', 'baseline_cutout'])
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--images', type=int, default=4096, help='images per run')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f'CIFAR-sized uint8 images (3x32x32), batch {a.batch}, {a.images} images per run, '
          f'median of {a.repeats} runs, {a.threads} CPU thread(s), torch {torch.__version__}')
    print(f"{'policy':<18}{'per-image v2 img/s':>20}{'batched img/s':>16}{'speed-up':>10}")
    for policy in a.policies:
        per_image, batched = measure(policy, a.batch, a.images, a.repeats)
        print(f'{policy:<18}{per_image:>20,.0f}{batched:>16,.0f}{batched / per_image:>9.1f}x', flush=True)


if __name__ == '__main__':
    main()
