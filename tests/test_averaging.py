"Weight averaging end to end: an EMA or SWA run validates, checkpoints, tests and predicts with the averaged weights, and results.json says which."
import json
import pytest
import torch
from visionlab.train import train
from visionlab.predict import predict_run

@pytest.mark.parametrize('case', [('model.ema_decay=0.99', 'EMA (decay 0.99)'), ('model.swa_epochs=2', 'SWA (last 2 epochs)')])
def test_averaged_run_tests_and_predicts_the_average(tmp_path, case):
    override, label = case
    run = train(['experiment=quickstart', 'trainer.max_epochs=3', f'exp_dir={tmp_path}', 'name=avg', 'trainer.enable_progress_bar=false',
                 override])
    res = json.loads((run.run_dir/'results.json').read_text())
    assert res['status'] == 'finished' and res['weights'] == label
    ck = torch.load(run.best_checkpoint, weights_only=True)
    assert any(not torch.equal(ck['state_dict'][k], ck['current_model_state'][k]) for k in ck['state_dict'])   # the average is not the last step
    pred = predict_run(run.run_dir)                         # predict loads the checkpoint's state_dict: the average
    assert pred.metrics['test_acc'] == pytest.approx(res['metrics']['test_acc'])
    assert pred.metrics['test_loss'] == pytest.approx(res['metrics']['test_loss'], rel=1e-4)

def test_plain_run_says_trained_weights(tmp_path):
    run = train(['experiment=quickstart', 'trainer.max_epochs=1', f'exp_dir={tmp_path}', 'name=plain', 'trainer.enable_progress_bar=false'])
    assert json.loads((run.run_dir/'results.json').read_text())['weights'] == 'trained (no averaging)'
    assert 'current_model_state' not in torch.load(run.best_checkpoint, weights_only=True)
