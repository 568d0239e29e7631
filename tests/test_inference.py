"Inference as users meet it: `produce-classifier predict` on real files, and the Predictor on 12 MP phone photos."
import io, json, shutil
import numpy as np
import pytest
from PIL import Image
from produce_classifier.settings import UserError
from produce_classifier.images import open_image
from produce_classifier.model import Predictor
from conftest import PHOTOS, cli

def predict(*args): return cli('predict', *args)

def test_predict_cli_names_the_class(default_model, sample):
    fns = [sorted(d.iterdir())[0] for d in sorted((sample/'Test').iterdir())]
    r = predict(*fns, '--model', default_model, '--json', '--top-k', 3)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == [str(f) for f in fns] and all(len(v['top']) == 3 for v in out.values())
    assert sum(v['top'][0]['label'] == f.parent.name for f, v in zip(fns, out.values())) >= 9
    r = predict(fns[0], '--model', default_model)
    assert r.returncode == 0 and r.stdout.startswith(f"{fns[0]}: ") and ' | ' in r.stdout and '%)' in r.stdout

def test_predict_explain_draws_where_it_looked_over_the_photo_as_sent(default_model, tmp_path):
    "`predict --explain DIR` on a 3024x4032 phone photo writes the class map over the photo (3:4, at a screen's size), not over the model's 64 px view."
    if not (PHOTOS/'apple.jpg').exists(): pytest.skip(f"real photos not found at {PHOTOS} (set PRODUCE_PHOTOS)")
    r = predict(PHOTOS/'apple.jpg', '--model', default_model, '--explain', tmp_path/'maps')
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path/'maps'/'apple.png').size == (576, 768) and not list((tmp_path/'maps').glob('.*'))
    headline = r.stdout.split(': ', 1)[1].split(' | ')[0]
    assert ('%' in r.stdout) == (not headline.startswith('Not sure')), r.stdout  # numbers beside an answer only

def test_predict_cli_bad_files_are_one_sentence_each(default_model, sample, tmp_path):
    txt = tmp_path/'notes.txt'; txt.write_text('hello')
    good = sorted((sample/'Test'/'Banana 1').iterdir())[0]
    r = predict(txt, tmp_path/'gone.jpg', good, '--model', default_model)
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert r.stderr.splitlines() == ["error: notes.txt is not an image this app can read: use a JPEG, HEIC, PNG, WebP, AVIF, GIF, BMP or TIFF photo.",
                                     "error: gone.jpg does not exist: check the path."]
    assert r.stdout.startswith(f"{good}: ")  # the good file is still classified

def test_phone_photos_decode_reduced_and_match_learn_predict_top1():
    "12 MP JPEGs are decoded at reduced size; the Predictor's top class agrees with learn.predict's on them."
    from produce_classifier.train import tiny_model
    if not PHOTOS.exists(): pytest.skip(f"real photos not found at {PHOTOS} (set PRODUCE_PHOTOS)")
    _, model = tiny_model()  # no family prior: learn.predict gives the classes' probabilities alone
    pred = Predictor(model, zoom=1)  # every view at the input size, as learn.predict sees a photo
    learn_ = __import__('produce_classifier.model', fromlist=['load_model']).load_model(model)
    for fn in sorted(PHOTOS.glob('*.jpg')):
        img = open_image(fn, size=pred.size)
        assert max(img.size) < 4032 / 2 and min(img.size) >= 4 * pred.size  # reduced, but plenty for the model
        ours = pred.probs([pred.load(fn, crops=False)])[0]  # one view, as learn.predict sees it
        _, idx, theirs = learn_.predict(str(fn))
        assert int(ours.argmax()) == int(idx) or (theirs.max() - theirs[ours.argmax()]) < 0.02, fn.name
        assert np.abs(ours - theirs.numpy()).max() < 0.05, fn.name  # reduced decode: close, not bit-identical

def _bad_files(tmp_path) -> dict:
    "A damaged AVIF (libavif raises RuntimeError, not OSError) and a TIFF cut short, as a visitor might upload them."
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8))
    out = {}
    for fmt, fix in [('AVIF', lambda d: d[:200] + bytes(64) + d[264:]), ('TIFF', lambda d: d[:len(d) // 3])]:
        buf = io.BytesIO(); img.save(buf, fmt); fn = tmp_path/f'bad.{fmt.lower()}'
        fn.write_bytes(fix(buf.getvalue())); out[fmt] = fn
    return out

def test_one_bad_upload_never_fails_its_batch(default_model, sample, tmp_path):
    "The app's batched handler, as Gradio calls it: 7 good uploads with a damaged AVIF, a cut TIFF or an empty request."
    from produce_classifier.app import make_classify
    pred = Predictor(default_model)
    classify = make_classify(pred, threshold=0.0)
    good = [sorted(d.iterdir())[0] for d in sorted((sample/'Test').iterdir())[:7]]
    alone = [a['label'] for a in pred.classify(good, threshold=0.0)]  # each answered on its own
    for bad in [*_bad_files(tmp_path).values(), None]:
        ans = classify([*map(str, good[:3]), None if bad is None else str(bad), *map(str, good[3:])])[0]
        assert [a['label'] for a in ans[:3] + ans[4:]] == alone  # every good upload keeps its own answer
        assert ans[3]['label'].startswith('Error: ') and ans[3]['confidences'] == {}, ans[3]
        assert ('truncated or corrupt' in ans[3]['label'] or 'not an image' in ans[3]['label']) if bad else 'No photo was given' in ans[3]['label']

def test_fuzzed_images_give_a_class_or_a_sentence(default_model):
    "A few hundred seeded byte mutations of JPEG, PNG, TIFF, AVIF and WebP files: each is classified or refused in one sentence."
    pred, rng = Predictor(default_model, crops=False), np.random.default_rng(17)
    img = Image.fromarray(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    seeds = {}
    for fmt in ('JPEG', 'PNG', 'TIFF', 'AVIF', 'WEBP'):
        buf = io.BytesIO(); img.save(buf, fmt); seeds[fmt] = buf.getvalue()
    answered = refused = 0
    for i in range(400):
        d = bytearray(seeds[list(seeds)[i % 5]])
        for _ in range(rng.integers(1, 8)): d[rng.integers(0, len(d))] = rng.integers(0, 256)
        if rng.random() < 0.3: d = d[:rng.integers(1, len(d))]
        try: pred.predict([bytes(d)], k=1); answered += 1
        except UserError as e: refused += 1; assert str(e).startswith('the upload '), e
    assert answered + refused == 400 and answered and refused

def test_cli_files_and_model_json_faults_are_sentences(default_model, sample, tmp_path):
    bad = _bad_files(tmp_path)
    good = sorted((sample/'Test'/'Banana 1').iterdir())[0]
    r = predict(bad['AVIF'], good, bad['TIFF'], '--model', default_model)
    assert r.returncode == 1 and 'Traceback' not in r.stderr and r.stdout.startswith(f"{good}: ")
    assert len(r.stderr.splitlines()) == 2 and all(l.startswith(('error: bad.avif ', 'error: bad.tiff ')) for l in r.stderr.splitlines())
    r = predict(good, '--model', default_model, '--top-k', '0')
    assert r.returncode == 2 and "argument --top-k: '0' is not a whole number of at least 1" in r.stderr
    r = predict(good, '--model', default_model, '--top-k', '-1')
    assert r.returncode == 2 and "argument --top-k: '-1' is not a whole number of at least 1" in r.stderr
    assert Predictor(default_model).predict([]) == []
    model = tmp_path/'m'/'model.pkl'; model.parent.mkdir(); shutil.copy(default_model, model)
    for text, says in [(None, 'model.json is missing'), ('{"vocab": [', 'model.json is not valid JSON'),
                       (json.dumps(dict(json.loads(default_model.with_suffix('.json').read_text()), calibration={'temperature': 0})), 'usable calibration (temperature 0)')]:
        model.with_suffix('.json').unlink(missing_ok=True)
        if text: model.with_suffix('.json').write_text(text)
        r = predict(good, '--model', model)
        assert r.returncode == 1 and 'Traceback' not in r.stderr and says in r.stderr, r.stderr
        from produce_classifier.app import make_demo
        assert says in str(make_demo(model).config), says  # the app starts, on its page saying what is wrong

def test_heic_and_avif_photos_get_the_class_their_png_gets(default_model, sample, tmp_path):
    "iPhones save HEIC and newer Androids AVIF: the same Test images in those formats get the class the lossless PNG gets."
    pred = Predictor(default_model)
    fns = [sorted(d.iterdir())[0] for d in sorted((sample/'Test').iterdir())[:6]]
    for fmt in ('HEIF', 'AVIF'):
        same = 0
        for fn in fns:
            png, phone = tmp_path/f'{fn.stem}.png', tmp_path/f'{fn.stem}.{fmt.lower()}'
            Image.open(fn).save(png); Image.open(fn).save(phone, fmt, quality=90)
            same += pred.predict([png], k=1)[0][0][0] == pred.predict([phone], k=1)[0][0][0]
        assert same >= 5, (fmt, same)  # lossy at quality 90: the top class may move on a borderline image
    r = predict(phone, '--model', default_model, '--json')
    assert r.returncode == 0 and json.loads(r.stdout)[str(phone)]['top'][0]['label'] in pred.vocab

def test_the_family_prior_travels_into_onnx(sample, tmp_path):
    "A network with ImageNet's family prior (`FamilyPrior`), exported to ONNX, gives the Predictor's probabilities on a big photo, the family ImageNet is sure of included."
    import torch
    from produce_classifier.data import image_files
    from produce_classifier.model import load_model
    from produce_classifier.model import FamilyPrior
    from produce_classifier.serving import OnnxPredictor, to_onnx
    from produce_classifier.train import export
    from produce_classifier.train import tiny_model
    _, model = tiny_model()  # a ResNet18 without a prior, from scratch
    learn = load_model(model)
    fc = torch.nn.Linear(512, 1000)  # a stand-in for the body's ImageNet classifier: sure of a banana, whatever it sees
    with torch.no_grad(): fc.weight.zero_(); fc.bias.zero_(); fc.bias[954] = 20.
    learn.model = FamilyPrior(learn.model, fc, list(learn.dls.vocab), 0.5)
    saved = json.loads(model.with_suffix('.json').read_text())
    info = {k: v for k, v in saved.items() if k not in ('vocab', 'size', 'normalize', 'sha256', 'date', 'versions')}
    out = export(learn, tmp_path/'model.pkl', dict(info, calibration={**saved['calibration'], 'zoom': 2.0}))  # zoomed, as a pretrained model is
    big = Image.new('RGB', (400, 400), 'white')  # four Fruits-360 frames, none of them a banana
    frames = [f for f in image_files(sample, 'Test', max_per_class=1) if 'Banana' not in f.parent.name][:4]
    for i, f in enumerate(frames): big.paste(Image.open(f).convert('RGB').resize((200, 200)), (200 * (i % 2), 200 * (i // 2)))
    pred = Predictor(out, crops=True)  # ImageNet's sure family takes the answer on a photo seen whole and as tiles
    onnx, x = OnnxPredictor(to_onnx(out), crops=True), pred.load(big)
    assert x.shape == (6, 3, 128, 128)  # the whole photo and its tiles, at twice the input size
    ours, theirs = pred.probs([x])[0], onnx.probs([onnx.load(big)])[0]
    assert np.abs(ours - theirs).max() < 1e-4
    bananas = [i for i, v in enumerate(pred.vocab) if v.startswith('Banana')]
    assert theirs[bananas].sum() > 0.99, list(zip(pred.vocab, theirs.round(3)))  # ImageNet's banana, not what the head makes of the frames
    assert [a['label'] for a in pred.classify([big]) + onnx.classify([big])] == ['Banana'] * 2
    # where it looked: the class maps come out of ONNX as a second output, the same as torch's
    a, b = pred.classify([big], explain=True)[0], onnx.classify([big], explain=True)[0]
    assert a['map'].shape == b['map'].shape == (4, 4) and np.abs(a['map'] - b['map']).max() < 1e-4
    assert a['overlay'].size == b['overlay'].size == big.size  # drawn over the photo as it was sent, not the 128 px view

def test_names_people_use_sum_what_the_model_said(fruits_all, default_model, sample):
    "Every class of Fruits-360 gets a display name with no number; the families and varieties shown sum the model's classes."
    import re
    from produce_classifier.families import display_name, family
    from produce_classifier.data import image_files
    names = [display_name(d.name) for d in sorted((fruits_all/'Training').iterdir())]
    assert len(names) == 160 and not [n for n in names if re.search(r'\d\W*$', n)], names
    pred = Predictor(default_model)
    fns = image_files(sample, 'Test', max_per_class=1)
    for a, row in zip(pred.classify(fns), pred.probs([pred.load(f) for f in fns], calibrated=True)):
        for fam, q in a['families'].items(): assert abs(q - row[[family(v) == fam for v in pred.vocab]].sum()) < 1e-9
        for name, q in a['varieties'].items(): assert abs(q - row[[display_name(v) == name for v in pred.vocab]].sum()) < 1e-9
        assert a['label'] in {*a['varieties'], *a['families']} or a['label'].startswith('Not sure (best guess: ')
