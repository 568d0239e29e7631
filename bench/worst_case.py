"""Worst-case uploads beside normal visitors: does one visitor's expensive photo slow everyone else, and does memory come back?

In one run, against `app.py` started on 127.0.0.1 with the model: 8 clients send ordinary photos (a Fruits-360 image
each request) alone, then again while 4 more clients send the most expensive uploads the app accepts (a PNG just
under the 8.3 MP it decodes whole whatever the file size, tens of KB). Prints the normal clients' median and p95 seconds in both phases
and their ratio (the issue asks for at most 2x), failures, and the app's resident MB when warm, at the start of the
burst (after the normal clients alone), at its end and 10 s after (the issue asks for within 10% of the start). Run from the repository root:

    python bench/worst_case.py --model models/model.pkl [--requests 10] [--photos ../shared/photos]

A big photo is classified as one view at twice the input size (and tiles with `[app] crops`), so the dearest upload
costs about what an ordinary phone photo costs; `--photos` has the normal clients send phone photos, to tell the two
costs apart.
"""
import argparse, os, statistics, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np
from PIL import Image
from benchlib import free_port, p95, rss_mb


def worst_png(fn:Path) -> Path:
    "A PNG just under the 8.3 MP (a 4K frame) the app decodes whole at any file size, in under 100 KB: cheap to send, the dearest to decode."
    a = np.zeros((2160, 3840, 3), np.uint8); a[::5] = (200, 120, 40); a[:, ::7] = (30, 160, 60)
    Image.fromarray(a).save(fn); return fn

def clients(url, files, n, requests, stop=None):
    "Seconds of each request from `n` clients sending `files` in turn (until `stop` is set, if given), and the failures."
    from gradio_client import Client, handle_file
    def one(i):
        c, lat, fails, j = Client(url, verbose=False), [], 0, 0
        while (j < requests) if stop is None else not stop.is_set():
            t = time.perf_counter()
            try: c.predict(handle_file(str(files[(i + j) % len(files)])), api_name='/predict')
            except Exception: fails += 1
            lat.append(time.perf_counter() - t); j += 1
        return lat, fails
    with ThreadPoolExecutor(n) as ex: res = list(ex.map(one, range(n)))
    return [x for l, _ in res for x in l], sum(f for _, f in res)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', type=Path, default=Path('models/model.pkl'))
    p.add_argument('--data', type=Path, default=Path(__file__).resolve().parents[2]/'shared'/'fruits360-sample')
    p.add_argument('--photos', type=Path, default=None,
                   help="a folder of phone photos for the normal clients to send instead of Fruits-360's 100x100 Test images")
    p.add_argument('--requests', type=int, default=10, help='requests per normal client in each phase')
    a = p.parse_args()
    normal = sorted(a.photos.glob('*.jpg')) if a.photos else [sorted(d.iterdir())[0] for d in sorted((a.data/'Test').iterdir())]
    port = free_port(); url = f'http://127.0.0.1:{port}/'
    env = dict(os.environ, MODEL_PATH=str(a.model.resolve()), GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED='False')
    app = subprocess.Popen([sys.executable, 'app.py'], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            worst = [worst_png(Path(tmp)/'poster.png')]
            print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, model {a.model}, normal uploads {a.photos or a.data/'Test'}, worst upload {worst[0].stat().st_size >> 10} KB "
                  f"{Image.open(worst[0]).size}", flush=True)
            for _ in range(300):
                try: clients(url, normal, 1, 2); break  # up, and warm
                except Exception: time.sleep(0.5)
            mb0 = rss_mb(app.pid)
            alone, f0 = clients(url, normal, 8, a.requests)
            mb_start = rss_mb(app.pid)  # the burst's start: the app already serving 8 visitors
            stop = threading.Event()
            with ThreadPoolExecutor(1) as ex:
                burst = ex.submit(clients, url, worst, 4, 0, stop)
                beside, f1 = clients(url, normal, 8, a.requests)
                stop.set(); heavy, f2 = burst.result()
            mb1 = rss_mb(app.pid); time.sleep(10); mb2 = rss_mb(app.pid)
    finally:
        app.terminate(); app.wait(30)
    m0, m1 = statistics.median(alone), statistics.median(beside)
    print(f"normal clients alone:        median {m0:5.2f} s  p95 {p95(alone):5.2f} s  ({len(alone)} requests, {f0} failed)")
    print(f"beside 4 worst-case clients: median {m1:5.2f} s  p95 {p95(beside):5.2f} s  ({len(beside)} requests, {f1} failed); "
          f"worst-case requests: median {statistics.median(heavy):5.2f} s ({len(heavy)}, {f2} failed)")
    print(f"p95 ratio (beside / alone) {p95(beside) / p95(alone):.2f} (asked: at most 2) | median ratio {m1 / m0:.2f}")
    print(f"resident MB: {mb0:.0f} warm, {mb_start:.0f} at the start of the burst (after the 8 normal clients), "
          f"{mb1:.0f} at its end, {mb2:.0f} 10 s later (ratio to the burst's start {mb2 / mb_start:.2f}, asked: at most 1.10; "
          f"to warm {mb2 / mb0:.2f})")

if __name__ == '__main__': main()
