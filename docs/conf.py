"Sphinx configuration of the docs site: myst-nb renders the processed notebooks of `_proc/site/` (see build.py)."
from pathlib import Path
import jupyter_server_mathjax

project, author = 'visionlab', 'visionlab developers'
extensions = ['myst_nb']
nb_execution_mode = 'off'                 # the pages show the test run's outputs: nothing is executed twice
nb_render_markdown_format = 'myst'        # show_doc's markdown output becomes real headings and tables
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 4                  # the ids that nbdev's links (`#create_model`) point at
exclude_patterns = ['_build', '**.ipynb_checkpoints']
# MathJax 2 from a PyPI package, served with the site: no CDN, so the site works offline. That package ships the
# combined configuration and the STIX-Web fonts, set up as Jupyter sets them up.
html_static_path = [str(Path(jupyter_server_mathjax.__file__).parent/'static')]
mathjax_path = 'MathJax.js?config=TeX-AMS-MML_HTMLorMML-full'
mathjax2_config = {'HTML-CSS': {'availableFonts': [], 'imageFont': None, 'preferredFont': None, 'webFont': 'STIX-Web'},
                   'tex2jax': {'processClass': 'math', 'ignoreClass': 'tex2jax_ignore|mathjax_ignore'}}
html_context = {'default_mode': 'light'}
html_theme = 'pydata_sphinx_theme'
html_title = 'visionlab'
html_theme_options = {'navigation_with_keys': False, 'show_toc_level': 2, 'navbar_align': 'left',
                      'footer_start': ['copyright'], 'footer_end': []}
html_show_sourcelink = False
suppress_warnings = ['mystnb.unknown_mime_type', 'myst.header']
