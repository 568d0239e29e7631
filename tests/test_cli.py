"The `produce-classifier` console script as a user runs it: a subprocess of the installed entry point."
import subprocess
import pytest
from produce_classifier import __version__

def cli(*args, cwd=None):
    return subprocess.run(['produce-classifier', *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)

def test_version_and_help():
    assert cli('--version').stdout.strip() == f'produce-classifier {__version__}'
    r = cli('--help')
    assert r.returncode == 0 and 'download' in r.stdout

def test_download_prints_the_root(synth):
    r = cli('download', '--data', synth)
    assert (r.returncode, r.stdout.strip()) == (0, str(synth.resolve()))

@pytest.mark.parametrize('bad, says', [('no/such/dir', 'does not exist'), ('settings.ini', 'is a file but not a .zip')])
def test_bad_data_path_is_one_sentence(tmp_path, bad, says):
    (tmp_path/'settings.ini').write_text('[data]\nsize = 64\n')
    r = cli('download', '--data', bad, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith('error: ') and says in r.stderr and 'Traceback' not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

def test_malformed_settings_is_one_sentence(tmp_path):
    (tmp_path/'settings.ini').write_text('[train]\nepochs = many\n')
    r = cli('download', '--help', cwd=tmp_path)
    assert r.returncode == 1 and "[train] epochs = 'many' in settings.ini" in r.stderr and 'Traceback' not in r.stderr
