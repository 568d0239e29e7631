"""Build the docs site: every notebook in nbs/, with its outputs and an API entry for each function it exports.

    python docs/build.py          # then open _site/index.html
    python docs/build.py --readme # README.md only, from nbs/index.ipynb

The notebooks are prepared as nbdev prepares them for Quarto (directive lines dropped, hidden cells and export
cells left out, `show_doc` of each exported name in their place), then rendered by Sphinx with MyST-NB and the Furo
theme, all from PyPI: Quarto cannot be installed from the registries this project reaches. Nothing is executed;
the site shows the outputs the notebooks were committed with. The navigation lists the notebooks in their numbered
order, the order the data flows.
"""
import argparse, ast, importlib, inspect, re, shutil, subprocess, sys, tempfile
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter
from nbdev.showdoc import show_doc, showdoc_nm
from produce_classifier.files import atomic_dir, write_text
from produce_classifier.hub import front_matter

ROOT = Path(__file__).resolve().parents[1]
_directive = re.compile(r'^\s*#\|\s*([\w-]+):?\s*(.*?)\s*$')
_rule_and_link = re.compile(r'^---\n\n(\[source\]\([^)]*\)\{[^}]*\}\n\n)?')
_hidden = {'hide', 'default_exp', 'exporti'}

def directives(src:str) -> tuple[dict, str]:
    "A cell's leading `#| name value` lines as a dict, and its source without them."
    lines, d = src.splitlines(), {}
    while lines and (m := _directive.match(lines[0])): d[m[1]] = m[2]; lines.pop(0)
    return d, '\n'.join(lines).strip()

def api_entry(obj, name:str) -> str:
    "`show_doc` of `obj` as markdown: its name as a heading, its signature with docments, its docstring."
    try: md = show_doc(obj, name=name)._repr_markdown_()
    except NameError: md = f"### {name}\n\n*{inspect.getdoc(obj)}*"  # a signature naming what its library imports for type checkers only (Gradio's)
    return _rule_and_link.sub('', md)  # the link to the source needs a `git_url`, which this project has no use for

def exported_names(src:str) -> list[str]:
    "The public functions and classes an export cell defines (`Class.method` for a `@patch`)."
    return [showdoc_nm(t) for t in ast.parse(src).body
            if isinstance(t, (ast.FunctionDef, ast.ClassDef)) and not t.name.startswith('_')]

def lookup(mod, name:str):
    "The object `name` (`Class.method` too) names in `mod`."
    obj = mod
    for part in name.split('.'): obj = getattr(obj, part)
    return obj

def prepare(fn:Path) -> nbformat.NotebookNode:
    "Notebook `fn` as the site shows it."
    nb, cells, mod = nbformat.read(fn, as_version=4), [], None
    for c in nb.cells:
        if c.cell_type != 'code': cells.append(c); continue
        d, src = directives(c.source)
        if 'default_exp' in d: mod = importlib.import_module(f"produce_classifier.{d['default_exp']}")
        if d.keys() & _hidden or d.get('include') == 'false' or not src: continue
        if d.keys() & {'export', 'exports'}:
            cells += [nbformat.v4.new_markdown_cell(api_entry(lookup(mod, n), n)) for n in exported_names(src)]
            if 'exports' not in d: continue
        c.source = src
        if d.get('echo') == 'false': c.metadata['tags'] = ['remove-input']
        cells.append(c)
    nb.cells = cells
    nb.metadata['language_info'] = dict(name='python', pygments_lexer='ipython3')  # `nbdev-clean` strips it; the highlighter needs it
    return nb

def notebooks(nbs:Path) -> list[Path]:
    "`index` first, then the guide and any other page, then the numbered notebooks in order."
    fns = [f for f in nbs.glob('*.ipynb') if not f.name.startswith(('.', '_'))]
    return sorted(fns, key=lambda f: (f.stem != 'index', f.stem[0].isdigit(), f.stem))

def readme(nbs:Path=ROOT/'nbs', out:Path=ROOT/'README.md') -> Path:
    "README.md: the Space's front matter (this repository is a Space), then `index.ipynb` as nbconvert writes markdown."
    body, _ = MarkdownExporter(exclude_output=True).from_notebook_node(prepare(nbs/'index.ipynb'))
    text = front_matter('Produce Classifier', 'cpu', license='apache-2.0') + '\n' + body.strip() + '\n'
    if not out.is_file() or out.read_text() != text: write_text(out, text)  # unchanged: left as it is, its mtime too
    return out

def build(out:Path=ROOT/'_site', nbs:Path=ROOT/'nbs') -> Path:
    "Render the notebooks of `nbs` into the static site `out`, replaced whole once it is built."
    fns = notebooks(nbs)
    with tempfile.TemporaryDirectory() as tmp, atomic_dir(out) as site:
        src = Path(tmp)/'src'
        src.mkdir(); shutil.copytree(ROOT/'docs', src/'docs', ignore=shutil.ignore_patterns('*.py', '__pycache__'))  # the README's pictures
        for fn in fns:
            nb = prepare(fn)
            if fn.stem == 'index':  # README.md's source: its links into nbs/ point beside it on the site
                for c in nb.cells: c.source = c.source.replace('](nbs/', '](')
                toc = '\n'.join(f.stem for f in fns if f.stem != 'index')
                nb.cells.append(nbformat.v4.new_markdown_cell(f"```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{toc}\n```"))
            nbformat.write(nb, src/fn.name)
        # Sphinx builds inside the temporary folder: MyST-NB writes its `jupyter_execute/` beside the output folder
        html = Path(tmp)/'html'
        subprocess.run([sys.executable, '-m', 'sphinx', '-q', '-b', 'html', '-c', str(ROOT/'docs'), str(src), str(html)], check=True)
        shutil.copytree(html, site, dirs_exist_ok=True)
    return out

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, default=ROOT/'_site')
    p.add_argument('--readme', action='store_true', help='write README.md only')
    a = p.parse_args()
    print(f"Wrote {readme()}")
    if not a.readme: print(f"Built {build(a.out)/'index.html'}")
