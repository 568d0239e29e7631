"Inference as users meet it: `produce-classifier predict` on real files, and the Predictor on 12 MP phone photos."
import json, subprocess
import pytest
from produce_classifier.inference import Predictor, open_image
from conftest import PHOTOS

def predict(*args):
    return subprocess.run(['produce-classifier', 'predict', *map(str, args)], capture_output=True, text=True, timeout=300)

def test_predict_cli_names_the_class(sample_model, sample):
    fns = [sorted(d.iterdir())[0] for d in sorted((sample/'Test').iterdir())]
    r = predict(*fns, '--model', sample_model, '--json', '--top-k', 3)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == [str(f) for f in fns] and all(len(v) == 3 for v in out.values())
    assert sum(v[0]['label'] == f.parent.name for f, v in zip(fns, out.values())) >= 9
    r = predict(fns[0], '--model', sample_model)
    assert r.returncode == 0 and r.stdout.startswith(f"{fns[0]}: ") and '%)' in r.stdout

def test_predict_cli_bad_files_are_one_sentence_each(sample_model, sample, tmp_path):
    txt = tmp_path/'notes.txt'; txt.write_text('hello')
    good = sorted((sample/'Test'/'Banana 1').iterdir())[0]
    r = predict(txt, tmp_path/'gone.jpg', good, '--model', sample_model)
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert r.stderr.splitlines() == ["error: notes.txt is not an image this app can read: upload a JPEG, PNG or WebP photo.",
                                     "error: gone.jpg does not exist: check the path."]
    assert r.stdout.startswith(f"{good}: ")  # the good file is still classified

def test_phone_photos_decode_reduced_and_match_learn_predict_top1(sample_model):
    "12 MP JPEGs are decoded at reduced size; the Predictor's top class agrees with learn.predict's on them."
    if not PHOTOS.exists(): pytest.skip(f"real photos not found at {PHOTOS} (set PRODUCE_PHOTOS)")
    pred = Predictor(sample_model)
    learn_ = __import__('produce_classifier.train', fromlist=['load_model']).load_model(sample_model)
    for fn in sorted(PHOTOS.glob('*.jpg')):
        img = open_image(fn, size=pred.size)
        assert max(img.size) < 4032 / 2 and min(img.size) >= 4 * pred.size  # reduced, but plenty for the model
        ours = pred.probs([pred.load(fn, crops=False)])[0]  # one view, as learn.predict sees it
        _, idx, theirs = learn_.predict(str(fn))
        assert int(ours.argmax()) == int(idx) or (theirs.max() - theirs[ours.argmax()]) < 0.02, fn.name
        assert (ours - theirs).abs().max() < 0.05, fn.name  # reduced decode: close, not bit-identical
