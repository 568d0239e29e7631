"The GroceryStoreDataset as a user gets it: downloaded from a local server standing in for GitHub, found again offline, every failure one sentence, its labels mapped onto Fruits-360's families."
import functools, http.server, threading, zipfile
import pytest
from produce_classifier.settings import UserError, settings
from produce_classifier.core import NOT_PRODUCE, UNKNOWN_PRODUCE, family
from produce_classifier.shops import get_grocery, grocery_classes, labels_sha256, read_grocery
from conftest import REPO

GROCERY = REPO.parent/'shared'/'grocery-store'
COMMIT = settings().data.grocery_commit

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "A local server with the pinned commit's archive zip (train and val from ../shared), a copy without val.txt, and one cut short."
    if not (GROCERY/'dataset'/'classes.csv').exists(): pytest.skip(f"GroceryStoreDataset not found at {GROCERY}")
    d = tmp_path_factory.mktemp('site')
    files = sorted(f for f in GROCERY.rglob('*') if f.is_file())
    for name, skip in ((f'{COMMIT}.zip', None), ('noval.zip', 'dataset/val.txt')):
        with zipfile.ZipFile(d/name, 'w') as z:  # GitHub's layout: one folder named after the repository and commit
            for f in files:
                if str(f.relative_to(GROCERY)) != skip: z.write(f, f'GroceryStoreDataset-{COMMIT}/{f.relative_to(GROCERY)}')
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_GET(self):
            if self.path != '/cut.zip': return super().do_GET()
            data = (d/f'{COMMIT}.zip').read_bytes()  # the connection drops after a third of the archive
            self.send_response(200); self.send_header('Content-Length', str(len(data))); self.end_headers()
            self.wfile.write(data[:len(data) // 3]); self.wfile.flush(); self.connection.close()
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(d)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()

def test_download_then_found_again_offline(site, tmp_path, monkeypatch):
    root = get_grocery(dest=tmp_path, url=f'{site}/{COMMIT}.zip')
    assert labels_sha256(root) == settings().data.grocery_sha256 and len(read_grocery(root, {'Apple'})) == 2936
    assert [p.name for p in tmp_path.iterdir()] == [root.name]  # no partial file, no temporary folder
    def refuse(*a, **k): raise OSError(101, 'Network is unreachable')
    monkeypatch.setattr('urllib.request.urlopen', refuse)
    assert get_grocery(dest=tmp_path) == root

def test_nothing_cached_and_offline_is_one_sentence(tmp_path, offline):
    with pytest.raises(UserError, match=r"The GroceryStoreDataset is not in .* could not be downloaded from https://github.com/marcusklasson/GroceryStoreDataset/archive/"):
        get_grocery(dest=tmp_path)
    assert list(tmp_path.iterdir()) == []

def test_interrupted_download_leaves_nothing(site, tmp_path):
    with pytest.raises(UserError, match=r"could not be downloaded .* of .* bytes arrived"):
        get_grocery(dest=tmp_path, url=f'{site}/cut.zip')
    assert list(tmp_path.iterdir()) == []

def test_checksum_mismatch_and_missing_split_are_one_sentence_and_leave_nothing(site, tmp_path):
    with pytest.raises(UserError, match="is not the pinned version"):
        get_grocery(dest=tmp_path, url=f'{site}/{COMMIT}.zip', sha256='0' * 64)
    with pytest.raises(UserError, match=r"has no dataset/val.txt: it is not a whole GroceryStoreDataset"):
        get_grocery(dest=tmp_path, url=f'{site}/noval.zip')
    assert list(tmp_path.iterdir()) == []

def test_every_class_maps_to_a_fruits360_family_not_produce_or_unknown(fruits_all):
    fams = {family(d.name) for d in (fruits_all/'Training').iterdir()}
    labels = grocery_classes(GROCERY, fams)
    names = {int(l.split(',')[1]): l.split(',')[0] for l in (GROCERY/'dataset'/'classes.csv').read_text().splitlines()[1:]}
    packaged = {int(l.split(',')[1]) for s in ('train', 'val') for l in (GROCERY/'dataset'/f'{s}.txt').read_text().splitlines() if '/Packages/' in l}
    assert len(labels) == 81 and all(l in fams | {UNKNOWN_PRODUCE} for i, l in labels.items() if i not in packaged)
    assert all(labels[i] == NOT_PRODUCE for i in packaged) and len(packaged) == 31
    by_name = {names[i]: l for i, l in labels.items()}
    assert {n: by_name[n] for n in ('Asparagus', 'Garlic', 'Leek', 'Brown-Cap-Mushroom')} == dict.fromkeys(('Asparagus', 'Garlic', 'Leek', 'Brown-Cap-Mushroom'), UNKNOWN_PRODUCE)
    assert {n: by_name[n] for n in ('Satsumas', 'Red-Grapefruit', 'Aubergine', 'Red-Beet', 'Carrots', 'Galia-Melon', 'Watermelon', 'Sweet-Potato', 'Floury-Potato')} == \
        dict(Satsumas='Mandarine', **{'Red-Grapefruit': 'Grapefruit', 'Aubergine': 'Eggplant', 'Red-Beet': 'Beetroot', 'Carrots': 'Carrot',
             'Galia-Melon': 'Melon', 'Watermelon': 'Watermelon', 'Sweet-Potato': 'Sweet Potato', 'Floury-Potato': 'Potato'})

def test_a_grocery_root_is_a_photo_folder_for_training(sample):
    from produce_classifier.train import photo_set
    vocab = sorted(d.name for d in (sample/'Training').iterdir())
    shots = photo_set([GROCERY], vocab)
    labels = [l for _, l in shots['items']]
    assert len(labels) == 2936 and not any('/test/' in str(f) for f, _ in shots['items'])  # never the test split
    known = [i for i, l in enumerate(labels) if l not in (NOT_PRODUCE, UNKNOWN_PRODUCE)]
    assert known and shots['targets'][known].any(1).all() and not shots['targets'][[i for i in range(len(labels)) if i not in known]].any()
