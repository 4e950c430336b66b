"""The browser that the tests and the docs' screenshot drive through Playwright, found in one place.

Debian's `chromium` where it is on the PATH; otherwise Playwright's own Chromium, if `python -m playwright install
chromium` has downloaded it. `tests/provision.sh` (the test command's first step) makes sure one of them is there.
"""
import shutil
from pathlib import Path

CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run', '--headless']
HOW = ('the browser tests need Chromium: apt-get install chromium (Debian, Ubuntu), or python -m playwright install '
       'chromium where it can download')

def system_chromium() -> str | None:
    "Debian's (or the distribution's) Chromium on the PATH."
    return shutil.which('chromium') or shutil.which('chromium-browser')

def playwright_chromium(pw) -> str | None:
    "Playwright's own Chromium, where it has been downloaded."
    exe = pw.chromium.executable_path
    return exe if exe and Path(exe).exists() else None

def launch_chromium(pw):
    "A headless Chromium for `pw` (a started `sync_playwright()`): the system's, else Playwright's own."
    exe = system_chromium() or playwright_chromium(pw)
    assert exe, HOW
    return pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)

if __name__ == '__main__':    # exit 0 when a browser is there: `python tests/browser.py` (tests/provision.sh)
    import sys
    from playwright.sync_api import sync_playwright
    if system_chromium(): sys.exit(0)
    with sync_playwright() as pw: sys.exit(0 if playwright_chromium(pw) else 1)
