"""Per-step overhead of visionlab's LightningModule against a hand-written PyTorch loop.

Same network (ResNet18 with the CIFAR stem), same synthetic data, same optimizer (SGD, momentum 0.9,
weight decay 5e-4), same number of steps. The hand-written loop is forward, cross-entropy, backward,
step; the Lightning side is `VisionModule` under `lightning.Trainer.fit` (epoch-wise metrics, loss
logging, no validation, no checkpointing, no logger). Both run in this process, alternately, and the
median time per step of several repeats is compared.

    python benchmarks/train_step.py                      # issue 8's spec: batch 128 at 32x32 (slow on a CPU)
    python benchmarks/train_step.py --batch 16 --size 16 --steps 10 --repeats 5   # a quick CPU measurement
"""
import argparse, logging, statistics, time, warnings
import torch
import torch.nn.functional as F
import lightning as L
from torch.utils.data import DataLoader, TensorDataset

from visionlab.models.core import create_model
from visionlab.module import VisionModule
from visionlab.optim import OptimSettings, build_optimizer

def make_data(n, size, classes=10):
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 3, size, size, generator=g), torch.randint(0, classes, (n,), generator=g))

def make_net(): torch.manual_seed(0); return create_model('resnet18', num_classes=10, input_channels=3, cifar_size=True)

def plain_loop(dl, device):
    net = make_net().to(device).train()
    opt = build_optimizer(net, OptimSettings(lr=0.05))
    start = time.perf_counter()
    for x, y in dl:
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    if device.type == 'cuda': torch.cuda.synchronize()
    return time.perf_counter() - start

class _Timer(L.Callback):
    "Time from the first training batch's start to the end of fit, like the plain loop (setup excluded)."
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == 0 and trainer.current_epoch == 0: self.start = time.perf_counter()
    def on_train_end(self, trainer, pl_module):
        if pl_module.device.type == 'cuda': torch.cuda.synchronize()
        self.elapsed = time.perf_counter() - self.start

def lightning_loop(dl, device):
    mod = VisionModule(make_net(), optim=OptimSettings(lr=0.05, max_epochs=1), metrics=['acc'], result_plot='disable')
    timer = _Timer()
    trainer = L.Trainer(accelerator='gpu' if device.type == 'cuda' else 'cpu', devices=1, max_epochs=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        num_sanity_val_steps=0, callbacks=[timer])
    trainer.fit(mod, dl)
    return timer.elapsed

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch', type=int, default=128); p.add_argument('--size', type=int, default=32)
    p.add_argument('--steps', type=int, default=20); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--device', default='cpu'); p.add_argument('--threads', type=int, default=None)
    a = p.parse_args()
    logging.getLogger('lightning.pytorch').setLevel(logging.ERROR); warnings.filterwarnings('ignore')
    if a.threads: torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    dl = DataLoader(make_data(a.batch * a.steps, a.size), batch_size=a.batch)
    plain_loop(dl, device); lightning_loop(dl, device)            # warm-up: allocator, kernels, imports
    plain, light = [], []
    for _ in range(a.repeats):                                   # alternate so drifting machine load hits both sides
        plain.append(plain_loop(dl, device) / a.steps); light.append(lightning_loop(dl, device) / a.steps)
    mp, ml = statistics.median(plain), statistics.median(light)
    print(f"device={device} threads={torch.get_num_threads()} batch={a.batch} size={a.size} steps={a.steps} repeats={a.repeats}")
    print(f"hand-written loop  : median {mp * 1e3:8.2f} ms/step  (all: {', '.join(f'{t * 1e3:.1f}' for t in plain)})")
    print(f"VisionModule+Trainer: median {ml * 1e3:8.2f} ms/step  (all: {', '.join(f'{t * 1e3:.1f}' for t in light)})")
    print(f"ratio Lightning / plain = {ml / mp:.3f}  (overhead {(ml - mp) * 1e3:+.2f} ms/step)")

if __name__ == '__main__': main()
