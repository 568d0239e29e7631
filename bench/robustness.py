"""Off the white background: the same model trained twice, with and without background augmentation.

Trains from scratch on the same data with the same settings, once with `BackgroundSwap` (bg_p, default 0.5) and once
without (bg_p=0), then evaluates both on the clean Test split and on the background-shifted one (backgrounds of
families training never used), and prints accuracies, their differences, and, at each model's calibrated threshold,
the accuracy on answered shifted images and the share of non-produce images refused. Run from the repository root:

    python bench/robustness.py [--data ROOT] [--arch resnet18] [--size 64] [--epochs 12] [--bs 32] [--lr 3e-3] [--seeds 42 43 44]

With several seeds it trains each pair once per seed and prints the mean, lowest and highest difference: on 560
images a single pair's difference moves by a few points from seed to seed. Where `../shared/photos` (or `--photos`)
holds the three real phone photos, it also prints what each model says about them, and a tally per arm: answered
right, "not sure" with the right best guess, "not sure" with a wrong one, or confidently wrong.
"""
import argparse, shutil, tempfile
from collections import Counter
from pathlib import Path
from produce_classifier.evaluate import evaluate, family
from produce_classifier.model import Predictor
from produce_classifier.train import train

PHOTOS = {'apple': {'Apple'}, 'apples-and-pears': {'Apple', 'Pear'}, 'banana-lady-finger': {'Banana'}}  # the families each shows

def photos(model, photo_dir) -> Counter:
    "What `model` says about each phone photo in `photo_dir`, printed, and the tally of kinds of answer."
    pred, kinds = Predictor(model), Counter()
    for name, fams in PHOTOS.items():
        if not (fn := Path(photo_dir)/f'{name}.jpg').exists(): continue
        a = pred.classify([fn])[0]; label = a['label']  # the app's answer, by the app's rule
        right, unsure = family(next(iter(a['confidences']))) in fams, a['abstained']
        kind = ('not sure, right guess' if right else 'not sure, wrong guess') if unsure else ('answered right' if right else 'confidently wrong')
        kinds[kind] += 1
        print(f"    {name}: {label}  [{kind}]", flush=True)
    return kinds

def run(root, bg_p, seed, a):
    out = Path(tempfile.mkdtemp())/'model.pkl'
    train(root, arch=a.arch, size=a.size, bs=a.bs, epochs=a.epochs, lr=a.lr, seed=seed, pretrained=False, out=out, progress=False, bg_p=bg_p, photos='none')
    shutil.rmtree(out.parent/'checkpoints')  # keep the model and its reports to look at, not the training state
    r = evaluate(out, root, out=out.parent/'reports', shifted=True)
    rob = r['robustness']; at = rob['at_threshold']
    print(f"seed {seed}  bg_p {bg_p:<4} clean Test {r['accuracy']:.4f}  shifted Test {rob['shifted_accuracy']:.4f}  | threshold {rob['threshold']:.3f}: "
          f"shifted answered {at['shifted']['coverage']:.3f} at {at['shifted']['accuracy_answered']:.4f} accuracy, "
          f"non-produce refused {at['non_produce_refused']:.3f}  ({out.parent/'reports'})", flush=True)
    return r['accuracy'], rob['shifted_accuracy'], photos(out, a.photos)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sample = Path(__file__).resolve().parents[2]/'shared'/'fruits360-sample'
    p.add_argument('--data', default=str(sample)); p.add_argument('--arch', default='resnet18')
    p.add_argument('--size', type=int, default=64); p.add_argument('--epochs', type=int, default=12)
    p.add_argument('--bs', type=int, default=32); p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--seeds', type=int, nargs='+', default=[42]); p.add_argument('--bg-p', type=float, default=0.5)
    p.add_argument('--photos', default=str(sample.parent/'photos'), help='folder of the real phone photos (skipped where missing)')
    a = p.parse_args()
    print(f"data {a.data}  arch {a.arch}  size {a.size}  epochs {a.epochs}  bs {a.bs}  lr {a.lr}  from scratch", flush=True)
    gains, tally = [], {'on': Counter(), 'off': Counter()}
    for seed in a.seeds:
        on, off = run(a.data, a.bg_p, seed, a), run(a.data, 0.0, seed, a)
        tally['on'] += on[2]; tally['off'] += off[2]
        gains.append((100 * (on[1] - off[1]), 100 * (on[0] - off[0])))
        print(f"seed {seed}  with augmentation: shifted Test {gains[-1][0]:+.1f} points, clean Test {gains[-1][1]:+.1f} points", flush=True)
    if len(gains) > 1:
        for name, g in zip(('shifted', 'clean'), zip(*gains)):
            print(f"over {len(g)} seeds, {name} Test: mean {sum(g) / len(g):+.1f} points (lowest {min(g):+.1f}, highest {max(g):+.1f})")
    for arm, kinds in tally.items():
        if kinds: print(f"phone photos, augmentation {arm}: " + ', '.join(f"{k} {n}" for k, n in sorted(kinds.items())))

if __name__ == '__main__': main()
