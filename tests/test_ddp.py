"Real multi-process training: 2 CPU processes with DDP (gloo) on digits, SAM and mixup on; both ranks end with the same weights."
import os, random, subprocess, sys, textwrap
import torch

SCRIPT = textwrap.dedent('''
    import os, sys, torch, lightning as L
    from visionlab.train import train

    class SaveWeights(L.Callback):
        def on_train_end(self, trainer, pl_module):
            torch.save(dict(state=dict(pl_module.net.named_parameters()), step=trainer.global_step, world=trainer.world_size,
                            strategy=type(trainer.strategy).__name__), f"{sys.argv[1]}/rank{trainer.global_rank}.pt")

    if __name__ == '__main__':
        result = train(['trainer.accelerator=cpu', 'trainer.devices=2', 'trainer.max_epochs=1', 'trainer.limit_train_batches=3',
                        'trainer.limit_val_batches=1', 'trainer.enable_progress_bar=false', 'data.batch_size=16', 'test=false',
                        'model.sam=true', 'model.mixup=true', 'model.result_plot=val', 'seed=1', 'name=ddp',
                        f'exp_dir={sys.argv[1]}/exp'], callbacks=[SaveWeights()])
        rank = int(os.environ.get('LOCAL_RANK', 0))     # every rank must come back from train() with a result
        open(f"{sys.argv[1]}/rank{rank}.ok", 'w').write(str(result.run_dir))
''')

def test_two_process_ddp_ranks_agree(tmp_path):
    script = tmp_path/'ddp_run.py'
    script.write_text(SCRIPT)
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(random.randint(20000, 40000)), WANDB_MODE='disabled',
               PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # rank 1 runs in a process Lightning launched: its exit status is not ours, so it leaves a mark when train() returned
    assert [(tmp_path/f'rank{r}.ok').read_text() for r in (0, 1)] == [str(tmp_path/'exp'/'ddp')] * 2, proc.stderr[-3000:]
    r0, r1 = (load_checkpoint(tmp_path/f'rank{r}.pt', mmap=False) for r in (0, 1))
    assert (r0['world'], r0['strategy'], r0['step'], r1['step']) == (2, 'DDPStrategy', 3, 3)
    assert r0['state'].keys() == r1['state'].keys()
    for k in r0['state']:        # every parameter agrees (on CPU batch-norm statistics stay per process: SyncBatchNorm is CUDA-only)
        assert torch.equal(r0['state'][k], r1['state'][k]), k
    assert [p.name for p in (tmp_path/'exp').iterdir()] == ['ddp']     # one run dir: rank 1 wrote into rank 0's
    assert (tmp_path/'exp'/'ddp'/'checkpoints'/'last.ckpt').exists()
    assert (tmp_path/'exp'/'ddp'/'plots'/'val_confusion_matrix.png').exists()


# --- issue 29: DDP from a notebook and with ddp_spawn, exact evaluation, quiet ranks, the panel ---------------------
import json, re
from conftest import cli, beyond_allocator_note
from visionlab.core import load_checkpoint

TINY = ['trainer.accelerator=cpu', 'trainer.devices=2', 'trainer.max_epochs=1', 'trainer.limit_train_batches=3',
        'trainer.limit_val_batches=2', 'data.batch_size=16', 'trainer.enable_progress_bar=false', 'seed=1']

def _env(**kw):
    return dict(os.environ, MASTER_PORT=str(random.randint(20000, 40000)), WANDB_MODE='disabled', **kw)

def _quiet(stderr: str):
    "A clean run's stderr: nothing but the allocator note (at most once), no warning, no library path, no rank's banner."
    lines = beyond_allocator_note(stderr)
    assert lines == [], stderr[-3000:]
    assert stderr.count("glibc's allocator") <= 1, stderr

def _finished(run):
    res = json.loads((run/'results.json').read_text())
    assert (res['status'], res['world_size'], res['epoch'], res['step']) == ('finished', 2, 1, 3), res
    assert res['best']['value'] is not None and {'val_acc', 'train_acc', 'test_acc'} <= res['metrics'].keys(), res
    for name in ('last', 'best-epoch=0'):      # complete checkpoints: they load, with the weights
        assert load_checkpoint(run/'checkpoints'/f'{name}.ckpt')['state_dict'], name
    assert not list(run.rglob('*.tmp')) and not list(run.rglob('.temp.ckpt'))
    return res

def test_cli_ddp_spawn_finishes(tmp_path):
    "`trainer.strategy=ddp_spawn` from the command line: exit 0, the worker's weights, step, epoch and best score reach the record; quiet."
    p = subprocess.run([cli('visionlab-train'), *TINY, 'trainer.strategy=ddp_spawn', 'name=spawn', f'exp_dir={tmp_path/"exp"}'],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path, env=_env())
    assert p.returncode == 0, p.stderr[-3000:]
    _finished(tmp_path/'exp'/'spawn')
    _quiet(p.stderr)
    assert p.stdout.count('run dir:') == 1, p.stdout

NOTEBOOK_CELL = '''
from visionlab.train import train
result = train({overrides!r})
assert result.run_dir.name == 'nb', result.run_dir
print('done', result.metrics['test_acc'])
'''

def test_notebook_ddp_runs_to_the_end(tmp_path):
    "`train([... trainer.devices=2 ...])` in a real Jupyter kernel (Lightning's ddp_notebook) runs to the end; the run is complete."
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK_CELL.format(overrides=[*TINY, 'name=nb', f'exp_dir={tmp_path/"exp"}']))])
    nbformat.write(nb, tmp_path/'ddp.ipynb')
    p = subprocess.run([cli('jupyter'), 'execute', '--inplace', str(tmp_path/'ddp.ipynb')], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path, env=_env())
    assert p.returncode == 0, p.stderr[-3000:]
    out = ''.join(o.get('text', '') for o in nbformat.read(tmp_path/'ddp.ipynb', 4).cells[0].outputs)
    lines = beyond_allocator_note(out)         # the cell prints no warning either
    assert len(lines) == 1 and lines[0].startswith('done '), out
    _finished(tmp_path/'exp'/'nb')

def _printed(text: str, key: str) -> float:
    return float(re.search(rf'\b{key}=([0-9.]+)', text).group(1))

def test_two_devices_count_each_test_image_once(tmp_path):
    "9 test images on 2 processes (5 + 4, no padding): the run's test_acc and test_loss are visionlab-predict's of the same checkpoint (one process); the run prints what a 1-device run prints."
    from fixtures import write_image_folder
    write_image_folder(tmp_path/'imgs', classes=('a', 'b', 'c'), per_class=5, size=16)
    write_image_folder(tmp_path/'imgs', classes=('a', 'b', 'c'), per_class=3, splits=('test',), size=16, seed=1)
    p = subprocess.run([cli('visionlab-train'), 'data=image_folder', f'data.data_root_dir={tmp_path/"imgs"}', 'data.image_size=16',
                        'data.batch_size=4', 'trainer.accelerator=cpu', 'trainer.devices=2', 'trainer.max_epochs=1', 'model.lr=0.001',
                        'trainer.enable_progress_bar=false', 'name=odd', f'exp_dir={tmp_path/"exp"}'],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path, env=_env())
    assert p.returncode == 0, p.stderr[-3000:]
    _quiet(p.stderr)
    assert p.stdout.count('run dir:') == 1, p.stdout         # rank 1 prints no second report
    res = json.loads((tmp_path/'exp'/'odd'/'results.json').read_text())
    assert res['world_size'] == 2, res
    pr = subprocess.run([cli('visionlab-predict'), str(tmp_path/'exp'/'odd')], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert pr.returncode == 0, pr.stderr
    for key in ('test_acc', 'test_loss'):      # a padded sampler would count one image twice: 10 images, another mean
        assert abs(_printed(pr.stdout, key) - res['metrics'][key]) <= 1e-4 * max(1, abs(res['metrics'][key])), (key, pr.stdout, res)

def test_panel_refuses_several_devices():
    "The panel trains in one process: trainer.devices=2 disables Train with one line naming what trains on several devices."
    from visionlab.panel import ConfigPanel
    p = ConfigPanel.from_overrides(['trainer.accelerator=cpu', 'trainer.devices=2'])
    assert p.train_button.disabled and p.errors == {'trainer.devices': 'trainer.devices=2: the panel trains in one process; on '
        'several devices train with visionlab-train on the command line, or with train([...]) in a notebook cell'}, p.errors
    assert not ConfigPanel.from_overrides(['trainer.accelerator=cpu', 'trainer.devices=1']).train_button.disabled
