"Test-time augmentation as a user runs it: `data.tta=flip` on the command line, recorded and reported, and its predictions."
import json, subprocess
from conftest import cli, beyond_allocator_note

FAST = ['data=digits', 'model=cifar_resnet', 'model.arch=resnet8', 'trainer.max_epochs=1', 'trainer.limit_train_batches=4',
        'trainer.limit_val_batches=2', 'seed=0', 'model.lr=0.05']

def test_tta_flip_is_recorded_reported_and_is_what_predict_computes(run_cli, tmp_path):
    p = run_cli(*FAST, 'data.tta=flip', 'name=flip')
    assert p.returncode == 0 and beyond_allocator_note(p.stderr) == [], p.stderr
    assert 'TTA: flip' in p.stdout, p.stdout
    run = tmp_path/'exp'/'flip'
    info = json.loads((run/'results.json').read_text())
    assert info['tta'] == 'flip'
    from visionlab.predict import predict_run
    flip, plain = (predict_run(run, [f'data.tta={t}'], out=tmp_path/f'{t}.csv').metrics for t in ('flip', 'none'))
    assert abs(flip['test_loss'] - info['metrics']['test_loss']) < 1e-4, (flip, info['metrics'])   # the run tested with TTA
    assert abs(plain['test_loss'] - flip['test_loss']) > 1e-4, (plain, flip)                       # the same weights without it
    q = subprocess.run([cli('visionlab-predict'), str(run), 'data.tta=none'], capture_output=True, text=True, cwd=tmp_path)
    assert q.returncode == 0 and f"test_loss={plain['test_loss']:.4f}" in q.stdout, q.stdout + q.stderr
    check_predict_on_new_images(run)

def check_predict_on_new_images(run):
    "`predict` on new images (and so the export, which is the same model) averages each image with its mirror under the run's TTA."
    import torch
    from visionlab.predict import load_run, predict
    loaded = load_run(run)
    images = torch.randint(0, 256, (4, 1, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    probs = lambda table: torch.tensor([table[c] for c in [str(k) for k in range(10)]]).T
    with_tta = probs(predict(loaded, images))
    loaded.config.data.tta = 'none'
    plain, mirrored = probs(predict(loaded, images)), probs(predict(loaded, images.flip(-1)))
    assert torch.allclose(with_tta, (plain + mirrored) / 2, atol=1e-6) and not torch.allclose(with_tta, plain, atol=1e-4)

def test_tta_none_is_not_reported_and_a_bad_value_is_one_line(run_cli, tmp_path):
    p = run_cli(*FAST, 'trainer.limit_test_batches=2', 'name=plain')
    assert p.returncode == 0 and 'TTA' not in p.stdout, p.stdout
    assert json.loads((tmp_path/'exp'/'plain'/'results.json').read_text())['tta'] == 'none'
    p = run_cli(*FAST, 'data.tta=flop')
    assert (p.returncode, p.stderr.count('\n'), p.stdout) == (2, 1, ''), p.stderr
    assert "data.tta='flop'" in p.stderr and 'flip' in p.stderr, p.stderr
