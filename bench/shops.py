"""Shop photos learned by default: a model trained with the GroceryStoreDataset's train split, measured on photos of other visits.

Per seed, one network (timm's tf_efficientnet_lite0 from ImageNet, offline from ../shared/weights; every class of
../shared/fruits360-all, `--cap` per class, the library's defaults) and heads on it, in one run:
- **Fruits-360 only**: `train --photos none`;
- **with shop photos**: `train` with `../shared/grocery-store` standing in for the download. The val split (other visits
  to the shops than the train split) is cut in two halves, alternately within each class: a copy of the dataset whose
  `val.txt` is half A and whose `test.txt` is half B. The library trains on train + A, reads the photo threshold from
  A's answers (a head fitted without A), and its own test-split report measures B, which it never saw;
- the same model at the threshold every fold's answers would set (the rule before photos of other visits set it);
- `--swap`: A and B swapped (the same network, resumed), so every val photo is measured once.
All are measured as the app answers (`Predictor`): family accuracy of the produce of a family the model knows, the
share answered and right when answered, packaged goods and produce it does not know refused; and the Fruits-360 Test
split. What A promised (right when answered at the threshold it set) is printed beside what B gave.

    HF_HUB_CACHE=../shared/weights/hf HF_HUB_OFFLINE=1 python bench/shops.py --seeds 42 43 44 [--swap]
"""
import argparse, json, shutil, statistics, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
from produce_classifier.core import NOT_PRODUCE, UNKNOWN_PRODUCE, family
from produce_classifier.train import train
from produce_classifier.inference import Predictor
from produce_classifier.photos import _classify, photo_metrics
from produce_classifier.shops import grocery_classes

SHARED = Path(__file__).resolve().parents[2]/'shared'
WORKERS = {} if torch.cuda.is_available() else dict(num_workers=0)  # loader processes only compete with training on 2 cores

def halves(src:Path) -> tuple[list[str], list[str]]:
    "The val split's lines cut in two, alternately within each class (in the dataset's order)."
    by = {}
    for l in (src/'dataset'/'val.txt').read_text().splitlines():
        if l.strip(): by.setdefault(l.split(',')[1].strip(), []).append(l + '\n')
    return [l for ls in by.values() for l in ls[0::2]], [l for ls in by.values() for l in ls[1::2]]

def copy_with(src:Path, dest:Path, val:list[str], test:list[str]) -> Path:
    "A GroceryStoreDataset root that trains on `src`'s train split and the `val` lines, and keeps `test` as its test split."
    d = dest/'dataset'; d.mkdir(parents=True)
    for n in ('train', 'val', 'classes.csv', 'train.txt'): (d/n).symlink_to(src/'dataset'/n)
    (d/'val.txt').write_text(''.join(val)); (d/'test.txt').write_text(''.join(test))
    return dest

def measure(model:Path, items:list, strict:bool=True, threshold:float|None=None) -> dict:
    "`items` as the app answers them: produce it knows named, answered and right; the rest refused."
    pred = Predictor(model, device='cuda' if torch.cuda.is_available() else 'cpu')
    if not strict: pred.shop_families = set()  # every family answered at the photo threshold
    if threshold: pred.photo_threshold, pred.studio_photo_threshold = threshold, max(threshold, pred.studio_photo_threshold)
    rows, _ = _classify(pred, items, None)
    other = [r for r in rows if r['family'] in (NOT_PRODUCE, UNKNOWN_PRODUCE)]
    m = photo_metrics([r for r in rows if r not in other])
    packs = [r for r in other if r['family'] == NOT_PRODUCE]
    unknown = [r for r in other if r['family'] == UNKNOWN_PRODUCE]
    info = json.loads(model.with_suffix('.json').read_text())
    return dict(m, packs_refused=sum(r['answer'] is None for r in packs) / len(packs),
                unknown_refused=sum(r['answer'] is None for r in unknown) / max(1, len(unknown)),
                n_packs=len(packs), n_unknown=len(unknown), test=info['metrics']['test_accuracy'],
                folds=info.get('photo_metrics'), photo_threshold=pred.photo_threshold)

def run(a, seed:int, tmp:Path) -> tuple[dict, list[dict]]:
    "The arms of `seed`: the photo arm trained (or resumed from `--checkpoints`), the others from its checkpoints."
    kw = dict(arch=a.arch, size=a.size, epochs=a.epochs, freeze_epochs=a.freeze_epochs, bs=a.bs, seed=seed,
              max_per_class=a.cap, progress=False, **WORKERS)
    fams = {family(d.name) for d in (Path(a.data)/'Training').iterdir()}
    A, B = halves(a.grocery)
    labels = grocery_classes(a.grocery, fams)
    items = lambda lines: [(a.grocery/'dataset'/l.split(',')[0].strip(), labels[int(l.split(',')[1])]) for l in lines]
    ck = tmp/f'photos-{seed}'/'checkpoints'
    if a.checkpoints: shutil.copytree(a.checkpoints, ck)
    t0 = time.time()
    train(a.data, out=ck.parent/'model.pkl', photos=['none', copy_with(a.grocery, tmp/f'grocery-{seed}', A, B)],
          keep_checkpoints=True, resume=bool(a.checkpoints), **kw)
    ph = measure(ck.parent/'model.pkl', items(B))
    ph['seconds'] = time.time() - t0
    ph['at_folds'] = measure(ck.parent/'model.pkl', items(B), threshold=ph['folds']['folds_threshold'])
    ph['lenient'] = measure(ck.parent/'model.pkl', items(B), strict=False)
    phs = [ph]
    if a.swap:  # the same network, resumed: B sets the threshold, A is measured
        shutil.copytree(ck, tmp/f'swap-{seed}'/'checkpoints')
        train(a.data, out=tmp/f'swap-{seed}'/'model.pkl', photos=['none', copy_with(a.grocery, tmp/f'grocery-swap-{seed}', B, A)],
              resume=True, keep_checkpoints=True, **kw)
        sw = measure(tmp/f'swap-{seed}'/'model.pkl', items(A))
        sw['at_folds'] = measure(tmp/f'swap-{seed}'/'model.pkl', items(A), threshold=sw['folds']['folds_threshold'])
        sw['lenient'] = measure(tmp/f'swap-{seed}'/'model.pkl', items(A), strict=False)
        sw['seconds'] = 0; phs.append(sw)
    # the same network (same seed and phases): resumed past its last epoch, finished without photos
    t1 = time.time()
    shutil.copytree(ck, tmp/f'studio-{seed}'/'checkpoints')
    train(a.data, out=tmp/f'studio-{seed}'/'model.pkl', photos='none', resume=True, **kw)
    st = [measure(tmp/f'studio-{seed}'/'model.pkl', items(h)) for h in ([B, A] if a.swap else [B])]
    for m in st: m['seconds'] = time.time() - t1  # one head for both halves
    return st, phs

def line(name:str, m:dict) -> str:
    return (f"{name}: family {m['family_accuracy']:.1%} of {m['n_photos']}, answered {m['answered']:.1%} at "
            f"{m['accuracy_answered']:.1%} right (photo threshold {m['photo_threshold']:.3f}), packaged goods refused "
            f"{m['packs_refused']:.1%} of {m['n_packs']}, unknown produce refused {m['unknown_refused']:.1%} of "
            f"{m['n_unknown']}, Fruits-360 Test {m['test']:.3f} ({m['seconds']:.0f} s)")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED/'fruits360-all'); p.add_argument('--grocery', type=Path, default=SHARED/'grocery-store')
    p.add_argument('--arch', default='tf_efficientnet_lite0'); p.add_argument('--size', type=int, default=128)
    p.add_argument('--epochs', type=int, default=3); p.add_argument('--freeze-epochs', type=int, default=1)
    p.add_argument('--cap', type=int, default=40); p.add_argument('--bs', type=int, default=32)
    p.add_argument('--seeds', type=int, nargs='+', default=[42])
    p.add_argument('--swap', action='store_true', help='measure each half of the val split in turn (one more head per seed)')
    p.add_argument('--checkpoints', type=Path, help="a network already trained with these settings (its checkpoints/): one seed, resumed")
    a = p.parse_args()
    print(f"arch {a.arch}, size {a.size}, {a.freeze_epochs} + {a.epochs} epochs, {a.cap} images per class of {a.data}; "
          f"shop photos: {a.grocery} train split and half its val split, measured on the other half", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            st, phs = run(a, seed, Path(tmp))
            for half, s, ph in zip('BA', st, phs):
                rows.append((s, ph, ph['at_folds']))
                f, at = ph['folds'], line("at every fold's threshold ", dict(ph['at_folds'], seconds=0))
                print(f"seed {seed}, measured on val half {half} ({'A' if half == 'B' else 'B'} set the threshold)\n"
                      f"  {line('Fruits-360 only           ', s)}\n  {line('with shop photos          ', ph)}\n"
                      f"  {at}\n"
                      f"  what the threshold's photos promised: answered {f['answered']:.1%} of {f['n_curve']} ({f['curve_from']}) at "
                      f"{f['accuracy_answered']:.1%} right; every fold: answered {f['folds_answered']:.1%} at "
                      f"{f['folds_accuracy_answered']:.1%} right, threshold {f['folds_threshold']:.3f}\n"
                      f"  without the stricter threshold for families it has no shop photos of: answered "
                      f"{ph['lenient']['answered']:.1%} at {ph['lenient']['accuracy_answered']:.1%} right, packaged goods refused "
                      f"{ph['lenient']['packs_refused']:.1%}, unknown produce refused {ph['lenient']['unknown_refused']:.1%}", flush=True)
    mean = lambda i, k: statistics.mean(r[i][k] for r in rows)
    print(f"\nmean of {len(rows)} (seed, half)      | Fruits-360 only | with shop photos | at every fold's threshold | target")
    for k, name, fmt, target in (('family_accuracy', 'family accuracy', '.1%', '>= 90% (test split)'),
                                 ('answered', 'answered', '.1%', '>= 60%'),
                                 ('accuracy_answered', 'right when answered', '.1%', '>= 90%'),
                                 ('packs_refused', 'packaged goods refused', '.1%', ''),
                                 ('unknown_refused', 'unknown produce refused', '.1%', ''),
                                 ('test', 'Fruits-360 Test', '.3f', 'photos >= only - 0.010')):
        print(f"{name:<32} | {mean(0, k):>15{fmt}} | {mean(1, k):>16{fmt}} | {mean(2, k):>25{fmt}} | {target}")
    print(f"promised, right when answered    | {'':>15} | {statistics.mean(r[1]['folds']['accuracy_answered'] for r in rows):>16.1%} | "
          f"{statistics.mean(r[1]['folds']['folds_accuracy_answered'] for r in rows):>25.1%} |")

if __name__ == '__main__': main()
