"""The package's shape, read from its source (no import): the arrows between modules point one way, and a module
uses only the public names of another. An import inside a function counts as much as one at the top."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT/'visionlab'

def modules() -> dict[str, Path]:
    "Module name -> file, for every module of the package (nbdev's `_modidx` index aside)."
    return {'.'.join(f.relative_to(ROOT).with_suffix('').parts).removesuffix('.__init__'): f
            for f in sorted(PKG.rglob('*.py')) if f.name != '_modidx.py'}

def imports(name: str, path: Path, known: dict) -> list[tuple[str, str]]:
    "(module imported, name imported from it) for every visionlab import in `path` ('' for a whole module)."
    pkg = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            parts = pkg.split('.')[:len(pkg.split('.')) - node.level + 1] if node.level else []
            target = '.'.join(parts + ([node.module] if node.module else []))
            if not target.startswith('visionlab'): continue
            for a in node.names:
                sub = f'{target}.{a.name}'
                out.append((sub, '') if sub in known else (target, a.name))
        elif isinstance(node, ast.Import):
            out += [(a.name, '') for a in node.names if a.name.startswith('visionlab')]
    return out

def graph() -> dict[str, set[str]]:
    mods = modules()
    return {n: {t for t, _ in imports(n, f, mods) if t in mods and t != n} for n, f in mods.items()}

def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    "One import circle of `edges`, as the list of its modules, or None."
    state = {}
    def visit(n, path):
        state[n] = 'open'
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 'open': return path[path.index(m):] + [m]
            if m not in state and (found := visit(m, path + [m])): return found
        state[n] = 'done'
    for n in sorted(edges):
        if n not in state and (found := visit(n, [n])): return found
    return None

def test_cycle_finder_finds_a_circle():
    assert cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a'] and cycle({'a': {'b'}, 'b': set()}) is None

def test_no_import_circle():
    assert cycle(graph()) is None, f'import circle: {" -> ".join(cycle(graph()))}'

def test_no_private_name_crosses_modules():
    mods = modules()
    private = [(n, t, x) for n, f in mods.items() for t, x in imports(n, f, mods) if x.startswith('_') and t != n]
    assert private == [], f'a module imports another one\'s private names (make them public or move them): {private}'
