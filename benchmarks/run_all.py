"""Every benchmark, briefly, in one table of ratios (the kit against its baseline; > 1 means the kit is faster or better),
with the date and the machine. Each benchmark runs in its own subprocess with short settings; the full runs are the
benchmarks' own defaults.

    python benchmarks/run_all.py                 # about ten minutes on 2 busy cores
    python benchmarks/run_all.py --only quickstart import_time
"""
import argparse, datetime, os, platform, re, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).parent
F = r'([0-9.]+)'
# name: (arguments, what is compared, regex of the ratio in the output, 'ratio' | 'inverse' (the output is baseline/kit))
BENCHMARKS = {
    'quickstart': (['--seeds', '0'], 'digits to 99 %: plain PyTorch loop fit time / kit fit time (same network, recipe)',
                   r'ratio kit fit / plain fit \(median\): ' + F, 'inverse'),
    'quickstart_svc': (None, 'digits test accuracy: kit / scikit-learn SVC (same split)', None, None),
    'train_step': (['--batch', '16', '--size', '16', '--steps', '10', '--repeats', '3'],
                   'ResNet18 step: plain loop time / VisionModule+Trainer time', r'ratio Lightning / plain = ' + F, 'inverse'),
    'augment': (['--images', '1024', '--repeats', '3', '--policies', 'baseline'],
                'augmentation img/s: batched (kit) / per-image torchvision v2', r'baseline\s.*\s' + F + r'x', 'ratio'),
    'allocator': (['--quick', '--workloads', 'resnet18:32', 'resnet20:32'],
                  'ResNet18 b32 step: tcmalloc / plain glibc', r'tcmalloc\s+[0-9.]+ ms\s+' + F + 'x', 'ratio'),
    'import_time': (['3'], 'import time: lightning / visionlab.train', r'visionlab\.train\s+[0-9.]+\s+' + F + 'x', 'inverse'),
    'channels_last': (['--models', 'resnet18', '--steps', '2', '--repeats', '3', '--batch', '16'],
                      'CPU step: channels_last / contiguous (the kit keeps contiguous on CPU)', r'resnet18\s.*\s' + F + 'x', 'ratio'),
    'gpu_throughput': ([], 'images/s: kit (Lightning, defaults) / plain fp32 eager (CPU smoke here)',
                       r'kit \(Lightning, defaults\)\s*:\s*[0-9]+ images/s\s+->\s+' + F + 'x', 'ratio'),
}

def run(name: str, args: list[str]) -> tuple[str, float]:
    "The benchmark's output and its wall time."
    t = time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / f'{name}.py'), *args], capture_output=True, text=True)
    return out.stdout + out.stderr, time.perf_counter() - t

def ratio_of(text: str, pattern: str, kind: str) -> float | None:
    "The ratio the output states, as kit / baseline."
    m = re.search(pattern, text)
    if not m: return None
    v = float(m.group(1))
    return 1 / v if kind == 'inverse' else v

def svc_ratio(text: str) -> float | None:
    "Kit test accuracy / SVC test accuracy, from the quickstart benchmark's output."
    kit = re.search(r'kit \(visionlab-train\): test_acc min ' + F, text)
    svc = re.search(r'scikit-learn SVC\s*: test_acc ' + F, text)
    return float(kit.group(1)) / float(svc.group(1)) if kit and svc else None

def machine() -> str:
    return (f"{datetime.date.today()}, {platform.node()}: {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', nargs='*', default=None)
    a = ap.parse_args()
    names = [n for n in BENCHMARKS if a.only is None or n in a.only or n.split('_svc')[0] in a.only]
    outputs, rows = {}, []
    for name in names:
        args, what, pattern, kind = BENCHMARKS[name]
        if args is None:
            rows.append((name, what, svc_ratio(outputs.get('quickstart', ('', 0))[0]), outputs.get('quickstart', ('', 0))[1]))
            continue
        outputs[name] = run(name, args)
        rows.append((name, what, ratio_of(outputs[name][0], pattern, kind), outputs[name][1]))
        print(f"{name}: done in {outputs[name][1]:.0f} s (load average {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    print(f"\n{machine()}; load average at the end {os.getloadavg()[0]:.1f}\n")
    print("| benchmark | kit vs baseline | ratio | s |\n|---|---|---:|---:|")
    for name, what, r, s in rows:
        print(f"| {name} | {what} | {'failed' if r is None else f'{r:.2f}x'} | {s:.0f} |")
    failed = [n for n, _, r, _ in rows if r is None]
    for n in failed: print(f"\n--- {n} output ---\n{outputs.get(n, ('', 0))[0][-1500:]}", file=sys.stderr)
    return 1 if failed else 0

if __name__ == '__main__':
    sys.exit(main())
