"The docs site, built with the README's command and read in a real browser (Debian's Chromium, Playwright)."
import subprocess, sys
import pytest
from conftest import REPO

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site `python docs/build.py` builds, from the committed notebooks."
    out = tmp_path_factory.mktemp('docs')/'_site'
    subprocess.run([sys.executable, 'docs/build.py', '--out', str(out)], cwd=REPO, check=True, capture_output=True)
    return out

def _page(browser, url):
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    page.goto(url)
    return page

def test_the_navigation_lists_every_notebook_in_data_flow_order(site, browser):
    page = _page(browser, (site/'index.html').as_uri())
    links = page.locator('.sidebar-tree a.reference').evaluate_all('els => els.map(e => e.getAttribute("href"))')
    assert links == ['guide.html'] + [f'{f.stem}.html' for f in sorted((REPO/'nbs').glob('[0-9]*.ipynb'))], links
    assert page.locator('h1').first.inner_text().strip() == 'produce_classifier'

def test_a_notebook_page_shows_its_figure(site, browser):
    page = _page(browser, (site/'07_train.html').as_uri())
    img = page.locator('.cell_output img').first
    img.scroll_into_view_if_needed()
    assert img.evaluate('e => e.complete && e.naturalWidth') > 100  # `show_batch`'s figure, decoded by the browser

def test_an_api_entry_renders(site, browser):
    page = _page(browser, (site/'06c_photo_learning.html').as_uri())
    entry = page.locator('section#photo-folds')
    assert entry.locator('h3').inner_text().strip().startswith('photo_folds')
    assert 'def photo_folds(' in entry.locator('pre').first.inner_text()  # the signature, with its docments
    assert 'cut into `k` contiguous runs' in entry.inner_text() or 'cut into k contiguous runs' in entry.inner_text()  # the docstring
    assert '#| export' not in page.content()  # export cells are shown as their API entries, not as code
