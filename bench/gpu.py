"""The CUDA path on a GPU machine, in one run: training with mixed precision and channels_last, and ZeroGPU-style inference.

1. Training: the project's `train` as it runs on CUDA (mixed precision, channels_last, batch transforms on the GPU,
   one loader process per core) against the same trainer, data, arch, size, batch size, epochs and learning rate with
   mixed precision and channels_last off (float32, contiguous). Prints images/s of the fit and Test accuracy of each,
   and the ratio.
2. Inference as a ZeroGPU Space runs it: a `Predictor` loaded on the CPU and moved to CUDA inside the request (`to`),
   one photo per request, crops on. Prints median and p95 ms per request on CUDA and on the CPU with the ratio, and the
   largest difference between the two's probabilities.
Run from the repository root on a machine with CUDA:

    python bench/gpu.py [--data ../shared/fruits360-all] [--photos ../shared/real-photos] [--arch resnet34] [--epochs 5]
"""
import argparse, json, statistics, tempfile, time
from pathlib import Path
from unittest.mock import patch
import numpy as np
import torch
from fastai.vision.all import Learner
from produce_classifier.model import Predictor
from produce_classifier.photos import read_photos
from produce_classifier.train import train
from benchlib import p95, SHARED


def fit(root, out, amp, **kw):
    "Train to `out`; with `amp` off, `make_learner`'s channels_last and mixed precision are skipped. Returns (images/s, Test accuracy)."
    if amp: learn = train(root, out=out, progress=False, **kw)
    else:
        with patch.object(Learner, 'to_channelslast', lambda self, *a, **k: self): learn = train(root, out=out, progress=False, **kw)
    info = json.loads(Path(out).with_suffix('.json').read_text())
    return kw['epochs'] * len(learn.dls.train_ds) / info['fit_seconds'], info['metrics']['test_accuracy']

def ms_per_request(pred, files, runs):
    "Milliseconds per one-photo request over `runs` requests (after one warm-up each), and the probabilities."
    probs = [pred.probs([pred.load(f)])[0] for f in files]
    ms = []
    for i in range(runs):
        if pred.device.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter(); pred.probs([pred.load(files[i % len(files)])]); ms.append(1000 * (time.perf_counter() - t))
    return ms, np.stack(probs)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED/'fruits360-all'); p.add_argument('--photos', default=SHARED/'real-photos')
    p.add_argument('--arch', default='resnet34'); p.add_argument('--pretrained', action='store_true')
    p.add_argument('--size', type=int, default=100); p.add_argument('--bs', type=int, default=64)
    p.add_argument('--epochs', type=int, default=5); p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--seed', type=int, default=42); p.add_argument('--runs', type=int, default=50)
    p.add_argument('--reps', type=int, default=2)
    a = p.parse_args()
    assert torch.cuda.is_available(), "this benchmark measures the CUDA path: run it on a machine with a GPU"
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; data {a.data}, arch {a.arch} "
          f"({'pretrained' if a.pretrained else 'from scratch'}), size {a.size}, bs {a.bs}, {a.epochs} epochs, lr {a.lr}, seed {a.seed}", flush=True)
    kw = dict(arch=a.arch, pretrained=a.pretrained, size=a.size, bs=a.bs, epochs=a.epochs, lr=a.lr, seed=a.seed, photos='none')
    with tempfile.TemporaryDirectory() as tmp:
        for f in Path(a.data).rglob('*.jpg'): f.read_bytes()  # warm the file cache, so the first arm does not pay for the disk
        res = {}
        # the arms in turn, `reps` times, best of each: the first fit also pays for CUDA's and the loaders' start
        for rep in range(a.reps):
            for name, amp in (('mixed precision + channels_last', True), ('float32, contiguous', False))[::1 if rep % 2 == 0 else -1]:
                ips, acc = fit(a.data, Path(tmp)/name.split()[0]/'model.pkl', amp, **kw)
                res.setdefault(name, []).append(ips)
                print(f"run {rep + 1}: train {name:<32} {ips:8.0f} images/s  Test accuracy {acc:.3f}", flush=True)
        fast, slow = (max(v) for v in res.values())
        print(f"best of {a.reps}: mixed precision {fast:.0f}, float32 {slow:.0f} images/s; ratio mixed precision / float32: {fast / slow:.2f}", flush=True)
        files = [f for f, _ in read_photos(a.photos)][:20]
        cpu = Predictor(Path(tmp)/'mixed'/'model.pkl', crops=True)
        gpu = Predictor(Path(tmp)/'mixed'/'model.pkl', crops=True)
        t = time.perf_counter(); gpu.to('cuda'); torch.cuda.synchronize(); move = 1000 * (time.perf_counter() - t)
        (ms_c, p_c), (ms_g, p_g) = ms_per_request(cpu, files, a.runs), ms_per_request(gpu, files, a.runs)
        print(f"ZeroGPU-style inference, {len(files)} real photos, crops on, one per request: moving the model to CUDA {move:.0f} ms (once)")
        print(f"CPU  median {statistics.median(ms_c):7.1f} ms  p95 {p95(ms_c):7.1f} | CUDA median {statistics.median(ms_g):7.1f} ms  "
              f"p95 {p95(ms_g):7.1f} | ratio CPU / CUDA (median) {statistics.median(ms_c) / statistics.median(ms_g):.2f}")
        print(f"largest |CPU - CUDA| probability: {abs(p_c - p_g).max():.2e}; same top class on {(p_c.argmax(1) == p_g.argmax(1)).mean():.0%}")

if __name__ == '__main__': main()
