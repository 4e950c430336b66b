"""The browser that the tests and the docs' screenshot drive through Playwright, found in one place.

Debian's `chromium` where it is on the PATH; otherwise Playwright's own Chromium, if `python -m playwright install
chromium` has downloaded it. `tests/provision.sh` (the test command's first step) makes sure one of them is there.
"""
import os, shutil, signal, socket, subprocess, sys, time, urllib.request
from contextlib import contextmanager
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

# --- a JupyterLab server for the browser to open: the panel's tests and the docs' screenshot ------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None: raise RuntimeError(f'jupyter lab exited with status {proc.returncode}')
        try:
            with urllib.request.urlopen(url + '/api/status', timeout=2) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    raise TimeoutError(f'jupyter lab did not answer at {url} within {timeout} s')

LAB_SETTINGS = {   # start the notebook's kernel without asking, no news pop-up
    '@jupyterlab/notebook-extension/tracker.jupyterlab-settings': '{"autoStartDefaultKernel": true}',
    '@jupyterlab/apputils-extension/notification.jupyterlab-settings': '{"fetchNews": "false"}',
}

def start_lab(root: Path, port: int, log) -> subprocess.Popen:
    for name, text in LAB_SETTINGS.items():
        path = root/'.jupyter'/'lab-settings'/name
        path.parent.mkdir(parents=True, exist_ok=True); path.write_text(text)
    exe = Path(sys.executable).parent/'jupyter-lab'
    env = dict(os.environ, WANDB_MODE='disabled', JUPYTER_CONFIG_DIR=str(root/'.jupyter'),
               JUPYTERLAB_SETTINGS_DIR=str(root/'.jupyter'/'lab-settings'),
               JUPYTERLAB_WORKSPACES_DIR=str(root/'.jupyter'/'workspaces'), JUPYTER_RUNTIME_DIR=str(root/'.jupyter'/'runtime'), PYTHONWARNINGS='ignore')
    cmd = [str(exe) if exe.exists() else 'jupyter-lab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
           "--IdentityProvider.token=", "--ServerApp.password=", f'--ServerApp.root_dir={root}',
           '--LabApp.news_url=', '--LabApp.expose_app_in_browser=True', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    if os.geteuid() == 0: cmd.append('--allow-root')     # containers and CI run as root
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

def stop_lab(proc: subprocess.Popen):
    "Stop the server and everything it started (its kernel), by its process group."
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(15)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(5)
    try: os.killpg(proc.pid, signal.SIGKILL)     # a kernel left behind in the group
    except ProcessLookupError: pass

KERNEL_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

def run_cells(page, timeout: float = 90_000):
    "Run all cells through JupyterLab's own command, once the notebook's kernel is connected and idle."
    kernel_dialog = page.locator('.jp-Dialog', has_text='Select Kernel')
    if kernel_dialog.is_visible(): kernel_dialog.locator('button.jp-mod-accept').click()
    page.wait_for_function(KERNEL_READY, timeout=timeout)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

@contextmanager
def lab_page(root: Path,  # the folder JupyterLab serves (created; `notebook` is written into it)
             notebook,  # an nbformat notebook
             name: str,  # its file name in `root`
             viewport: tuple[int, int] = (1400, 1500),
             timeout_ms: int = 120_000,  # Playwright's default timeout
             failed: Path | None = None):  # where a failure's full-page screenshot goes
    "A Chromium page beside a JupyterLab that serves `notebook`: yields (browser, page, the server's url); both stop afterwards."
    import nbformat
    from playwright.sync_api import sync_playwright
    root.mkdir(parents=True, exist_ok=True); nbformat.write(notebook, root/name)
    port = free_port(); url = f'http://127.0.0.1:{port}'
    with open(root.parent/'jupyter.log', 'wb') as log:
        proc = start_lab(root, port, log)
        try:
            wait_for_server(url, proc)
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    page = browser.new_page(viewport=dict(width=viewport[0], height=viewport[1]))
                    page.set_default_timeout(timeout_ms)
                    try: yield browser, page, url
                    except Exception:
                        if failed is not None:
                            try: page.screenshot(path=str(failed), full_page=True)
                            except Exception: pass
                        raise
                finally: browser.close()
        finally: stop_lab(proc)

if __name__ == '__main__':    # exit 0 when a browser is there: `python tests/browser.py` (tests/provision.sh)
    import sys
    from playwright.sync_api import sync_playwright
    if system_chromium(): sys.exit(0)
    with sync_playwright() as pw: sys.exit(0 if playwright_chromium(pw) else 1)
