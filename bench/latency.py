"""Prediction latency: the Predictor and the app's own path against `learn.predict`, then the app under 8 clients.

In one run, on the same images and 2 threads: median and p95 milliseconds per image for `learn.predict` (one view at the
input size) and for the Predictor, on 100x100 Fruits-360 images and on 12 MP phone photos, with the ratios; then a shop
photo (348x348, ../shared/real-photos) and the 12 MP photos through the app's handler (`make_classify`: opening, the
whole photo at twice the input size, the verdict with families and varieties, the class map and its overlay), with
torch and with ONNX Runtime, and again with tiles (`crops`), against `learn.predict`; then `app.py` is started on
127.0.0.1 and 8 `gradio_client` clients send requests at once, for requests/second, p95 latency and the count of
failed requests. With --batch N it first answers N shop photos at once (`produce-classifier predict --out`'s path,
`answer_many`: decoding in DataLoader workers) against `learn.get_preds` on the same files with as many loader
workers, for images/second each and their ratio (--batch-only stops there). From the repository root:

    python bench/latency.py --model models/model.pkl [--data ROOT] [--photos DIR] [--shop DIR] [--runs 20]
    python bench/latency.py --model models/model.pkl --batch 2000 --batch-only

ROOT defaults to ../shared/fruits360-sample, DIR to ../shared/photos and --shop to ../shared/real-photos.
"""
import argparse, os, statistics, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from produce_classifier.data import image_files
from produce_classifier.model import Predictor, load_model
from benchlib import p95, SHARED


def timings(fn, items, runs):
    "Milliseconds of `fn(item)` over `runs` calls cycling through `items`, after one warm-up call each."
    for it in items: fn(it)
    ms = []
    for i in range(runs):
        t = time.perf_counter(); fn(items[i % len(items)]); ms.append(1000 * (time.perf_counter() - t))
    return ms


def compare(name, items, learn, pred, runs):
    "Print learn.predict against the Predictor on `items`."
    a = timings(lambda f: learn.predict(str(f)), items, runs)
    b = timings(lambda f: pred.predict([f]), items, runs)
    print(f"{name:<22} learn.predict median {statistics.median(a):7.1f} ms  p95 {p95(a):7.1f} | "
          f"Predictor median {statistics.median(b):7.1f} ms  p95 {p95(b):7.1f} | "
          f"ratio (learn.predict / Predictor, median) {statistics.median(a) / statistics.median(b):.2f}", flush=True)

def app_path(name, items, learn, model, runs):
    "Print `learn.predict` against the app's handler on `items`, with torch and with ONNX Runtime."
    from produce_classifier.app import make_classify
    from produce_classifier.serving import OnnxPredictor, to_onnx
    a = timings(lambda f: learn.predict(str(f)), items, runs)
    onnx = Path(model).with_suffix('.onnx')
    if not onnx.exists(): to_onnx(model)
    row = f"{name:<22} learn.predict median {statistics.median(a):7.1f} ms  p95 {p95(a):7.1f}"
    for kind, make in (('torch', lambda c: Predictor(model, crops=c)), ('ONNX', lambda c: OnnxPredictor(onnx, c))):
        for crops in (None, True):  # the app's rule, then with tiles as well (the rule before issue 34)
            handler = make_classify(make(crops))
            b = timings(lambda f: handler([str(f)]), items, runs)
            row += (f"\n    app ({kind}{', with tiles' if crops else ''}) median {statistics.median(b):7.1f} ms  "
                    f"p95 {p95(b):7.1f}, {statistics.median(b) / statistics.median(a):.2f}x learn.predict")
    print(row, flush=True)

def load_test(model, items, clients, requests, port):
    "Start app.py and send `clients` x `requests` concurrent requests; print throughput, p95 and failures."
    from gradio_client import Client, handle_file
    env = dict(os.environ, MODEL_PATH=str(model), GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED='False')
    server = subprocess.Popen([sys.executable, 'app.py'], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url, deadline = f'http://127.0.0.1:{port}/', time.time() + 180
        while True:
            try: Client(url, verbose=False); break
            except Exception:
                if time.time() > deadline or server.poll() is not None: raise SystemExit("app.py did not start")
                time.sleep(1)
        def client(i):
            c, lat, fails = Client(url, verbose=False), [], 0
            for j in range(requests):
                t = time.perf_counter()
                try: c.predict(handle_file(str(items[(i + j) % len(items)])), api_name='/predict')
                except Exception: fails += 1
                lat.append(1000 * (time.perf_counter() - t))
            return lat, fails
        t = time.perf_counter()
        with ThreadPoolExecutor(clients) as ex: res = list(ex.map(client, range(clients)))
        secs = time.perf_counter() - t
        lat = [l for r in res for l in r[0]]; fails = sum(r[1] for r in res)
        print(f"app, {clients} concurrent clients: {len(lat) / secs:.2f} requests/s, median {statistics.median(lat):.0f} ms, "
              f"p95 {p95(lat):.0f} ms, failed {fails} of {len(lat)}", flush=True)
    finally:
        server.terminate(); server.wait(30)

def batch(model, files, workers, bs=32):
    "Images/s of `answer_many` (torch, then ONNX) against `learn.get_preds` on `files`, each with `workers` decoding processes."
    from produce_classifier.batch import answer_many
    from produce_classifier.serving import OnnxPredictor, to_onnx
    learn = load_model(model)
    def rate(fn):
        t = time.perf_counter(); n = fn(); return n / (time.perf_counter() - t)
    def get_preds():
        dl = learn.dls.test_dl(files, bs=bs, num_workers=workers)
        with learn.no_bar(): return len(learn.get_preds(dl=dl)[0])
    def ours(pred): return sum(r['error'] is None for r in answer_many(pred, files, bs=bs, workers=workers))
    onnx = Path(model).with_suffix('.onnx')
    if not onnx.exists(): to_onnx(model)
    base = rate(get_preds)
    row = f"{len(files)} photos, {workers} loader workers, batches of {bs}: learn.get_preds {base:7.1f} images/s"
    for kind, pred in (('torch', Predictor(model)), ('ONNX', OnnxPredictor(onnx))):
        r = rate(lambda: ours(pred))
        row += f"\n    answer_many ({kind}) {r:7.1f} images/s, {r / base:.2f}x learn.get_preds"
    print(row, flush=True)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='models/model.pkl'); p.add_argument('--data', default=str(SHARED/'fruits360-sample'))
    p.add_argument('--photos', default=str(SHARED/'photos')); p.add_argument('--runs', type=int, default=20)
    p.add_argument('--requests', type=int, default=10); p.add_argument('--clients', type=int, default=8)
    p.add_argument('--port', type=int, default=7861); p.add_argument('--shop', default=str(SHARED/'real-photos'))
    p.add_argument('--batch', type=int, default=0, help='also answer this many photos at once (0: no)')
    p.add_argument('--batch-photos', default=str(SHARED/'grocery-store'), help='a folder the batch photos are taken from')
    p.add_argument('--batch-only', action='store_true'); p.add_argument('--workers', type=int, default=2)
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    if a.batch:
        files = sorted(f for f in Path(a.batch_photos).rglob('*') if f.suffix.lower() in ('.jpg', '.jpeg', '.png'))
        files = (files * (a.batch // max(1, len(files)) + 1))[:a.batch]  # repeated if the folder holds fewer
        batch(a.model, files, a.workers)
        if a.batch_only: return
    learn, pred = load_model(a.model), Predictor(a.model)
    small = list(image_files(a.data, 'Test', max_per_class=1))
    photos = sorted(Path(a.photos).glob('*.jpg'))
    print(f"model {a.model} ({len(pred.vocab)} classes, {pred.size}px); {len(small)} Fruits-360 images, {len(photos)} phone photos", flush=True)
    compare('100x100 Fruits-360', small, learn, pred, a.runs)
    compare('12 MP phone photos', photos, learn, pred, max(6, a.runs // 2))
    shop = sorted(Path(a.shop).glob('*/*.jpg'))[::40][:8]
    app_path('348x348 shop photos', shop, learn, a.model, a.runs)
    app_path('12 MP phone photos', photos, learn, a.model, max(6, a.runs // 2))
    load_test(a.model, small + photos, a.clients, a.requests, a.port)

if __name__ == '__main__': main()
