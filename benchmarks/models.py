"""Every registered model: parameters with a CIFAR-10 head and CPU time of one training step.

    .venv/bin/python benchmarks/models.py [--threads 1] [--repeats 2] [--batch 8] [--size 32] [--family resnet]

For each model in `list_models()`: `create_model(name, num_classes=10, cifar_size=True)` (the small-image
stem where the family has one; the CIFAR networks already have it), its parameter count, and the time
of forward + backward (sum of the outputs) on a random batch of `batch` x 3 x `size` x `size` in train
mode, on CPU, best of `repeats` after one warm-up step. Timings on a shared machine are noisy: compare
rows of one invocation, not across invocations.
"""
import argparse, platform, time
import torch
from visionlab.core import MODELS
from visionlab.models import create_model, list_models, count_params


def step_time(net, x, repeats):
    "Best wall time of forward + backward over `repeats` runs, after one warm-up run."
    best = float('inf')
    for i in range(repeats + 1):
        net.zero_grad(set_to_none=True)
        t = time.perf_counter()
        net(x).sum().backward()
        if i: best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--family', default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.threads} thread(s), "
          f"batch {args.batch}x3x{args.size}x{args.size}, best of {args.repeats}")
    print(f"| model | family | params (CIFAR-10 head) | fwd+bwd, batch {args.batch} at {args.size}x{args.size} (s) |")
    print("|---|---|---:|---:|")
    x = torch.randn(args.batch, 3, args.size, args.size)
    for name in list_models(args.family):
        family = MODELS.entry(name).meta['family']
        net = create_model(name, num_classes=10, cifar_size=True).train()
        print(f"| {name} | {family} | {count_params(net):,} | {step_time(net, x, args.repeats):.2f} |", flush=True)
        del net


if __name__ == '__main__': main()
