"The demo's page in a real browser (Debian's Chromium, Playwright), at a desktop's size and a phone's, with the model `produce-classifier demo` makes."
import json, sys
import pytest
from conftest import PHOTOS, REPO
from test_app import _headline, serve

def test_browser_uploads_a_phone_photo_and_reads_a_label(browser, demo_model, tmp_path):
    "What docs/screenshot.py does for the README's picture: a phone photo uploaded, the answer read back, the page saved."
    if not (PHOTOS/'apple.jpg').exists(): pytest.skip(f"real photos not found at {PHOTOS} (set PRODUCE_PHOTOS)")
    from PIL import Image
    sys.path.insert(0, str(REPO/'docs'))
    from screenshot import shoot
    label, _ = shoot(demo_model, PHOTOS/'apple.jpg', tmp_path/'app.png', browser=browser)
    from produce_classifier.families import display_name
    vocab = json.loads(demo_model.with_suffix('.json').read_text())['vocab']
    assert label in {display_name(v).split(' (')[0] for v in vocab} | {display_name(v) for v in vocab} or label.startswith('Not sure (best guess: '), label
    assert Image.open(tmp_path/'app.png').size == (1000, 980) and not list(tmp_path.glob('.*partial*'))

def test_browser_at_phone_size_draws_where_it_looked_over_the_photo_and_no_number_contradicts_the_headline(browser, demo_model, tmp_path):
    "At 390x844 a 3024x4032 phone photo's class map is drawn over the photo as sent, at least 300 px wide; 'not sure' shows no percentage."
    if not (PHOTOS/'apple.jpg').exists(): pytest.skip(f"real photos not found at {PHOTOS} (set PRODUCE_PHOTOS)")
    demo, url = serve(demo_model)
    try:
        page = browser.new_page(viewport={'width': 390, 'height': 844})
        page.goto(url)
        page.locator('#photo input[type=file]').set_input_files(str(PHOTOS/'apple.jpg'))
        label = _headline(page)
        where = page.locator('#where img').first; where.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        box, shown = where.bounding_box(), page.locator('#verdict').inner_text() + page.locator('#varieties').inner_text()
        natural = where.evaluate('img => [img.naturalWidth, img.naturalHeight]')
    finally: demo.close()
    assert box['width'] >= 300, box  # not a thumbnail at the model's input size
    assert natural == [576, 768], natural  # the photo's own shape (3:4), drawn at a phone screen's size
    assert ('%' in shown) != label.startswith('Not sure'), (label, shown)  # numbers beside an answer, none beside "not sure"

def test_browser_classifies_an_example(browser, demo_model, tmp_path):
    "With the demo model, clicking an example and Classify names the example's class."
    demo, url = serve(demo_model)
    try:
        page = browser.new_page()
        page.goto(url)
        from produce_classifier.app import _examples
        from produce_classifier.families import display_name
        example = _examples(demo_model.parent/'examples')[0]  # the first one the page offers
        page.locator('button.gallery-item').first.click()
        page.get_by_role('button', name='Classify').click()
        label = _headline(page)
        page.screenshot(path=str(tmp_path/'example.png'), full_page=True)
        assert label == display_name(example.name.rsplit('_', 2)[0]), (label, example.name)
    finally: demo.close()

def test_browser_at_phone_size_shows_the_answer_and_where_it_looked(browser, demo_model, tmp_path):
    "At 390x844 the upload control and the answer are on the first screen; a photo gets its headline, families and overlay."
    from produce_classifier.families import display_name
    demo, url = serve(demo_model)
    try:
        page = browser.new_page(viewport={'width': 390, 'height': 844})
        page.goto(url)
        for el in ('#photo input[type=file]', '#verdict'):
            box = page.locator(el).first.bounding_box() or page.locator(el).first.locator('..').bounding_box()
            assert box and box['y'] + min(box['height'], 40) <= 844, (el, box)  # on the first screen, no scrolling
        fn = sorted((demo_model.parent.parent/'data'/'synthetic'/'Test'/'Lemon 1').iterdir())[0]
        page.locator('#photo input[type=file]').set_input_files(str(fn))
        label = _headline(page)
        fams = page.locator('#verdict').get_by_test_id('label-output-value').locator('..').inner_text()
        page.locator('#where img').first.wait_for(timeout=60_000)
        src = page.locator('#where img').first.get_attribute('src')
        page.screenshot(path=str(tmp_path/'phone.png'))
    finally: demo.close()
    assert label in ('Lemon', display_name('Lemon 1')) and 'Lemon' in fams, (label, fams)
    assert src and ('/file=' in src or src.startswith('data:image')), src  # the overlay, served with the answer

def test_browser_without_a_model_shows_guidance(browser, tmp_path):
    demo, url = serve(tmp_path/'models'/'model.pkl')
    try:
        page = browser.new_page()
        page.goto(url)
        page.get_by_text('No model is loaded.').wait_for(timeout=30_000)
        assert 'produce-classifier demo' in page.inner_text('body')
        page.screenshot(path=str(tmp_path/'guidance.png'), full_page=True)
    finally: demo.close()

