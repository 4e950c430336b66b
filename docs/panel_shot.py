"""A screenshot of the panel as JupyterLab shows it, for the docs site: `python docs/panel_shot.py OUT.png`.

Reuses the panel browser test's recipe (tests/test_panel_browser.py): JupyterLab on 127.0.0.1 in a temporary
folder with the demo notebook, Chromium through Playwright (tests/browser.py); the server and its kernel are stopped after.
"""
import sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
import nbformat
from browser import lab_page, run_cells

def shot_notebook() -> nbformat.NotebookNode:
    "The panel as a user first sees it: `ConfigPanel()`, on the quickstart recipe (CIFAR ResNet-8 on the digits)"
    nb = nbformat.v4.new_notebook(metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')))
    nb.cells = [nbformat.v4.new_code_cell("from visionlab.panel import ConfigPanel\n"
                                          "ConfigPanel()")]
    return nb

def panel_shot(out: Path, tmp: Path):
    "Open the demo notebook, run it and save the rendered panel (`.vl-panel`) as `out`"
    from playwright.sync_api import sync_playwright
    with lab_page(tmp/'lab', shot_notebook(), 'panel_demo.ipynb', viewport=(1200, 1400), timeout_ms=90_000) as (_, page, url):
        page.goto(f'{url}/lab/tree/panel_demo.ipynb')
        page.locator('.jp-Notebook .jp-Cell').first.wait_for()
        run_cells(page)
        panel = page.locator('.vl-panel')
        panel.wait_for(timeout=120_000)
        page.wait_for_timeout(1000)     # the last widget updates
        panel.screenshot(path=str(out))

if __name__ == '__main__':
    out = Path(sys.argv[1]).absolute(); out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d: panel_shot(out, Path(d))
    print(f'docs: panel screenshot {out}')
