"End-to-end runs through `visionlab.train.train` exercising the training options of the reference README."
import csv, logging, os, warnings
from pathlib import Path
import pytest, torch
from visionlab.train import train
from visionlab.core import load_checkpoint

os.environ.setdefault('WANDB_MODE', 'disabled')
logging.getLogger('lightning.pytorch').setLevel(logging.ERROR)
warnings.filterwarnings('ignore')
TINY = ['trainer.enable_progress_bar=false', 'trainer.limit_train_batches=3', 'trainer.limit_val_batches=2',
        'trainer.limit_test_batches=2', 'trainer.accelerator=cpu', 'model.arch=resnet18', 'data.batch_size=32']

def columns(run_dir): return set(next(csv.reader(open(run_dir/'metrics.csv'))))

@pytest.mark.slow
def test_every_option_once(tmp_path):
    "Training Settings + Regularization + Logging options of the reference README, combined in two short runs."
    a = train(TINY + [f'exp_dir={tmp_path}', 'name=a', 'trainer.max_epochs=3', 'model.optimizer=SGD', 'model.nesterov=true',
                      'model.lr=0.05', 'model.weight_decay=1e-4', 'model.scheduler=CosineAnneal', 'model.warmstart=1',
                      'model.undecay_norm=true', 'model.label_smoothing=0.1', 'model.mixup=true', 'model.mixup_alpha=0.3',
                      'model.sam=true', 'model.stochastic_depth=0.1', 'model.squeeze_excitation=true',
                      'model.resnet_dropout=0.2', 'model.zero_init_residual=true', 'model.bottleneck=false',
                      'model.metrics=[acc,f1,f1_per_class,pr,top5acc,auroc]', 'model.result_plot=all',
                      'trainer.gradient_clip_val=1.0', 'seed=3', 'logger=wandb', 'project=visionlab-tests'])
    assert a.config.model.sam and a.last_checkpoint.exists() and a.best_checkpoint.exists()
    ckpt = load_checkpoint(a.last_checkpoint, mmap=False)
    assert ckpt['global_step'] == 9 and ckpt['epoch'] == 2            # SAM: one step per batch, 3 batches x 3 epochs
    lrs = [float(r['lr-SAM/pg1']) for r in csv.DictReader(open(a.run_dir/'metrics.csv')) if r.get('lr-SAM/pg1')]
    assert lrs == pytest.approx([0.025, 0.05, 0.025])                  # warm-up epoch, then cosine over the remaining 2
    assert {'val_acc', 'val_f1', 'val_f1_class9', 'val_precision', 'val_recall', 'val_top5acc', 'val_auroc',
            'test_acc', 'train_loss_epoch'} <= columns(a.run_dir)
    assert {'train_confusion_matrix', 'val_confusion_matrix', 'test_confusion_matrix'} <= set(a.figures)
    assert (a.run_dir/'plots'/'val_confusion_matrix.png').exists()
    b = train(TINY + [f'exp_dir={tmp_path}', 'name=b', 'trainer.max_epochs=2', 'model.optimizer=Madgrad', 'model.lr=0.001',
                      'model.adaptive_sam=true', 'model.sam_rho=0.4', 'model.scheduler=Step', 'model.metric_computation_mode=stepwise',
                      'model.result_plot=disable', 'trainer.precision=bf16-mixed', 'trainer.devices=1', 'model.shakedrop=false',
                      'trainer.log_every_n_steps=1'])
    assert b.figures == {} and not (b.run_dir/'plots').exists()
    assert 'train_acc_step' in columns(b.run_dir) and load_checkpoint(b.last_checkpoint, mmap=False)['global_step'] == 6

@pytest.mark.slow
def test_regression_digits(tmp_path):
    "Regression of the digit's value on the digits images: MSE/MAE logged, a parity plot drawn, the error falls."
    r = train(['trainer.enable_progress_bar=false', 'trainer.accelerator=cpu', 'data=digits_regression', f'exp_dir={tmp_path}',
               'name=reg', 'trainer.max_epochs=3', 'model.optimizer=Adam', 'model.lr=0.001', 'model.weight_decay=0',
               'model.mixup=true', 'seed=0'])
    assert {'val_mse', 'val_mae', 'test_mse', 'test_mae'} <= set(r.metrics)
    assert r.metrics['test_mse'] < 8.25                      # predicting the mean digit (4.5) scores 8.25
    assert {'val_parity', 'test_parity'} <= set(r.figures) and (r.run_dir/'plots'/'val_parity.png').exists()

def test_seed_is_deterministic(tmp_path):
    "Two CPU runs with the same seed give identical metrics."
    args = TINY + [f'exp_dir={tmp_path}', 'trainer.max_epochs=1', 'seed=7', 'model.mixup=true', 'test=false']
    r1, r2 = train(args + ['name=s1']), train(args + ['name=s2'])
    assert r1.metrics == r2.metrics and r1.metrics['val_loss'] > 0
