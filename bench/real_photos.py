"""Real grocery photos: the textbook fastai recipe against `produce-classifier train` defaults, per seed, in one run.

Both arms start from the same ImageNet weights (timm's tf_efficientnet_lite0 by default, offline from ../shared/weights),
train on the same images (every class of ../shared/fruits360-all, `--cap` per class) at the same size for the same
epochs, and are measured on the Fruits-360 Test split and on the labelled real photos in ../shared/real-photos.
The project arm answers through the Predictor's `classify`, as the app does (views seen at up to twice the input
size, family prior, the family ImageNet is sure of, calibration, "not sure" at the photo threshold; its figures at zoom 1, every view at the input size, are printed beside), and is also shown images of things that are not produce from the evaluation families training never
uses. The anchor: the untouched network's own ImageNet head on the photos whose family ImageNet knows.

    HF_HUB_CACHE=../shared/weights/hf HF_HUB_OFFLINE=1 python bench/real_photos.py --seeds 42 43 44
"""
import argparse, json, statistics, tempfile, time, warnings
import numpy as np
from pathlib import Path
warnings.filterwarnings('ignore')
import torch
from PIL import Image
from fastai.vision.all import get_image_files
from produce_classifier.families import family
from produce_classifier.data import image_files
from produce_classifier.train import train
from produce_classifier.model import IMAGENET_FAMILIES, Predictor
from produce_classifier.photos import evaluate_photos, read_photos, textbook_learner
from produce_classifier.calibration import make_non_produce
from benchlib import SHARED, device, mean_table, workers

WORKERS = workers()

def textbook(root, photos, arch, size, epochs, freeze_epochs, cap, bs, seed):
    "fastai's textbook recipe: DataBlock, Resize, aug_transforms, vision_learner, fine_tune; Test and photo family accuracy."
    learn = textbook_learner(root, arch, size, epochs, freeze_epochs, bs, seed, max_per_class=cap, **WORKERS)
    dls = learn.dls
    test = image_files(root, 'Test').filter(lambda f: f.parent.name in dls.vocab)
    with learn.no_bar(), learn.no_logging(): test_acc = float(learn.validate(dl=dls.test_dl(test, with_labels=True))[1])
    files, fams = zip(*read_photos(photos))
    with learn.no_bar(): preds = learn.get_preds(dl=dls.test_dl(list(files)))[0]
    guess = [family(dls.vocab[i]) for i in preds.argmax(1)]
    return dict(test=test_acc, **_family_scores(guess, fams))

def _family_scores(guess, fams):
    "Family accuracy overall and on the families ImageNet knows."
    known = set(IMAGENET_FAMILIES.values())
    kn = [g == f for g, f in zip(guess, fams) if f in known]
    return dict(real=sum(g == f for g, f in zip(guess, fams)) / len(fams), known=sum(kn) / len(kn), n_known=len(kn))

def project(root, photos, arch, size, epochs, freeze_epochs, cap, bs, seed, tmp):
    "`produce-classifier train` defaults; Test accuracy, real photos as the app answers them, non-produce refused."
    out = Path(tmp)/f'project-{seed}'/'model.pkl'
    train(root, arch=arch, size=size, epochs=epochs, freeze_epochs=freeze_epochs, bs=bs, seed=seed, max_per_class=cap,
          out=out, progress=False, lr_find_iters=30, photos='none', **WORKERS)
    info = json.loads(out.with_suffix('.json').read_text())
    dev = device()
    m = evaluate_photos(photos, out, out=out.parent/'reports', device=dev)
    rows = m['rows']
    flat = evaluate_photos(photos, out, out=out.parent/'reports-zoom1', device=dev, zoom=1)['rows']  # every view at the input size
    err_all = 1 - sum(r['guess'] == r['family'] for r in rows) / len(rows)
    pred = Predictor(out, device=dev)
    neg = sorted(get_image_files(make_non_produce(Path(tmp)/f'non-produce-{seed}', n=200, seed=seed + 1000)))
    refused = sum(a['abstained'] for a in pred.classify(neg)) / len(neg)  # the app's rule: threshold and energy floor
    return dict(test=info['metrics']['test_accuracy'], **_family_scores([r['guess'] for r in rows], [r['family'] for r in rows]),
                answered=m['answered'], acc_answered=m['accuracy_answered'], err_ratio=(1 - m['accuracy_answered']) / err_all,
                refused=refused, threshold=pred.threshold, photo_threshold=pred.photo_threshold, zoom=m['zoom'],
                **{f'{k}_zoom1': v for k, v in _family_scores([r['guess'] for r in flat], [r['family'] for r in flat]).items()})

def anchor(photos, arch, size=224):
    "The untouched network's ImageNet head on the photos whose family ImageNet knows: right when its top class is of that family."
    import timm
    m = timm.create_model(arch, pretrained=True).eval()
    cfg = m.pretrained_cfg; mean, std = torch.tensor(cfg['mean']).view(3, 1, 1), torch.tensor(cfg['std']).view(3, 1, 1)
    known = set(IMAGENET_FAMILIES.values()); ok = []
    for f, fam in read_photos(photos):
        if fam not in known: continue
        with Image.open(f) as im: x = torch.from_numpy(np.asarray(im.convert('RGB').resize((size, size)))).permute(2, 0, 1).float() / 255
        with torch.inference_mode(): top = int(m(((x - mean) / std)[None]).argmax())
        ok.append(IMAGENET_FAMILIES.get(top) == fam)
    return sum(ok) / len(ok), len(ok)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=SHARED/'fruits360-all'); p.add_argument('--photos', default=SHARED/'real-photos')
    p.add_argument('--arch', default='tf_efficientnet_lite0'); p.add_argument('--size', type=int, default=128)
    p.add_argument('--epochs', type=int, default=3); p.add_argument('--freeze-epochs', type=int, default=1)
    p.add_argument('--cap', type=int, default=40, help='training images per class (fruits360-all has 40)'); p.add_argument('--bs', type=int, default=32)
    p.add_argument('--seeds', type=int, nargs='+', default=[42])
    a = p.parse_args()
    print(f"arch {a.arch}, size {a.size}, {a.freeze_epochs} frozen + {a.epochs} epochs, {a.cap} images per class of {a.data}, bs {a.bs}; photos {a.photos}", flush=True)
    acc, n = anchor(a.photos, a.arch)
    print(f"anchor: the untouched ImageNet head, 224 px, on the {n} photos whose family ImageNet knows: {acc:.1%}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            t0 = time.time(); tb = textbook(a.data, a.photos, a.arch, a.size, a.epochs, a.freeze_epochs, a.cap, a.bs, seed)
            t1 = time.time(); pr = project(a.data, a.photos, a.arch, a.size, a.epochs, a.freeze_epochs, a.cap, a.bs, seed, tmp)
            rows.append((seed, tb, pr))
            print(f"seed {seed}: textbook ({t1 - t0:.0f} s) Test {tb['test']:.3f}, real photos {tb['real']:.1%} (known families {tb['known']:.1%}) | "
                  f"project ({time.time() - t1:.0f} s) Test {pr['test']:.3f}, real photos {pr['real']:.1%} (known families {pr['known']:.1%}), "
                  f"answered {pr['answered']:.1%} at {pr['photo_threshold']:.3f} ({pr['acc_answered']:.1%} right; answered error / overall error "
                  f"{pr['err_ratio']:.2f}), non-produce refused {pr['refused']:.1%}; views at zoom {pr['zoom']:g} (at zoom 1: real photos "
                  f"{pr['real_zoom1']:.1%}, known families {pr['known_zoom1']:.1%})", flush=True)
    print('\n' + mean_table(f"mean of {len(rows)} seed(s)", dict(textbook=[r[1] for r in rows], project=[r[2] for r in rows]), [
        ('test', 'Test accuracy', '.3f', 'project >= textbook - 0.010'),
        ('real', 'real photos, family', '.1%', 'project >= 50% (each seed >= 45%)'),
        ('known', 'ImageNet-known fams', '.1%', f'>= anchor {acc:.1%}'),
        ('real_zoom1', '  real photos at zoom 1', '.1%', 'every view at the input size'),
        ('known_zoom1', '  ImageNet-known fams at zoom 1', '.1%', ''),
        ('err_ratio', 'answered err / err', '.2f', '<= 0.50'),
        ('refused', 'non-produce refused', '.1%', '>= 80%')]))
    mean = lambda arm, k: statistics.mean(r[arm][k] for r in rows)
    print(f"ratio real photos project / textbook: {mean(2, 'real') / max(mean(1, 'real'), 1e-9):.1f}x")

if __name__ == '__main__': main()
