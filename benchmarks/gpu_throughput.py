"""Training throughput (images/s) of ResNet18 (CIFAR stem) on CIFAR-sized data with the kit's GPU defaults
(mixed precision, channels_last), and with `model.compile=true` on top, vs plain fp32 eager, side by side in one process.

    python benchmarks/gpu_throughput.py [--batch 128] [--steps 50] [--repeats 3] [--no-compile]

Meant for a GPU machine; on a CPU it runs a short smoke version (where the kit's defaults are fp32, contiguous: ~1.0x).
"""
import argparse, statistics, time
import torch
import torch.nn.functional as F
from visionlab.models.core import create_model
from visionlab.trainer import resolve_precision

def measure(device, batch, steps, amp_dtype=None, channels_last=False, compile=False):
    torch.manual_seed(0)
    net = create_model('resnet18', num_classes=10, input_channels=3, cifar_size=True).to(device)
    x = torch.randint(0, 256, (batch, 3, 32, 32), device=device).float().div_(255)
    y = torch.randint(0, 10, (batch,), device=device)
    if channels_last: net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    model = torch.compile(net) if compile else net
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler(enabled=amp_dtype == torch.float16)
    def step():
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True); scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
    for _ in range(5 if device.type == 'cuda' else 1): step()     # warm-up (and compilation)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    sync(); t = time.perf_counter()
    for _ in range(steps): step()
    sync()
    return batch * steps / (time.perf_counter() - t)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=128); ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--no-compile', action='store_true')
    a = ap.parse_args()
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device.type == 'cpu': a.steps, a.batch = min(a.steps, 3), min(a.batch, 32)
    prec = resolve_precision('auto')
    amp = {'bf16-mixed': torch.bfloat16, '16-mixed': torch.float16}.get(prec)     # what the kit trains in by default
    cl = device.type == 'cuda'                                                      # model.channels_last=null: on CUDA only
    compile = device.type == 'cuda' and not a.no_compile
    name = torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'
    print(f"device: {name}; batch {a.batch}; {a.steps} steps; kit defaults: precision {prec}, channels_last={cl}")
    rows = {'fp32 eager': {}, 'kit defaults': dict(amp_dtype=amp, channels_last=cl)}
    if compile: rows['kit + model.compile'] = dict(amp_dtype=amp, channels_last=cl, compile=True)
    seen = {k: [] for k in rows}
    for _ in range(a.repeats):                 # alternate so drifting load hits every row
        for k, kw in rows.items(): seen[k].append(measure(device, a.batch, a.steps, **kw))
    base = statistics.median(seen['fp32 eager'])
    for k, v in seen.items():
        m = statistics.median(v)
        print(f"{k:20s}: {m:10.0f} images/s (median of {a.repeats})  ->  {m / base:.2f}x")

if __name__ == '__main__':
    main()
