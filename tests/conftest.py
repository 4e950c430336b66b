import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault('WANDB_MODE', 'disabled')
if os.environ.get('PYTEST_XDIST_WORKER'):    # `pytest -n 2`: each worker (and every process it starts) gets its share
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[var] = '1'   # of the cores: two 2-thread trainings thrash

def cli(name: str):
    "Path of a console script installed next to this Python (the venv's bin)."
    exe = Path(sys.executable).parent/name
    return str(exe) if exe.exists() else shutil.which(name)

def beyond_allocator_note(stderr: str) -> list[str]:
    "The lines of a run's `stderr` other than the note a fit on glibc's allocator prints once (where tcmalloc is missing)"
    return [l for l in stderr.splitlines() if not l.startswith("this process trains on glibc's allocator")]

@pytest.fixture
def run_cli(tmp_path):
    "Run `visionlab-train` in a subprocess with exp_dir under tmp_path; returns CompletedProcess."
    def run(*args, timeout=600, exp_dir=None):
        cmd = [cli('visionlab-train'), *args, f'exp_dir={exp_dir or tmp_path/"exp"}', 'trainer.enable_progress_bar=false']
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    return run


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: minutes-long end-to-end test; runs when VISIONLAB_SLOW=1')
    config.addinivalue_line('markers', 'serial: measures wall time (how soon the panel shows): the test command '
                            'runs these alone, after the parallel tests (`-m serial`)')

SERIAL = {'test_panel_browser.py',   # it asserts how soon the panel shows and draws: run alone, not beside another worker
          'test_panel_views.py'}     # a JupyterLab that trains: run after, never beside, the timed one

def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERIAL: item.add_marker(pytest.mark.serial)
    if os.environ.get('VISIONLAB_SLOW'): return
    skip = pytest.mark.skip(reason='slow end-to-end test: set VISIONLAB_SLOW=1 to run it')
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)
