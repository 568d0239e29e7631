"`produce-classifier predict` on many photos: folders, zips and patterns, answers streamed to a file, a killed run continued."
import csv, json, shutil, signal, subprocess, time
import pytest
from produce_classifier.data import make_synthetic
from produce_classifier.train import tiny_model
from produce_classifier.serving import load_predictor
from conftest import cli

@pytest.fixture(scope='module')
def model():
    return tiny_model()[1]

def test_folders_zips_and_patterns_each_photo_once_with_the_apps_answer(model, synth, tmp_path):
    "A folder, a zip of another, a pattern over the first folder and two bad files: one JSON line each, in order, as the API answers."
    shutil.copytree(synth/'Test'/'Lemon 1', tmp_path/'in'/'Lemon 1')
    shutil.make_archive(str(tmp_path/'kiwis'), 'zip', synth/'Test', 'Kiwi 1')
    (tmp_path/'notes.txt').write_text('not a photo')
    args = [tmp_path/'in', tmp_path/'kiwis.zip', f"{tmp_path/'in'}/*/*.jpg", tmp_path/'notes.txt', tmp_path/'gone.jpg']
    r = cli('predict', '--model', model, '--out', tmp_path/'answers.jsonl', '--workers', 2, '--bs', 2, *args)
    rows = [json.loads(l) for l in (tmp_path/'answers.jsonl').read_text().splitlines()]
    assert r.returncode == 1 and r.stdout.strip() == f"Answered 10 photos into {tmp_path/'answers.jsonl'}; 2 could not be read (their rows say why)."
    lemons = sorted((tmp_path/'in'/'Lemon 1').iterdir())
    assert [x['file'] for x in rows] == [*map(str, lemons), *(f"{tmp_path/'kiwis.zip'}/Kiwi 1/{f.name}" for f in sorted((synth/'Test'/'Kiwi 1').iterdir())),
                                         str(tmp_path/'notes.txt'), str(tmp_path/'gone.jpg')]
    api = [a['label'] for a in load_predictor(model).classify([*lemons, *sorted((synth/'Test'/'Kiwi 1').iterdir())])]
    assert [x['verdict'] for x in rows[:10]] == api and all(x['error'] is None and x['families'] for x in rows[:10])
    assert rows[10]['error'].startswith('notes.txt is not an image') and rows[11]['error'] == 'gone.jpg does not exist: check the path.'
    r = cli('predict', '--model', model, '--out', tmp_path/'answers.txt', tmp_path/'in')
    assert r.returncode == 1 and r.stderr.strip() == f"error: {tmp_path/'answers.txt'} is neither .csv nor .jsonl: name the answers file for the format you want."

def _rows(fn) -> list:
    "The complete rows of the CSV `fn` (a line cut short by a kill is not one)."
    text = fn.read_text()
    return list(csv.DictReader(text[:text.rfind('\n') + 1].splitlines()))

def test_a_killed_run_is_continued_and_answers_each_photo_exactly_once(model, tmp_path):
    "600 photos: the command is killed after its first answers are written; run again, the file holds each photo once."
    photos = make_synthetic(tmp_path/'many', n_train=1, n_test=75, seed=3)/'Test'
    out = tmp_path/'answers.csv'
    args = ['predict', '--model', model, '--out', out, '--workers', 2, '--bs', 16, photos]
    p = subprocess.Popen(['produce-classifier', *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while p.poll() is None and time.time() < deadline and not (out.exists() and len(_rows(out)) >= 16): time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    before = _rows(out)
    assert 16 <= len(before) < 600, len(before)  # stopped part way
    r = cli(*args)
    assert r.returncode == 0 and r.stdout.strip() == f"Answered {600 - len(before)} photos into {out}.", r.stdout + r.stderr
    after = _rows(out)
    files = sorted(str(f) for f in photos.rglob('*.jpg'))
    assert sorted(x['file'] for x in after) == files  # each photo exactly once
    assert after[:len(before)] == before and out.read_text().count('file,verdict') == 1  # kept as written, one header
