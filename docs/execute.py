"""Run every notebook once for the docs site, as `nbdev_test` does, and keep the executed copy for the pages.

The test command runs the notebooks with `nbdev_test` itself; this runs them again, through nbdev's and execnb's public
API only, because `nbdev_test` keeps no executed copy. Same rules as nbdev's `test_nb`/`nbdev_test`: cwd is the notebook's
folder, `IN_TEST=1`, cells flagged with a `tst_flags` flag are skipped unless `--flags` forces them, `#| eval: false`
and `nbdev_export()` cells are skipped, the first error stops the notebook and fails the run with nbdev's
traceback. Two differences serve the site: nbdev's `add_show_docs` first adds a `show_doc` cell after every exported
definition that has none (so the API reference comes from this run), and the executed notebook, with its
directives put back, is written to `_proc/nbs/` for `docs/build.py`.
"""
import argparse, os, shutil, sys, time
from pathlib import Path

from execnb.nbio import write_nb
from execnb.shell import CaptureShell
from fastcore.parallel import parallel
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.frontmatter import FrontmatterProc
from nbdev.process import NBProcessor, extract_directives, nb_lang
from nbdev.processors import add_show_docs, populate_language

OUT = Path('_proc')/'nbs'

def tested(fn: Path, ignore_fname: str = '.notest') -> bool:
    "nbdev_test's rule: a notebook beside a `.notest` file is not run"
    return not (fn.parent/ignore_fname).exists()

def _skip(flags):
    "nbdev_test's `_no_eval`: True for a cell that is not run"
    def no_eval(cell):
        if cell.cell_type != 'code' or 'nbdev_export'+'(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return flags & direc.keys()
    return no_eval

def run_nb(fn: Path, nbs: Path, root: Path, skip_flags=(), force_flags=()):
    "Execute `fn` like nbdev's `test_nb`, write the executed copy under `root/_proc/nbs`; (passed, seconds)"
    sys.path.insert(0, str(root)); os.environ['IN_TEST'] = '1'
    fm = getattr(NBProcessor(fn, procs=FrontmatterProc, process=True).nb, 'frontmatter_', {})
    nb = NBProcessor(fn, procs=[populate_language, add_show_docs], rm_directives=False, process=True).nb
    if str(fm.get('skip_exec', '')).lower() in ('true', '1') or nb_lang(nb) != 'python': return True, 0
    raw = [c.source for c in nb.cells]
    for c in nb.cells: extract_directives(c, remove=True)      # what nbdev_test runs: directives stripped
    start, k = time.time(), CaptureShell(fn)
    k.run_cell('from nbdev.showdoc import show_doc')
    try:
        with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=_skip(set(skip_flags) - set(force_flags)))
        passed = True
    except Exception:
        sys.stderr.write(k.prettytb(fname=fn) + '\n'); passed = False
    for c, s in zip(nb.cells, raw): c.source = s
    dest = root/OUT/fn.relative_to(nbs)
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dest if passed else dest.with_suffix('.failed.ipynb'))
    return passed, time.time() - start

def main(path=None, flags='', n_workers=2, timing=False):
    "nbdev_test's command line: run the notebooks in parallel, fail on any error, print per-notebook timing"
    cfg = get_config()
    files = [f.absolute() for f in sorted(nbglob(path, as_path=True)) if tested(f)]
    if not files: return print('No files were eligible for testing')
    if path is None: shutil.rmtree(cfg.config_path/OUT, ignore_errors=True)   # no page from a notebook since removed
    sys.path.insert(0, str(Path(__file__).parent))
    from execute import run_nb as job    # by module name: a notebook's IPython shell replaces the worker's __main__
    with working_directory(cfg.nbs_path):
        results = parallel(job, files, nbs=cfg.nbs_path.absolute(), root=cfg.config_path,
                           skip_flags=cfg.tst_flags.split(), force_flags=flags.split(), n_workers=n_workers, pause=0.01)
    passed, times = zip(*results)
    if timing:
        for f, t in sorted(zip(files, times), key=lambda o: o[1], reverse=True): print(f'{f.name}: {int(t)} secs')
    if not all(passed):
        failed = '\n\t'.join(f.name for p, f in zip(passed, files) if not p)
        sys.exit(f"\nnbdev Tests Failed On The Following Notebooks:\n{'='*50}\n\t{failed}")
    print('Success.')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument('--path'); ap.add_argument('--flags', default='')
    ap.add_argument('--n_workers', type=int, default=2); ap.add_argument('--timing', action='store_true')
    main(**vars(ap.parse_args()))
