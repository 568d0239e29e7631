"""Are a GroceryStoreDataset's val photos from other visits than its train photos? Nearest neighbours of thumbnails.

Each photo becomes a 24x24 colour thumbnail, centred and scaled to unit length; for each photo, the highest
correlation with another photo of its fine class is its nearest neighbour. Train photos beside train photos (and
beside those more than five files away, since neighbouring files are often the same bin) against val photos beside
train photos: a much lower figure for val says its photos were taken on other visits, so folds of the train split
flatter the photo threshold, and the val split should set it.

    python bench/visits.py [--grocery ../shared/grocery-store]
"""
import argparse
from pathlib import Path
import numpy as np
from PIL import Image
from benchlib import SHARED


def rows(root:Path, split:str) -> list[tuple[str, int]]:
    "(path, fine class id) of each photo of `split`."
    return [(l.split(',')[0].strip(), int(l.split(',')[1])) for l in (root/'dataset'/f'{split}.txt').read_text().splitlines()
            if l.strip()]

def thumbs(root:Path, items:list) -> np.ndarray:
    "Each photo as a centred, unit-length 24x24 colour thumbnail."
    out = []
    for p, _ in items:
        a = np.asarray(Image.open(root/'dataset'/p).convert('RGB').resize((24, 24), Image.BILINEAR), np.float32).ravel()
        a = a - a.mean(); out.append(a / (np.linalg.norm(a) + 1e-6))
    return np.stack(out)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--grocery', type=Path, default=SHARED/'grocery-store')
    a = p.parse_args()
    tr, va = rows(a.grocery, 'train'), rows(a.grocery, 'val')
    T, V = thumbs(a.grocery, tr), thumbs(a.grocery, va)
    ct, cv = np.array([c for _, c in tr]), np.array([c for _, c in va])
    S = T @ T.T; np.fill_diagonal(S, -1)
    same, idx = ct[:, None] == ct[None], np.arange(len(tr))
    far = np.abs(idx[:, None] - idx[None]) > 5
    for name, x in (('train beside train', np.where(same, S, -1).max(1)),
                    ('train beside train more than 5 files away', np.where(same & far, S, -1).max(1)),
                    ('val beside train', np.where(cv[:, None] == ct[None], V @ T.T, -1).max(1))):
        print(f"{name:<44} median {np.median(x):.3f}, lower quartile {np.quantile(x, .25):.3f}, "
              f"above 0.9 {np.mean(x > .9):.1%} ({len(x)} photos)")

if __name__ == '__main__': main()
