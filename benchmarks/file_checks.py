"""The image-file checks a run makes before training, on a generated folder of many small JPEGs: today's serial check
(`check_image_file` per file, one process), the first run of `check_image_files` (worker processes, no manifest yet) and
the second run on the unchanged folder (the manifest: sizes and times compared, nothing opened).

    python benchmarks/file_checks.py                      # 100,000 files, 3 repeats
    python benchmarks/file_checks.py --files 20000 --repeats 5

The folder is generated once under the temp dir and reused. Figures are medians of the repeats with the page cache warm
(this machine cannot drop it); the ImageNet line extrapolates the per-file times to its 1,281,167 training images.
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path

from PIL import Image
from visionlab.data import MANIFEST, check_image_file, check_image_files, manifest_file

IMAGENET_TRAIN = 1_281_167

def make_folder(root: Path, n: int, classes: int = 10) -> list[Path]:
    "`n` small JPEGs (32x32 noise) in `classes` class folders under `root/train`; made once and reused."
    files = [root/'train'/f'c{i % classes}'/f'{i}.jpg' for i in range(n)]
    if not all(f.exists() for f in files[-10:]):
        tile = Image.effect_noise((32, 32), 50).convert('RGB')
        for d in {f.parent for f in files}: d.mkdir(parents=True, exist_ok=True)
        for f in files: tile.save(f, quality=90)
    return files

def timed(fn) -> float:
    t = time.perf_counter(); fn(); return time.perf_counter() - t

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--files', type=int, default=100_000)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    root = Path(tempfile.gettempdir())/f'visionlab-file-checks-{a.files}'
    t = time.perf_counter(); files = make_folder(root, a.files); made = time.perf_counter() - t
    print(f'{a.files:,} JPEGs in {root} ({made:.1f} s to make or find); cores: {len(os.sched_getaffinity(0))}; '
          f'load average {os.getloadavg()[0]:.1f}')
    serial, first, second = [], [], []
    for _ in range(a.repeats):
        serial.append(timed(lambda: [check_image_file(f) for f in files]))
        manifest_file(root).unlink(missing_ok=True)
        first.append(timed(lambda: check_image_files(files, root)))
        second.append(timed(lambda: check_image_files(files, root)))
    s, f1, f2 = (statistics.median(x) for x in (serial, first, second))
    print(f'serial check (before):        {s:7.2f} s  ({s / a.files * 1e6:.0f} us/file)')
    print(f'first run (workers):          {f1:7.2f} s  {s / f1:.2f}x faster than serial')
    print(f'second run (manifest {MANIFEST}): {f2:5.2f} s  {s / f2:.0f}x faster than serial')
    per = IMAGENET_TRAIN / a.files
    print(f'ImageNet ({IMAGENET_TRAIN:,} files), extrapolated: serial {s * per / 60:.1f} min, first run {f1 * per / 60:.1f} min, '
          f'unchanged folder {f2 * per:.0f} s')

if __name__ == '__main__':
    main()
