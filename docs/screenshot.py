"""The README's picture: the web app, served on 127.0.0.1, answering a photo in Debian's Chromium (Playwright).

    python docs/screenshot.py models/model.pkl photo.jpg     # writes docs/app.png
"""
import argparse, shutil, socket
from pathlib import Path
from PIL import Image
from produce_classifier.app import MAX_FILE_SIZE, make_demo
from produce_classifier.files import atomic_file

OUT = Path(__file__).resolve().parent/'app.png'

def _port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def shoot(model:Path, photo:Path, out:Path=OUT, width:int=1000, browser=None, height:int=980,
          full_page:bool=False) -> tuple[str, float]:
    "Upload `photo` to the app serving `model`, save the page once it answers to `out` (a small PNG); return the headline and the overlay's width."
    if browser is None:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=shutil.which('chromium') or '/usr/bin/chromium', args=['--no-sandbox', '--disable-gpu'])
            try: return shoot(model, photo, out, width, b, height, full_page)
            finally: b.close()
    demo, port = make_demo(model), _port()
    demo.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True, quiet=True, max_file_size=MAX_FILE_SIZE)  # as app.py
    try:
        page = browser.new_page(viewport={'width': width, 'height': height})
        page.goto(f'http://127.0.0.1:{port}/')
        page.locator('input[type=file]').first.set_input_files(str(photo))
        headline = page.locator('#verdict').get_by_test_id('label-output-value'); headline.wait_for(timeout=120_000)
        where = page.locator('#where img').first; where.wait_for(timeout=60_000)  # where it looked, below the answer
        page.wait_for_timeout(500)  # the bars of the top answers fill in after the headline
        drawn = where.bounding_box()['width']  # as rendered in this viewport, in CSS pixels
        with atomic_file(out) as shot:
            page.screenshot(path=str(shot), full_page=full_page)
            Image.open(shot).convert('P', palette=Image.ADAPTIVE, colors=128).save(shot, optimize=True)  # a page is few colours: small
        return headline.inner_text().strip(), drawn
    finally: demo.close()

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('model', type=Path); p.add_argument('photo', type=Path); p.add_argument('--out', type=Path, default=OUT)
    p.add_argument('--phone', action='store_true', help='at 390x844, the whole page (docs/phone.png)')
    a = p.parse_args()
    size = dict(width=390, height=844, full_page=True) if a.phone else {}
    label, drawn = shoot(a.model, a.photo, a.out, **size)
    print(f"{label!r}, where it looked {drawn:.0f} px wide: {a.out}")
