"""Shop photos learned by default: a model trained with the GroceryStoreDataset's train split, measured on photos of other visits.

Per seed, two networks from one probe (timm's tf_efficientnet_lite0 from ImageNet, offline from ../shared/weights; every
class of ../shared/fruits360-all, `--cap` per class, the library's defaults) and heads on them, in one run:
- **photos in network and head**: `train` with `../shared/grocery-store` standing in for the download (the default:
  `[train] photo_batch` photos in each batch of the fine-tune after the probe, then in the head's fit). The val split (other visits
  to the shops than the train split) is cut in two halves, alternately within each class: a copy of the dataset whose
  `val.txt` is half A and whose `test.txt` is half B. The library fine-tunes the network with the train split, fits the head on train + A, reads the photo threshold from
  A's answers (a head fitted without A), and its own test-split report measures B, which it never saw;
- the same model at the threshold every fold's answers would set (the rule before photos of other visits set it);
- **Fruits-360 only**: the same probe fine-tuned on Fruits-360 alone (`--photos none`), and **photos in the head only**:
  that network with the photos in its head's fit alone (`photo_batch 0`, the rule before), the fine-tunes' times beside;
- `--swap`: A and B swapped (the same network, resumed), so every val photo is measured once.
All are measured as the app answers (`Predictor`): family accuracy of the produce of a family the model knows, the
share answered and right when answered, packaged goods and produce it does not know refused; and the Fruits-360 Test
split. What A promised (right when answered at the threshold it set) is printed beside what B gave.

    HF_HUB_CACHE=../shared/weights/hf HF_HUB_OFFLINE=1 python bench/shops.py --seeds 42 43 44 [--swap]
"""
import argparse, json, shutil, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
from produce_classifier.families import NOT_PRODUCE, UNKNOWN_PRODUCE, family
from produce_classifier.train import train
from produce_classifier.model import Predictor
from produce_classifier.photos import _classify, photo_metrics
from produce_classifier.shops import grocery_classes
from benchlib import SHARED, device, mean_table, workers

WORKERS = workers()

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
    pred = Predictor(model, device=device())
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

def from_probe(ck:Path, dest:Path) -> Path:
    "A copy of the checkpoints `ck` rolled back to the end of the probe: a resumed run fine-tunes again from there."
    dest.mkdir(parents=True)
    shutil.copy(ck/'probe.pth', dest/'probe.pth')
    s = json.loads((ck/'state.json').read_text())
    s.update(phase='probe', epoch=s['freeze_epochs'] - 1); s.pop('photo_network', None)
    (dest/'state.json').write_text(json.dumps(s))
    return dest

def finetune_seconds(model:Path, epochs:int) -> float|None:
    "The seconds of the fine-tune's `epochs` after the probe (history.csv's last rows); None: no fine-tune in this run."
    fn = model.parent/'history.csv'
    if not fn.is_file(): return None
    rows = [l.split(',') for l in fn.read_text().splitlines() if l.strip()][-epochs:]
    return sum(int(m) * 60 + int(s) for m, s in (r[-1].split(':') for r in rows))

def run(a, seed:int, tmp:Path) -> tuple[list[dict], list[dict], list[dict]]:
    "The arms of `seed`: the network with photos trained (or resumed from `--checkpoints`), then from its probe the network without."
    kw = dict(arch=a.arch, size=a.size, epochs=a.epochs, freeze_epochs=a.freeze_epochs, bs=a.bs, seed=seed,
              max_per_class=a.cap, progress=False, **WORKERS)
    fams = {family(d.name) for d in (Path(a.data)/'Training').iterdir()}
    A, B = halves(a.grocery)
    labels = grocery_classes(a.grocery, fams)
    items = lambda lines: [(a.grocery/'dataset'/l.split(',')[0].strip(), labels[int(l.split(',')[1])]) for l in lines]
    shops = lambda name, val, test: ['none', copy_with(a.grocery, tmp/f'grocery-{name}-{seed}', val, test)]
    halves_measured = [(A, B), (B, A)] if a.swap else [(A, B)]
    def arm(name:str, ck:Path|None, photos, **more) -> list[dict]:
        "Train (or resume `ck`) into `name`, finished with the photos `photos(val, test)` of each half; measured on `test`."
        out, t0 = [], time.time()
        for i, (val, test) in enumerate(halves_measured if photos else [(A, B)]):
            d = tmp/f'{name}-{seed}-{i}'
            if ck: shutil.copytree(ck, d/'checkpoints')
            train(a.data, out=d/'model.pkl', photos=photos(f'{name}{i}', val, test) if photos else 'none',
                  keep_checkpoints=True, resume=bool(ck), **kw, **more)
            ck = d/'checkpoints'  # the other half: the same network, its heads fitted again
            for h in ([test] if photos else [B, A] if a.swap else [B]):
                m = measure(d/'model.pkl', items(h))
                if photos:
                    m['at_folds'] = measure(d/'model.pkl', items(h), threshold=m['folds']['folds_threshold'])
                    m['lenient'] = measure(d/'model.pkl', items(h), strict=False)
                m.update(seconds=time.time() - t0, finetune_seconds=finetune_seconds(d/'model.pkl', a.epochs))
                out.append(m)
        return out
    ph = arm('network', a.checkpoints, shops)  # photos in the fine-tune's batches and in the head
    ck = from_probe(tmp/f'network-{seed}-0'/'checkpoints', tmp/f'probe-{seed}')
    st = arm('studio', ck, None)  # the same probe, fine-tuned on Fruits-360 alone
    head = arm('head', tmp/f'studio-{seed}-0'/'checkpoints', shops, photo_batch=0)  # that network, photos in its head only
    for m in head: m['finetune_seconds'] = st[0]['finetune_seconds']  # its network's
    return st, ph, head

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
            st, phs, heads = run(a, seed, Path(tmp))
            for half, s, ph, hd in zip('BA', st, phs, heads):
                rows.append((s, ph, ph['at_folds'], hd))
                f, at = ph['folds'], line("at every fold's threshold ", dict(ph['at_folds'], seconds=0))
                print(f"seed {seed}, measured on val half {half} ({'A' if half == 'B' else 'B'} set the threshold)\n"
                      f"  {line('Fruits-360 only           ', s)}\n  {line('photos in the head only   ', hd)}\n"
                      f"  {line('photos in network and head', ph)}\n  {at}\n"
                      f"  what the threshold's photos promised: answered {f['answered']:.1%} of {f['n_curve']} ({f['curve_from']}) at "
                      f"{f['accuracy_answered']:.1%} right; every fold: answered {f['folds_answered']:.1%} at "
                      f"{f['folds_accuracy_answered']:.1%} right, threshold {f['folds_threshold']:.3f}\n"
                      f"  without the stricter threshold for families it has no shop photos of: answered "
                      f"{ph['lenient']['answered']:.1%} at {ph['lenient']['accuracy_answered']:.1%} right, packaged goods refused "
                      f"{ph['lenient']['packs_refused']:.1%}, unknown produce refused {ph['lenient']['unknown_refused']:.1%}\n"
                      f"  fine-tune after the probe: {s['finetune_seconds']:.0f} s on Fruits-360 alone, {ph['finetune_seconds']:.0f} s "
                      f"with photos in its batches ({ph['finetune_seconds'] / max(1, s['finetune_seconds']):.2f}x)", flush=True)
    for _, ph, at, hd in rows:  # what the threshold's photos promised, beside what was measured
        hd['promised'], ph['promised'], at['promised'] = (hd['folds']['accuracy_answered'], ph['folds']['accuracy_answered'],
                                                          ph['folds']['folds_accuracy_answered'])
    arms = ('Fruits-360 only', 'photos in head only', 'photos in network', "at every fold's threshold")
    print('\n' + mean_table(f"mean of {len(rows)} (seed, half)", {n: [r[i] for r in rows] for n, i in zip(arms, (0, 3, 1, 2))}, [
        ('family_accuracy', 'family accuracy', '.1%', '>= 90% (test split)'),
        ('answered', 'answered', '.1%', '>= 60%'),
        ('accuracy_answered', 'right when answered', '.1%', '>= 90%'),
        ('promised', 'promised, right when answered', '.1%', ''),
        ('packs_refused', 'packaged goods refused', '.1%', ''),
        ('unknown_refused', 'unknown produce refused', '.1%', ''),
        ('test', 'Fruits-360 Test', '.3f', 'photos >= only - 0.010'),
        ('finetune_seconds', 'fine-tune seconds', '.0f', '')]))

if __name__ == '__main__': main()
