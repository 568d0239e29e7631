"Training in two processes as `torchrun` starts them on a CPU (gloo): as good as one process, exported once, and resumed after a rank is killed."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import RECIPE

# Test images of 14 classes (10 each) the model never saw: two processes (each fitting half of every epoch, with the
# gradients averaged) may name 7 fewer than one process
TOLERANCE = 0.05

def _flags(arch) -> list[str]:
    return [f"--{k.replace('_', '-')}={v}" for k, v in dict(arch=arch, **RECIPE).items()]

def _torchrun(sample, arch:str, out:Path, *more) -> subprocess.Popen:
    "`produce-classifier train` in two processes, as a user starts it on a CPU."
    return subprocess.Popen(['torchrun', '--nproc-per-node', '2', '--no-python', 'produce-classifier', 'train', '--data', str(sample),
                             *_flags(arch), '--out', str(out), *more],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

def _state(out:Path) -> dict:
    fn = out.parent/'checkpoints'/'state.json'
    try: return json.loads(fn.read_text())
    except (OSError, ValueError): return {}

def _rank(p:subprocess.Popen, rank:int) -> int:
    "The pid of `torchrun`'s worker of `rank`."
    import psutil
    for c in psutil.Process(p.pid).children(recursive=True):
        try:
            if c.environ().get('RANK') == str(rank) and c.environ().get('LOCAL_RANK') is not None: return c.pid
        except psutil.Error: pass
    raise AssertionError(f"no worker of rank {rank}")

def test_two_processes_train_as_well_as_one_and_resume_after_a_rank_is_killed(sample, imagenet_weights, default_model, tmp_path):
    one = json.loads(default_model.with_suffix('.json').read_text())  # the same recipe in one process
    out = tmp_path/'two'/'model.pkl'
    p, deadline = _torchrun(sample, imagenet_weights, out), time.time() + 300
    while _state(out).get('phase') != 'gentle' and p.poll() is None and time.time() < deadline: time.sleep(0.1)
    assert p.poll() is None, p.communicate()[0]
    os.kill(_rank(p, 1), signal.SIGKILL)  # one rank dies mid-run (the fine-tune's first epoch is checkpointed)
    log = p.communicate(timeout=120)[0]
    assert p.returncode != 0 and not out.exists(), log  # torchrun stops the other rank: no model
    killed_at = _state(out)['epoch']
    assert 0 <= killed_at < RECIPE['epochs'] - 1, (killed_at, log)
    r = _torchrun(sample, imagenet_weights, out, '--resume')
    log = r.communicate(timeout=300)[0]
    assert r.returncode == 0, log
    assert log.count(f"Saved {out}") == 1, log  # rank 0 exports, once
    two = json.loads(out.with_suffix('.json').read_text())
    rows = [l.split(',')[0] for l in (out.parent/'history.csv').read_text().splitlines()]
    assert rows == ['epoch', '0', '0', '1', '2'], rows  # the probe, then each epoch of the fine-tune once
    assert two['metrics']['n_test'] == one['metrics']['n_test'] == 140
    assert two['metrics']['test_accuracy'] >= one['metrics']['test_accuracy'] - TOLERANCE, (two['metrics'], one['metrics'])
    assert two['calibration'].keys() == one['calibration'].keys() and not (out.parent/'checkpoints').exists()
    # the export loads in a fresh process and names an unseen Test image
    fn = sorted((sample/'Test'/'Banana 1').iterdir())[0]
    code = f"from produce_classifier.model import Predictor; print(Predictor({str(out)!r}).classify([{str(fn)!r}])[0]['family'])"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, cwd='/')
    assert r.returncode == 0 and r.stdout.split()[-1] == 'Banana', r.stdout + r.stderr
