"Shared fixtures: a synthetic dataset, the real sample beside the repo, and a machine with no network; the CLI run in this process."
import contextlib, io, os, shutil, socket, subprocess, sys, tempfile
from pathlib import Path
if (_n := os.environ.get('PYTEST_XDIST_WORKER_COUNT')):  # each of pytest-xdist's workers: its share of the cores, before torch is imported
    os.environ.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // int(_n))))
import pytest
from filelock import FileLock
from fastcore.xtras import working_directory
from produce_classifier.data import make_synthetic

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')  # no phoning home from tests

REPO = Path(__file__).resolve().parents[1]
SAMPLE = Path(os.environ.get('FRUITS360_SAMPLE', REPO.parent/'shared'/'fruits360-sample'))
PHOTOS = Path(os.environ.get('PRODUCE_PHOTOS', REPO.parent/'shared'/'photos'))
ALL = Path(os.environ.get('FRUITS360_ALL', REPO.parent/'shared'/'fruits360-all'))
REAL = Path(os.environ.get('REAL_PHOTOS', REPO.parent/'shared'/'real-photos'))
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """`produce-classifier ARGS` run by its `main` in this process, and reported as a subprocess would be (exit code, stdout,
    stderr). The installed entry point itself is run by `test_cli.py`, the demo fixture and the kill tests; here fastai's
    import (about 12 s a process on a CI core) is paid once a session, not once a call."""
    from produce_classifier.cli import main
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.ExitStack() as st:
        if cwd is not None: st.enter_context(working_directory(cwd))  # settings.ini is read from the working directory
        st.enter_context(contextlib.redirect_stdout(out)); st.enter_context(contextlib.redirect_stderr(err))
        try: main([str(a) for a in args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
            if isinstance(e.code, str): print(e.code, file=err)  # as the interpreter prints sys.exit's sentence
    return subprocess.CompletedProcess(['produce-classifier', *map(str, args)], code, out.getvalue(), err.getvalue())

@pytest.fixture(scope='session')
def synth(tmp_path_factory):
    "A small synthetic Fruits-360, made once per test session."
    return make_synthetic(tmp_path_factory.mktemp('synth')/'fruits', n_train=20, n_test=5)

@pytest.fixture(scope='session')
def sample():
    "The real Fruits-360 sample beside the repository (skipped, with the reason, where it is missing)."
    if not SAMPLE.exists(): pytest.skip(f"real Fruits-360 sample not found at {SAMPLE} (set FRUITS360_SAMPLE)")
    return SAMPLE

@pytest.fixture(scope='session')
def fruits_all():
    "Every Fruits-360 class beside the repository (skipped, with the reason, where it is missing)."
    if not ALL.exists(): pytest.skip(f"Fruits-360 (all classes) not found at {ALL} (set FRUITS360_ALL)")
    return ALL

@pytest.fixture(scope='session')
def real_photos():
    "The labelled real grocery photos beside the repository (skipped, with the reason, where they are missing)."
    if not (REAL/'labels.csv').exists(): pytest.skip(f"real photos not found at {REAL} (set REAL_PHOTOS)")
    return REAL

@pytest.fixture
def offline(monkeypatch):
    "Cut this process off the network: every outgoing connection fails as it would with no route."
    def refuse(*args, **kwargs): raise OSError(101, 'Network is unreachable (cut off by the test)')
    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    monkeypatch.setattr(socket, 'getaddrinfo', refuse)

@pytest.fixture
def no_kaggle(monkeypatch, tmp_path):
    "A working directory, kagglehub cache and Kaggle config that are all empty, with no Kaggle credentials."
    for var in ('KAGGLE_USERNAME', 'KAGGLE_KEY', 'KAGGLE_API_TOKEN', 'FRUITS360_DIR'): monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv('KAGGLEHUB_CACHE', str(tmp_path/'kagglehub'))
    monkeypatch.setenv('KAGGLE_CONFIG_DIR', str(tmp_path/'kaggle-config'))
    monkeypatch.setenv('HOME', str(tmp_path/'home'))
    monkeypatch.chdir(tmp_path)
    return tmp_path

def _once(tmp_path_factory, name:str, make) -> Path:
    """The folder `name` that `make(folder)` fills, made once a session: pytest-xdist's workers (`-n`) share it, the
    first one makes it and the others wait for it. Tests copy what they change in it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'): root = root.parent  # the run's folder, above each worker's own
    d = root/name
    with FileLock(f'{d}.lock'):
        if not (d/'.made').exists():
            shutil.rmtree(d, ignore_errors=True); d.mkdir(); make(d); (d/'.made').touch()
    return d

def _run_dir() -> Path:
    "A folder of this test run, the same for all of pytest-xdist's workers."
    return Path(tempfile.gettempdir())/f"produce-classifier-run-{os.environ.get('PYTEST_XDIST_TESTRUNUID', os.getpid())}"

def _demo_dir(config) -> Path:
    "Where `produce-classifier demo` runs once a run: beside `_once`'s folders, which pytest removes with its old runs."
    root = config._tmp_path_factory.getbasetemp()
    return (root.parent if os.environ.get('PYTEST_XDIST_WORKER') else root)/'demo'

def _start_demo(config):
    "`produce-classifier demo` started in the background, once a run: no worker waits idle while another trains it."
    d = _demo_dir(config)
    with FileLock(f'{d}.lock'):
        if d.exists(): return
        d.mkdir()
    subprocess.Popen(['sh', '-c', 'produce-classifier demo > demo.log 2>&1; echo $? > rc.part && mv rc.part rc'], cwd=d,
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

@pytest.hookimpl(trylast=True)  # after -k and -m have deselected: only what runs starts anything
def pytest_collection_modifyitems(session, config, items):
    """Once a run that needs them is collected, the demo model's training and the Spaces' pip resolves (`space_resolve.py`)
    start in the background."""
    if any('demo_model' in getattr(i, 'fixturenames', ()) for i in items): _start_demo(config)
    if not any('resolved' in getattr(i, 'fixturenames', ()) for i in items): return
    d = _run_dir(); d.mkdir(exist_ok=True)
    with FileLock(d/'resolve.lock'):  # the first worker to collect starts it; the others find it started
        if (d/'resolve.started').exists(): return
        (d/'resolve.started').touch()
    subprocess.Popen([sys.executable, str(REPO/'tests'/'space_resolve.py'), str(d)], cwd=REPO, start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

@pytest.fixture(scope='session')
def resolved() -> dict:
    "{hardware: (gradio, {package: version})} pip resolves each Space's requirements to, waited for (at most 10 minutes)."
    import json, time
    fn, deadline = _run_dir()/'resolved.json', time.time() + 600
    while not fn.exists():
        assert time.time() < deadline, "pip's resolves of the Spaces' requirements did not finish in 10 minutes"
        time.sleep(1)
    got = json.loads(fn.read_text())
    shutil.rmtree(fn.parent, ignore_errors=True)  # every worker has collected by now: nothing in /tmp outlives the run
    assert 'error' not in got, got.get('error')
    return got

@pytest.fixture(scope='session')
def demo_model(pytestconfig):
    "The model `produce-classifier demo` makes, run as a user runs it (started at collection, waited for here: 15 minutes at most)."
    import time
    _start_demo(pytestconfig)  # a run that selected its tests after collection
    d, deadline = _demo_dir(pytestconfig), time.time() + 900
    while not (d/'rc').exists():
        assert time.time() < deadline, "produce-classifier demo did not finish in 15 minutes"
        time.sleep(1)
    assert (d/'rc').read_text().strip() == '0', (d/'demo.log').read_text()[-3000:]
    return d/'models'/'model.pkl'

@pytest.fixture
def published(monkeypatch, tmp_path):
    """`produce-classifier publish` run by the CLI's `main` in this process, its Hub client pointed at `endpoint` as the
    environment points the console script's: no saved login, and `token` (None: none). A fresh process costs torch's
    import; what the console script does end to end is tests/test_hub.py's `publish`."""
    from huggingface_hub import constants
    def run(model_dir, repo, endpoint, token='hf_test'):
        for k in [k for k in os.environ if k.startswith('HF_')]: monkeypatch.delenv(k)
        if token: monkeypatch.setenv('HF_TOKEN', token)
        else: monkeypatch.delenv('HF_TOKEN', raising=False)
        for k, v in dict(ENDPOINT=endpoint, HF_TOKEN_PATH=str(tmp_path/'hf-home'/'token'), HF_HUB_DISABLE_XET=True,
                         HF_STORED_TOKENS_PATH=str(tmp_path/'hf-home'/'stored_tokens')).items():
            monkeypatch.setattr(constants, k, v)
        return cli('publish', model_dir, '--repo', repo)
    return run

WEIGHTS = Path(os.environ.get('PRODUCE_WEIGHTS', REPO.parent/'shared'/'weights'/'hf'))

def _weights(monkeypatch) -> str:
    "timm's tf_efficientnet_lite0 with real ImageNet weights, offline, from beside the repository (skipped where missing)."
    if not any(WEIGHTS.glob('models--timm--tf_efficientnet_lite0*')): pytest.skip(f"ImageNet weights not found at {WEIGHTS} (set PRODUCE_WEIGHTS)")
    from huggingface_hub import constants  # read from the environment at import: set both
    for k, v in dict(HF_HUB_CACHE=str(WEIGHTS), HF_HUB_OFFLINE='1').items(): monkeypatch.setenv(k, v)
    monkeypatch.setattr(constants, 'HF_HUB_CACHE', str(WEIGHTS)); monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', True)
    return 'tf_efficientnet_lite0'

@pytest.fixture
def imagenet_weights(monkeypatch):
    "Real ImageNet weights for timm's tf_efficientnet_lite0, offline, from beside the repository (skipped where missing)."
    return _weights(monkeypatch)

# the default recipe (ImageNet weights: the probe, a gentle fine-tune with outlier exposure, WiSE-FT, the prior,
# calibration), small: 10 images of each of the sample's 14 classes, 64 px, 3 epochs after the probe
RECIPE = dict(size=64, max_per_class=10, epochs=3, bs=16, photos='none')

@pytest.fixture(scope='session')
def default_model(sample, tmp_path_factory):
    "The default recipe trained small (`RECIPE`) on the real sample in one process, once a session: its model.pkl."
    from produce_classifier.train import train
    def make(d):
        with pytest.MonkeyPatch.context() as mp:
            train(sample, arch=_weights(mp), out=d/'model.pkl', progress=False, num_workers=0, **RECIPE)
    return _once(tmp_path_factory, 'default_model', make)/'model.pkl'

@pytest.fixture(scope='module')
def browser():
    "Debian's Chromium, driven by Playwright."
    if not Path(CHROMIUM).exists(): pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()
