"""`produce-classifier space`: the Space folder served as a Space serves it, its push to a recording stand-in for the Hub,
and its requirements resolved by pip for the Space's Python."""
import json, os, shutil, socket, subprocess, sys, time
from pathlib import Path
import pytest, yaml
from gradio_client import Client, handle_file
from packaging.specifiers import SpecifierSet
from produce_classifier.hub import ZEROGPU_TORCH, SPACE_PYTHON, build_space
from produce_classifier.serving import to_onnx
from hub_server import serve

@pytest.fixture
def hub():
    srv, state = serve()
    yield srv.url, state
    srv.shutdown()

def _env(endpoint, tmp_path, token='hf_test', **kw):
    "This environment without HF_* settings, pointed at `endpoint`, with an empty Hub cache and `token`."
    env = {k: v for k, v in os.environ.items() if not k.startswith(('HF_', 'MODEL_', 'PYTHONPATH'))}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path/'hf-home'), HF_HUB_DISABLE_XET='1', HF_HUB_DISABLE_TELEMETRY='1',
               GRADIO_ANALYTICS_ENABLED='False', **kw)
    if token: env['HF_TOKEN'] = token
    return env

def _cli(*args, env):
    return subprocess.run(['produce-classifier', *args], capture_output=True, text=True, env=env, timeout=300)

def _port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _front(readme:str) -> dict: return yaml.safe_load(readme.split('---')[1])

def test_space_serves_the_published_model_and_pushes_as_a_gradio_space(demo_model, hub, tmp_path):
    "Publish the demo model, build its Space, serve the folder as a Space does, classify an example; then push it."
    url, state = hub
    env = _env(url, tmp_path)
    r = _cli('publish', str(demo_model.parent), '--repo', 'someone/produce', env=env)
    assert r.returncode == 0, r.stderr
    space = tmp_path/'space'
    r = _cli('space', '--model-repo', 'someone/produce', '--space', 'someone/produce-demo', '--hardware', 'cpu', '--out', str(space), env=env)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in space.iterdir()) == ['README.md', 'app.py', 'produce_classifier', 'requirements.txt', 'settings.ini']
    # only the folder: app.py run from it imports the library copy inside it, and gets the model from the Hub stand-in;
    # torch cannot be imported, as on the cpu Space, whose requirements do not have it
    port = _port()
    serve_without_torch = "import runpy, sys; sys.modules['torch'] = None; runpy.run_path('app.py', run_name='__main__')"
    app = subprocess.Popen([sys.executable, '-c', serve_without_torch], cwd=space, env=dict(env, GRADIO_SERVER_PORT=str(port)),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        example = sorted((demo_model.parent/'examples').iterdir())[0]
        deadline, res = time.time() + 240, None
        while res is None:
            assert app.poll() is None, app.stdout.read()
            try: res = Client(f'http://127.0.0.1:{port}/', verbose=False).predict(handle_file(str(example)), api_name='/predict')
            except Exception:
                if time.time() > deadline: raise
                time.sleep(1)
    finally:
        app.terminate(); app.wait(30)
    assert res['confidences'][0]['label'] == example.name.rsplit('_', 2)[0]  # examples are named CLASS_INDEX_100.jpg
    got = [p for m, p in state.requests if m == 'GET' and '/resolve/' in p]
    assert any(p.endswith('/model.onnx') for p in got) and any(p.endswith('/model.json') for p in got)
    assert not any(p.endswith('/model.pkl') for p in got)  # the cpu Space downloads only what it serves
    assert (tmp_path/'hf-home'/'hub'/'models--someone--produce').is_dir()  # downloaded once, into the Hub cache
    r = _cli('space', '--model-repo', 'someone/produce', '--space', 'someone/produce-demo', '--hardware', 'zero', '--out', str(space), '--push', env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(f"{url}/spaces/someone/produce-demo")
    created = state.repos['spaces/someone/produce-demo']
    assert created['type'] == 'space' and created['sdk'] == 'gradio' and created['hardware'] == 'zero-a10g'
    files = state.commits['spaces/someone/produce-demo']
    assert {'app.py', 'requirements.txt', 'settings.ini', 'README.md', 'produce_classifier/app.py', 'produce_classifier/inference.py'} <= set(files)
    front = _front(files['README.md'].decode())
    assert front['sdk'] == 'gradio' and front['python_version'] == SPACE_PYTHON and front['suggested_hardware'] == 'zero-a10g'
    assert front['models'] == ['someone/produce'] and not any('__pycache__' in p for p in files)

def test_space_failures_are_one_sentence(demo_model, hub, tmp_path):
    url, state = hub
    space = tmp_path/'space'
    r = _cli('space', '--model-repo', 'someone/produce', '--out', str(space), '--push', env=_env(url, tmp_path, token=None))
    assert r.returncode == 1 and r.stderr.strip() == "error: Not logged in to Hugging Face: set HF_TOKEN or run `hf auth login`, then push again."
    assert space.is_dir() and state.commits == {}  # built, so it can be looked at; nothing uploaded
    state.taken.add('someone/produce-demo')
    r = _cli('space', '--model-repo', 'someone/produce', '--out', str(space), '--push', env=_env(url, tmp_path))
    assert r.returncode == 1 and r.stderr.strip() == "error: someone/produce-demo is taken by another kind of repository (a model or a dataset): choose another name."
    r = _cli('space', '--model-repo', 'someone/produce', '--out', str(tmp_path), env=_env(url, tmp_path))
    assert r.returncode == 1 and "exists and is not a Space folder this command wrote" in r.stderr
    # the app's side: a repo that is not there, a model cut short on the Hub, no network
    load = "from produce_classifier.serving import hub_model, load_predictor; load_predictor(hub_model('{}'))"
    r = subprocess.run([sys.executable, '-c', load.format('someone/missing')], capture_output=True, text=True, env=_env(url, tmp_path/'a'), timeout=300)
    assert "There is no model repo someone/missing on the Hugging Face Hub (or it is private and no HF_TOKEN is set): check MODEL_REPO." in r.stderr
    state.repos['someone/cut'] = {}  # a model whose pickle arrived cut short
    state.commits['someone/cut'] = {'model.pkl': demo_model.read_bytes()[:-100], 'model.json': demo_model.with_suffix('.json').read_bytes()}
    r = subprocess.run([sys.executable, '-c', load.format('someone/cut')], capture_output=True, text=True, env=_env(url, tmp_path/'b'), timeout=300)
    assert "does not match the sha256 recorded in model.json: the file was changed or cut short" in r.stderr
    model = tmp_path/'m'/'model.pkl'; model.parent.mkdir()
    for f in ('model.pkl', 'model.json'): shutil.copy(demo_model.with_name(f), model.with_name(f))
    onnx = to_onnx(model)  # and a model.onnx cut short, where the cpu Space looks first
    state.repos['someone/cut-onnx'] = {}
    state.commits['someone/cut-onnx'] = {'model.onnx': onnx.read_bytes()[:-100], 'model.json': model.with_suffix('.json').read_bytes()}
    r = subprocess.run([sys.executable, '-c', load.format('someone/cut-onnx')], capture_output=True, text=True, env=_env(url, tmp_path/'d'), timeout=300)
    assert "model.onnx does not match the sha256 recorded in model.json: the file was changed or cut short" in r.stderr
    port = _port()  # nothing listens there: no network
    r = subprocess.run([sys.executable, '-c', load.format('someone/produce')], capture_output=True, text=True, env=_env(f'http://127.0.0.1:{port}', tmp_path/'c'), timeout=300)
    assert "Could not download the model someone/produce from the Hugging Face Hub and it is not in the cache" in r.stderr

def _resolve(reqs:str, tmp_path, *extra) -> dict:
    "What pip installs for `reqs` (+ `extra`) on the Space's Python, as {name: version}, from its dry-run report."
    (tmp_path/'req.txt').write_text(reqs)
    major_minor = '.'.join(SPACE_PYTHON.split('.')[:2])
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--quiet', '--ignore-installed', '--only-binary=:all:',
                        '--python-version', major_minor, '--target', str(tmp_path/'t'), '--report', str(tmp_path/'r.json'),
                        '-r', str(tmp_path/'req.txt'), *extra], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return {i['metadata']['name'].lower(): i['metadata']['version'] for i in json.loads((tmp_path/'r.json').read_text())['install']}

def test_zero_requirements_resolve_for_zerogpu(tmp_path):
    "The zero Space's requirements, with the Gradio its front matter names, resolve for its Python; torch is one ZeroGPU supports."
    space = build_space(tmp_path/'space', 'someone/produce', 'zero')
    gradio = _front((space/'README.md').read_text())['sdk_version']
    got = _resolve((space/'requirements.txt').read_text(), tmp_path, f'gradio=={gradio}')
    assert got['torch'] in SpecifierSet(ZEROGPU_TORCH) and got['gradio'] == str(gradio) and 'spaces' in got
    assert not {'nbdev', 'kaggle', 'kagglehub', 'pytest', 'playwright'} & set(got)

def test_cpu_requirements_resolve_without_torch(tmp_path):
    "The cpu Space's requirements, with its Gradio, resolve for its Python, and install ONNX Runtime, not torch or fastai."
    space = build_space(tmp_path/'space', 'someone/produce', 'cpu')
    gradio = _front((space/'README.md').read_text())['sdk_version']
    got = _resolve((space/'requirements.txt').read_text(), tmp_path, f'gradio=={gradio}')
    assert 'onnxruntime' in got and got['gradio'] == str(gradio)
    assert not {'torch', 'torchvision', 'fastai', 'scikit-learn', 'nvidia-cublas'} & set(got), sorted(got)

def test_one_python_story():
    "pyproject.toml, the README, its Space front matter and the Space builder agree on Python, and this Python is one of them."
    import tomllib
    from conftest import REPO
    requires = SpecifierSet(tomllib.loads((REPO/'pyproject.toml').read_text())['project']['requires-python'])
    readme = (REPO/'README.md').read_text()
    assert f"Python {str(requires).removeprefix('>=')} or newer" in readme
    assert _front(readme)['python_version'] == SPACE_PYTHON and SPACE_PYTHON in requires
    assert '.'.join(map(str, sys.version_info[:3])) in requires  # the Python running the tests (CI's)
