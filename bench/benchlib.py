"""What the bench scripts share: where `../shared` is, loader workers, the device, the 95th percentile, a table of means,
a free port, resident memory.

Each script runs as `python bench/NAME.py`, so this folder is on `sys.path` and `from benchlib import ...` finds this file.
"""
import socket, statistics
from pathlib import Path

# the data the benches measure on: `../shared` beside the repository
SHARED = Path(__file__).resolve().parents[2]/'shared'

def workers() -> dict:
    "`dataloaders` arguments: loader processes feed a GPU; on 2 CPU cores they only compete with training."
    import torch
    return {} if torch.cuda.is_available() else dict(num_workers=0)

def device() -> str:
    "Where a bench runs its model: the GPU where there is one."
    import torch
    return 'cuda' if torch.cuda.is_available() else 'cpu'

def p95(xs) -> float:
    "The 95th percentile of `xs` (nearest rank)."
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]

def free_port() -> int:
    "A TCP port free on 127.0.0.1 now."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def rss_mb(pid:int) -> float:
    "Resident MB of `pid` (Linux)."
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024
    return float('nan')

def mean_table(title:str, # the table's first header cell
               arms:dict, # each arm's name: its measurements (a dict a seed, or a seed and half)
               measures:list, # (key, label, format, target) a row
              ) -> str:
    "Each arm's mean of each measure, side by side with the target; blank where an arm has no such measurement."
    def cell(rows:list, k:str, fmt:str) -> str:
        vals = [r[k] for r in rows if r.get(k) is not None]
        return format(statistics.mean(vals), fmt) if vals else ''
    w, lw = [max(len(n), 9) for n in arms], max(len(title), *(len(m[1]) for m in measures))
    out = [' | '.join([f'{title:<{lw}}', *(f'{n:>{x}}' for n, x in zip(arms, w)), 'target'])]
    for k, label, fmt, target in measures:
        out.append(' | '.join([f'{label:<{lw}}', *(f'{cell(rows, k, fmt):>{x}}' for rows, x in zip(arms.values(), w)),
                               target]))
    return '\n'.join(out)
