"""What pip installs for each Space's requirements on the Space's Python, written to OUT/resolved.json (test_space.py reads it).

    python tests/space_resolve.py OUT

conftest.py starts it in the background as soon as a test that needs it is collected: pip waits on the package index,
not on a core, so the run's training goes on beside it."""
import json, os, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import yaml
from produce_classifier.hub import SPACE_PYTHON, build_space

def resolve(reqs:str, tmp:Path, *extra) -> dict:
    "What pip installs for `reqs` (+ `extra`) on the Space's Python, as {name: version}, from its dry-run report."
    (tmp/'req.txt').write_text(reqs)
    major_minor = '.'.join(SPACE_PYTHON.split('.')[:2])
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--quiet', '--ignore-installed', '--only-binary=:all:',
                        '--python-version', major_minor, '--target', str(tmp/'t'), '--report', str(tmp/'r.json'),
                        '-r', str(tmp/'req.txt'), *extra], capture_output=True, text=True, timeout=600)
    if r.returncode: raise RuntimeError(r.stderr[-3000:])
    return {i['metadata']['name'].lower(): i['metadata']['version'] for i in json.loads((tmp/'r.json').read_text())['install']}

def one(hardware:str, tmp:Path) -> tuple:
    "The Space for `hardware`: the Gradio its front matter names, and what its requirements resolve to with it."
    space = build_space(tmp/hardware/'space', 'someone/produce', hardware)
    gradio = yaml.safe_load((space/'README.md').read_text().split('---')[1])['sdk_version']
    return gradio, resolve((space/'requirements.txt').read_text(), tmp/hardware, f'gradio=={gradio}')

def main(out:Path):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with ThreadPoolExecutor(2) as ex: got = dict(zip(('zero', 'cpu'), ex.map(one, ('zero', 'cpu'), [Path(tmp)] * 2)))
        except Exception as e: got = dict(error=f"{type(e).__name__}: {e}")
    (out/'resolved.json.partial').write_text(json.dumps(got))
    os.replace(out/'resolved.json.partial', out/'resolved.json')  # whole, or not there

if __name__ == '__main__': main(Path(sys.argv[1]))
