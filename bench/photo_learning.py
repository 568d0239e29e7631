"""Learning from real photos: per fold of ../shared/real-photos, the Fruits-360-only model against `train --photos` with the other folds' photos.

The photos are cut into 5 folds by contiguous runs within each family (neighbouring files are shots of the same bin, so
a random split would test on near-copies of training photos). Per seed, the Fruits-360-only model is trained once with
`produce-classifier train` defaults (the bench's: timm's tf_efficientnet_lite0 offline from ../shared/weights, 128 px,
every class of ../shared/fruits360-all, 1 frozen + 3 epochs) and its checkpoints kept; each photo arm is then the shipped
`train(..., photos=..., resume=True)` on those checkpoints (the finished network is not trained again; the features of
its frozen stages are cached beside the checkpoints, shared by the arms), with all of the other folds' photos or 1, 3 or
10 of each family among them. Each held-out fold is answered as the app answers it (`evaluate_photos`: views, prior,
calibration, the photo threshold that `train` set at `[app] target_accuracy` by answering the pool's photos with heads
fitted without them).

    HF_HUB_CACHE=../shared/weights/hf HF_HUB_OFFLINE=1 python bench/photo_learning.py --seeds 42 43 44
"""
import argparse, csv, json, os, random, statistics, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from produce_classifier.families import family
from produce_classifier.data import read_labelled
from produce_classifier.photo_learning import photo_folds
from produce_classifier.train import train
from produce_classifier.photos import evaluate_photos
from benchlib import SHARED, workers

WORKERS = workers()

def write_labels(dest:Path, items:list) -> Path:
    "A folder whose labels.csv lists `items` (absolute paths), as `read_labelled` reads it."
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest/'labels.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['file', 'family']); w.writerows([(str(p), l) for p, l in items])
    return dest

def per_family(items:list, n:int|None, seed:int) -> list:
    "All of `items`, or a seeded `n` of each family's, in file order."
    if n is None: return items
    rng, by = random.Random(seed), {}
    for it in items: by.setdefault(family(it[1]), []).append(it)
    keep = {id(it) for its in by.values() for it in rng.sample(its, min(n, len(its)))}
    return [it for it in items if id(it) in keep]

def scores(rows:list) -> dict:
    "Family accuracy, answered share and accuracy when answered of evaluated photo rows."
    ans = [r for r in rows if r['answer'] is not None]
    return dict(n=len(rows), acc=sum(r['guess'] == r['family'] for r in rows) / len(rows), answered=len(ans) / len(rows),
                right=sum(r['answer'] == r['family'] for r in ans) / len(ans) if ans else float('nan'))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED/'fruits360-all'); p.add_argument('--photos', default=SHARED/'real-photos')
    p.add_argument('--arch', default='tf_efficientnet_lite0'); p.add_argument('--size', type=int, default=128)
    p.add_argument('--epochs', type=int, default=3); p.add_argument('--freeze-epochs', type=int, default=1)
    p.add_argument('--cap', type=int, default=40); p.add_argument('--bs', type=int, default=32)
    p.add_argument('--seeds', type=int, nargs='+', default=[42]); p.add_argument('--folds', type=int, default=5)
    p.add_argument('--arms', nargs='+', default=['all', '10', '3', '1'], help="photo arms: 'all' of the other folds' photos, or N per family")
    p.add_argument('--cache', default=None, help='keep the Fruits-360-only models (and feature caches) here between runs')
    a = p.parse_args()
    items = read_labelled(a.photos); fold = photo_folds([l for _, l in items], a.folds, seed=None)
    kw = dict(arch=a.arch, size=a.size, epochs=a.epochs, freeze_epochs=a.freeze_epochs, bs=a.bs, max_per_class=a.cap,
              progress=False, lr_find_iters=30, keep_checkpoints=True, **WORKERS)
    print(f"arch {a.arch}, size {a.size}, {a.freeze_epochs} frozen + {a.epochs} epochs, {a.cap} images per class of {a.data}; "
          f"{len(items)} photos of {a.photos} in {a.folds} folds by contiguous runs per family", flush=True)
    tmp = tempfile.TemporaryDirectory(); cache = Path(a.cache or tmp.name); res = {}
    for seed in a.seeds:
        base = cache/f'base-{seed}'/'model.pkl'; t0 = time.time()
        if not base.exists():
            train(a.data, seed=seed, out=base, photos='none', resume=(base.parent/'checkpoints'/'state.json').exists(), **kw)
            (base.parent/'seconds.txt').write_text(f'{time.time() - t0:.1f}')
        test0 = json.loads(base.with_suffix('.json').read_text())['metrics']['test_accuracy']
        rows0 = evaluate_photos(write_labels(cache/f'all-{seed}', items), base, out=cache/f'all-{seed}'/'reports')['rows']
        res[seed, 'Fruits-360 only'] = dict(scores(rows0), test=test0, s=float((base.parent/'seconds.txt').read_text()) if (base.parent/'seconds.txt').exists() else float('nan'))
        print(f"seed {seed} Fruits-360 only: Test {test0:.3f}, held-out folds {scores(rows0)} ({time.time() - t0:.0f} s)", flush=True)
        for arm in a.arms:
            n = None if arm == 'all' else int(arm); rows, tests, secs = [], [], []
            for k in range(a.folds):
                d = cache/f'arm-{seed}-{arm}-{k}'; d.mkdir(parents=True, exist_ok=True)
                if not (d/'checkpoints').exists(): os.symlink(base.parent/'checkpoints', d/'checkpoints')
                pool = per_family([it for it, f in zip(items, fold) if f != k], n, seed + k)
                if not (d/'seconds.txt').exists():  # an arm already trained in --cache is answered again, not trained again
                    t1 = time.time(); train(a.data, seed=seed, out=d/'model.pkl', photos=['none', write_labels(d/'photos', pool)], resume=True, **kw)
                    (d/'seconds.txt').write_text(f'{time.time() - t1:.1f}')
                secs.append(float((d/'seconds.txt').read_text()))
                tests.append(json.loads((d/'model.json').read_text())['metrics']['test_accuracy'])
                got = evaluate_photos(write_labels(d/'held', [it for it, f in zip(items, fold) if f == k]), d/'model.pkl', out=d/'reports')['rows']
                (d/'reports'/'rows.json').write_text(json.dumps(got))  # each photo's top classes: other thresholds, offline
                rows += got
                print(f"  seed {seed}, {arm}, fold {k}: {len(pool)} photos to train on ({secs[-1]:.0f} s), Test {tests[-1]:.3f}, held-out fold {scores(got)}", flush=True)
            label = 'other folds, all' if n is None else f'other folds, {n} per family'
            res[seed, label] = dict(scores(rows), test=statistics.mean(tests), s=statistics.mean(secs))
            print(f"seed {seed} {label}: {res[seed, label]}", flush=True)
    arms = list(dict.fromkeys(k[1] for k in res))
    print(f"\n{'arm':<28} | {'seed':>4} | {'family acc':>10} | {'answered':>8} | {'right when answered':>19} | {'Test':>6} | s/arm")
    for arm in arms:
        for seed in a.seeds:
            r = res[seed, arm]
            print(f"{arm:<28} | {seed:>4} | {r['acc']:10.1%} | {r['answered']:8.1%} | {r['right']:19.1%} | {r['test']:6.3f} | {r['s']:.0f}")
        m = lambda key: statistics.mean(res[s, arm][key] for s in a.seeds)
        print(f"{arm:<28} | mean | {m('acc'):10.1%} | {m('answered'):8.1%} | {m('right'):19.1%} | {m('test'):6.3f} |")
    print("targets: other folds, all: family acc >= 75%, answered >= 60% at >= 90% right; 3 per family: >= 65%; "
          "Test >= the Fruits-360-only model's - 0.010, same seed")
    for seed in a.seeds:
        base = res[seed, 'Fruits-360 only']
        print(f"seed {seed}: " + ', '.join(f"{arm}: {res[seed, arm]['acc'] / max(base['acc'], 1e-9):.1f}x family acc, Test {res[seed, arm]['test'] - base['test']:+.3f}"
                                          for arm in arms[1:]))

if __name__ == '__main__': main()
