"""The demo page (index.html) as a person uses it, offline, plus the cross-origin embed page."""

import json
from pathlib import Path

import pytest

import build  # the repository root is on sys.path (conftest.py)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
LOAD_TIMEOUT_MS = 120_000
READY = "document.querySelector('#status').classList.contains('ready')"


def open_demo(page, url):
    """Navigate to the demo and wait until nnpy is loaded; milliseconds from navigation."""
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_function(READY)
    return page.evaluate("nnpy.shared().then(() => performance.now())")


def wait_for_message(page, *starts):
    page.wait_for_function(
        """(starts) => starts.some((s) => document.querySelector('#xor-message').textContent.includes(s))""",
        arg=list(starts))
    return page.text_content("#xor-message")


def test_demo_loads_offline_and_is_fast_enough_cold_and_cached(new_page, site_url):
    page = new_page()
    cold = open_demo(page, site_url)
    page.reload()
    page.wait_for_function(READY)
    cached = page.evaluate("nnpy.shared().then(() => performance.now())")
    assert "Ready in" in page.text_content("#status-text")
    assert page.blocked == [] and page.errors == []
    assert cold < 60_000 and cached < 60_000
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load-times.json").write_text(json.dumps(
        {"cold_ms": round(cold), "cached_ms": round(cached)}, indent=2) + "\n")
    print(f"\nnavigation -> nnpy.load resolved: cold {cold:.0f} ms, cached {cached:.0f} ms")


# The probabilities in the XOR table's "network says" column, as numbers.
XOR_TABLE_ANSWERS = ("Array.from(document.querySelectorAll('#xor-table td.p'), "
                     "(td) => parseFloat(td.lastChild.textContent))")


def test_xor_panel_trains_and_cancels(new_page, site_url):
    page = new_page()
    open_demo(page, site_url)
    page.click("#xor-train")
    assert "Trained" in wait_for_message(page, "Trained", "Error")
    assert page.text_content("#xor-epoch") == "300 / 300"
    assert page.text_content("#xor-accuracy") == "100%"
    answers = [float(td.split("\n")[-1] if "\n" in td else td)
               for td in page.locator("#xor-table td.p").all_text_contents()]
    assert [round(a) for a in answers] == [0, 1, 1, 0]
    # a long run, cancelled from its button; while it trains, the table shows what the network
    # answers now (within 0.1 of every target once it has learnt), not what it answered before
    page.evaluate("xorDemo.settings.epochs = 1000000")
    page.click("#xor-train")
    page.wait_for_function(f"""() => {{
        const answers = {XOR_TABLE_ANSWERS};
        return !document.querySelector('#xor-cancel').disabled && answers.length === 4
            && answers.every((p, i) => Math.abs(p - [0, 1, 1, 0][i]) < 0.1);
    }}""", timeout=60_000)
    assert page.text_content("#xor-accuracy") == "100%"
    assert not page.is_disabled("#xor-cancel")  # still training
    page.wait_for_function("document.querySelector('#xor-epoch').textContent.startsWith('5')")
    page.click("#xor-cancel")
    assert "Cancelled" in wait_for_message(page, "Cancelled", "Error")
    assert not page.is_disabled("#xor-train")
    # the table is the network's answer for its final weights
    shown = page.evaluate(f"{XOR_TABLE_ANSWERS}.map((p) => p.toFixed(3))")
    asked = page.evaluate("""async () => Array.from((await xorDemo.model.predict(
        [[0, 0], [0, 1], [1, 0], [1, 1]])).probabilities, (p) => p.toFixed(3))""")
    assert shown == asked
    assert page.errors == []


def test_saved_model_survives_reload_and_a_bad_upload_is_refused(new_page, site_url, tmp_path):
    page = new_page()
    open_demo(page, site_url)
    page.click("#xor-train")
    wait_for_message(page, "Trained")
    trained = page.locator("#xor-table td.p").all_text_contents()
    page.click("#xor-save")
    assert "Saved in this browser" in wait_for_message(page, "Saved", "Not saved")

    page.reload()
    page.wait_for_function(READY)
    page.click("#xor-restore")
    assert "Loaded the model saved" in wait_for_message(page, "Loaded", "Error")
    assert page.locator("#xor-table td.p").all_text_contents() == trained

    # a corrupted upload: refused with a message a person can act on; the saved model stays
    good = page.evaluate("""async () => {
        const model = await (await nnpy.shared()).loadModel("indexeddb://xor");
        return Array.from(new Uint8Array(await model.toBytes()));
    }""")
    corrupted = bytes(good[:8]) + b"{not json" + bytes(good[17:])
    path = tmp_path / "broken.safetensors"
    path.write_bytes(corrupted)
    page.set_input_files("#xor-upload", str(path))
    message = wait_for_message(page, "was refused", "Loaded broken")
    assert message.startswith("broken.safetensors was refused:"), message
    assert "safetensors" in message and page.get_attribute("#xor-message", "class") == "message error"
    page.click("#xor-restore")
    assert "Loaded the model saved" in wait_for_message(page, "Loaded the model", "Error:")
    assert page.locator("#xor-table td.p").all_text_contents() == trained


def test_a_failed_save_keeps_the_previous_model(nn_page):
    result = nn_page.evaluate("""async () => {
        const model = await nn.exec(`
from nnpy import layers
m = nnpy.Sequential([layers.Input((2,)), layers.Dense(1)], seed=0)
m.compile(loss="mse")
m`);
        await model.save("indexeddb://keep");
        const before = new Uint8Array(await model.toBytes());
        // a model whose bytes cannot be made: the save fails before IndexedDB is touched
        await nn.exec("m.to_bytes = lambda *a, **k: (_ for _ in ()).throw(OSError('disk on fire'))");
        const error = await model.save("indexeddb://keep").then(() => null, (e) => e.name + ": " + e.message);
        const again = await nn.loadModel("indexeddb://keep");
        const after = new Uint8Array(await again.toBytes());
        const missing = await nn.loadModel("indexeddb://never-saved").catch((e) => e.name);
        return { error, same: before.length === after.length && before.every((b, i) => b === after[i]),
                 names: await nn.savedModels(), missing };
    }""")
    assert result["error"] == "OSError: disk on fire"
    assert result["same"] and "keep" in result["names"]
    assert result["missing"] == "NotFoundError"


def test_cross_origin_embed_page_works(new_page, embed_url, site_url):
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(embed_url)
    assert embed_url.split(":")[2] != site_url.split(":")[2], "two origins"
    answer = page.evaluate("window.answer")
    assert answer == f"nnpy {build.project_version()} on Python 3.12.7: 42"
    assert page.text_content("#answer") == answer
    assert page.blocked == [] and page.errors == []


def screenshot(page, name):
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_screenshots_desktop_and_phone(new_page, site_url):
    """The page at desktop and phone width: no horizontal scrolling; pictures kept for a person
    to look at in test-results/."""
    for name, size in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        page = new_page(viewport={"width": size[0], "height": size[1]},
                        device_scale_factor=2 if name == "phone" else 1)
        open_demo(page, site_url)
        page.click("#xor-train")
        wait_for_message(page, "Trained")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
        assert Path(screenshot(page, f"page-{name}")).stat().st_size > 10_000


COUNT_WORKERS = """
window.workersStarted = [];
const RealWorker = window.Worker;
window.Worker = class extends RealWorker {
    constructor(url, options) { super(url, options); window.workersStarted.push(String(url)); }
};
"""

THREE_ELEMENTS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>A page with every nnpy element</title></head>
<body>
  <nnpy-sketchpad id="pad"></nnpy-sketchpad>
  <nnpy-network for="pad"></nnpy-network>
  <nnpy-webcam-classifier project-name="one-worker"></nnpy-webcam-classifier>
  <script src="{{NNPY_JS}}"></script>
</body></html>
"""


@pytest.fixture
def three_elements_url(site_url, tmp_path):
    """THREE_ELEMENTS served on another origin."""
    (tmp_path / "index.html").write_text(THREE_ELEMENTS.replace("{{NNPY_JS}}", site_url + "web/nnpy.js"))
    server, url = build.start_server(tmp_path)
    yield url
    server.shutdown()


def counting_page(new_page):
    """A page that records every Worker it starts (in `workersStarted`)."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.add_init_script(COUNT_WORKERS)
    return page


@pytest.mark.parametrize("where", ["host page on another origin", "demo page"])
def test_every_element_shares_the_pages_one_worker(new_page, site_url, three_elements_url, where):
    """<nnpy-sketchpad>, <nnpy-network> and <nnpy-webcam-classifier> with only nnpy.js's tag (and
    the demo page, built from the same elements): one Worker, one Python, for all of them."""
    page = counting_page(new_page)
    workers = []
    page.on("worker", lambda worker: workers.append(worker))
    page.goto(site_url if where == "demo page" else three_elements_url)
    page.wait_for_function("document.querySelector('nnpy-sketchpad, #digits-pad') && "
                           "!!customElements.get('nnpy-webcam-classifier')")
    page.evaluate("document.querySelector('nnpy-webcam-classifier').ready")
    if where == "demo page":
        page.wait_for_function("window.digitsApp && digitsApp.model")
        same = page.evaluate("""async () => {
            const nn = await nnpy.shared();
            return [digitsApp.nn, document.querySelector('nnpy-webcam-classifier').client]
                .map((client) => client === nn);
        }""")
    else:
        page.wait_for_function("document.querySelector('#pad').model")
        same = page.evaluate("""async () => {
            const nn = await nnpy.shared();
            return [document.querySelector('#pad').nn, document.querySelector('nnpy-webcam-classifier').client]
                .map((client) => client === nn);
        }""")
    assert same == [True, True], "every element uses nnpy.shared()"
    page.wait_for_timeout(500)  # a second worker would have started by now
    assert len(page.evaluate("workersStarted")) == 1
    # on another origin the worker is a blob: that imports worker.js (see nnpy.js startWorker)
    expected = "/web/worker.js" if where == "demo page" else "blob:"
    assert len(workers) == 1 and expected in workers[0].url, [w.url for w in workers]
    assert page.blocked == [] and page.errors == []


CRASH_PYTHON = "import json\njson.loads('[' * 200000)"  # overflows the browser's stack inside the parser


def test_a_python_crash_restarts_the_worker_and_every_element_reloads(new_page, three_elements_url):
    """Python's own stack overflowing kills the interpreter: the pending call is rejected, the
    shared worker is replaced, the sketchpad loads its model again and the webcam trainer reopens
    its autosaved project, in the new worker; the page never reloads."""
    page = counting_page(new_page)
    page.goto(three_elements_url)
    page.wait_for_function("document.querySelector('#pad').model")
    page.evaluate("document.querySelector('nnpy-webcam-classifier').ready")
    crash = page.evaluate("""async (source) => {
        window.before = await nnpy.shared();
        return before.exec(source).then(() => "no crash", (e) => e.name);
    }""", CRASH_PYTHON)
    assert crash == "FatalError"
    page.wait_for_function("""() => {
        const pad = document.querySelector('#pad'), webcam = document.querySelector('nnpy-webcam-classifier');
        return pad.nn && pad.nn !== before && pad.model && pad.model.client === pad.nn
            && webcam.client !== before && webcam.handle;
    }""")
    after = page.evaluate("""async () => {
        const nn = await nnpy.shared(), pad = document.querySelector('#pad');
        return { fresh: nn !== before && !nn.crashed, crashed: before.crashed.name,
                 same: [pad.nn, document.querySelector('nnpy-webcam-classifier').client].map((c) => c === nn),
                 python: await nn.exec("2 + 2"), labels: pad.model.labels.length,
                 old: await before.exec("1").catch((e) => e.message) };
    }""")
    assert after.pop("old").startswith("Python crashed")
    assert after == {"fresh": True, "crashed": "FatalError", "same": [True, True],
                     "python": 4, "labels": 10}
    assert len(page.evaluate("workersStarted")) == 2


RECORD_CSP_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation",
    (event) => window.violations.push(`${event.violatedDirective}: ${event.blockedURI || "inline"}`));
"""


def test_demo_page_runs_under_a_script_csp_without_inline_scripts(new_page, site_url):
    """index.html has no inline script: under `script-src 'self' 'wasm-unsafe-eval'` (no
    'unsafe-inline', no 'unsafe-eval') Python loads, XOR trains and the digit demo starts."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.add_init_script(RECORD_CSP_VIOLATIONS)

    def with_csp(route):
        response = route.fetch()
        headers = {**response.headers,
                   "content-security-policy": "script-src 'self' 'wasm-unsafe-eval'"}
        route.fulfill(response=response, headers=headers)

    page.route(site_url, with_csp)
    page.goto(site_url)
    # predicates as functions: Playwright evaluates a bare expression with eval, which the CSP forbids
    page.wait_for_function(f"() => {READY}")
    page.click("#xor-train")
    assert "Trained" in wait_for_message(page, "Trained", "Error")
    page.wait_for_function("() => window.digitsApp && digitsApp.network")
    assert page.evaluate("() => window.violations") == []
    assert page.blocked == [] and page.errors == []


@pytest.mark.parametrize("policy, works", [
    ("default-src 'self' 'wasm-unsafe-eval'", True),
    ("default-src 'self'", False),
])
def test_the_library_under_a_strict_csp_works_or_says_which_directive_is_missing(
        new_page, site_url, policy, works):
    """Every response of the site (the page, nnpy.js, the worker, Pyodide) carries `policy`.
    With 'wasm-unsafe-eval' Python runs; without it nnpy.load() rejects at once (it used to wait
    forever) with an error that names the directive to add."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers,
                                                  "content-security-policy": policy})

    page.route(site_url + "**", with_csp)
    page.goto(site_url + "_test/pages/blank.html")
    outcome = page.evaluate("""() => nnpy.load().then(
        (nn) => nn.exec("import numpy; int(numpy.arange(4).sum())"),
        (error) => error.name + ": " + error.message)""")
    if works:
        assert outcome == 6
    else:
        assert outcome.startswith("SecurityError: this page's Content-Security-Policy does not "
                                  "allow WebAssembly")
        assert "add 'wasm-unsafe-eval' to its script-src" in outcome
