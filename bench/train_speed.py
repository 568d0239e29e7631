"""Training speed: the project's trainer against the textbook fastai recipe, same data, arch, image size and batch size.

Prints training images per second (training epochs with their validation: no lr_find, export or evaluation) and the
Test accuracy of three arms:
- textbook: the fastai book's recipe (`DataBlock`, `Resize`, `aug_transforms`, `vision_learner`, `fine_tune`);
- project: the project's `train` with its defaults, including the robustness extras of issue 6 (background swap and
  outlier exposure, which adds `[train] outlier_n` non-produce images to every batch: more work per step);
- project, plain: the same trainer with both extras off, doing the textbook's work per step;
- project, N processes: the same `train` with its defaults, started by `torchrun --nproc-per-node N` as a user starts it
  (gloo DDP on a CPU, each process with 1 of the cores; NCCL on GPUs): each process fits `bs` images of every step;
then the ratios: plain / textbook (the trainer's own speed), project / textbook, N processes / one, and the cost of the
extras (1 - project / plain). Run from the repository root:

    python bench/train_speed.py [--data ROOT] [--arch resnet34] [--size 100] [--bs 64] [--epochs 2] [--reps 3] [--procs 2]

ROOT defaults to ../shared/fruits360-sample where present, else a synthetic dataset. All train from scratch
(ImageNet weights cannot be assumed here) with the same learning rate, so the recipes differ only in their code path.
"""
import argparse, json, subprocess, tempfile
from functools import partial
from pathlib import Path
from fastai.vision.all import get_image_files
from produce_classifier.data import make_synthetic, test_dl
from produce_classifier.model import get_arch
from produce_classifier.photos import textbook_learner
from produce_classifier.train import train

def textbook(root, arch, size, bs, epochs, lr, seed):
    "The fastai book's recipe (`textbook_learner`), from scratch. Returns (images/s, Test accuracy)."
    # from scratch there is nothing to freeze: fine_tune with no frozen epochs, all layers trained, as the project does
    learn = textbook_learner(root, get_arch(arch), size, epochs, 0, bs, seed, pretrained=False, lr=lr)
    with learn.no_bar(), learn.no_logging(): acc = learn.validate(dl=test_dl(learn.dls, root))[1]
    return epochs * len(learn.dls.train_ds) / learn.fine_tune_seconds, acc

def project(root, arch, size, bs, epochs, lr, seed, **kwargs):
    "The project's `train`, from scratch (`kwargs`: e.g. `bg_p`, `outlier_n`; default from settings). Returns (images/s, Test accuracy)."
    with tempfile.TemporaryDirectory() as tmp:  # the model and its checkpoints: hundreds of MB nobody reads
        out = Path(tmp)/'model.pkl'
        learn = train(root, arch=arch, size=size, bs=bs, epochs=epochs, lr=lr, seed=seed, pretrained=False, out=out, progress=False, photos='none', **kwargs)
        info = json.loads(out.with_suffix('.json').read_text())
    return epochs * len(learn.dls.train_ds) / info['fit_seconds'], info['metrics']['test_accuracy']

def processes(root, arch, size, bs, epochs, lr, seed, n:int=2):
    "The project's `train` with its defaults in `n` processes, as `torchrun` starts the command. Returns (images/s, Test accuracy)."
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)/'model.pkl'
        args = dict(data=root, arch=arch, size=size, bs=bs, epochs=epochs, lr=lr, seed=seed, out=out, photos='none')
        r = subprocess.run(['torchrun', '--nproc-per-node', str(n), '--no-python', 'produce-classifier', 'train', '--no-pretrained',
                            *[f'--{k}={v}' for k, v in args.items()]], capture_output=True, text=True)
        if r.returncode: raise SystemExit(r.stdout[-3000:] + r.stderr[-3000:])
        info = json.loads(out.with_suffix('.json').read_text())
    return epochs * sum(info['class_counts'].values()) / info['fit_seconds'], info['metrics']['test_accuracy']

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sample = Path(__file__).resolve().parents[2]/'shared'/'fruits360-sample'
    p.add_argument('--data', default=str(sample) if sample.exists() else None)
    p.add_argument('--arch', default='resnet34'); p.add_argument('--size', type=int, default=100)
    p.add_argument('--bs', type=int, default=64); p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--lr', type=float, default=1e-3); p.add_argument('--seed', type=int, default=42)
    p.add_argument('--reps', type=int, default=3); p.add_argument('--procs', type=int, default=2)
    a = p.parse_args()
    tmp = tempfile.TemporaryDirectory()
    root = a.data or make_synthetic(Path(tmp.name)/'synth')
    print(f"data {root}  arch {a.arch}  size {a.size}  bs {a.bs}  epochs {a.epochs}  lr {a.lr}", flush=True)
    for f in get_image_files(root): f.read_bytes()  # warm the file cache, so the first arm does not pay for the disk
    # this machine's speed drifts by up to 20% over minutes: run the arms in turn, `reps` times, and keep each arm's best
    res = {}
    many = f'project, {a.procs} procs'
    runs = (('textbook', textbook), ('project', project), ('project, plain', partial(project, bg_p=0.0, outlier_n=0)),
            (many, partial(processes, n=a.procs)))
    for rep in range(a.reps):
        for name, fn in runs:
            ips, acc = fn(root, a.arch, a.size, a.bs, a.epochs, a.lr, a.seed)
            res.setdefault(name, []).append(ips)
            print(f"run {rep + 1}: {name:<15} {ips:8.1f} images/s   Test accuracy {acc:.3f}", flush=True)
    best = {k: max(v) for k, v in res.items()}
    for k, v in best.items(): print(f"best of {a.reps}: {k:<15} {v:8.1f} images/s")
    print(f"ratio plain / textbook (the trainer): {best['project, plain'] / best['textbook']:.2f}")
    print(f"ratio project / textbook (with the robustness extras): {best['project'] / best['textbook']:.2f}")
    print(f"cost of the robustness extras (1 - project / plain): {1 - best['project'] / best['project, plain']:.1%}")
    print(f"ratio {a.procs} processes / one (the project's defaults): {best[many] / best['project']:.2f}; "
          f"{a.procs} processes / textbook: {best[many] / best['textbook']:.2f}")
    tmp.cleanup()

if __name__ == '__main__': main()
