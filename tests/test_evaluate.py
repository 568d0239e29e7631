"Evaluation on the real Fruits-360 sample: the five reports, an independent recomputation, unknown classes and a corrupt image."
import json
import pytest
from PIL import Image
from fastai.learner import load_learner
from conftest import cli

def evaluate_cli(model, data, out):
    r = cli('evaluate', '--model', model, '--data', data, '--out', out)
    assert r.returncode == 0, r.stderr
    return r

def test_reports_match_an_independent_recomputation(default_model, sample, tmp_path):
    r = evaluate_cli(default_model, sample, tmp_path/'reports')
    files = sorted(p.name for p in (tmp_path/'reports').iterdir())
    assert files == ['confusion_matrix.png', 'metrics.json', 'per_class.csv', 'report.md', 'top_losses.png']
    m = json.loads((tmp_path/'reports'/'metrics.json').read_text())
    learn = load_learner(default_model)
    tests = sorted((sample/'Test').glob('*/*.jpg'))
    right = sum(learn.predict(str(f))[0] == f.parent.name for f in tests)
    assert m['n_images'] == len(tests) == 14 * 15
    assert m['accuracy'] == pytest.approx(right / len(tests), abs=1.5 / len(tests))  # at most one near-tie may flip
    assert m['accuracy'] > 3 / 14  # far above chance (1/14) even after 3 short epochs
    assert m['family_accuracy'] >= m['accuracy'] and m['top5_accuracy'] >= m['accuracy']
    assert f"Test accuracy {m['accuracy']:.4f}" in r.stdout
    for png, (w, h) in (('confusion_matrix.png', (1000, 500)), ('top_losses.png', (400, 400))):
        with Image.open(tmp_path/'reports'/png) as img:
            img.verify()
        with Image.open(tmp_path/'reports'/png) as img:
            assert img.width >= w and img.height >= h and img.width < 4000 and img.height < 4000, img.size
    rows = (tmp_path/'reports'/'per_class.csv').read_text().splitlines()
    assert rows[0] == 'class,family,precision,recall,f1,support' and len(rows) == 15
    assert '"Potato Sweet 1","Sweet Potato"' in (tmp_path/'reports'/'per_class.csv').read_text()

def test_unknown_class_and_corrupt_image_are_reported(default_model, sample, tmp_path):
    "A root with a class the model never learned and one corrupt image: the evaluation completes and names both."
    root = tmp_path/'root'
    for split in ('Training', 'Test'):
        for d in (sample/split).iterdir(): (root/split/d.name).mkdir(parents=True); [(root/split/d.name/f.name).symlink_to(f) for f in d.iterdir()]
        (root/split/'Dragon Fruit 1').mkdir()
        Image.new('RGB', (100, 100), (220, 40, 120)).save(root/split/'Dragon Fruit 1'/'0_100.jpg')
    bad = root/'Test'/'Banana 1'/'corrupt_100.jpg'
    bad.write_bytes((sample/'Test'/'Banana 1').iterdir().__next__().read_bytes()[:300])
    r = evaluate_cli(default_model, root, tmp_path/'reports')
    m = json.loads((tmp_path/'reports'/'metrics.json').read_text())
    assert m['unknown'] == {'Dragon Fruit 1': 1} and m['unreadable'] == [str(bad)]
    assert m['n_images'] == 14 * 15
    report = (tmp_path/'reports'/'report.md').read_text()
    assert 'Dragon Fruit 1 (1 images)' in report and 'corrupt_100.jpg' in report
    assert 'Skipped: 1 unknown Test classes' in r.stdout and 'Skipped: 1 unreadable images' in r.stdout

def test_missing_model_is_one_sentence(tmp_path, synth):
    r = cli('evaluate', '--model', tmp_path/'nope.pkl', '--data', synth)
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert r.stderr.strip() == f"error: No model at {tmp_path/'nope.pkl'}: train one with `produce-classifier train` (or `produce-classifier demo`)."

def test_family_names_every_fruits360_class_as_photo_labels_do(fruits_all, real_photos):
    "Every class of the full dataset gets a family; every family the real photos are labelled with is one of them."
    import csv, re
    from produce_classifier.evaluate import family
    classes = sorted(d.name for d in (fruits_all/'Training').iterdir() if d.is_dir())
    fams = {c: family(c) for c in classes}
    assert len(classes) == 160 and all(re.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)?", f) for f in fams.values()), fams
    labels = {r['family'] for r in csv.DictReader(open(real_photos/'labels.csv'))}
    assert labels <= set(fams.values()), labels - set(fams.values())
    assert (fams['Limes 1'], fams['Maracuja 1'], fams['Passion Fruit 1'], fams['Cantaloupe 2']) == ('Lime', 'Passion Fruit', 'Passion Fruit', 'Cantaloupe')
    assert len(set(fams.values())) == 75, sorted(set(fams.values()))

def test_evaluate_photos_writes_the_real_photo_reports(default_model, real_photos, tmp_path):
    "`evaluate --photos` on real shop photos: every labelled photo counted once, per family, and a contact sheet of mistakes."
    import csv
    rows = list(csv.DictReader(open(real_photos/'labels.csv')))[::12]  # every 12th photo: all kinds of family, quickly
    sub = tmp_path/'photos'; sub.mkdir()
    with open(sub/'labels.csv', 'w') as f: f.write('file,family\n' + ''.join(f"{real_photos/r['file']},{r['family']}\n" for r in rows))
    r = cli('evaluate', '--model', default_model, '--photos', sub, '--out', tmp_path/'rep')
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path/'rep'/'photos_metrics.json').read_text())
    assert m['n_photos'] == len(rows) and m['unreadable'] == []
    assert {f['family']: f['photos'] for f in m['per_family']} == dict(__import__('collections').Counter(r['family'] for r in rows))
    assert 0 <= m['confidently_wrong'] <= m['answered'] <= 1 and m['crops'] is False  # the app's rule: each photo seen whole
    assert f"family accuracy {m['family_accuracy']:.1%} on {len(rows)} photos" in r.stdout
    with Image.open(tmp_path/'rep'/'photos_mistakes.png') as img: assert img.width == 6 * 160 and img.height >= 190

def test_evaluate_photos_bad_folder_is_one_sentence(tmp_path):
    r = cli('evaluate', '--photos', tmp_path/'nowhere')
    assert r.returncode == 1 and 'Traceback' not in r.stderr
    assert r.stderr.strip() == f"error: {tmp_path/'nowhere'} is not a folder: give a folder of family folders, or one with a labels.csv (file,family)."

def test_textbook_baseline_learns_the_test_split(sample, imagenet_weights):
    "The baseline `bench/real_photos.py` measures against, from real ImageNet weights: right on most Test images it never saw."
    from produce_classifier.photos import textbook_learner
    from produce_classifier.data import image_files
    learn = textbook_learner(sample, imagenet_weights, size=64, epochs=2, bs=8, max_per_class=10, num_workers=0)
    assert len(learn.dls.train_ds) + len(learn.dls.valid_ds) == 14 * 10
    test = image_files(sample, 'Test')
    with learn.no_bar(): acc = float(learn.validate(dl=learn.dls.test_dl(test, with_labels=True))[1])
    assert acc >= 0.6, acc  # chance is 1/14
