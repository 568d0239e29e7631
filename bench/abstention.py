"""Abstention: "not sure" of things that are not produce, without refusing the real photos, per seed, in one run.

Trains `produce-classifier train` defaults (the pretrained path, with timm's tf_efficientnet_lite0 from
../shared/weights standing in for ResNet34) on every class of ../shared/fruits360-all (`--cap` per class), then
classifies, as the app does (views, family prior, calibration):
- the non-produce benchmark `non_produce_benchmark` writes (`--n` images of 8 families training never uses), and
- the labelled real photos in ../shared/real-photos,
each twice from the same forward pass: with the model's energy floor (the change) and without it (the threshold alone).

    HF_HUB_CACHE=../shared/weights/hf HF_HUB_OFFLINE=1 python bench/abstention.py --seeds 42 43 44
"""
import argparse, statistics, tempfile, time, warnings
from collections import Counter
from pathlib import Path
warnings.filterwarnings('ignore')
from produce_classifier.model import Predictor
from produce_classifier.photos import read_photos
from produce_classifier.calibration import non_produce_benchmark
from produce_classifier.train import train
from benchlib import SHARED, device, workers


def labels(pred, files, bs=16) -> tuple[list[dict], list[dict], list[str]]:
    "The app's answer to each of `files`, the same without the energy floor (the threshold alone), and its best family, from one forward pass."
    on, off, best = [], [], []
    for i in range(0, len(files), bs):
        xs = [pred.load(f) for f in files[i:i + bs]]; p, e = pred.scores(xs)
        on += pred.verdicts(xs, p, e); off += pred.verdicts(xs, p, e, floor=False)
    best = [next(iter(v['families'])) for v in on]  # the family the app names, its classes summed
    return on, off, best

def unsure(said): return sum(a['abstained'] for a in said) / len(said)

def right(said, fams):
    "Share of the answered photos whose answer names the right family."
    ok = [a['family'] == f for a, f in zip(said, fams) if not a['abstained']]
    return sum(ok) / max(len(ok), 1)

def run(a, seed, tmp):
    out = Path(tmp)/f'model-{seed}'/'model.pkl'
    t0 = time.time()
    train(a.data, arch=a.arch, size=a.size, seed=seed, max_per_class=a.cap or None, out=out, progress=False, lr_find_iters=30, photos='none',
          **workers())
    pred = Predictor(out, device=device())
    bench = sorted(non_produce_benchmark(Path(tmp)/f'benchmark-{seed}', n=a.n, seed=seed + 2000).iterdir())
    b_on, b_off, _ = labels(pred, bench)
    photos = read_photos(a.photos)
    p_on, p_off, best = labels(pred, [f for f, _ in photos]); fams = [f for _, f in photos]
    err = 1 - sum(b == f for b, f in zip(best, fams)) / len(fams)  # the best guess's family, answered or not
    per = {fam: unsure([s for s, f in zip(b_on, bench) if f.name.startswith(fam + '_')]) for fam in sorted({f.name.split('_')[0] for f in bench})}
    r = dict(refused=unsure(b_on), refused_off=unsure(b_off), answered=1 - unsure(p_on), answered_off=1 - unsure(p_off),
             right=right(p_on, fams), right_off=right(p_off, fams), real=1 - err, per=per)
    r.update(ratio=(1 - r['right']) / err, ratio_off=(1 - r['right_off']) / err)
    print(f"seed {seed} ({time.time() - t0:.0f} s; threshold {pred.threshold:.3f}, photo threshold {pred.photo_threshold:.3f}, energy floor {pred.energy_floor:.2f} (zoomed {pred.zoomed_floor:.2f})): "
          f"non-produce 'not sure' {r['refused']:.1%} (without the floor {r['refused_off']:.1%}) | real photos answered "
          f"{r['answered']:.1%} (without {r['answered_off']:.1%}; drop {100 * (r['answered_off'] - r['answered']):.1f} points), "
          f"right when answered {r['right']:.1%} (without {r['right_off']:.1%}); family accuracy {r['real']:.1%}, "
          f"answered error / overall error {r['ratio']:.2f} (without {r['ratio_off']:.2f})", flush=True)
    print('    per family, with the floor: ' + ', '.join(f"{k} {v:.0%}" for k, v in per.items()), flush=True)
    return r

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED/'fruits360-all'); p.add_argument('--photos', default=SHARED/'real-photos')
    p.add_argument('--arch', default='tf_efficientnet_lite0'); p.add_argument('--size', type=int, default=None, help='default: [data] size')
    p.add_argument('--cap', type=int, default=10, help='training images per class (0: all)'); p.add_argument('--n', type=int, default=200)
    p.add_argument('--seeds', type=int, nargs='+', default=[42])
    a = p.parse_args()
    print(f"arch {a.arch}, size {a.size or 'default'}, {a.cap or 'all'} images per class of {a.data}, train defaults otherwise; "
          f"{a.n} non-produce images; photos {a.photos}", flush=True)
    with tempfile.TemporaryDirectory() as tmp: rows = [run(a, seed, tmp) for seed in a.seeds]
    mean = lambda k: statistics.mean(r[k] for r in rows)
    print(f"\nmean of {len(rows)} seed(s)       | with floor | without | target")
    print(f"non-produce 'not sure'      | {mean('refused'):10.1%} | {mean('refused_off'):7.1%} | >= 95% with the floor")
    print(f"real photos answered        | {mean('answered'):10.1%} | {mean('answered_off'):7.1%} | drop <= 5 points")
    print(f"right when answered         | {mean('right'):10.1%} | {mean('right_off'):7.1%} |")
    print(f"answered err / overall err  | {mean('ratio'):10.2f} | {mean('ratio_off'):7.2f} | (issue 12: <= 0.50)")
    print(f"real photos, family (best guess, either way): {mean('real'):.1%}")
    fams = Counter()
    for r in rows: fams.update(r['per'])
    print('per family (mean): ' + ', '.join(f"{k} {v / len(rows):.0%}" for k, v in fams.items()))

if __name__ == '__main__': main()
