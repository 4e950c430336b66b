"Sweeps through Hydra's plugins, as a user runs them: Optuna, submitit (local), joblib; refusals, failures, restarts."
import json, signal, subprocess, time
import pytest
from conftest import cli

optuna = pytest.importorskip('optuna', reason='the sweeps extra: pip install -e ".[sweeps]"')

TINY = ['data=digits', 'model=resnet', 'trainer.max_epochs=1', 'trainer.limit_train_batches=2',
        'trainer.limit_val_batches=1', 'trainer.limit_test_batches=1', 'data.batch_size=32']
SEARCH = ['hydra/sweeper=optuna', 'model.lr=interval(1e-4,1e-1)', 'model.optimizer=choice(SGD,Adam)',
          'hydra.sweeper.study_name=t', 'hydra.sweeper.sampler.seed=0']

def trials(folder, state=None):
    study = optuna.load_study(study_name='t', storage=f'sqlite:///{folder}/optuna.db')
    return [t for t in study.get_trials() if state is None or t.state.name == state]

def test_optuna_sweep_reports_the_best_trial(run_cli, tmp_path):
    p = run_cli('-m', *TINY, *SEARCH, 'hydra.sweeper.n_trials=4')
    assert p.returncode == 0, p.stderr
    folder = tmp_path/'exp'/'sweeps'/'t'
    assert len(trials(folder, 'COMPLETE')) == 4
    best = max(trials(folder), key=lambda t: t.value)
    assert f'best trial {best.number}: maximize' in p.stdout and str(folder/'summary.md') in p.stdout
    summary = (folder/'summary.md').read_text()
    assert f'best trial {best.number}' in summary and f"model.lr={best.params['model.lr']}" in summary
    assert len((folder/'trials.csv').read_text().splitlines()) == 5
    assert len(list(folder.glob('*/config.yaml'))) == 4          # the trials' run dirs are in the sweep folder
    from visionlab.runs import compare_runs
    assert len(compare_runs(folder)) == 4

def test_optuna_with_submitit_local_runs_separate_processes(run_cli, tmp_path):
    p = run_cli('-m', *TINY, *SEARCH, 'hydra.sweeper.n_trials=4', 'hydra.sweeper.n_jobs=2',
                'hydra/launcher=submitit_local', 'hydra.launcher.timeout_min=20')
    assert p.returncode == 0, p.stderr
    folder = tmp_path/'exp'/'sweeps'/'t'
    assert len(trials(folder, 'COMPLETE')) == 4 and 'best trial' in p.stdout
    jobs = [json.loads(f.read_text()) for f in folder.glob('jobs/*/job.json')]
    assert len(jobs) == 4 and len({j['pid'] for j in jobs}) == 4   # four submitit processes, none of them this one
    assert len(list((folder/'.submitit').glob('*/*_log.out'))) == 4

def test_joblib_sweep_of_two_jobs(run_cli, tmp_path):
    p = run_cli('-m', *TINY, 'model.lr=0.01,0.1', 'hydra/launcher=joblib', 'hydra.launcher.n_jobs=2', 'hydra.sweep.dir=sw')
    assert p.returncode == 0, p.stderr
    jobs = [json.loads(f.read_text()) for f in (tmp_path/'sw').glob('jobs/*/job.json')]
    assert sorted(j['status'] for j in jobs) == ['done', 'done'] and len({j['pid'] for j in jobs}) == 2
    assert p.stdout.count('test_acc=') == 2 and 'sweep folder:' in p.stdout
    assert len(list((tmp_path/'sw').glob('*/config.yaml'))) == 2

def test_bad_override_refused_before_any_job(run_cli, tmp_path):
    for args, phrase in [(['model.lr=interval(-1,0.1)'], 'model.lr=-1.0 is out of range'),
                         (['model.optimizer=choice(SGD,Adamm)'], "did you mean 'Adam'"),
                         (['hydra.sweeper.no_such_key=1'], 'no_such_key')]:
        p = run_cli('-m', *TINY, 'hydra/sweeper=optuna', *args)
        assert p.returncode == 2 and p.stderr.count('\n') == 1 and phrase in p.stderr, (args, p.stderr)
        assert not (tmp_path/'exp').exists()

def test_failing_job_is_recorded_and_the_sweep_goes_on(run_cli, tmp_path):
    "A job that fails while training (here: a non-finite loss at a huge learning rate... or any error) is recorded."
    (tmp_path/'broken.py').write_text(
        "from torch import nn\nfrom visionlab.models.core import register_model\n"
        "class Boom(nn.Module):\n    def __init__(self, num_classes=10, input_channels=3):\n        super().__init__(); self.l = nn.Linear(1, 1)\n"
        "    def forward(self, x): raise RuntimeError('boom')\n"
        "@register_model('broken', small_image_stem=True)\ndef broken_net(num_classes=10, input_channels=3): return Boom(num_classes, input_channels)\n")
    p = run_cli('-m', *TINY, 'imports=[broken]', 'model=broken,resnet', 'hydra/launcher=joblib', 'hydra.launcher.n_jobs=1',
                'hydra.sweep.dir=sw')
    assert p.returncode == 1 and '1 of 2 jobs failed' in p.stdout and 'boom' in p.stdout, (p.stdout, p.stderr)
    jobs = sorted((json.loads(f.read_text()) for f in (tmp_path/'sw').glob('jobs/*/job.json')), key=lambda j: j['status'])
    assert [j['status'] for j in jobs] == ['done', 'failed'] and 'boom' in jobs[1]['error']

def test_interrupted_optuna_sweep_continues_its_study(tmp_path):
    cmd = [cli('visionlab-train'), '-m', *TINY, *SEARCH, 'hydra.sweeper.n_trials=4', f'exp_dir={tmp_path/"exp"}',
           'trainer.enable_progress_bar=false']
    folder = tmp_path/'exp'/'sweeps'/'t'
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        while len(list(folder.glob('jobs/*/job.json'))) < 2 and time.time() < deadline and proc.poll() is None: time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally: proc.wait()
    done_before = len(trials(folder, 'COMPLETE'))
    assert 2 <= done_before < 4
    p = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert len(trials(folder, 'COMPLETE')) == 4                          # the remaining trials only
    assert p.stdout.count('test_acc=') == 4 - done_before and 'best trial' in p.stdout


def test_slurm_two_nodes_of_four_gpus(tmp_path, monkeypatch):
    "hydra/launcher=slurm trainer.num_nodes=2 trainer.devices=4: the sbatch header submitit writes, and what Lightning's SLURMEnvironment then finds in task 5 of 8."
    import os, submitit
    from omegaconf import OmegaConf
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from lightning.fabric.plugins.environments import SLURMEnvironment
    from submitit.slurm.slurm import _make_sbatch_string
    from visionlab.config import compose
    from visionlab.runs import is_rank_zero
    from visionlab.sweeps import hydra_config, hydra_settings
    from visionlab.trainer import trainer_kwargs
    job = ['trainer.num_nodes=2', 'trainer.devices=4']
    cfg = compose(job)
    settings = hydra_settings(cfg, hydra_config(job, ['hydra/launcher=slurm']), tmp_path, 'c10-8gpu')
    launcher = OmegaConf.to_container(hydra_config(job, ['hydra/launcher=slurm', *settings]).hydra.launcher, resolve=True)
    # as hydra's SlurmLauncher hands them to submitit (its own keys as they are, the others as slurm_<key>)
    (tmp_path/'bin').mkdir(); (tmp_path/'bin'/'srun').write_text('#!/bin/sh\n'); (tmp_path/'bin'/'srun').chmod(0o755)
    monkeypatch.setenv('PATH', f"{tmp_path/'bin'}{os.pathsep}{os.environ['PATH']}")     # submitit looks for srun
    ex = submitit.AutoExecutor(folder=tmp_path/'sub', cluster='slurm')
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    ex.update_parameters(**{k if k in base else f'slurm_{k}': v for k, v in launcher.items()
                            if k not in ('_target_', 'submitit_folder', 'setup', 'max_num_timeout', 'array_parallelism') and v not in (None, {})})
    header = _make_sbatch_string(command='python', folder=str(tmp_path/'sub'), **ex._executor.parameters)
    for line in ('#SBATCH --nodes=2', '#SBATCH --ntasks-per-node=4', '#SBATCH --gpus-per-node=4', '#SBATCH --job-name=visionlab'):
        assert line in header.splitlines(), header
    kw = trainer_kwargs(cfg, cuda=True)           # a GPU node's Trainer
    assert (kw['strategy'], kw['devices'], kw['num_nodes'], kw['sync_batchnorm'], kw['use_distributed_sampler']) == ('ddp', 4, 2, True, False)
    for k, v in dict(SLURM_NTASKS='8', SLURM_NTASKS_PER_NODE='4', SLURM_PROCID='5', SLURM_LOCALID='1', SLURM_NODEID='1',
                     SLURM_JOB_NAME='visionlab', SLURM_NODELIST='gpu[01-02]', SLURM_JOB_ID='42').items():
        monkeypatch.setenv(k, v)
    env = SLURMEnvironment()
    assert SLURMEnvironment.detect() and (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (8, 5, 1, 1)
    env.validate_settings(num_devices=kw['devices'], num_nodes=kw['num_nodes'])     # raises where the shapes disagree
    assert not is_rank_zero()                     # task 5 neither creates the run directory nor writes job.json
    monkeypatch.setenv('SLURM_PROCID', '0'); monkeypatch.setenv('SLURM_LOCALID', '0'); monkeypatch.setenv('SLURM_NODEID', '0')
    assert is_rank_zero()
