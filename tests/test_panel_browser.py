"""The panel in a real JupyterLab, driven by Chromium through Playwright (tests/browser.py: Debian's, else Playwright's own).

A temporary folder gets a small demo notebook; JupyterLab serves it on 127.0.0.1 (free port, no
token, no browser of its own); Chromium opens it, runs the cells, picks a model, `data=digits` and
one short epoch in the panel's widgets, presses Train and waits for the final metric and the
confusion matrix to render; saves and reloads the page (Train still works, the panel says how to save
the new run's static copy), reopens the saved notebook without a kernel (static results), and stops a
long run. Import-to-visible (running the two cells until the panel shows) must take under 2 s
(IMPORT_TO_VISIBLE_S): torch and Lightning are imported when Train is pressed. A screenshot of each state is saved as `<tmp>/<n>-<state>.png`. The server (and its
kernel) is stopped at the end, also when the test fails.
"""
import os, re, time
from pathlib import Path

import nbformat
from browser import KERNEL_READY, lab_page, run_cells


IMPORT_TO_VISIBLE_S = 2.0   # issue 13: the panel appears in under 2 s after import
STEP_LOSS_S = 5.0           # issue 13: the step-level loss is drawn within 5 s of pressing Train on digits

def demo_notebook(exp_dir: Path) -> nbformat.NotebookNode:
    "A two-cell notebook: import the panel, show it on the quick recipe (runs under `exp_dir`)."
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell('# visionlab panel demo'),
        nbformat.v4.new_code_cell('from visionlab.panel import ConfigPanel'),
        nbformat.v4.new_code_cell(f"panel = ConfigPanel(['experiment=quickstart', 'exp_dir={exp_dir}'])\npanel"),
    ]
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    return nb

def shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path/f'{name}.png'
    page.screenshot(path=str(path), full_page=True)
    return path

def set_text(page, css: str, value: str):
    box = page.locator(css)
    box.fill(value); box.press('Tab')

def check_truthful_widgets(page, expect):
    "The recipe fills the widgets; a key typed in 'other' moves to its widget."
    from visionlab.config import compose
    recipe_cfg = compose(['experiment=quickstart'])
    quick, plain = str(recipe_cfg.trainer.max_epochs), str(compose([]).trainer.max_epochs)   # the recipe's, the schema's
    recipe, epochs = page.locator('.vl-experiment select'), page.locator('.vl-trainer-max_epochs input')
    expect(recipe).to_have_value('quickstart'); expect(epochs).to_have_value(quick)
    recipe.select_option('none'); expect(epochs).to_have_value(plain)
    recipe.select_option('quickstart'); expect(epochs).to_have_value(quick)
    page.locator('.vl-tabs .lm-TabBar-tab', has_text='Optimizer').click()
    expect(page.locator('.vl-model-lr input')).to_have_value(str(recipe_cfg.model.lr))
    kept = page.locator('.vl-extra textarea').input_value()          # exp_dir=<tmp>/exp, which has no widget
    assert kept.startswith('exp_dir='), kept
    set_text(page, '.vl-extra textarea', kept + '\nmodel.lr=0.002')
    expect(page.locator('.vl-model-lr input')).to_have_value('0.002')
    expect(page.locator('.vl-extra textarea')).to_have_value(kept)      # the line went to its widget, the rest stays
    expect(page.locator('.vl-model-lr .widget-label')).to_have_attribute('title', re.compile('float, default 0.1'))   # the schema's description
    check_optional_dropdown(page, expect)

def check_optional_dropdown(page, expect):
    "An optional key with fixed choices (model.shortcut of the recipe's CIFAR ResNet) shows 'auto', never blank; B and back."
    page.locator('.vl-tabs .lm-TabBar-tab', has_text='Model').click()
    shortcut, command = page.locator('.vl-model-shortcut select'), page.locator('.vl-command')
    expect(shortcut).to_have_value('auto')
    assert shortcut.evaluate('s => s.selectedIndex') >= 0 and shortcut.evaluate('s => s.options[s.selectedIndex].text') == 'auto'
    shortcut.select_option('B'); expect(command).to_contain_text('model.shortcut=B')
    shortcut.select_option('auto'); expect(command).not_to_contain_text('model.shortcut')

def train_and_wait(page, expect, timeout=300_000) -> float:
    "Press Train; the seconds until the step loss is drawn; wait for the run to end."
    start = time.monotonic()
    page.locator('button.vl-train').click()
    expect(page.locator('button.vl-train'), 'Train was pressed but no run started').to_be_disabled(timeout=120_000)   # the last run's view is gone
    expect(page.locator('.vl-progress'), 'no it/s in the progress line: training did not start').to_contain_text('it/s', timeout=180_000)
    page.wait_for_function("() => { const i = document.querySelector('.vl-live img, img.vl-live'); "
                           "return i && i.complete && i.naturalWidth > 100; }", timeout=180_000)
    first_loss = time.monotonic() - start
    expect(page.locator('button.vl-train'), 'Train did not come back: the run did not end').to_be_enabled(timeout=timeout)
    return first_loss

def save(page):
    "Save the notebook through JupyterLab and wait until it is no longer dirty."
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=60_000)

def open_and_run(page, expect, url: str, times: dict):
    "Open the demo notebook, run its cells and time import-to-visible."
    page.goto(f'{url}/lab/tree/panel_demo.ipynb')
    page.locator('.jp-Notebook .jp-Cell').first.wait_for(timeout=120_000)
    kernel_dialog = page.locator('.jp-Dialog', has_text='Select Kernel')
    if kernel_dialog.is_visible(): kernel_dialog.locator('button.jp-mod-accept').click()
    page.wait_for_function(KERNEL_READY, timeout=180_000)
    t0 = time.monotonic()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    expect_visible(page, '.vl-panel', 'the panel did not show after running the cells', 240_000)
    times['import_to_visible_s'] = round(time.monotonic() - t0, 2)
    expect(page.locator('.vl-live'), 'an empty live image (a broken-image icon) shows before any run').to_be_hidden()

def expect_visible(page, css: str, why: str, timeout: float):
    try: page.locator(css).first.wait_for(timeout=timeout)
    except Exception as e: raise AssertionError(f'{why} (within {timeout / 1000:.0f} s)') from e

def first_run(page, expect, tmp_path: Path, times: dict):
    "AdamW on the quickstart recipe, quick check, one epoch: the step loss, the test metric, the confusion matrix and the history row."
    page.locator('.vl-quick input').check()
    set_text(page, '.vl-trainer-max_epochs input', '1')
    command = page.locator('.vl-command')
    page.locator('.vl-tabs .lm-TabBar-tab', has_text='Optimizer').click()
    page.locator('.vl-model-optimizer select').select_option('AdamW')   # the recipe's Nesterov momentum applies to SGD only
    expect(command).to_contain_text('model.optimizer=AdamW')
    nesterov = page.locator('.vl-model-nesterov input')
    expect(nesterov).to_be_disabled(); expect(nesterov).not_to_be_checked()
    expect(page.locator('.vl-msg-model-nesterov')).to_contain_text('only applies to SGD')
    expect(page.locator('button.vl-train')).to_be_enabled()
    expect(command).to_contain_text('trainer.max_epochs=1')
    expect(command).to_contain_text('trainer.limit_train_batches=2')
    times['step_loss_visible_s'] = round(train_and_wait(page, expect), 1)
    expect(page.locator('.vl-status')).to_contain_text('test_acc=')
    confusion = page.locator('.vl-figures img[class*="confusion"]').first
    confusion.wait_for(timeout=120_000)
    page.wait_for_function('el => el.complete && el.naturalWidth > 100', arg=confusion.element_handle())
    expect(page.locator('.vl-history')).to_contain_text('finished')
    shot(page, tmp_path, '3-trained')

def after_reload(page, expect, tmp_path: Path):
    "Save, reload the page: the panel comes back from the kernel with its state, and Train still works."
    save(page)
    page.reload()
    expect_visible(page, '.vl-panel', 'after a page reload the panel did not come back', 240_000)
    expect(page.locator('.vl-trainer-max_epochs input')).to_have_value('1')      # the kernel's state, not the file's
    expect(page.locator('.vl-history')).to_contain_text('finished')
    train_and_wait(page, expect)
    expect(page.locator('.vl-history tr'), 'the second run is not in the history').to_have_count(3)   # header + 2 runs
    expect(page.locator('.vl-history tr').nth(2)).to_contain_text('finished')
    expect(page.locator('.vl-status'), 'no word that the saved copy cannot follow a reloaded page').to_contain_text('this page was reloaded')
    expect(page.locator('.jp-OutputArea-output .vl-report').first, 'a static copy shows beside the live panel').to_be_hidden()
    shot(page, tmp_path, '4-after-reload')

def reopened_static(browser, page, expect, url: str, root: Path, tmp_path: Path):
    "The saved notebook keeps a static rendering, which shows when it is opened without a kernel."
    save(page)
    saved = nbformat.read(root/'panel_demo.ipynb', as_version=4)
    html = [o['data'].get('text/html', '') for c in saved.cells if c.cell_type == 'code' for o in c.get('outputs', []) if 'data' in o]
    assert any('vl-report' in h and 'data:image/png;base64' in h for h in html), 'no static rendering saved'
    viewer = browser.new_page(viewport=dict(width=1400, height=1500))
    viewer.route('**/api/kernels**', lambda route: route.abort())      # reopened without a kernel
    viewer.route('**/api/sessions**', lambda route: route.abort())
    viewer.goto(f'{url}/lab/tree/panel_demo.ipynb')
    expect_visible(viewer, '.jp-OutputArea-output .vl-report img[src^="data:image/png"]', 'the reopened notebook shows no static results', 120_000)
    expect(viewer.locator('.jp-OutputArea-output .vl-report').first).to_contain_text('finished')
    time.sleep(2)
    for _ in range(3):                       # kernel selection or connection-error dialogs: the kernel API is cut off on purpose
        if viewer.locator('.jp-Dialog').count(): viewer.keyboard.press('Escape'); time.sleep(1)
    shot(viewer, tmp_path, '5-reopened-static')
    viewer.close()

def stop_run(page, expect, tmp_path: Path, times: dict):
    "A long run, stopped: Train comes back and the run is marked stopped."
    page.bring_to_front()
    page.locator('.vl-quick input').uncheck()
    set_text(page, '.vl-trainer-max_epochs input', '200')
    page.locator('button.vl-train').click()
    expect(page.locator('button.vl-train'), 'Train was pressed but no run started').to_be_disabled(timeout=120_000)
    expect(page.locator('.vl-progress'), 'the long run did not start').to_contain_text('it/s', timeout=180_000)
    t_stop = time.monotonic()
    page.locator('button.vl-stop').click()
    expect(page.locator('button.vl-train'), 'Train did not come back after Stop').to_be_enabled(timeout=300_000)
    times['stop_s'] = round(time.monotonic() - t_stop, 1)
    expect(page.locator('.vl-status')).to_contain_text('stopped')         # the panel's Stop flag
    expect(page.locator('.vl-history')).to_contain_text('stopped')
    shot(page, tmp_path, '6-stopped')

def test_panel_trains_in_jupyterlab(tmp_path):
    from playwright.sync_api import sync_playwright, expect
    start, root, times = time.monotonic(), tmp_path/'lab', {}
    try:
        with lab_page(root, demo_notebook(tmp_path/'exp'), 'panel_demo.ipynb', failed=tmp_path/'failed.png') as (browser, page, url):
            open_and_run(page, expect, url, times)
            shot(page, tmp_path, '1-opened')
            check_truthful_widgets(page, expect)
            shot(page, tmp_path, '2-other-updates-widget')
            first_run(page, expect, tmp_path, times)
            after_reload(page, expect, tmp_path)
            reopened_static(browser, page, expect, url, root, tmp_path)
            stop_run(page, expect, tmp_path, times)
    finally: print(f'times: {times}  screenshots: {tmp_path}')
    runs = sorted((tmp_path/'exp').iterdir()) if (tmp_path/'exp').is_dir() else []
    assert len(runs) == 3 and (runs[0]/'config.yaml').exists() and (runs[0]/'checkpoints'/'last.ckpt').exists()
    assert all((tmp_path/f'{n}.png').stat().st_size > 10_000 for n in ('1-opened', '3-trained', '4-after-reload', '5-reopened-static', '6-stopped'))
    print(f'load average: {os.getloadavg()}')
    assert times['import_to_visible_s'] < IMPORT_TO_VISIBLE_S and times['step_loss_visible_s'] < STEP_LOSS_S, times
    print(f'wall time: {time.monotonic() - start:.1f} s')
