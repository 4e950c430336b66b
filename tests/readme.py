"""README.md is generated from nbs/index.ipynb (nbdev_readme needs Quarto, which this kit does not require).

The index's marker cell becomes the table of the notebooks, from each one's title (`# ...`), summary (`> ...`) and
`#| default_exp` module, so that the table cannot drift from the notebooks (docs/build.py puts it on the site too).

    python tests/readme.py          # write README.md
    python tests/readme.py --check  # exit 1 if README.md is out of date
    python tests/readme.py --command install|test   # print one of the README's two set-up commands
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE_MARKER = '<!-- notebook table'

def notebook_facts(path: Path) -> dict:
    "A notebook's title, summary and exported module (None: a page that exports nothing)"
    cells = json.loads(path.read_text())['cells']
    head = ''.join(cells[0]['source']) if cells else ''
    title, summary = re.search(r'^#\s+(.+)$', head, re.M), re.search(r'^>\s*(.+)$', head, re.M)
    exports = (re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M) for c in cells if c['cell_type'] == 'code')
    module = next((m[1] for m in exports if m), None)
    return dict(title=title[1].strip() if title else path.stem, summary=summary[1].strip() if summary else '',
                module=module and 'visionlab.' + module.removesuffix('.__init__'))

def gist(summary: str) -> str:
    "A summary's first clause (before its first ': '), or its first sentence: what a table row has room for."
    quoted = re.sub(r'\*[^*]*\*|`[^`]*`', lambda m: 'x' * len(m[0]), summary)   # a ': ' inside a title or code does not count
    cut = quoted.find(': ')
    text = summary[:cut] if cut > 0 and len(summary[:cut].split()) >= 3 else summary.split('. ')[0]
    return text.rstrip('.') + '.'

def notebook_table(link=lambda rel: f'nbs/{rel}') -> str:
    "The Markdown table of every notebook but the index (title, the gist of its summary), in reading order; `link` maps `guides/x.ipynb` to its target"
    rows = ['| notebook | module | what it is |', '|---|---|---|']
    for path in sorted((ROOT/'nbs').rglob('*.ipynb')):
        rel = path.relative_to(ROOT/'nbs').as_posix()
        if rel == 'index.ipynb' or '.ipynb_checkpoints' in rel: continue
        f = notebook_facts(path)
        module = f'`{f["module"]}`' if f['module'] else 'page'
        rows.append(f'| [{rel.removesuffix(".ipynb")}]({link(rel)}) | {module} | **{f["title"]}**: {gist(f["summary"])} |')
    return '\n'.join(rows)

def fill_table(markdown: str, table: str) -> str:
    "`markdown` with the index's marker comment replaced by `table`"
    return re.sub(re.escape(TABLE_MARKER) + r'[^>]*-->', lambda m: table, markdown)

def render() -> str:
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    parts = ['<!-- generated from nbs/index.ipynb by tests/readme.py: edit the notebook, not this file -->']
    for cell in nb['cells']:
        src = ''.join(cell['source']).strip()
        if not src or src.startswith('#| hide') or src.startswith('#|hide'): continue
        if cell['cell_type'] == 'markdown': parts.append(fill_table(src, notebook_table()))
        else:
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
            parts.append(f'```python\n{code}\n```')
    return '\n\n'.join(parts) + '\n'

def commands() -> dict:
    "The two set-up commands: the first two ```bash blocks of the README."
    blocks = re.findall(r'```bash\n(.*?)\n```', (ROOT/'README.md').read_text(), flags=re.S)
    return dict(install=blocks[0].strip(), test=blocks[1].strip())

if __name__ == '__main__':
    if '--command' in sys.argv: print(commands()[sys.argv[sys.argv.index('--command') + 1]])
    elif '--check' in sys.argv:
        if (ROOT/'README.md').read_text() != render():
            sys.exit('README.md is out of date with nbs/index.ipynb: run python tests/readme.py')
    else: (ROOT/'README.md').write_text(render())
