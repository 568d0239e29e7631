"""Shop photos learned by default: a model trained with the GroceryStoreDataset's train split, measured on its val split.

Per seed, one network (timm's tf_efficientnet_lite0 from ImageNet, offline from ../shared/weights; every class of
../shared/fruits360-all, `--cap` per class, the library's defaults) and two heads on it, in one run:
- **Fruits-360 only**: `train --photos none`;
- **with shop photos**: `train` with `../shared/grocery-store` standing in for the download, its train split alone
  (a copy whose `val.txt` is empty and whose `test.txt` is the val split, so the library's own test-split report, the
  one a real download gets, measures the val split the model never saw).
Both are measured on the val split as the app answers (`Predictor`): family accuracy of the produce of a family the
model knows, the share answered and right when answered, packaged goods and produce it does not know refused; and
on the Fruits-360 Test split. The photo arm's fold estimate (what its own folds promised) is printed beside.

    HF_HUB_CACHE=../shared/weights/hf HF_HUB_OFFLINE=1 python bench/shops.py --seeds 42 43 44
"""
import argparse, json, shutil, statistics, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
from produce_classifier.core import NOT_PRODUCE, UNKNOWN_PRODUCE, family
from produce_classifier.train import train
from produce_classifier.inference import Predictor
from produce_classifier.photos import _classify, photo_metrics
from produce_classifier.shops import read_grocery

SHARED = Path(__file__).resolve().parents[2]/'shared'
WORKERS = {} if torch.cuda.is_available() else dict(num_workers=0)  # loader processes only compete with training on 2 cores

def train_split_only(src:Path, dest:Path) -> Path:
    "A GroceryStoreDataset root that trains on `src`'s train split and keeps its val split as the test split."
    d = dest/'dataset'; d.mkdir(parents=True)
    for n in ('train', 'val', 'classes.csv', 'train.txt'): (d/n).symlink_to(src/'dataset'/n)
    (d/'val.txt').write_text('')
    shutil.copyfile(src/'dataset'/'val.txt', d/'test.txt')
    return dest

def measure(model:Path, items:list, strict:bool=True) -> dict:
    "The val split as the app answers it: produce it knows named, answered and right; the rest refused."
    pred = Predictor(model, device='cuda' if torch.cuda.is_available() else 'cpu')
    if not strict: pred.shop_families = set()  # every family answered at the photo threshold
    rows, _ = _classify(pred, items, None)
    other = [r for r in rows if r['family'] in (NOT_PRODUCE, UNKNOWN_PRODUCE)]
    m = photo_metrics([r for r in rows if r not in other])
    packs = [r for r in other if r['family'] == NOT_PRODUCE]
    unknown = [r for r in other if r['family'] == UNKNOWN_PRODUCE]
    info = json.loads(model.with_suffix('.json').read_text())
    return dict(m, packs_refused=sum(r['answer'] is None for r in packs) / len(packs),
                unknown_refused=sum(r['answer'] is None for r in unknown) / len(unknown),
                n_packs=len(packs), n_unknown=len(unknown), test=info['metrics']['test_accuracy'],
                folds=info.get('photo_metrics'), photo_threshold=pred.photo_threshold)

def run(a, seed:int, tmp:Path) -> tuple[dict, dict]:
    "Both arms of `seed`: the photo arm trained, the Fruits-360-only head from the same network's checkpoints."
    kw = dict(arch=a.arch, size=a.size, epochs=a.epochs, freeze_epochs=a.freeze_epochs, bs=a.bs, seed=seed,
              max_per_class=a.cap, progress=False, **WORKERS)
    shop = train_split_only(a.grocery, tmp/f'grocery-{seed}')
    fams = {family(d.name) for d in (Path(a.data)/'Training').iterdir()}
    val = read_grocery(a.grocery, fams, splits=('val',))
    t0 = time.time()
    train(a.data, out=tmp/f'photos-{seed}'/'model.pkl', photos=['none', shop], keep_checkpoints=True, **kw)
    t1 = time.time()
    # the same network (same seed and phases): resumed past its last epoch, finished without photos
    shutil.copytree(tmp/f'photos-{seed}'/'checkpoints', tmp/f'studio-{seed}'/'checkpoints')
    train(a.data, out=tmp/f'studio-{seed}'/'model.pkl', photos='none', resume=True, **kw)
    t2 = time.time()
    ph, st = measure(tmp/f'photos-{seed}'/'model.pkl', val), measure(tmp/f'studio-{seed}'/'model.pkl', val)
    ph['seconds'], st['seconds'] = t1 - t0, t2 - t1
    ph['lenient'] = measure(tmp/f'photos-{seed}'/'model.pkl', val, strict=False)
    return st, ph

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
    a = p.parse_args()
    print(f"arch {a.arch}, size {a.size}, {a.freeze_epochs} + {a.epochs} epochs, {a.cap} images per class of {a.data}; "
          f"shop photos: {a.grocery} train split, measured on its val split", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            st, ph = run(a, seed, Path(tmp))
            rows.append((st, ph))
            f = ph['folds']
            print(f"seed {seed}\n  {line('Fruits-360 only ', st)}\n  {line('with shop photos', ph)}\n"
                  f"  the photo arm's folds promised: family {f['family_accuracy']:.1%}, answered {f['answered']:.1%} "
                  f"at {f['accuracy_answered']:.1%} right\n  without the stricter threshold for families it has no shop photos "
                  f"of: answered {ph['lenient']['answered']:.1%} at {ph['lenient']['accuracy_answered']:.1%} right, packaged goods "
                  f"refused {ph['lenient']['packs_refused']:.1%}, unknown produce refused {ph['lenient']['unknown_refused']:.1%}", flush=True)
    mean = lambda i, k: statistics.mean(r[i][k] for r in rows)
    print(f"\nmean of {len(rows)} seed(s)        | Fruits-360 only | with shop photos | target")
    for k, name, fmt, target in (('family_accuracy', 'val family accuracy', '.1%', '>= 90% (test split)'),
                                 ('answered', 'val answered', '.1%', '>= 60%'),
                                 ('accuracy_answered', 'val right when answered', '.1%', '>= 90%'),
                                 ('packs_refused', 'packaged goods refused', '.1%', ''),
                                 ('unknown_refused', 'unknown produce refused', '.1%', ''),
                                 ('test', 'Fruits-360 Test', '.3f', 'photos >= only - 0.010')):
        print(f"{name:<28} | {mean(0, k):>15{fmt}} | {mean(1, k):>16{fmt}} | {target}")
    print(f"folds' promise, right when answered | {statistics.mean(r[1]['folds']['accuracy_answered'] for r in rows):.1%}")

if __name__ == '__main__': main()
