"The command line as a user runs it: a subprocess, real exit codes, real run directories."
import csv
from pathlib import Path
from omegaconf import OmegaConf

FAST = ['data=digits', 'trainer.max_epochs=1', 'trainer.limit_train_batches=4', 'trainer.limit_val_batches=2',
        'trainer.limit_test_batches=2']

def test_one_epoch_writes_a_run_dir(run_cli, tmp_path):
    p = run_cli('model=resnet', *FAST, 'model.lr=0.05', 'name=one')
    assert p.returncode == 0, p.stderr
    run = tmp_path/'exp'/'one'
    assert 'test_acc=' in p.stdout and str(run) in p.stdout
    cfg = OmegaConf.load(run/'config.yaml')
    assert cfg.model.lr == 0.05 and cfg.data.name == 'digits'
    rows = list(csv.DictReader(open(run/'metrics.csv')))
    assert any(r.get('test_acc') for r in rows) and any(r.get('val_loss') for r in rows)
    assert (run/'checkpoints'/'last.ckpt').exists() and list((run/'checkpoints').glob('best-*.ckpt'))

def test_bad_override_exits_2_with_one_line(run_cli, tmp_path):
    for args, phrase in [(['model.lrr=0.1'], "unknown key 'model.lrr': did you mean 'model.lr'?"),
                         (['model.optimizer=sgdd'], "did you mean 'SGD'"),
                         (['model=resnett'], "unknown model 'resnett'"),
                         (['model.lr=abc'], "model.lr='abc' is not a valid float")]:
        p = run_cli(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.count('\n') == 1 and phrase in p.stderr and 'Traceback' not in p.stderr, p.stderr
        assert p.stdout == ''
    assert not (tmp_path/'exp').exists()      # nothing written for a refused run

def test_multirun_makes_one_run_dir_per_value(run_cli, tmp_path):
    p = run_cli('-m', *FAST, 'model.lr=0.01,0.1')
    assert p.returncode == 0, p.stderr
    runs = sorted((tmp_path/'exp').iterdir())
    assert len(runs) == 2
    assert sorted(OmegaConf.load(r/'config.yaml').model.lr for r in runs) == [0.01, 0.1]
    assert '[1/2] ' in p.stdout and '[2/2] ' in p.stdout

def test_multirun_validates_every_job_first(run_cli, tmp_path):
    p = run_cli('-m', *FAST, 'model.lr=0.1,-1')
    assert p.returncode == 2 and 'model.lr=-1.0 is out of range' in p.stderr
    assert not (tmp_path/'exp').exists()
