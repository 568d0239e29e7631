"""`produce-classifier space`: the Space folder served as a Space serves it, its push to a recording stand-in for the Hub,
and its requirements resolved by pip for the Space's Python."""
import json, os, shutil, socket, subprocess, sys, time
from pathlib import Path
import pytest, yaml
from gradio_client import Client, handle_file
from packaging.specifiers import SpecifierSet
from produce_classifier.hub import ZEROGPU_TORCH, SPACE_PYTHON
from produce_classifier.serving import to_onnx
from produce_classifier.families import family
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

def _answer(app:subprocess.Popen, port:int, fn:Path, wait:float=240) -> dict:
    "The /predict answer for `fn` from `app` on `port`, once it is up (it must not exit before)."
    deadline = time.time() + wait
    while True:
        assert app.poll() is None, app.stdout.read()
        try: return Client(f'http://127.0.0.1:{port}/', verbose=False).predict(handle_file(str(fn)), api_name='/predict')
        except Exception:
            if time.time() > deadline: raise
            time.sleep(1)

def _front(readme:str) -> dict: return yaml.safe_load(readme.split('---')[1])

def _copy(model:Path, tmp_path:Path) -> Path:
    "A copy of `model`'s folder to publish: `publish` writes model.onnx beside the model, and the fixture's is shared."
    shutil.copytree(model.parent, tmp_path/'model')
    return tmp_path/'model'

def test_space_serves_the_published_model_and_pushes_as_a_gradio_space(demo_model, hub, published, tmp_path):
    "Publish the demo model, build its Space, serve the folder as a Space does, classify an example; then push it."
    url, state = hub
    env = _env(url, tmp_path)
    r = published(_copy(demo_model, tmp_path), 'someone/produce', url)
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
        res = _answer(app, port, example)
    finally:
        app.terminate(); app.wait(30)
    assert res[0]['confidences'][0]['label'] == family(example.name.rsplit('_', 2)[0])  # examples: CLASS_INDEX_100.jpg
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
    assert {'app.py', 'requirements.txt', 'settings.ini', 'README.md', 'produce_classifier/app.py', 'produce_classifier/model.py'} <= set(files)
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
    # the app's side: a repo that is not there, a model cut short on the Hub, no network (each a fresh process: the Hub
    # client reads its endpoint at import; started together, they wait on their imports side by side)
    state.repos['someone/cut'] = {}  # a model whose pickle arrived cut short
    state.commits['someone/cut'] = {'model.pkl': demo_model.read_bytes()[:-100], 'model.json': demo_model.with_suffix('.json').read_bytes()}
    model = tmp_path/'m'/'model.pkl'; model.parent.mkdir()
    for f in ('model.pkl', 'model.json'): shutil.copy(demo_model.with_name(f), model.with_name(f))
    onnx = to_onnx(model)  # and a model.onnx cut short, where the cpu Space looks first
    state.repos['someone/cut-onnx'] = {}
    state.commits['someone/cut-onnx'] = {'model.onnx': onnx.read_bytes()[:-100], 'model.json': model.with_suffix('.json').read_bytes()}
    load = "from produce_classifier.serving import hub_model, load_predictor; load_predictor(hub_model('{}'))"
    port = _port()  # nothing listens there: no network
    runs = {repo: subprocess.Popen([sys.executable, '-c', load.format(repo)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   env=_env(endpoint, tmp_path/d)) for repo, endpoint, d in (
        ('someone/missing', url, 'a'), ('someone/cut', url, 'b'), ('someone/cut-onnx', url, 'd'),
        ('someone/produce', f'http://127.0.0.1:{port}', 'c'))}
    said = {repo: p.communicate(timeout=300)[1] for repo, p in runs.items()}
    assert "There is no model repo someone/missing on the Hugging Face Hub (or it is private and no HF_TOKEN is set): check MODEL_REPO." in said['someone/missing']
    assert "does not match the sha256 recorded in model.json: the file was changed or cut short" in said['someone/cut']
    assert "model.onnx does not match the sha256 recorded in model.json: the file was changed or cut short" in said['someone/cut-onnx']
    assert "Could not download the model someone/produce from the Hugging Face Hub and it is not in the cache" in said['someone/produce']

def test_a_pinned_revision_is_served_though_a_broken_model_was_published_after_it(demo_model, hub, published, tmp_path):
    "MODEL_REVISION pins the commit served: a later publish (here one whose model.json matches no model file) does not reach the app; the page and the log name the commit."
    from hub_server import _sha
    url, state = hub
    r = published(_copy(demo_model, tmp_path), 'someone/produce', url)
    assert r.returncode == 0, r.stderr
    good = state.commits['someone/produce']; first = _sha(good)
    info = dict(json.loads(good['model.json']), sha256='0' * 64, onnx_sha256='0' * 64)
    state.commits['someone/produce'] = dict(good, **{'model.json': json.dumps(info).encode()})  # the latest commit: broken
    state.history['someone/produce'].append(dict(state.commits['someone/produce']))
    load = "from produce_classifier.serving import hub_model, load_predictor; load_predictor(hub_model('someone/produce', {}))"
    r = subprocess.run([sys.executable, '-c', load.format('None')], capture_output=True, text=True, env=_env(url, tmp_path/'a'), timeout=300)
    assert "does not match the sha256 recorded in model.json" in r.stderr, r.stderr[-2000:]
    r = subprocess.run([sys.executable, '-c', load.format("'" + 'f' * 40 + "'")], capture_output=True, text=True, env=_env(url, tmp_path/'b'), timeout=300)
    assert f"The model repo someone/produce on the Hugging Face Hub has no revision {'f' * 40}: check MODEL_REVISION" in r.stderr, r.stderr[-2000:]
    port, logs = _port(), tmp_path/'logs'
    env = _env(url, tmp_path/'c', MODEL_REPO='someone/produce', MODEL_REVISION=first, PREDICTION_LOG=str(logs), GRADIO_SERVER_PORT=str(port))
    app = subprocess.Popen([sys.executable, str(Path(__file__).parents[1]/'app.py')], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        example = sorted((demo_model.parent/'examples').iterdir())[0]
        res = _answer(app, port, example)
        import urllib.request
        page = urllib.request.urlopen(f'http://127.0.0.1:{port}/config', timeout=30).read().decode()
    finally:
        app.terminate(); app.wait(30)
    assert res[0]['confidences'][0]['label'] == family(example.name.rsplit('_', 2)[0])
    assert f'Model: `someone/produce@{first}` on the Hugging Face Hub.' in page  # the page's text, as the browser gets it
    line = json.loads((logs/'predictions.jsonl').read_text().splitlines()[0])
    assert line['model_source'] == f'someone/produce@{first}' and line['model_sha256'] == json.loads(good['model.json'])['sha256']

def test_zero_requirements_resolve_for_zerogpu(resolved):
    "The zero Space's requirements, with the Gradio its front matter names, resolve for its Python; torch is one ZeroGPU supports."
    gradio, got = resolved['zero']
    assert got['torch'] in SpecifierSet(ZEROGPU_TORCH) and got['gradio'] == str(gradio) and 'spaces' in got
    assert not {'nbdev', 'kaggle', 'kagglehub', 'pytest', 'playwright'} & set(got)

def test_cpu_requirements_resolve_without_torch(resolved):
    "The cpu Space's requirements, with its Gradio, resolve for its Python, and install ONNX Runtime, not torch or fastai."
    gradio, got = resolved['cpu']
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
