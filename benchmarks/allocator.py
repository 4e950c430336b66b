"""The CPU allocator's effect on training steps: plain glibc, glibc with tuned `mallopt` settings (set at run time
through ctypes), jemalloc and tcmalloc (preloaded), on ResNet18-CIFAR and ResNet-20 training steps at batch 128 and 32
(32x32 RGB). Each variant runs in a fresh subprocess (LD_PRELOAD where needed); the variants are interleaved, and the
median ms/step of `--repeats` rounds is compared with plain glibc's, with the minor page faults per step.

    python benchmarks/allocator.py                 # 3 rounds, a few steps each (minutes on 2 cores)
    python benchmarks/allocator.py --quick         # 1 round, 2 steps: a smoke run
Needs Debian's libjemalloc2 and libtcmalloc-minimal4 for the preloaded variants (missing ones are skipped).
"""
import argparse, ctypes, json, os, resource, statistics, subprocess, sys, time

LIBS = {'jemalloc': '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
        'tcmalloc': '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'}
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -3, -4, -8
MALLOPT = {  # name -> the settings applied in the child before torch allocates anything
    'glibc tuned': {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 1 << 30, M_ARENA_MAX: 2},
    'glibc no-mmap': {M_MMAP_MAX: 0, M_TRIM_THRESHOLD: 1 << 30, M_ARENA_MAX: 2},
}
VARIANTS = ('glibc', 'glibc tuned', 'glibc no-mmap', 'jemalloc', 'tcmalloc')
WORKLOADS = (('resnet18', 128), ('resnet18', 32), ('resnet20', 128), ('resnet20', 32))

def apply_mallopt(settings: dict) -> bool:
    "Set glibc's `mallopt` parameters of this process; True if every one was accepted."
    libc = ctypes.CDLL('libc.so.6')
    return all(libc.mallopt(ctypes.c_int(k), ctypes.c_int(v)) == 1 for k, v in settings.items())

def child(model: str, batch: int, steps: int, variant: str):
    "Time `steps` training steps (after one warm-up step); print ms/step and minor faults/step as JSON."
    ok = apply_mallopt(MALLOPT[variant]) if variant in MALLOPT else True
    import torch, torch.nn.functional as F
    from visionlab.models.core import create_model
    torch.manual_seed(0)
    net = create_model(model, num_classes=10, input_channels=3, **({'cifar_size': True} if model == 'resnet18' else {}))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    def step():
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    step()
    faults, times = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
    for _ in range(steps):
        t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps
    print(json.dumps(dict(ms=1000 * statistics.median(times), faults=faults, mallopt_ok=ok)))

def run_variant(variant: str, model: str, batch: int, steps: int, threads: int) -> dict:
    "One child process of `variant` (preloading its library) on one workload."
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if variant in LIBS: env['LD_PRELOAD'] = LIBS[variant]
    cmd = [sys.executable, __file__, '--child', model, str(batch), str(steps), variant]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])

def steps_for(model: str, batch: int, quick: bool) -> int:
    "Fewer steps where a step is long (ResNet18 at batch 128 is seconds on 2 cores)."
    work = batch * (8 if model == 'resnet18' else 1)
    return 2 if quick else max(3, min(10, 1024 // work))

def measure(variants, workloads, repeats: int, quick: bool, threads: int) -> dict:
    "(variant, model, batch) -> list of per-round results, the variants interleaved; the table so far after each round."
    seen, t = {}, time.perf_counter()
    for i in range(repeats):
        for model, batch in workloads:
            for v in variants:
                seen.setdefault((v, model, batch), []).append(run_variant(v, model, batch, steps_for(model, batch, quick), threads))
        print(f"\nafter round {i + 1} of {repeats}: median ms/step, {threads} thread(s); speed-up vs plain glibc; minor page "
              f"faults per step (kf = thousands); load average {os.getloadavg()[0]:.1f}; {time.perf_counter() - t:.0f} s")
        print('\n'.join(table(seen, variants, workloads)), flush=True)
    return seen

def table(seen: dict, variants, workloads) -> list[str]:
    "One row per variant: ms/step and speed-up over plain glibc on each workload, and faults/step."
    med = {k: statistics.median(r['ms'] for r in v) for k, v in seen.items()}
    head = f"{'allocator':14s}" + ''.join(f"{m + ' b' + str(b):>24s}" for m, b in workloads)
    rows = [head]
    for v in variants:
        cells = [f"{med[v, m, b]:7.0f} ms {med['glibc', m, b] / med[v, m, b]:4.2f}x "
                 f"{statistics.median(r['faults'] for r in seen[v, m, b]) / 1000:5.0f}kf" for m, b in workloads]
        rows.append(f"{v:14s}" + ''.join(f"{c:>24s}" for c in cells))
    return rows

def main():
    if sys.argv[1:2] == ['--child']:
        return child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--quick', action='store_true')
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--workloads', nargs='*', default=[f'{m}:{b}' for m, b in WORKLOADS], help='model:batch ...')
    ap.add_argument('--variants', nargs='*', default=list(VARIANTS))
    a = ap.parse_args()
    workloads = [(w.split(':')[0], int(w.split(':')[1])) for w in a.workloads]
    variants = [v for v in a.variants if v not in LIBS or os.path.exists(LIBS[v])]   # plain glibc first: the baseline
    repeats = 1 if a.quick else a.repeats
    return measure(variants, workloads, repeats, a.quick, a.threads)

if __name__ == '__main__':
    main()
