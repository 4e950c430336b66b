"""The panel's Find LR button in a real JupyterLab, driven by Chromium (the set-up of tests/test_panel_browser.py).

The demo notebook shows the panel on the quick recipe; pressing Find LR runs the learning-rate range test of the
panel's configuration: the learning-rate field (Optimizer tab) and the command take the suggestion, the curve shows,
and no run directory is written. A screenshot of the result is saved as `<tmp>/find-lr.png`.
"""
import re
from browser import lab_page
from test_panel_browser import demo_notebook, open_and_run, shot

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
    from playwright.sync_api import expect
    with lab_page(tmp_path/'lab', demo_notebook(tmp_path/'exp'), 'panel_demo.ipynb', failed=tmp_path/'failed.png') as (_, page, url):
        open_and_run(page, expect, url, {})
        suggestion = press_find_lr(page, expect, tmp_path)
    assert not (tmp_path/'exp').exists(), 'Find LR wrote a run directory'
    assert (tmp_path/'find-lr.png').stat().st_size > 10_000
    print(f'suggestion: {suggestion}  screenshot: {tmp_path}/find-lr.png')
