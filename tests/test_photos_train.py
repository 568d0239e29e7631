"Learning from real photos as users run it: the loop from the app's flag to `train --photos`, labels, hold-outs, bad files."
import json
import pytest
from gradio_client import Client, handle_file
from produce_classifier.families import family
from produce_classifier.data import SYNTH_CLASSES, make_shop_photos, read_labelled
from produce_classifier.monitor import monitor
from produce_classifier.photos import evaluate_photos
from produce_classifier.train import tiny_model
from conftest import cli
from test_app import serve

TINY = dict(arch='resnet18', size=64, bs=16, lr=3e-3, pretrained=False, epochs=6, seed=42, progress=False, num_workers=0)  # as `tiny_model`

@pytest.fixture(scope='module')
def loop(tmp_path_factory):
    "The loop on synthetic data: visitors flag shop photos through the app, the model is trained again with the flagged folder."
    tmp = tmp_path_factory.mktemp('loop')
    root, old = tiny_model()
    shop, unseen = make_shop_photos(tmp/'shop', n=10, seed=1), make_shop_photos(tmp/'unseen', n=6, seed=2)
    cls = {family(c): c for c in SYNTH_CLASSES}  # the class a visitor picks in the app's list for a photo of that family
    demo, url = serve(old, log_dir=tmp/'logs')
    try:
        client = Client(url, verbose=False)
        said = []
        for f, fam in read_labelled(shop):  # as a visitor does: the answer first, then what it really is
            client.predict(handle_file(str(f)), api_name='/predict')
            said.append(client.predict(handle_file(str(f)), cls[fam], api_name='/flag'))
    finally: demo.close()
    (tmp/'logs'/'flagged'/'Lemon 1'/'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')  # a file damaged on disk
    report = monitor(tmp/'logs', tmp/'monitor', old)
    r = cli('train', '--data', root, '--photos', tmp/'logs'/'flagged', '--out', tmp/'new'/'model.pkl', '--arch', 'resnet18',
            '--size', '64', '--bs', '16', '--lr', '3e-3', '--no-pretrained', '--epochs', '6', '--seed', '42', cwd=tmp)  # a [data] dir with no download: the flagged photos alone
    assert r.returncode == 0, r.stderr
    return dict(tmp=tmp, old=old, new=tmp/'new'/'model.pkl', unseen=unseen, said=said, report=report, out=r.stdout)

def test_flagged_photos_reach_the_monitor(loop):
    assert all(s.startswith('Thank you') for s in loop['said']), loop['said'][:3]
    assert loop['report']['flagged'] == {c: 10 for c in sorted(SYNTH_CLASSES)} | {'Lemon 1': 11}

def test_the_new_model_answers_shop_photos_better(loop):
    "On shop photos neither model saw, the model trained with the flagged folder names the family more often than the old one."
    old = evaluate_photos(loop['unseen'], loop['old'], out=loop['tmp']/'r-old')
    new = evaluate_photos(loop['unseen'], loop['new'], out=loop['tmp']/'r-new')
    assert new['family_accuracy'] >= old['family_accuracy'] + 0.1, (old['family_accuracy'], new['family_accuracy'])

def test_the_model_says_which_photos_trained_it(loop):
    "model.json: the folder, counts per family, a sha256 and a fold per photo; every readable photo trains, each fold sets the threshold."
    info = json.loads(loop['new'].with_suffix('.json').read_text())
    p, flagged = info['photos'], loop['tmp']/'logs'/'flagged'
    assert p['folders'] == [str(flagged)]
    assert p['trained'] == {family(c): 10 for c in SYNTH_CLASSES}  # the damaged file is not counted
    assert len({f['sha256'] for f in p['files']}) == 80 and {f['fold'] for f in p['files']} == set(range(5))
    assert all({f['fold'] for f in p['files'] if family(f['label']) == fam} == set(range(5)) for fam in p['trained'])
    assert p['unreadable'] == [str(flagged/'Lemon 1'/'broken.jpg')]
    assert 'could not be opened: broken.jpg' in loop['out']  # listed, and training went on
    curve, m = info['calibration']['photo_curve'], info['photo_metrics']
    assert (m['n_photos'], m['folds'], curve[0]['threshold']) == (80, 5, 0.5) and curve[0]['answered'] <= 80

def test_an_unknown_label_is_one_sentence_before_training(synth, tmp_path):
    for d in ('Lemmon', 'Lime'):
        (tmp_path/'photos'/d).mkdir(parents=True); (tmp_path/'photos'/d/'a.jpg').write_bytes((synth/'Test'/'Lemon 1'/'0_100.jpg').read_bytes())
    r = cli('train', '--data', synth, '--photos', tmp_path/'photos', '--out', tmp_path/'m'/'model.pkl', '--arch', 'resnet18',
            '--size', '32', '--no-pretrained', '--epochs', '1')
    assert r.returncode == 1 and "The photo label 'Lemmon' is neither a class nor a family of this dataset (closest: Lemon" in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr and not (tmp_path/'m').exists()  # nothing trained, nothing written
