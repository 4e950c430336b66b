"""README.md is generated from nbs/index.ipynb (nbdev_readme needs Quarto, which this kit does not require).

    python tests/readme.py          # write README.md
    python tests/readme.py --check  # exit 1 if README.md is out of date
    python tests/readme.py --command install|test   # print one of the README's two set-up commands
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render() -> str:
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    parts = ['<!-- generated from nbs/index.ipynb by tests/readme.py: edit the notebook, not this file -->']
    for cell in nb['cells']:
        src = ''.join(cell['source']).strip()
        if not src or src.startswith('#| hide') or src.startswith('#|hide'): continue
        if cell['cell_type'] == 'markdown': parts.append(src)
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
