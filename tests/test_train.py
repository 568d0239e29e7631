"Training as users run it: the CLI, a fresh process loading the model, kills of the installed command, resumes and offline weights."
import json, signal, subprocess, sys, time
from pathlib import Path
import pytest
import numpy as np
import torch
from produce_classifier.families import family
from produce_classifier.settings import UserError
from produce_classifier.train import GENTLE_LR, export, train
from conftest import cli

FAST = ['--arch', 'resnet18', '--size', '32', '--bs', '16', '--lr', '1e-2', '--no-pretrained']

def command(*args, **kwargs):
    "The installed `produce-classifier` in a process of its own, as a user (or the kernel) can kill or limit it."
    return subprocess.run(['produce-classifier', *map(str, args)], capture_output=True, text=True, timeout=600, **kwargs)

@pytest.fixture(scope='module')
def trained(synth, tmp_path_factory):
    "A model trained by `produce-classifier train`, its checkpoints kept, and the command's result."
    out = tmp_path_factory.mktemp('trained')/'models'/'model.pkl'
    r = cli('train', '--data', synth, *FAST, '--epochs', 3, '--out', out, '--keep-checkpoints')
    assert r.returncode == 0, r.stderr
    return out, r

def test_train_writes_model_and_metadata(trained, synth):
    out, r = trained
    info = json.loads(out.with_suffix('.json').read_text())
    assert info['vocab'] == sorted(p.name for p in (synth/'Training').iterdir())
    assert info['arch'] == 'resnet18' and info['pretrained'] is False and info['size'] == 32
    assert set(info['normalize']) == {'mean', 'std'} and len(info['sha256']) == 64
    assert info['metrics']['n_test'] == 8 * 5 and 0 <= info['metrics']['test_accuracy'] <= 1
    assert f"Saved {out}" in r.stdout and '\r' not in r.stdout  # plain lines when not a terminal
    assert r.stdout.splitlines()[0].split() == ['epoch', 'train_loss', 'valid_loss', 'accuracy', 'time']

def test_fresh_process_loads_and_predicts(trained, synth):
    "Only the library installed, no function from __main__: the pickle loads in a new interpreter."
    out, _ = trained
    fn = next((synth/'Test'/'Banana 1').iterdir())
    code = f"from fastai.learner import load_learner; print(load_learner({str(out)!r}).predict({str(fn)!r})[0])"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, cwd='/')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] in json.loads(out.with_suffix('.json').read_text())['vocab']

def _state(out):
    fn = out.parent/'checkpoints'/'state.json'
    return json.loads(fn.read_text()) if fn.exists() else {}

def test_killed_training_resumes_to_a_model(synth, tmp_path):
    out = tmp_path/'models'/'model.pkl'
    args = ['train', '--data', synth, *FAST, '--epochs', 6, '--out', out]
    p = subprocess.Popen(['produce-classifier', *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while _state(out).get('epoch', -1) < 1 and p.poll() is None and time.time() < deadline: time.sleep(0.2)
    time.sleep(0.5)  # into the next epoch
    p.send_signal(signal.SIGKILL); p.wait()
    killed_at = _state(out)['epoch']
    assert 1 <= killed_at < 5 and not out.exists()
    r = cli(*args, '--resume')
    assert r.returncode == 0, r.stdout + r.stderr
    assert out.exists() and not (out.parent/'checkpoints').exists()  # finished: the checkpoints are gone
    rows = [l.split() for l in r.stdout.splitlines() if l[:1].isdigit()]
    trained_epochs = [int(row[0]) for row in rows if len(row) == 5]
    assert trained_epochs == list(range(killed_at + 1, 6))  # finished epochs were not trained again
    history = (out.parent/'history.csv').read_text().splitlines()
    assert history[0].startswith('epoch,') and sum(l.startswith('epoch') for l in history) == 1  # one header, both runs' rows
    assert sorted({int(l.split(',')[0]) for l in history[1:]}) == list(range(6))

def test_resume_without_checkpoint_says_so(synth, tmp_path):
    with pytest.raises(UserError, match="Nothing to resume"):
        train(synth, arch='resnet18', size=32, pretrained=False, out=tmp_path/'model.pkl', resume=True)

def test_killed_export_keeps_previous_model(trained, tmp_path, monkeypatch):
    from fastai.learner import load_learner
    out, _ = trained
    learn = load_learner(out)
    before = {p.name: p.read_bytes() for p in out.parent.iterdir() if p.is_file()}
    real_save = torch.save
    def dies_halfway(obj, f, *args, **kwargs):
        Path(f).write_bytes(b'half a pickle')
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, 'save', dies_halfway)
    with pytest.raises(KeyboardInterrupt): export(learn, out)
    monkeypatch.setattr(torch, 'save', real_save)
    assert {p.name: p.read_bytes() for p in out.parent.iterdir() if p.is_file()} == before
    assert load_learner(out).dls.vocab == learn.dls.vocab

def test_pretrained_weights_offline_is_one_sentence(synth, tmp_path, monkeypatch, offline):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path/'torch'))
    with pytest.raises(UserError) as e:
        train(synth, arch='resnet18', size=32, pretrained=True, out=tmp_path/'model.pkl', num_workers=0)
    msg = str(e.value)
    assert 'Cannot download the ImageNet weights for resnet18' in msg and 'resnet18-' in msg
    assert str(tmp_path/'torch'/'hub'/'checkpoints') in msg and '--no-pretrained' in msg
    assert not (tmp_path/'model.pkl').exists()

def test_resume_refuses_other_settings(trained, synth):
    out, _ = trained
    assert (out.parent/'checkpoints'/'state.json').exists()  # kept (--keep-checkpoints)
    args = ['train', '--data', synth, '--bs', '16', '--lr', '1e-2', '--no-pretrained', '--epochs', 3, '--out', out, '--resume']
    r = cli(*args, '--arch', 'resnet18', '--size', 48)
    assert r.returncode == 1 and r.stderr.strip() == (f"error: The checkpoint in {out.parent/'checkpoints'} was made with size=32, not size=48: "
                                                       "resume with the same settings, or train without --resume.")
    r = cli(*args, '--arch', 'resnet34', '--size', 32)
    assert r.returncode == 1 and "was made with arch=resnet18, not arch=resnet34" in r.stderr and 'Traceback' not in r.stderr

def test_a_failed_checkpoint_write_is_one_sentence_and_leaves_no_partial_file(synth, tmp_path):
    "A file-size limit (as a full disk would) stops the first checkpoint write: one sentence, no partial file, no model."
    import resource
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get the error, not the signal that kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))  # resnet18's weights are 45 MB
    out = tmp_path/'models'/'model.pkl'
    # Fruits-360 alone: stderr holds the error's sentence and nothing else (not the notice that no shop photos were downloaded)
    r = command('train', '--data', synth, *FAST, '--epochs', 1, '--out', out, '--photos', 'none', preexec_fn=limit)
    assert r.returncode == 1 and 'Traceback' not in r.stderr, r.stderr
    assert r.stderr.strip().startswith(f"error: Could not write {out.parent/'checkpoints'/'best.pth'} (") and r.stderr.strip().endswith(
        "free some disk space (or raise the file-size limit), then run again with --resume.")
    assert not list(out.parent.rglob('*partial*')) and not out.exists()

def test_pretrained_default_keeps_imagenet_and_learns_the_produce(sample, imagenet_weights, default_model, tmp_path):
    "With real ImageNet weights the default recipe (probe, gentle fine-tune, WiSE-FT) needs no lr_find, keeps ImageNet's BatchNorm statistics, answers unseen Test images and is not sure of non-produce."
    import timm
    from fastai.learner import load_learner
    from produce_classifier.model import FamilyPrior
    out, learn = default_model, load_learner(default_model)
    info = json.loads(out.with_suffix('.json').read_text())
    assert info['pretrained'] and not info['finetune'] and info['wise'] == 0.5 and info['lr'] == GENTLE_LR and info['prior'] == 0.5
    assert info['metrics']['test_accuracy'] >= 0.8, info['metrics']  # 15 unseen Test images of each of 14 classes
    assert isinstance(learn.model, FamilyPrior) and learn.model.weight == 0.5
    ref = timm.create_model(imagenet_weights, pretrained=True).state_dict()
    body = learn.model[0].model.state_dict()  # TimmBody: the network without its classifier
    stats = [k for k in body if 'running_' in k]
    assert stats and all(torch.equal(body[k], ref[k]) for k in stats), "the BatchNorm statistics changed"
    assert any(not torch.equal(v, ref[k]) for k, v in body.items() if k.endswith('conv.weight') or 'conv_' in k), "the body did not learn"
    assert sorted(p.name for p in out.parent.iterdir() if p.name != '.made') == ['examples', 'history.csv', 'model.json', 'model.pkl']  # no lr_find plot
    assert len((out.parent/'history.csv').read_text().splitlines()) == 5  # the header, the probe's row and the fine-tune's 3 epochs
    # "not sure" of things that are not produce (8 families training never saw), while unseen Test images are answered
    from produce_classifier.data import image_files
    from produce_classifier.model import Predictor
    from produce_classifier.calibration import non_produce_benchmark
    pred = Predictor(out)
    assert pred.energy_floor == info['calibration']['energy_floor'] is not None
    said = [a['label'] for a in pred.classify(sorted(non_produce_benchmark(tmp_path/'not-produce', n=48, seed=7).iterdir()))]
    assert sum(s.startswith('Not sure') for s in said) / len(said) >= 0.9, said
    said = [a['label'] for a in pred.classify(image_files(sample, 'Test', max_per_class=3))]
    assert sum(not s.startswith('Not sure') for s in said) / len(said) >= 0.9, said
    # where it looked: a Test fruit pasted into a corner of a texture; the answer's class map peaks on it
    frames = image_files(sample, 'Test', max_per_class=1)
    for k in (6, 8):  # a lemon bottom left, an orange top left
        a = pred.classify([_in_corner(frames[k], k % 4, seed=k)], explain=True)[0]
        peak = np.unravel_index(a['map'].argmax(), a['map'].shape)
        assert a['family'] == family(frames[k].parent.name) and a['map'].shape == (4, 4), a['label']
        assert (peak[0] // 2, peak[1] // 2) == divmod(k % 4, 2), (frames[k].parent.name, a['map'].round(2))

def _in_corner(fn, corner:int, seed:int, side:int=320):
    "A `side`-pixel photo: the Fruits-360 frame `fn` cut out, filling quarter `corner` (0-3, row by row) of a texture."
    from PIL import Image
    from produce_classifier.backgrounds import bg_spectral, white_mask
    bg = bg_spectral(1, side, side, g=torch.Generator().manual_seed(seed))[0]
    h = side // 2
    fruit = torch.tensor(np.asarray(Image.open(fn).convert('RGB').resize((h, h))), dtype=torch.float32).permute(2, 0, 1)[None] / 255
    m, (y, x) = 1 - white_mask(fruit)[0].float(), divmod(corner, 2)
    img = bg.clone(); img[:, y * h:(y + 1) * h, x * h:(x + 1) * h] = m * fruit[0] + (1 - m) * bg[:, y * h:(y + 1) * h, x * h:(x + 1) * h]
    return Image.fromarray(np.uint8(255 * img.permute(1, 2, 0).numpy()))

@pytest.mark.parametrize('gentle_epochs_done', [0, 1])
def test_training_killed_after_the_probe_resumes(sample, imagenet_weights, tmp_path, monkeypatch, gentle_epochs_done):
    "A run stopped after the probe, or after the first epoch of the fine-tune that follows it, resumes without redoing the probe, and ends with a model that knows the produce."
    import produce_classifier.train as T
    out, kw = tmp_path/'model.pkl', dict(arch=imagenet_weights, size=64, max_per_class=10, epochs=2, bs=16, progress=False, num_workers=0)
    after_epoch, probe = T.Checkpoint.after_epoch, T._probe
    def killed(self):
        after_epoch(self)
        if self.phase == 'gentle' and self.epoch == 0: raise KeyboardInterrupt  # as Ctrl-C, just after the epoch's checkpoint
    def killed_probe(*a, **k):
        probe(*a, **k); raise KeyboardInterrupt  # as Ctrl-C, once the probe's checkpoint and state are written
    if gentle_epochs_done: monkeypatch.setattr(T.Checkpoint, 'after_epoch', killed)
    else: monkeypatch.setattr(T, '_probe', killed_probe)
    with pytest.raises(KeyboardInterrupt): train(sample, out=out, **kw)
    assert not out.exists() and (out.parent/'checkpoints'/'probe.pth').exists()
    monkeypatch.setattr(T, '_probe', probe)
    monkeypatch.setattr(T.Checkpoint, 'after_epoch', after_epoch)
    monkeypatch.setattr(T, 'fit_probe', lambda *a, **k: pytest.fail("the probe ran again"))
    train(sample, out=out, resume=True, **kw)
    info = json.loads(out.with_suffix('.json').read_text())
    assert info['wise'] == 0.5 and info['metrics']['test_accuracy'] >= 0.8, info['metrics']
    assert [l.split(',')[0] for l in (out.parent/'history.csv').read_text().splitlines()] == ['epoch', '0', '0', '1']  # probe, then the fine-tune's 2 epochs
    assert not (out.parent/'checkpoints').exists()
