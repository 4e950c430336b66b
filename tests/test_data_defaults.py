"The defaults of `data=image_folder` and `data=csv_regression` train a small set of one's own from scratch without diverging."
import json, math
from omegaconf import OmegaConf
from conftest import beyond_allocator_note
from fixtures import write_digit_folder, write_digit_csv

def _finished(p, run):
    assert p.returncode == 0 and beyond_allocator_note(p.stderr) == [], p.stderr[-2000:]
    return json.loads((run/'results.json').read_text()), OmegaConf.load(run/'config.yaml')

def test_image_folder_defaults_do_not_diverge_on_300_images(run_cli, tmp_path):
    root = write_digit_folder(tmp_path/'digits', classes=5, per_class=60, size=40)
    p = run_cli('data=image_folder', f'data.data_root_dir={root}', 'trainer.max_epochs=1', 'test=false', 'seed=0', 'name=folder')
    info, cfg = _finished(p, tmp_path/'exp'/'folder')
    assert (cfg.data.image_size, cfg.model.lr, cfg.model.arch, cfg.data.num_classes) == (128, 0.01, 'resnet18', 5)
    val_loss = info['metrics']['val_loss']
    assert math.isfinite(val_loss) and val_loss < 10, info['metrics']      # lr 0.1: 1.3e6 after this epoch

def test_csv_regression_defaults_give_a_finite_loss(run_cli, tmp_path):
    root = write_digit_csv(tmp_path/'posters', n=300, size=40)
    p = run_cli('data=csv_regression', f'data.data_root_dir={root}', 'trainer.max_epochs=1', 'test=false', 'seed=0', 'name=csv')
    info, cfg = _finished(p, tmp_path/'exp'/'csv')                         # lr 0.1: a non-finite loss at step 4, exit 1
    assert (cfg.data.image_size, cfg.model.lr) == (128, 0.001)
    assert all(math.isfinite(info['metrics'][k]) for k in ('train_loss_epoch', 'val_loss')), info['metrics']
    assert info['metrics']['val_loss'] < 100, info['metrics']              # lr 0.01: 1e28 after this epoch
