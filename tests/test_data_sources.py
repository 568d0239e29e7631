"Where the dataset comes from when things go wrong: no network, no credentials, interrupted downloads and extractions."
import errno, shutil, zipfile
from pathlib import Path
import pytest
import kagglehub
from kagglehub.cache import Cache
from kagglehub.handle import parse_dataset_handle
from produce_classifier.data import extract_zip, get_fruits360
from produce_classifier.settings import UserError, settings

def _cache_pinned_copy(synth):
    "Put `synth` in kagglehub's cache as the pinned version, as an earlier online run would have."
    cfg = settings().data
    h = parse_dataset_handle(f"{cfg.kaggle_handle}/versions/{cfg.kaggle_version}")
    dest = Path(Cache().get_path(h))/'fruits-360_100x100'/'fruits-360'
    shutil.copytree(synth, dest)
    Cache().mark_as_complete(h)
    return dest

def test_cached_pinned_version_found_offline(synth, no_kaggle, offline):
    cached = _cache_pinned_copy(synth)
    assert get_fruits360() == cached

def test_nothing_cached_and_offline_says_so(no_kaggle, offline):
    with pytest.raises(UserError, match=r"^Cannot reach Kaggle to download moltean/fruits version \d+ and no copy is cached: connect"):
        get_fruits360()
    assert not (no_kaggle/'data').exists() or not any((no_kaggle/'data').iterdir())

def test_missing_credentials_say_so(no_kaggle, monkeypatch):
    "kagglehub refuses (as for a private or gated dataset) and the kaggle API finds no credentials."
    def unauthenticated(handle): raise kagglehub.exceptions.UnauthenticatedError()
    monkeypatch.setattr(kagglehub, 'dataset_download', unauthenticated)
    with pytest.raises(UserError, match="Kaggle needs credentials to download moltean/fruits version .*KAGGLE_API_TOKEN"):
        get_fruits360()

def test_interrupted_kaggle_api_download_leaves_nothing(no_kaggle, monkeypatch, offline):
    "The kaggle API writes part of a zip, then the connection drops: no zip, dataset or temp folder remains."
    from kaggle.api.kaggle_api_extended import KaggleApi
    def partial_download(self, dataset, path=None, **kwargs):
        (Path(path)/'fruits.zip').write_bytes(b'PK\x03\x04 partial')
        raise ConnectionError('connection reset mid-download')
    monkeypatch.setattr(KaggleApi, 'authenticate', lambda self: None)
    monkeypatch.setattr(KaggleApi, 'dataset_download_files', partial_download)
    with pytest.raises(UserError, match="Cannot reach Kaggle"): get_fruits360()
    assert list((no_kaggle/'data').iterdir()) == []

def test_kaggle_api_fallback_extracts_the_zip(synth, no_kaggle, monkeypatch, offline):
    "kagglehub fails; the kaggle API's zip, in the current Kaggle layout, is extracted under [data] dir and its root found."
    from kaggle.api.kaggle_api_extended import KaggleApi
    def download(self, dataset, path=None, **kwargs):
        shutil.make_archive(str(Path(path)/'fruits'), 'zip', root_dir=synth.parent, base_dir=synth.name)
    monkeypatch.setattr(KaggleApi, 'authenticate', lambda self: None)
    monkeypatch.setattr(KaggleApi, 'dataset_download_files', download)
    root = get_fruits360()
    assert root == no_kaggle.resolve()/'data'/f'fruits-v{settings().data.kaggle_version}'/synth.name
    assert [p.name for p in (no_kaggle/'data').iterdir()] == [root.parent.name]
    assert get_fruits360() == root  # the second run finds it in [data] dir, with no download

@pytest.fixture
def synth_zip(synth, tmp_path):
    return Path(shutil.make_archive(str(tmp_path/'fruits'), 'zip', root_dir=synth.parent, base_dir=synth.name))

@pytest.mark.parametrize('exc, expected', [(KeyboardInterrupt(), KeyboardInterrupt),
                                           (OSError(errno.ENOSPC, 'No space left on device'), UserError)])
def test_failure_mid_extraction_leaves_nothing(synth_zip, monkeypatch, exc, expected):
    calls, real = [], zipfile.ZipFile._extract_member
    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5: raise exc
        return real(self, *args, **kwargs)
    monkeypatch.setattr(zipfile.ZipFile, '_extract_member', failing)
    with pytest.raises(expected) as e: extract_zip(synth_zip)
    if expected is UserError: assert 'The disk is full' in str(e.value)
    assert sorted(p.name for p in synth_zip.parent.iterdir()) == ['fruits.zip']
    monkeypatch.undo()
    assert get_fruits360(synth_zip) == synth_zip.with_suffix('')/'fruits'  # a second, uninterrupted run succeeds

def test_truncated_zip_is_corrupt(synth_zip):
    synth_zip.write_bytes(synth_zip.read_bytes()[:5000])
    with pytest.raises(UserError, match="is corrupt or incompletely downloaded"): extract_zip(synth_zip)
    assert not synth_zip.with_suffix('').exists()

def test_symlink_entry_is_refused(tmp_path):
    fn = tmp_path/'links.zip'
    with zipfile.ZipFile(fn, 'w') as zf:
        info = zipfile.ZipInfo('Training/Lemon 1/link.jpg')
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, '/etc/passwd')
    with pytest.raises(UserError, match="would be written outside"): extract_zip(fn)
    assert not (tmp_path/'links').exists()

def test_malformed_setting_names_key_and_file(no_kaggle):
    "A door (here `evaluate`, which reads the settings before it looks for a model) names the bad line and its file."
    from produce_classifier.evaluate import evaluate
    (no_kaggle/'settings.ini').write_text("[data]\nsize = big\n")
    with pytest.raises(UserError, match=r"\[data\] size = 'big' in settings.ini is not a whole number"): evaluate()
