"The notebooks as a person runs them: in a Jupyter kernel (what JupyterLab starts), after the README's set-up."
import ast, re
from pathlib import Path
import nbformat
from nbclient import NotebookClient

NBS = Path(__file__).resolve().parents[1]/'nbs'

def test_a_notebook_runs_in_a_jupyter_kernel(monkeypatch):
    "02_backgrounds, run cell by cell in an ipykernel: no cell fails, and its figures are there for the reader."
    monkeypatch.delenv('MPLBACKEND', raising=False)  # CI's Agg would hide the figures; a person's kernel shows them inline
    nb = nbformat.read(NBS/'02_backgrounds.ipynb', as_version=4)
    NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(NBS)}}).execute()
    outs = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs]
    assert not [o for o in outs if o.output_type == 'error']
    assert sum(bool({'image/png', 'image/jpeg'} & set(o.get('data', {}))) for o in outs) >= 1  # the backgrounds, drawn

SHOWS = ('show_batch', 'show_images', 'show_results', 'IPImage', 'plot_confusion', 'plot_coverage', 'plot_top_losses')

def _draws(source:str) -> bool:
    "True if the cell, when run, calls something that draws a figure (calls inside a function it only defines do not count)."
    def calls(nodes):
        for n in nodes:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): continue
            if isinstance(n, ast.Call) and any(s in ast.unparse(n.func) for s in SHOWS): return True
            if calls(ast.iter_child_nodes(n)): return True
        return False
    try: return calls(ast.parse(source).body)
    except SyntaxError: return False  # a cell with IPython magics: not one of ours

def test_notebooks_are_committed_with_their_outputs():
    "Each notebook reads as a tour on GitHub: every cell that draws a figure has it committed, and no notebook is over 500 KB."
    for fn in sorted(NBS.glob('*.ipynb')):
        assert fn.stat().st_size < 500_000, f"{fn.name} is {fn.stat().st_size:,} bytes"
        cells = [c for c in nbformat.read(fn, as_version=4).cells if c.cell_type == 'code' and not c.source.startswith(('#| export', '#| hide', '#| slow'))]
        for c in cells:
            if _draws(c.source):
                assert any({'image/png', 'image/jpeg'} & set(o.get('data', {})) for o in c.outputs), f"{fn.name}: no figure committed for {c.source[:80]!r}"
        if cells: assert any(c.outputs for c in cells), f"{fn.name} has no outputs: run nbdev-test --save"

def test_every_exported_name_has_an_example_with_an_output():
    "Each notebook shows what it makes: every function, class and constant it exports is named in a cell that has an output."
    missing = {}
    for fn in sorted(NBS.glob('[0-9]*.ipynb')):
        cells = [c for c in nbformat.read(fn, as_version=4).cells if c.cell_type == 'code']
        exported = [n for c in cells if c.source.startswith('#| export')
                    for n in re.findall(r'^(?:def|class) ([A-Za-z]\w*)|^([A-Z][A-Z_0-9]+) = ', c.source, re.M) for n in n if n]
        examples = [c for c in cells if c.outputs and not c.source.startswith(('#| export', '#| hide'))]
        # named in an example, or in what it printed (a table of every background family, each by its name)
        shown = ' '.join([c.source for c in examples] + [o.get('text', '') + str(o.get('data', {}).get('text/plain', ''))
                                                          for c in examples for o in c.outputs])
        if (lack := [n for n in exported if not re.search(rf'\b{n}\b', shown)]): missing[fn.stem] = lack
    assert not missing, missing
