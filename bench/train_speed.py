"""Training speed: the project's trainer against the textbook fastai recipe, same data, arch, image size and batch size.

Prints training images per second for each (training epochs only: no lr_find, export or evaluation), their ratio
(project / textbook), the Test accuracy each reached, and the cost of the project's background augmentation (the
project's trainer run again without it). Run from the repository root:

    python bench/train_speed.py [--data ROOT] [--arch resnet34] [--size 100] [--bs 64] [--epochs 3]

ROOT defaults to ../shared/fruits360-sample where present, else a synthetic dataset. Both train from scratch
(ImageNet weights cannot be assumed here) with the same learning rate, so the recipes differ only in their code path.
"""
import argparse, json, tempfile, time
from functools import partial
from pathlib import Path
from fastai.vision.all import (CategoryBlock, DataBlock, ImageBlock, RandomSplitter, Resize, accuracy, aug_transforms,
                               get_image_files, parent_label, set_seed, vision_learner)
from produce_classifier.data import make_synthetic, test_dl
from produce_classifier.train import get_arch, train

def textbook(root, arch, size, bs, epochs, lr, seed):
    "The fastai book's recipe: DataBlock, Resize, aug_transforms, vision_learner, fine_tune. Returns (images/s, Test accuracy)."
    set_seed(seed, reproducible=True)
    dblock = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, get_y=parent_label,
                       splitter=RandomSplitter(0.2, seed=seed), item_tfms=Resize(size), batch_tfms=aug_transforms())
    dls = dblock.dataloaders(Path(root)/'Training', bs=bs)
    learn = vision_learner(dls, get_arch(arch), pretrained=False, metrics=accuracy)
    t = time.perf_counter()
    # from scratch there is nothing to freeze: fine_tune with no frozen epochs, all layers trained, as the project does
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(epochs, lr, freeze_epochs=0)
    secs = time.perf_counter() - t
    with learn.no_bar(), learn.no_logging(): acc = learn.validate(dl=test_dl(dls, root))[1]
    return epochs * len(dls.train_ds) / secs, acc

def project(root, arch, size, bs, epochs, lr, seed, bg_p=None):
    "The project's `train`, from scratch (`bg_p`: background augmentation, default from settings). Returns (images/s, Test accuracy)."
    out = Path(tempfile.mkdtemp())/'model.pkl'
    learn = train(root, arch=arch, size=size, bs=bs, epochs=epochs, lr=lr, seed=seed, pretrained=False, out=out, progress=False, bg_p=bg_p)
    meta = json.loads(out.with_suffix('.json').read_text())
    return epochs * len(learn.dls.train_ds) / meta['fit_seconds'], meta['metrics']['test_accuracy']

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sample = Path(__file__).resolve().parents[2]/'shared'/'fruits360-sample'
    p.add_argument('--data', default=str(sample) if sample.exists() else None)
    p.add_argument('--arch', default='resnet34'); p.add_argument('--size', type=int, default=100)
    p.add_argument('--bs', type=int, default=64); p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--lr', type=float, default=3e-3); p.add_argument('--seed', type=int, default=42)
    a = p.parse_args()
    root = a.data or make_synthetic(Path(tempfile.mkdtemp())/'synth')
    print(f"data {root}  arch {a.arch}  size {a.size}  bs {a.bs}  epochs {a.epochs}  lr {a.lr}", flush=True)
    res = {}
    runs = (('textbook', textbook), ('project', project), ('project, no background swap', partial(project, bg_p=0.0)))
    for name, fn in runs:
        res[name] = fn(root, a.arch, a.size, a.bs, a.epochs, a.lr, a.seed)
        print(f"{name:<29} {res[name][0]:8.1f} images/s   Test accuracy {res[name][1]:.3f}", flush=True)
    print(f"ratio (project / textbook, images/s): {res['project'][0] / res['textbook'][0]:.2f}")
    print(f"background swap cost (1 - with / without, images/s): {1 - res['project'][0] / res['project, no background swap'][0]:.1%}")

if __name__ == '__main__': main()
