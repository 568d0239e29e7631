# Sphinx settings for the docs site `python docs/build.py` builds from the notebooks (see that file).
project = 'produce_classifier'
author = 'produce_classifier contributors'
extensions = ['myst_nb']
nb_execution_mode = 'off'  # the notebooks are committed with their outputs: the site shows those, it runs nothing
nb_render_markdown_format = 'myst'
myst_enable_extensions = ['colon_fence']
myst_heading_anchors = 3
html_theme = 'furo'
html_title = 'produce_classifier'
html_show_sourcelink = False
exclude_patterns = ['_build', '**.ipynb_checkpoints']
suppress_warnings = ['myst.header', 'misc.highlighting_failure']
