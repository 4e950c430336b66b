"""Does `channels_last` pay for the conv models? One training step (forward, cross-entropy, backward, SGD
step) in the default (contiguous) layout vs channels_last, side by side in one process, alternating, median
of several repeats. The kit's `model.channels_last=null` (auto) follows what this measures.

    python benchmarks/channels_last.py [--models resnet18 wrn16_8 vgg11] [--batch 32] [--size 32] [--steps 5] [--repeats 5]
    python benchmarks/channels_last.py --device cuda --batch 128      # on a GPU machine
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F
from visionlab.models.core import create_model

def step_time(name, device, batch, size, steps, channels_last):
    torch.manual_seed(0)
    net = create_model(name, num_classes=10, input_channels=3, cifar_size=True).to(device).train()
    x, y = torch.randn(batch, 3, size, size, device=device), torch.randint(0, 10, (batch,), device=device)
    if channels_last: net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    def one():
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    one(); sync()                                  # warm-up: allocator, kernel choice
    t = time.perf_counter()
    for _ in range(steps): one()
    sync()
    return (time.perf_counter() - t) / steps

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', nargs='+', default=['resnet18', 'preact_resnet18', 'wrn16_8', 'vgg11'])
    ap.add_argument('--batch', type=int, default=32); ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--steps', type=int, default=5); ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--threads', type=int, default=None)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    print(f"device={device} threads={torch.get_num_threads()} batch={a.batch} size={a.size} steps={a.steps} repeats={a.repeats}")
    print(f"{'model':18s} {'contiguous ms':>14s} {'channels_last ms':>17s} {'speed-up':>9s}")
    for name in a.models:
        plain, cl = [], []
        for _ in range(a.repeats):                 # alternate so drifting machine load hits both layouts
            plain.append(step_time(name, device, a.batch, a.size, a.steps, False))
            cl.append(step_time(name, device, a.batch, a.size, a.steps, True))
        mp, mc = statistics.median(plain), statistics.median(cl)
        print(f"{name:18s} {mp * 1e3:14.1f} {mc * 1e3:17.1f} {mp / mc:8.2f}x")

if __name__ == '__main__': main()
