"The installed package: importable without the notebook toolchain, configs shipped as package data."
import ast, subprocess, sys
from pathlib import Path

def test_import_does_not_pull_in_nbdev():
    code = ("import sys, visionlab, visionlab.train, visionlab.cli; "
            "bad = [m for m in ('nbdev', 'execnb') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, '-c', code], check=True)

def test_configs_are_package_data():
    import visionlab
    configs = Path(visionlab.__file__).parent/'configs'
    for group in ('model', 'data', 'env', 'experiment'):
        assert list((configs/group).glob('*.yaml')), group
    assert (configs/'train.yaml').exists()
    assert 'configs/*/*.yaml' in (Path(__file__).parents[1]/'settings.ini').read_text()

def _requirements(key: str = 'requirements'):
    "Distribution names in one of settings.ini's requirement lists (`requirements`: what `pip install visionlab` installs)."
    import configparser, re
    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).parents[1]/'settings.ini')
    return {re.split(r'[<>=!~;\[ ]', r)[0].lower().replace('_', '-') for r in cfg['DEFAULT'].get(key, '').split()}

def _closure(names) -> set:
    "`names` and what they pull in themselves (torch brings typing-extensions, ...)."
    import importlib.metadata as md
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen: continue
        seen.add(name)
        try: reqs = md.requires(name) or []
        except md.PackageNotFoundError: continue
        todo += [r.split(';')[0].strip().split(' ')[0].split('[')[0].rstrip('<>=!~0123456789.,').lower().replace('_', '-')
                 for r in reqs if 'extra ==' not in r]
    return seen

def _imports(tree):
    "(top-level module name, imported inside a function?) for every absolute import of a module's syntax tree."
    def walk(node, in_fn):
        for child in ast.iter_child_nodes(node):
            fn = in_fn or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import): yield from ((a.name.split('.')[0], fn) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module: yield child.module.split('.')[0], fn
            yield from walk(child, fn)
    return set(walk(tree, False))

def test_every_import_is_a_runtime_requirement():
    "A module-level import is a runtime requirement; an import inside a function may come from the `sweeps` or `timm` extra."
    import importlib.metadata as md, visionlab
    pkg = Path(visionlab.__file__).parent
    dists = md.packages_distributions()
    runtime = _closure(_requirements())
    lazy = runtime | _closure(_requirements('sweeps_requirements')) | _closure(_requirements('timm_requirements'))
    missing = {}
    for f in [*pkg.glob('*.py'), *pkg.glob('models/*.py')]:
        for top, in_fn in _imports(ast.parse(f.read_text())):
            if top in sys.stdlib_module_names or top == 'visionlab': continue
            provided = {d.lower().replace('_', '-') for d in dists.get(top, [])}
            if not provided & (lazy if in_fn else runtime): missing.setdefault(top, set()).add(f.name)
    assert not missing, f"imported but not a runtime requirement: {missing}"
