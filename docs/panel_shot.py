"""A screenshot of the panel as JupyterLab shows it, for the docs site: `python docs/panel_shot.py OUT.png`.

Reuses the panel browser test's recipe (tests/test_panel_browser.py): JupyterLab on 127.0.0.1 in a temporary
folder with the demo notebook, Chromium through Playwright (tests/browser.py); the server and its kernel are stopped after.
"""
import sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
import nbformat
from browser import launch_chromium
from test_panel_browser import free_port, run_cells, start_lab, stop_lab, wait_for_server

def shot_notebook() -> nbformat.NotebookNode:
    "The panel as a user first sees it: `ConfigPanel()`, on the quickstart recipe (CIFAR ResNet-8 on the digits)"
    nb = nbformat.v4.new_notebook(metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')))
    nb.cells = [nbformat.v4.new_code_cell("from visionlab.panel import ConfigPanel\n"
                                          "ConfigPanel()")]
    return nb

def panel_shot(out: Path, tmp: Path):
    "Open the demo notebook, run it and save the rendered panel (`.vl-panel`) as `out`"
    from playwright.sync_api import sync_playwright
    root = tmp/'lab'; root.mkdir()
    nbformat.write(shot_notebook(), root/'panel_demo.ipynb')
    port = free_port(); url = f'http://127.0.0.1:{port}'
    with open(tmp/'jupyter.log', 'wb') as log:
        proc = start_lab(root, port, log)
        try:
            wait_for_server(url, proc)
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    page = browser.new_page(viewport=dict(width=1200, height=1400))
                    page.set_default_timeout(90_000)
                    page.goto(f'{url}/lab/tree/panel_demo.ipynb')
                    page.locator('.jp-Notebook .jp-Cell').first.wait_for()
                    run_cells(page)
                    panel = page.locator('.vl-panel')
                    panel.wait_for(timeout=120_000)
                    page.wait_for_timeout(1000)     # the last widget updates
                    panel.screenshot(path=str(out))
                finally: browser.close()
        finally: stop_lab(proc)

if __name__ == '__main__':
    out = Path(sys.argv[1]).absolute(); out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d: panel_shot(out, Path(d))
    print(f'docs: panel screenshot {out}')
