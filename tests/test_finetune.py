"Fine-tuning: a network pretrained on digits 0-4 reaches 95 % on digits 5-9 in fewer epochs than one trained from scratch; bad weight files are refused before anything is written."
import csv
import pytest
import torch
from visionlab.core import DATAMODULES
from visionlab.data import DigitsDataModule, _digits
from visionlab.train import train

class _Half(DigitsDataModule):
    "The digits below 5 (low) or from 5 up, with their own labels."
    low = True
    def load(self):
        images, digits = _digits()
        keep = digits < 5 if self.low else digits >= 5
        return images[keep], self.target(digits[keep]), None, None

for _name, _low in (('digits_0to4', True), ('digits_5to9', False)):
    if _name not in DATAMODULES.names(): DATAMODULES.register(_name)(type(_name, (_Half,), dict(low=_low)))

BASE = ['model=cifar_resnet', 'model.arch=resnet8', 'data=digits', 'seed=0', 'trainer.enable_progress_bar=false', 'test=false',
        'model.lr=0.1', 'model.scheduler=none', 'data.batch_size=16']
# digits 5-9 with 20 % of their images to train on (145), 80 % to validate on (580): from scratch, a slow climb to 95 %
FEW = ['data.name=digits_5to9', 'data.val_split=0.8', 'trainer.max_epochs=10']

def epochs_to(run_dir, acc: float = 0.95):
    "The first epoch (counted from 1) whose val_acc reaches `acc` (None: never), and every epoch's val_acc."
    accs = [float(r['val_acc']) for r in csv.DictReader(open(run_dir/'metrics.csv')) if r.get('val_acc')]
    return next((e + 1 for e, a in enumerate(accs) if a >= acc), None), [round(a, 3) for a in accs]

def test_finetuned_reaches_95_sooner_than_scratch(tmp_path, caplog):
    exp = f'exp_dir={tmp_path}'
    pre = train([*BASE, exp, 'name=pre', 'data.name=digits_0to4', 'data.num_classes=5', 'data.val_split=0.2', 'trainer.max_epochs=8'])
    ft = train([*BASE, *FEW, exp, 'name=ft', f'model.init_from={pre.run_dir}', 'model.freeze_epochs=1', 'model.body_lr_mult=0.3'])
    scratch = train([*BASE, *FEW, exp, 'name=scratch'])
    (e_ft, acc_ft), (e_sc, acc_sc) = epochs_to(ft.run_dir), epochs_to(scratch.run_dir)
    print(f'epochs to 95 % val_acc on digits 5-9: fine-tuned from digits 0-4 {e_ft} {acc_ft}; from scratch {e_sc} {acc_sc}')
    report = [r.getMessage() for r in caplog.records if r.getMessage().startswith('model.init_from:')]
    assert report == [f'model.init_from: loaded 57 of 59 tensors from {pre.run_dir}; skipped fc.weight (5x64 there, 10x64 here), '
                      'fc.bias (5 there, 10 here); new: fc.weight, fc.bias'], report   # a new head: 10 classes, not 5
    assert e_ft is not None and (e_sc is None or e_ft < e_sc), (e_ft, e_sc)

def test_freeze_epochs_train_only_the_head(tmp_path):
    "With model.freeze_epochs=1 of 2, the first epoch moves the head only; the second moves the body too."
    import lightning as L
    class Snap(L.Callback):
        def __init__(self): self.w = []
        def _snap(self, m): self.w.append({k: p.detach().clone() for k, p in m.net.named_parameters()})
        def on_train_start(self, trainer, m): self._snap(m)
        def on_train_epoch_end(self, trainer, m): self._snap(m)
    snap = Snap()
    train([*BASE, f'exp_dir={tmp_path}', 'trainer.max_epochs=2', 'trainer.limit_train_batches=2', 'trainer.limit_val_batches=1',
           'model.freeze_epochs=1', 'model.weight_decay=0'], callbacks=[snap])
    start, one, two = snap.w
    moved = lambda a, b: sorted(k for k in a if not torch.equal(a[k], b[k]))
    assert moved(start, one) == ['fc.bias', 'fc.weight'], moved(start, one)
    assert len(moved(one, two)) == len(start)

@pytest.mark.parametrize('bad', ['hostname', 'other_arch', 'garbage'])
def test_bad_init_from_is_one_line_exit_2(tmp_path, run_cli, bad):
    if bad == 'hostname': path = '/etc/hostname'
    elif bad == 'other_arch':                       # a torchvision ResNet-18's state dict for a CIFAR ResNet-8
        import torchvision
        path = tmp_path/'resnet18.pth'; torch.save(torchvision.models.resnet18().state_dict(), path)
    else: path = tmp_path/'garbage.pt'; path.write_bytes(b'not a state dict')
    p = run_cli('model=cifar_resnet', 'model.arch=resnet8', 'data=digits', 'trainer.max_epochs=1', f'model.init_from={path}')
    assert p.returncode == 2, p.stderr
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and 'Traceback' not in err, err
    assert not (tmp_path/'exp').exists() or not any((tmp_path/'exp').iterdir())    # nothing written
