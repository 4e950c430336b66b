"Sphinx configuration of the docs site: myst-nb renders the processed notebooks of `_proc/site/` (see build.py)."
from pathlib import Path
import jupyter_server_mathjax

project, author = 'visionlab', 'visionlab developers'
extensions = ['myst_nb']
nb_execution_mode = 'off'                 # the pages show the test run's outputs: nothing is executed twice
nb_render_markdown_format = 'myst'        # show_doc's markdown output becomes real headings and tables
myst_enable_extensions = ['colon_fence', 'dollarmath']
exclude_patterns = ['_build', '**.ipynb_checkpoints']
html_static_path = [str(Path(jupyter_server_mathjax.__file__).parent/'static')]   # MathJax 2, served locally
mathjax_path = 'MathJax.js?config=TeX-AMS-MML_HTMLorMML'                          # (no CDN: the site works offline)
html_context = {'default_mode': 'light'}
html_theme = 'pydata_sphinx_theme'
html_title = 'visionlab'
html_theme_options = {'navigation_with_keys': False, 'show_toc_level': 2, 'navbar_align': 'left',
                      'footer_start': ['copyright'], 'footer_end': []}
html_show_sourcelink = False
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header']
myst_heading_anchors = 4
