"""Training throughput (images/s) of ResNet18 (CIFAR stem) and WRN-28-10 on CIFAR-sized batches (32x32 RGB): a plain
PyTorch loop in fp32 eager (the baseline), the same loop with the kit's GPU defaults (mixed precision, channels_last),
with `model.compile=true` on top, and the kit itself (`VisionModule` under a Lightning `Trainer`, its defaults), side by
side in one process, the rows interleaved.

    python benchmarks/gpu_throughput.py                # batch 128, 50 steps, 3 repeats, both models
    python benchmarks/gpu_throughput.py --quick        # one short script: 20 steps, 2 repeats (a few minutes with compilation)
    python benchmarks/gpu_throughput.py --models resnet18 --no-compile

Meant for a GPU machine; on a CPU it runs a short smoke version of ResNet18 (the kit's defaults there are fp32, contiguous).
"""
import argparse, logging, statistics, time, warnings
import torch
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset
from visionlab.models.core import create_model
from visionlab.trainer import resolve_precision
from visionlab.module import VisionModule
from visionlab.optim import OptimSettings

def make_net(name, device):
    torch.manual_seed(0)
    return create_model(name, num_classes=10, input_channels=3, **({'cifar_size': True} if name == 'resnet18' else {})).to(device)

def batch_of(device, batch):
    g = torch.Generator().manual_seed(0)
    return torch.rand(batch, 3, 32, 32, generator=g).to(device), torch.randint(0, 10, (batch,), generator=g).to(device)

def plain(name, device, batch, steps, amp_dtype=None, channels_last=False, compile=False):
    "images/s of a hand-written loop: forward, cross-entropy, backward, SGD step."
    net = make_net(name, device)
    x, y = batch_of(device, batch)
    if channels_last: net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    model = torch.compile(net) if compile else net
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler(enabled=amp_dtype == torch.float16)
    def step():
        with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True); scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
    for _ in range(WARMUP[device.type]): step()     # warm-up (and compilation)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    sync(); t = time.perf_counter()
    for _ in range(steps): step()
    sync()
    return batch * steps / (time.perf_counter() - t)

WARMUP = {'cuda': 5, 'cpu': 1}   # steps before the clock starts (compilation, cuDNN autotuning, allocator)

class _Timer(L.Callback):
    "Time from the start of the first training batch after warm-up to the end of fit."
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == WARMUP[module.device.type]:
            if module.device.type == 'cuda': torch.cuda.synchronize()
            self.start = time.perf_counter()
    def on_train_end(self, trainer, module):
        if module.device.type == 'cuda': torch.cuda.synchronize()
        self.elapsed = time.perf_counter() - self.start

def kit(name, device, batch, steps, precision, compile=False):
    "images/s of the kit's own step: `VisionModule` under a Lightning `Trainer`, its defaults (and `model.compile`)."
    x, y = batch_of(torch.device('cpu'), batch)
    n = steps + WARMUP[device.type]
    dl = DataLoader(TensorDataset(x.repeat(n, 1, 1, 1), y.repeat(n)), batch_size=batch)
    mod = VisionModule(make_net(name, 'cpu'), optim=OptimSettings(lr=0.1, max_epochs=1), metrics=['acc'],
                       result_plot='disable', compile=compile)
    timer = _Timer()
    trainer = L.Trainer(accelerator='gpu' if device.type == 'cuda' else 'cpu', devices=1, max_epochs=1, logger=False,
                        precision=precision, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, callbacks=[timer])
    trainer.fit(mod, dl)
    return batch * steps / timer.elapsed

def rows_for(device, no_compile):
    "Row name -> the function measuring it, the plain fp32 eager loop first (the baseline)."
    prec = resolve_precision('auto')
    amp = {'bf16-mixed': torch.bfloat16, '16-mixed': torch.float16}.get(prec)   # what the kit trains in by default
    cl = device.type == 'cuda'                                                     # model.channels_last=null: on CUDA only
    rows = {'plain fp32 eager': dict(),
            'plain + kit defaults': dict(amp_dtype=amp, channels_last=cl)}
    if device.type == 'cuda' and not no_compile: rows['plain + kit + compile'] = dict(amp_dtype=amp, channels_last=cl, compile=True)
    out = {k: (lambda n, b, s, kw=kw: plain(n, device, b, s, **kw)) for k, kw in rows.items()}
    out['kit (Lightning, defaults)'] = lambda n, b, s: kit(n, device, b, s, prec)
    if 'plain + kit + compile' in rows: out['kit + model.compile'] = lambda n, b, s: kit(n, device, b, s, prec, compile=True)
    return out, prec, cl

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=128); ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--no-compile', action='store_true')
    ap.add_argument('--models', nargs='*', default=None); ap.add_argument('--quick', action='store_true')
    a = ap.parse_args()
    logging.getLogger('lightning.pytorch').setLevel(logging.ERROR); warnings.filterwarnings('ignore')
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if a.quick: a.steps, a.repeats = 20, 2
    if device.type == 'cpu': a.steps, a.batch, a.repeats = 2, min(a.batch, 8), 1
    a.models = a.models or (['resnet18', 'wrn28_10'] if device.type == 'cuda' else ['resnet18'])   # WRN-28-10: minutes a step on 2 cores
    rows, prec, cl = rows_for(device, a.no_compile)
    name = torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'
    print(f"device: {name}; batch {a.batch}; {a.steps} steps; median of {a.repeats}; kit defaults: precision {prec}, channels_last={cl}")
    for model in a.models:
        seen = {k: [] for k in rows}
        for _ in range(a.repeats):                 # alternate so drifting load hits every row
            for k, fn in rows.items(): seen[k].append(fn(model, a.batch, a.steps))
        base = statistics.median(seen['plain fp32 eager'])
        for k, v in seen.items():
            m = statistics.median(v)
            print(f"{model:9s} {k:26s}: {m:10.0f} images/s  ->  {m / base:.2f}x", flush=True)

if __name__ == '__main__':
    main()
