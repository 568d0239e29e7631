"The house's rules, read from the library's source: settings read at the doors, no import that runs back up, rooms of a readable size."
import ast, re
from pathlib import Path

LIB = Path(__file__).resolve().parents[1]/'produce_classifier'
DOORS = {'cli', 'app', 'train', 'evaluate', 'settings'}  # the entry modules: the only ones that read settings.ini

def _rooms() -> dict:
    "{module: the notebook it is exported from}, read from the line each generated module carries."
    return {f.stem: m[1] for f in LIB.glob('*.py') if (m := re.search(r'File to edit: \.\./nbs/(\S+)\.ipynb', f.read_text()))}

def _tree(mod:str) -> ast.Module: return ast.parse((LIB/f'{mod}.py').read_text())

def test_settings_are_read_at_the_doors_only():
    "`settings()` is called in the entry modules alone; every function below them is given what they read."
    callers = {m for m in _rooms() for n in ast.walk(_tree(m))
               if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == 'settings'}
    assert callers and callers <= DOORS, sorted(callers - DOORS)

def test_no_import_runs_back_up():
    "A room imports only rooms whose notebooks come before its own (data-flow order), at the top or inside a function."
    rooms = _rooms()
    for mod, nb in rooms.items():
        for n in ast.walk(_tree(mod)):
            if not isinstance(n, ast.ImportFrom) or not n.module: continue
            other = n.module if n.level else n.module.removeprefix('produce_classifier.')
            if other in rooms and other != mod: assert rooms[other] < nb, f"{mod} ({nb}) imports {other} ({rooms[other]})"

def test_no_room_is_over_400_lines():
    long = {f.name: n for f in LIB.glob('*.py') if f.name != '_modidx.py' and (n := len(f.read_text().splitlines())) > 400}
    assert not long, long
