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
    r0, r1 = (torch.load(tmp_path/f'rank{r}.pt', weights_only=False) for r in (0, 1))
    assert (r0['world'], r0['strategy'], r0['step'], r1['step']) == (2, 'DDPStrategy', 3, 3)
    assert r0['state'].keys() == r1['state'].keys()
    for k in r0['state']:        # every parameter agrees (on CPU batch-norm statistics stay per process: SyncBatchNorm is CUDA-only)
        assert torch.equal(r0['state'][k], r1['state'][k]), k
    assert [p.name for p in (tmp_path/'exp').iterdir()] == ['ddp']     # one run dir: rank 1 wrote into rank 0's
    assert (tmp_path/'exp'/'ddp'/'checkpoints'/'last.ckpt').exists()
    assert (tmp_path/'exp'/'ddp'/'plots'/'val_confusion_matrix.png').exists()
