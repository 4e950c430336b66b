"""Writers of tiny fake datasets in their real on-disk formats, for the tests and the notebooks' examples.

Not part of the package: tests import them as `from fixtures import write_cifar` (pytest puts tests/ on sys.path),
notebooks in a hidden cell after `sys.path.insert(0, '../tests')` (nbdev_test runs a notebook in its folder, nbs/).
"""
import pickle
from pathlib import Path

import numpy as np
import torch
from visionlab.core import load_checkpoint

__all__ = ['write_cifar', 'write_image_folder', 'write_digit_folder', 'write_digit_csv', 'checkpoint_epoch', 'kill_when']


def write_cifar(root: Path,             # the folder that receives the archive's base folder
                kind: str = 'cifar10',  # 'cifar10' or 'cifar100'
                n_train: int = 20,      # training images, spread over the training batches
                n_test: int = 10,       # test images
                seed: int = 0) -> Path:
    "Write a tiny CIFAR-10/100 in the official python-pickle layout under `root`; returns the base folder."
    from torchvision.datasets import CIFAR10, CIFAR100
    tv = CIFAR10 if kind == 'cifar10' else CIFAR100
    k, label_key = (10, 'labels') if kind == 'cifar10' else (100, 'fine_labels')
    rng, folder = np.random.default_rng(seed), Path(root)/tv.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    def batch(n):
        return {'data': rng.integers(0, 256, (n, 3 * 32 * 32), dtype=np.uint8), label_key: [i % k for i in range(n)],
                'coarse_labels': [i % 20 for i in range(n)]}
    files = [f for f, _ in tv.train_list]
    for i, f in enumerate(files):
        with open(folder/f, 'wb') as fh: pickle.dump(batch(n_train // len(files) + (i < n_train % len(files))), fh)
    with open(folder/tv.test_list[0][0], 'wb') as fh: pickle.dump(batch(n_test), fh)
    with open(folder/tv.meta['filename'], 'wb') as fh: pickle.dump({tv.meta['key']: [f'class{i}' for i in range(k)]}, fh)
    return folder


def write_image_folder(root: Path,                 # the dataset folder: root/<split>/<class>/<i>.png
                       classes=('cat', 'dog'),     # one folder per class
                       per_class: int = 6,         # images per class and split
                       splits=('train',),          # e.g. ('train', 'val', 'test')
                       size: int = 20,             # image height (the width is size + 4)
                       seed: int = 0) -> Path:
    "Write random PNG images in the ImageFolder layout `root/<split>/<class>/<i>.png`; returns `root`."
    from PIL import Image
    g = torch.Generator().manual_seed(seed)
    for split in splits:
        for c in classes:
            (Path(root)/split/c).mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                pixels = torch.randint(0, 256, (size, size + 4, 3), dtype=torch.uint8, generator=g).numpy()
                Image.fromarray(pixels).save(Path(root)/split/c/f'{i}.png')
    return Path(root)


def checkpoint_epoch(ckpt: Path):
    "The epoch of checkpoint `ckpt` once it is completely written, else None."
    try: return load_checkpoint(ckpt, mmap=False)['epoch']
    except Exception: return None


def kill_when(proc, ready, delay: float = 0.0, timeout: float = 600) -> bool:
    "SIGKILL `proc` `delay` seconds after `ready()` holds; True if it was still running then."
    import signal, time
    end = time.time() + timeout
    while time.time() < end:
        if ready():
            time.sleep(delay)
            alive = proc.poll() is None
            proc.send_signal(signal.SIGKILL); proc.communicate()
            return alive
        assert proc.poll() in (None, 0), proc.communicate()
        time.sleep(0.01)
    raise TimeoutError('the moment to kill never came')


def write_digit_folder(root: Path,          # the dataset folder: root/train/digit<k>/<i>.png
                       classes: int = 5,    # digits 0 .. classes-1, one folder each
                       per_class: int = 60, # images per class
                       size: int = 40,      # side of the upsampled PNGs (the digits are 8x8)
                      ) -> Path:
    "Write scikit-learn's handwritten digits, upsampled to `size` px RGB PNGs, as an image folder of `classes` x `per_class` images."
    from PIL import Image
    from sklearn.datasets import load_digits
    d = load_digits()
    for k in range(classes):
        (Path(root)/'train'/f'digit{k}').mkdir(parents=True, exist_ok=True)
        for i, img in enumerate(d.images[d.target == k][:per_class]):
            grey = Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((size, size), Image.BILINEAR)
            grey.convert('RGB').save(Path(root)/'train'/f'digit{k}'/f'{i}.png')
    return Path(root)


def write_digit_csv(root: Path,        # the dataset folder: root/train.csv and root/images/<i>.png
                    n: int = 200,      # images
                    size: int = 40,    # side of the upsampled PNGs
                   ) -> Path:
    "Write scikit-learn's digits as a CSV regression set: `size` px PNGs and train.csv (image, target: the digit's value)."
    from PIL import Image
    from sklearn.datasets import load_digits
    d = load_digits()
    (Path(root)/'images').mkdir(parents=True, exist_ok=True)
    rows = ['image,target']
    for i, (img, target) in enumerate(zip(d.images[:n], d.target[:n])):
        Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((size, size), Image.BILINEAR).convert('RGB').save(Path(root)/'images'/f'{i}.png')
        rows.append(f'images/{i}.png,{target}')
    (Path(root)/'train.csv').write_text('\n'.join(rows) + '\n')
    return Path(root)
