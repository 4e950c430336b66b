"""The panel's Find LR button in a real JupyterLab, driven by Chromium (the set-up of tests/test_panel_browser.py).

The demo notebook shows the panel on the quick recipe; pressing Find LR runs the learning-rate range test of the
panel's configuration: the learning-rate field (Optimizer tab) and the command take the suggestion, the curve shows,
and no run directory is written. A screenshot of the result is saved as `<tmp>/find-lr.png`.
"""
import re, time
import nbformat
from browser import launch_chromium
from test_panel_browser import demo_notebook, free_port, wait_for_server, start_lab, stop_lab, open_and_run, shot

def press_find_lr(page, expect, tmp_path):
    page.locator('.vl-tabs .lm-TabBar-tab', has_text='Optimizer').click()
    lr = page.locator('.vl-model-lr input')
    expect(lr).to_have_value('0.1')                                  # the quickstart recipe's
    page.locator('button.vl-find-lr').click()
    status = page.locator('.vl-status')
    expect(status, 'Find LR gave no suggestion').to_contain_text('model.lr=', timeout=180_000)
    suggestion = re.search(r'model\.lr=([0-9.e-]+):', status.inner_text()).group(1)
    assert 1e-3 < float(suggestion) < 1, suggestion
    expect(lr).to_have_value(str(float(suggestion)))
    expect(page.locator('.vl-command')).to_contain_text(f'model.lr={float(suggestion)}')
    page.wait_for_function("() => { const i = document.querySelector('.vl-live img, img.vl-live'); "
                           "return i && i.complete && i.naturalWidth > 100; }", timeout=60_000)   # the range test's curve
    shot(page, tmp_path, 'find-lr')
    return float(suggestion)

def test_find_lr_button_fills_the_learning_rate(tmp_path):
    from playwright.sync_api import sync_playwright, expect
    root, port = tmp_path/'lab', free_port()
    root.mkdir(); nbformat.write(demo_notebook(tmp_path/'exp'), root/'panel_demo.ipynb')
    url = f'http://127.0.0.1:{port}'
    with open(tmp_path/'jupyter.log', 'wb') as log:
        proc = start_lab(root, port, log)
        try:
            wait_for_server(url, proc)
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    page = browser.new_page(viewport=dict(width=1400, height=1500))
                    page.set_default_timeout(120_000)
                    open_and_run(page, expect, url, {})
                    try: suggestion = press_find_lr(page, expect, tmp_path)
                    except Exception:
                        page.screenshot(path=str(tmp_path/'failed.png'), full_page=True); raise
                finally: browser.close()
        finally: stop_lab(proc)
    assert not (tmp_path/'exp').exists(), 'Find LR wrote a run directory'
    assert (tmp_path/'find-lr.png').stat().st_size > 10_000
    print(f'suggestion: {suggestion}  screenshot: {tmp_path}/find-lr.png')
