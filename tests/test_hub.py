"`produce-classifier publish` against a recording stand-in for the Hugging Face Hub on 127.0.0.1: what arrives, and one sentence for each way it can fail."
import hashlib, json, os, shutil, socket, subprocess
import pytest
from hub_server import serve

@pytest.fixture
def hub():
    srv, state = serve()
    yield srv.url, state
    srv.shutdown()

def publish(model_dir, repo, endpoint, tmp_path, token='hf_test', *args):
    "Run the CLI as a user would, with HF_ENDPOINT pointing at `endpoint`, no saved login, and `token` (None: no token)."
    env = {k: v for k, v in os.environ.items() if not k.startswith('HF_')}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path/'hf-home'), HF_HUB_DISABLE_XET='1', HF_HUB_DISABLE_TELEMETRY='1')
    if token: env['HF_TOKEN'] = token
    return subprocess.run(['produce-classifier', 'publish', str(model_dir), '--repo', repo, *args], capture_output=True, text=True, env=env, timeout=300)

def test_publish_uploads_the_model_examples_reports_and_card_in_one_commit(demo_model, hub, published, tmp_path):
    url, state = hub
    model_dir = tmp_path/'model'; shutil.copytree(demo_model.parent, model_dir)
    (model_dir/'reports').mkdir(exist_ok=True)
    (model_dir/'reports'/'metrics.json').write_text(json.dumps(dict(accuracy=0.9512, top5_accuracy=0.99, family_accuracy=0.97, n_images=40)))
    r = publish(model_dir, 'someone/produce', url, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"Published {model_dir} to {url}/someone/produce"
    assert state.repos['someone/produce']['name'] == 'produce' and state.repos['someone/produce'].get('type', 'model') == 'model'
    files = state.commits['someone/produce']
    assert files['model.pkl'] == (model_dir/'model.pkl').read_bytes() and files['model.json'] == (model_dir/'model.json').read_bytes()
    info = json.loads(files['model.json'])  # the ONNX export, written beside the pickle and recorded, for CPU Spaces
    assert files['model.onnx'] == (model_dir/'model.onnx').read_bytes() and info['onnx_sha256'] == hashlib.sha256(files['model.onnx']).hexdigest()
    assert info['sha256'] == hashlib.sha256(files['model.pkl']).hexdigest()
    examples = sorted(f.name for f in (model_dir/'examples').iterdir())
    assert sorted(p.split('/', 1)[1] for p in files if p.startswith('examples/')) == examples and examples
    assert files['reports/metrics.json'] == (model_dir/'reports'/'metrics.json').read_bytes()
    assert not any(p.startswith('checkpoints') or p.endswith('.csv') and not p.startswith('reports/') for p in files)  # only what a user needs
    card = files['README.md'].decode()
    front = state.metadata[-1]  # the card's front matter, parsed as YAML as the Hub does
    assert front['library_name'] == 'fastai' and front['pipeline_tag'] == 'image-classification' and front['license'] == 'cc-by-sa-4.0'
    assert front['model-index'][0]['results'][0]['metrics'][0] == {'type': 'accuracy', 'name': 'Test accuracy', 'value': 0.9512}
    assert card.startswith('---\n') and 'Fruits-360 by Mihai Oltean' in card
    assert len([p for m, p in state.requests if m == 'POST' and '/commit/' in p]) == 1  # one commit: all or nothing
    (model_dir/'reports'/'metrics.json').write_text(json.dumps(dict(accuracy=0.9613, top5_accuracy=0.99, family_accuracy=0.97, n_images=40)))
    r = published(model_dir, 'someone/produce', url)  # publishing again updates the same repo
    assert r.returncode == 0, r.stderr
    assert state.metadata[-1]['model-index'][0]['results'][0]['metrics'][0]['value'] == 0.9613

def test_publish_failures_are_one_sentence_and_leave_nothing(demo_model, hub, published, tmp_path):
    url, state = hub
    model_dir = tmp_path/'model'; shutil.copytree(demo_model.parent, model_dir)
    r = published(model_dir, 'someone/produce', url, token=None)
    assert r.returncode == 1 and r.stderr.strip() == "error: Not logged in to Hugging Face: set HF_TOKEN or run `hf auth login`, then publish again."
    state.read_only.add('hf_read')
    r = published(model_dir, 'someone/produce', url, token='hf_read')
    assert r.returncode == 1 and r.stderr.strip() == "error: This token cannot write to someone/produce: use a token with write access (huggingface.co/settings/tokens) or a repo you own."
    state.taken.add('someone/taken')
    r = published(model_dir, 'someone/taken', url)
    assert r.returncode == 1 and r.stderr.strip() == "error: someone/taken is taken by another kind of repository (a Space or a dataset): choose another name."
    state.fail_commit = True  # the upload breaks off before the commit: the repo must show nothing of it
    r = published(model_dir, 'someone/produce', url)
    assert r.returncode == 1 and r.stderr.strip().startswith("error: The Hugging Face Hub answered 500 while publishing someone/produce: nothing was published")
    r = published(tmp_path, 'someone/produce', url)
    assert r.returncode == 1 and r.stderr.strip() == f"error: {tmp_path} has no model.pkl: publish a folder written by `produce-classifier train` (or `demo`)."
    assert state.commits == {}
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]  # nothing listens there: no network
    r = published(model_dir, 'someone/produce', f'http://127.0.0.1:{port}')
    assert r.returncode == 1 and r.stderr.strip() == "error: Could not reach the Hugging Face Hub: check the network connection, then publish again (nothing was uploaded)."
