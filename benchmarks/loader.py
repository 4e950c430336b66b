"""Images per second through one loader process (num_workers=0: what each worker does) on a generated ImageNet-like
folder (500x375 JPEGs): the kit's image-folder training loader with its default policy (`data=image_folder`), torchvision's
stock `ImageFolder` with the same transforms.v2 ops, and decoding alone (PIL, and `torchvision.io.decode_jpeg`).

    python benchmarks/loader.py                       # 400 images, 3 repeats
    python benchmarks/loader.py --images 1000 --size 224 --repeats 5

Each repeat runs the three side by side; medians and the kit/torchvision ratio are printed. Run it on a quiet machine.
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.io import decode_jpeg, read_file
from torchvision.transforms import v2

from visionlab.config import compose
from visionlab.data import datamodule_from_config

def make_folder(root: Path, n: int, classes: int = 10) -> list[Path]:
    "`n` photo-like 500x375 JPEGs (smooth colour fields with noise) in `classes` class folders under `root/train`."
    files = [root/'train'/f'c{i % classes}'/f'{i}.jpg' for i in range(n)]
    if all(f.exists() for f in files): return files
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:375, 0:500]
    for i, f in enumerate(files):
        f.parent.mkdir(parents=True, exist_ok=True)
        a, b, c = rng.uniform(0.005, 0.05, 3)
        img = np.stack([np.sin(a * xx + i), np.cos(b * yy), np.sin(c * (xx + yy))], -1) * 90 + 128
        img += rng.normal(0, 12, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(f, quality=90)
    return files

def rate(loader, n_images: int) -> float:
    "Images per second of one pass over `loader`."
    t = time.perf_counter()
    seen = sum(len(y) for _, y in loader)
    assert seen == n_images, (seen, n_images)
    return seen / (time.perf_counter() - t)

def kit_loader(root: Path, size: int, batch: int):
    cfg = compose(['data=image_folder', f'data.data_root_dir={root}', f'data.image_size={size}', f'data.batch_size={batch}',
                   'data.num_workers=0', 'data.val_split=0.1'])
    dm = datamodule_from_config(cfg); dm.setup('fit')
    return dm.train_dataloader(), len(dm.train_dataset), dm

def torchvision_loader(root: Path, size: int, batch: int, dm) -> DataLoader:
    "Stock ImageFolder (PIL loader) with the kit policy's ops, on the same training files."
    mean, std = dm.stats.mean, dm.stats.std
    tf = v2.Compose([v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip(), v2.PILToTensor(),
                     v2.ToDtype(torch.float32, scale=True), v2.Normalize(list(mean), list(std))])
    ds = ImageFolder(str(root/'train'), transform=tf)
    keep = {str(f) for f in dm.train_dataset.files}
    ds.samples = [s for s in ds.samples if s[0] in keep]; ds.targets = [t for _, t in ds.samples]
    return DataLoader(ds, batch_size=batch, shuffle=True, num_workers=0, drop_last=len(ds) % batch == 1)

def decode_pil(files) -> float:
    t = time.perf_counter()
    for f in files:
        with Image.open(f) as im: im.convert('RGB').load()
    return len(files) / (time.perf_counter() - t)

def decode_torchvision(files) -> float:
    t = time.perf_counter()
    for f in files: decode_jpeg(read_file(str(f)))
    return len(files) / (time.perf_counter() - t)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--images', type=int, default=400)
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--threads', type=int, default=1, help='torch threads (a loader worker runs with 1)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    root = Path(tempfile.gettempdir())/f'visionlab-loader-{a.images}'
    files = make_folder(root, a.images)
    kit, n, dm = kit_loader(root, a.size, a.batch)
    tv = torchvision_loader(root, a.size, a.batch, dm)
    n_tv = len(tv.dataset) - (len(tv.dataset) % a.batch if tv.drop_last else 0)
    print(f'{a.images} JPEGs 500x375 -> {a.size} px, batch {a.batch}, one process, {a.threads} torch thread(s); '
          f'load average {os.getloadavg()[0]:.1f}')
    runs = {k: [] for k in ('kit', 'torchvision', 'decode PIL', 'decode torchvision.io')}
    for _ in range(a.repeats):
        runs['kit'].append(rate(kit, len(kit.dataset) - (len(kit.dataset) % a.batch if kit.drop_last else 0)))
        runs['torchvision'].append(rate(tv, n_tv))
        runs['decode PIL'].append(decode_pil(files))
        runs['decode torchvision.io'].append(decode_torchvision(files))
    med = {k: statistics.median(v) for k, v in runs.items()}
    for k, v in med.items(): print(f'{k:24s} {v:7.0f} images/s')
    print(f'kit / torchvision: {med["kit"] / med["torchvision"]:.2f}x (>= 1.0: the kit is as fast or faster)')

if __name__ == '__main__':
    main()
