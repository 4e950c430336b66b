"""What a notebook shows, in a real Jupyter kernel (nbclient runs a small notebook, as JupyterLab would).

A figure the kit returns is shown as an image without `%matplotlib inline` (not as `<Figure size ...>`
text), and `show_batch` draws its figure once, with and without the inline backend; `predict_run`'s
result has a short repr.
"""
import os, sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    # 0: a figure of the kit, no `%matplotlib inline`, pyplot never imported
    "from visionlab.runs import RunTable\nfrom visionlab.plots import plot_metric\n"
    "plot_metric(RunTable(['run', 'test_acc'], [{'run': 'a', 'test_acc': 0.9}, {'run': 'b', 'test_acc': 0.8}]), 'test_acc')",
    # 1: show_batch, still without the inline backend
    "from visionlab.data import DigitsDataModule, show_batch\n"
    "show_batch(DigitsDataModule(name='digits', batch_size=16, image_size=8), n=8, ncols=8)",
    # 2: show_batch after `%matplotlib inline` and pyplot: still once
    "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
    "show_batch(DigitsDataModule(name='digits', batch_size=16, image_size=8), n=8, ncols=8)",
]

def run_notebook(tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    env_path = os.environ.get('PYTHONPATH', '')
    os.environ['PYTHONPATH'] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)   # the kernel imports this checkout
    try: NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    finally: os.environ['PYTHONPATH'] = env_path
    return nb

def images(cell) -> list:
    return [o for o in cell.outputs if o.get('output_type') in ('display_data', 'execute_result') and 'image/png' in o.get('data', {})]

def test_figures_show_once_as_images(tmp_path):
    nb = run_notebook(tmp_path)
    for i, cell in enumerate(nb.cells):
        texts = [o.get('data', {}).get('text/plain', '') for o in cell.outputs]
        assert len(images(cell)) == 1, f'cell {i}: {len(images(cell))} images, outputs {[list(o.get("data", o)) for o in cell.outputs]}'
        assert len(cell.outputs) == 1, f'cell {i} has {len(cell.outputs)} outputs (a figure drawn twice?): {texts}'
        assert not any(t.startswith('<Figure') and 'image/png' not in o.get('data', {}) for t, o in zip(texts, cell.outputs))
