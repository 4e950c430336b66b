"""The panel as a user sees it in JupyterLab (Chromium through Playwright; the server helpers of test_panel_browser.py).

A notebook shows a panel, then registers two models of its own in a later cell. In the browser: the epochs box
and the "quick check" box do not overlap; the ↻ button lists the new family; its Model tab shows only the
option the model takes; the command says the model is defined in the notebook (a shell needs it in a module,
`imports=`); a quick run shows the interpretation (most confused pairs, per-class table, worst images), with a
screenshot `<tmp>/2-interpretation.png`; a model that fails in its forward pass gives its reason in the history.
"""
import time
from pathlib import Path

import nbformat
from browser import lab_page, run_cells
from test_panel_browser import expect_visible, shot, set_text

OWN_MODELS = '''
from torch import nn
from visionlab.models.core import register_model

@register_model('tiny', small_image_stem=True)
def tiny_cnn(num_classes=10, input_channels=3, widen_factor=1):
    return nn.Sequential(nn.Conv2d(input_channels, 8 * widen_factor, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8 * widen_factor, num_classes))

class Boom(nn.Module):
    def __init__(self, num_classes): super().__init__(); self.fc = nn.Linear(1, num_classes)
    def forward(self, x): raise RuntimeError('boom: this network refuses every batch')

@register_model('broken', small_image_stem=True)
def broken_net(num_classes=10, input_channels=3): return Boom(num_classes)
'''

def views_notebook(exp_dir: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('from visionlab.panel import ConfigPanel'),
                nbformat.v4.new_code_cell(f"panel = ConfigPanel(['experiment=quickstart', 'exp_dir={exp_dir}'])\npanel"),
                nbformat.v4.new_code_cell(OWN_MODELS.strip())]           # registered after the panel was built
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    return nb

def boxes_overlap(a: dict, b: dict) -> bool:
    return a['x'] < b['x'] + b['width'] and b['x'] < a['x'] + a['width'] and a['y'] < b['y'] + b['height'] and b['y'] < a['y'] + a['height']

def check_layout(page):
    "The epochs field (its input and label) and the quick-check box do not overlap."
    epochs, quick = page.locator('.vl-trainer-max_epochs').bounding_box(), page.locator('.vl-quick').bounding_box()
    assert epochs and quick and not boxes_overlap(epochs, quick), f'epochs box {epochs} overlaps the quick check {quick}'

def own_model(page, expect):
    "Refresh lists the notebook's family; the Model tab shows its one option; the command says how to run it from a shell."
    family = page.locator('.vl-model-family select')
    assert 'tiny' not in family.evaluate('s => [...s.options].map(o => o.value)')     # registered after the panel was built
    listed = "() => [...document.querySelector('.vl-model-family select').options].some(o => o.value === 'tiny')"
    for _ in range(30):                    # until the models' cell has run: ↻ lists what is registered when it is pressed
        page.locator('button.vl-refresh').click()
        try: page.wait_for_function(listed, timeout=4_000); break
        except Exception: pass
    page.wait_for_function(listed, timeout=1_000)
    family.select_option('tiny')
    expect(page.locator('.vl-command')).to_contain_text('model=tiny')
    expect(page.locator('.vl-command')).to_contain_text('tiny_cnn is defined in this notebook', timeout=30_000)
    expect(page.locator('.vl-command')).to_contain_text('imports=[my_models]')
    page.locator('.vl-tabs .lm-TabBar-tab', has_text='Model').click()
    expect(page.locator('.vl-model-widen_factor')).to_be_visible()
    for hidden in ('shakedrop', 'depth', 'stochastic_depth', 'bottleneck', 'shortcut'):
        expect(page.locator(f'.vl-model-{hidden}')).to_be_hidden()

def interpretation_after_run(page, expect, tmp_path: Path):
    "A quick run of the tiny model: the interpretation's tables and worst images show below the figures."
    page.locator('.vl-quick input').check()
    set_text(page, '.vl-trainer-max_epochs input', '1')
    page.locator('button.vl-train').click()
    expect(page.locator('button.vl-train')).to_be_disabled(timeout=120_000)
    expect(page.locator('button.vl-train'), 'the run did not end').to_be_enabled(timeout=300_000)
    expect(page.locator('.vl-history')).to_contain_text('finished')
    tables = page.locator('.vl-figures .widget-html.vl-interpretation')
    expect(tables).to_contain_text('most confused (val)', timeout=60_000)
    expect(tables).to_contain_text('per class'); expect(tables).to_contain_text('recall')
    worst = page.locator('img.vl-figure-top-losses')
    worst.wait_for(timeout=60_000)
    page.wait_for_function('el => el.complete && el.naturalWidth > 100', arg=worst.element_handle())
    tables.scroll_into_view_if_needed()
    shot(page, tmp_path, '2-interpretation')

def failed_run_says_why(page, expect, tmp_path: Path):
    page.locator('.vl-model-family select').select_option('broken')
    expect(page.locator('.vl-command')).to_contain_text('model=broken')
    page.locator('button.vl-train').click()
    expect(page.locator('.vl-history tr').nth(2), 'the failed run has no history row').to_contain_text(
        'failed: RuntimeError: boom: this network refuses every batch', timeout=300_000)
    shot(page, tmp_path, '3-failed')

def test_panel_views_in_jupyterlab(tmp_path):
    from playwright.sync_api import expect
    start = time.monotonic()
    try:
        with lab_page(tmp_path/'lab', views_notebook(tmp_path/'exp'), 'views.ipynb', failed=tmp_path/'failed.png') as (_, page, url):
            page.goto(f'{url}/lab/tree/views.ipynb')
            page.locator('.jp-Notebook .jp-Cell').first.wait_for(timeout=120_000)
            run_cells(page, timeout=180_000)
            expect_visible(page, '.vl-panel', 'the panel did not show', 240_000)
            shot(page, tmp_path, '1-opened')
            check_layout(page)
            own_model(page, expect)
            interpretation_after_run(page, expect, tmp_path)
            failed_run_says_why(page, expect, tmp_path)
    finally: print(f'screenshots: {tmp_path}  wall time: {time.monotonic() - start:.1f} s')
    assert (tmp_path/'2-interpretation.png').stat().st_size > 10_000
