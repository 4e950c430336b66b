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

def sources() -> dict[str, ast.AST]:
    "Module name -> parsed source, for every module of the package."
    return {n: ast.parse(f.read_text()) for n, f in modules().items()}

def where(test) -> list[str]:
    "The modules holding a node for which `test(node)` is true, sorted."
    return sorted(n for n, tree in sources().items() if any(test(node) for node in ast.walk(tree)))

def is_call_on_equals(node) -> bool:
    "`x.split('=')` or `x.partition('=')`: an override parsed by hand."
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ('split', 'partition', 'rpartition')
            and len(node.args) >= 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value == '=')

def test_overrides_are_split_in_one_module():
    assert where(is_call_on_equals) == ['visionlab.overrides'], 'only visionlab.overrides splits an override on "="'

def test_results_json_is_read_and_written_in_one_module():
    named = where(lambda node: isinstance(node, ast.Constant) and node.value == 'results.json')
    assert named == ['visionlab.rundir'], f'results.json is named as a file outside visionlab.rundir (use RunDir): {named}'

def test_error_lines_come_from_first_line():
    "`str(e).splitlines()[0]` raises IndexError on an empty message: `core.first_line` is the one way to take that line."
    def first_of_splitlines(node):
        return (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == 'splitlines' and isinstance(node.slice, ast.Constant) and node.slice.value == 0)
    assert where(first_of_splitlines) == [], f'use core.first_line: {where(first_of_splitlines)}'

def test_the_checks_find_what_they_look_for():
    "Each check above finds its pattern in a small source (so a check that can no longer fail would show here)."
    tree = ast.parse("k, _, v = o.partition('=')\nf = d/'results.json'\nline = str(e).splitlines()[0]")
    nodes = list(ast.walk(tree))
    assert any(map(is_call_on_equals, nodes)) and any(isinstance(n, ast.Constant) and n.value == 'results.json' for n in nodes)

def is_patch(node) -> bool:
    "A function decorated with fastcore's `@patch`: a method added to a class after its body."
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        (isinstance(d, ast.Name) and d.id == 'patch') or (isinstance(d, ast.Call) and getattr(d.func, 'id', None) == 'patch')
        for d in node.decorator_list)

def test_the_lightning_module_is_one_class_body():
    "VisionModule's hooks are in its class body (with @override), not patched on afterwards."
    assert 'visionlab.module' not in where(is_patch)
    assert any(map(is_patch, ast.walk(ast.parse('@patch\ndef f(self: A): pass'))))
