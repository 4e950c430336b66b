"The installed package: importable without the notebook toolchain, configs shipped as package data."
import subprocess, sys
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

def _runtime_requirements():
    "Distribution names in settings.ini's `requirements` (what `pip install visionlab` installs)."
    import configparser, re
    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).parents[1]/'settings.ini')
    return {re.split(r'[<>=!~;\[ ]', r)[0].lower().replace('_', '-')
            for r in cfg['DEFAULT']['requirements'].split()}

def test_every_import_is_a_runtime_requirement():
    "A module the package imports must come from a runtime requirement, not only from the dev tools."
    import ast, importlib.metadata as md
    pkg = Path(__file__).parents[1]/'visionlab'
    dists = md.packages_distributions()
    required = _runtime_requirements()
    # what the runtime requirements pull in themselves (torch brings typing-extensions, ...) counts too
    seen, todo = set(), list(required)
    while todo:
        name = todo.pop()
        if name in seen: continue
        seen.add(name)
        try: reqs = md.requires(name) or []
        except md.PackageNotFoundError: continue
        todo += [r.split(';')[0].strip().split(' ')[0].split('[')[0].rstrip('<>=!~0123456789.,').lower().replace('_', '-')
                 for r in reqs if 'extra ==' not in r]
    missing = {}
    for f in pkg.glob('*.py'):
        for node in ast.walk(ast.parse(f.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            for top in {n.split('.')[0] for n in names}:
                if top in sys.stdlib_module_names or top == 'visionlab': continue
                provided = {d.lower().replace('_', '-') for d in dists.get(top, [])}
                if not provided & seen: missing.setdefault(top, set()).add(f.name)
    assert not missing, f"imported but not a runtime requirement: {missing}"
