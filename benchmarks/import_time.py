"""`import visionlab` (and the modules a training script needs) vs `import lightning`, each in a fresh
interpreter, interleaved, median of N runs.

    python benchmarks/import_time.py [N]
"""
import statistics, subprocess, sys, time

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

if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
