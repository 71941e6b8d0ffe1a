"""Browser tests: the built site in headless Chromium, driven by Playwright.

- `site_url`: dist/site served by build.py's own server on a free 127.0.0.1 port, plus test-only
  mounts (/_test/pages/, /_test/tests/, /_test/examples/, /_test/wheels/, /_test/mnist/).
- `embed_url`: a page on a second port (another origin) that includes only nnpy.js's <script> tag.
- `new_page()`: a page in a fresh context in which every request to a host other than 127.0.0.1
  is aborted (and recorded in `page.blocked`), so the tests prove the site works offline.
- `nn_page`: one page per test module with `window.nn` loaded (loading costs seconds);
  `fresh_nn_page`: one for a single test.

Run through `python build.py test` (which builds and vendors first), or directly with pytest,
in which case the site is built here.
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build

sync_api = pytest.importorskip("playwright.sync_api")
# expect(...) waits up to 5 s by default; a page on a busy 2-core machine can take longer to
# show what a test expects (a trainer's answer after a training step, a redraw)
sync_api.expect.set_options(timeout=30_000)

HERE = Path(__file__).resolve().parent
LOAD_TIMEOUT_MS = 120_000


@pytest.fixture(scope="session")
def site():
    if not os.environ.get("NNPY_SITE_READY"):
        build.build_site()
        build.vendor()
        build.fetch_test_wheels()
    return build.SITE


@pytest.fixture(scope="session")
def site_url(site):
    mounts = {
        "/_test/pages/": HERE / "pages",
        "/_test/tests/": ROOT / "tests",
        "/_test/examples/": ROOT / "examples",
        "/_test/wheels/": build.TEST_WHEELS_CACHE,
        "/_test/mnist/": build.CACHE / "mnist",
    }
    server, url = build.start_server(site, mounts=mounts)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def embed_url(site_url, tmp_path_factory):
    """An embedding page on another origin (another port) with one <script> tag for nnpy.js."""
    folder = tmp_path_factory.mktemp("embed")
    template = (HERE / "pages" / "embed.html").read_text()
    (folder / "index.html").write_text(template.replace("{{NNPY_JS}}", site_url + "web/nnpy.js"))
    server, url = build.start_server(folder)
    yield url
    server.shutdown()


def launch_options():
    """How the tests start Chromium (the session's browser, or a test's own profile on disk)."""
    options = {"args": build.CHROMIUM_FLAGS}
    if executable := os.environ.get("NNPY_CHROMIUM") or build.find_browser():
        options["executable_path"] = executable
    return options


@pytest.fixture(scope="session")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        yield browser
        browser.close()


def offline_context(browser, **options):
    """A browser context that lets only 127.0.0.1 through; the rest is aborted and recorded."""
    context = browser.new_context(**options)
    context.blocked = []

    def only_loopback(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            context.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    return context


@pytest.fixture
def new_page(browser):
    """new_page(**context_options) -> a page in a fresh offline context (closed afterwards)."""
    contexts = []

    def make(**options):
        context = offline_context(browser, **options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.blocked = context.blocked
        return page

    yield make
    for context in contexts:
        context.close()


def wait_until(page, condition, message, timeout_s=30):
    """Until `condition()` (evaluated here, in Python: e.g. on what route handlers recorded) is
    true, letting the page's events in meanwhile; fails with `message` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        page.wait_for_timeout(50)


def load_nnpy(page, url):
    """Open `url` (a page that includes nnpy.js) and `nnpy.load()` into window.nn, recording
    progress events in window.progress; returns the milliseconds from navigation to loaded."""
    page.goto(url)
    return page.evaluate(
        """async () => {
            window.progress = [];
            window.nn = await nnpy.load({ onProgress: (p) => window.progress.push(p) });
            return performance.now();
        }""")


@pytest.fixture
def fresh_nn_page(new_page, site_url):
    """A page of its own with nnpy loaded, for a test that breaks it."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.load_ms = load_nnpy(page, site_url + "_test/pages/blank.html")
    return page


@pytest.fixture(scope="module")
def nn_page(browser, site_url):
    """One offline page per module with nnpy loaded in `window.nn` (its test page is blank)."""
    context = offline_context(browser)
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.blocked = context.blocked
    page.load_ms = load_nnpy(page, site_url + "_test/pages/blank.html")
    yield page
    context.close()
