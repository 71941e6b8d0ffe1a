"""How nnpy starts, visit after visit, in Chromium: a first visit boots Python cold and stores a
snapshot of the interpreter; the next restores it; an upgrade, a damaged entry or a browser
without Cache Storage all fall back to a cold start and the page still works. `nn.info.boot`
says which path ran. No timings here: the bench (bench/README.md) measures them.
"""

import json
import math
import re
import subprocess
import sys
import time

import pytest
from conftest import LOAD_TIMEOUT_MS, launch_options, wait_until
from test_browser_digits import DIGITS, PLACEMENTS, draw, place
from test_browser_pyodide_suite import run_unit_suite

import build

VERSION = build.project_version()

LOAD = """async (options) => {
    window.nn = await nnpy.load(options || {});
    return nn.info;
}"""

# Two random draws of every kind a session makes: the random module, NumPy, the OS source.
DRAWS = """nn.exec(`import os, random
[random.random(), float(np.random.default_rng().random()), os.urandom(8).hex()]`)"""

# A drawn "7" predicted through the page API: the page works end to end.
PREDICT = """async () => {
    const canvas = document.getElementById("canvas");
    const context = canvas.getContext("2d");
    context.fillStyle = "black";
    context.fillRect(0, 0, 280, 280);
    context.strokeStyle = "white";
    context.lineWidth = 22;
    context.lineCap = "round";
    context.beginPath();
    context.moveTo(70, 60);
    context.lineTo(210, 62);
    context.lineTo(120, 230);
    context.stroke();
    const model = await nn.loadModel("/web/models/digits.safetensors");
    return (await model.predict(canvas)).label;
}"""

# Browser objects through Python's `js` module, fetch and asyncio: they must work in a session
# that made a snapshot as in one restored from it.
BROWSER_FROM_PYTHON = """nn.exec(`import js, asyncio
from pyodide.http import pyfetch
manifest = await (await pyfetch("/web/nnpy-manifest.json")).json()
await asyncio.sleep(0.01)
[len(js.performance.getEntriesByType("resource")) > 0, js.performance.now() > 0,
 "wheel" in manifest, js.self.location.origin.startswith("http")]`)"""

# NumPy at work after a restore: ufuncs, reductions, linalg (a module the snapshot holds), a
# large allocation, NumPy's own exceptions, and numpy.random and numpy.fft (opened afterwards).
NUMPY_AT_WORK = """nn.exec(`import numpy as np
x = np.arange(12, dtype=np.float32).reshape(3, 4)
big = np.ones((2048, 2048), dtype=np.float32)
try:
    np.zeros(3) + np.zeros(4)
    broadcast = None
except ValueError as error:
    broadcast = type(error).__name__
rng = np.random.default_rng(7)
[round(float(np.exp(x).sum())), np.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]])).tolist(),
 float(big.sum()), broadcast, np.einsum("ij,kj->ik", x, x).tolist()[0],
 round(float(np.abs(np.fft.fft(np.ones(8))).max()), 6), len(rng.integers(0, 10, 5))]`)"""
NUMPY_RESULTS = [round(sum(math.exp(i) for i in range(12))), [[0.5, 0.0], [0.0, 0.25]],
                 2048.0 * 2048, "ValueError", [14.0, 38.0, 62.0], 8.0, 5]

SNAPSHOT_KEYS = """async () => {
    const cache = await caches.open("nnpy-snapshot");
    return (await cache.keys()).map((request) => new URL(request.url).searchParams.get("key"));
}"""


@pytest.fixture
def visit(new_page, site_url):
    """visit(page=None, **load_options) -> (page, nn.info): open the test page and nnpy.load();
    the same `page` again is a repeat visit (same browser profile, same caches)."""

    def open_and_load(page=None, **options):
        page = page or new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        page.goto(site_url + "_test/pages/blank.html")
        return page, page.evaluate(LOAD, options)

    return open_and_load


def wait_for_snapshot(page, key_part="", timeout_s=60):
    """Until exactly one snapshot is stored (a first visit stores it once the worker is idle),
    under a key that contains `key_part`; returns the key. Polled from here: the cache is read
    with promises, which wait_for_function would not wait for."""
    deadline = time.monotonic() + timeout_s
    while True:
        keys = page.evaluate(SNAPSHOT_KEYS)
        if len(keys) == 1 and key_part in keys[0]:
            return keys[0]
        assert time.monotonic() < deadline, f"no snapshot under {key_part!r}: {keys}"
        page.wait_for_timeout(200)


def test_a_first_visit_boots_cold_and_a_repeat_visit_restores_the_snapshot(visit):
    page, first = visit()
    assert first["boot"] == "cold" and first["cacheStorage"] is True
    assert first["numpyWheel"] == "trimmed" and first["numpy"] == "2.0.2"
    assert page.evaluate(BROWSER_FROM_PYTHON) == [True] * 4
    key = wait_for_snapshot(page)
    assert key.startswith(f"pyodide-0.27.7/nnpy-{VERSION}/"), key
    page, second = visit(page)
    assert second["boot"] == "snapshot"
    assert first["snapshotHolds"] is None
    # NumPy (its extension modules' state included) and nnpy came imported with the snapshot
    assert second["snapshotHolds"] == ["numpy", "nnpy.web"]
    assert (second["python"], second["numpy"], second["gemm"]) == (
        first["python"], first["numpy"], first["gemm"])
    assert page.evaluate(PREDICT) == "7"
    # the restored NumPy computes, allocates, raises its own errors and loads the rest of itself
    assert page.evaluate(NUMPY_AT_WORK) == NUMPY_RESULTS
    assert page.evaluate(BROWSER_FROM_PYTHON) == [True] * 4
    # the finders the snapshot holds work in the restored interpreter: the rest of the standard
    # library on first use (at this visit's URL), the trimmed NumPy's hint
    assert page.evaluate("""nn.exec(`import email.parser, sys
[email.parser.Parser().parsestr("Subject: hi" + chr(10) * 2)["Subject"],
 sys.modules["email"].__file__.startswith("/lib/python_stdlib_full.zip/"),
 "_nnpy_worker" in sys.modules]`)""") == ["hi", True, True]
    hint = page.evaluate("""nn.exec("import numpy.polynomial").then(() => null,
        (error) => [error.name, error.message])""")
    assert hint[0] == "ModuleNotFoundError" and 'numpy: "full"' in hint[1]
    # the files came from Cache Storage, checked against their sha256: nothing refetched
    wheel_fetches = page.evaluate("""nn.exec(`import js
[e.name for e in js.performance.getEntriesByType("resource") if e.name.split("?")[0].endswith(".whl")]`)""")
    assert wheel_fetches == []
    assert page.errors == [] and page.blocked == []


# Whether the finder that writes NumPy's and nnpy's files is waiting, and whether files of
# modules no start imports (numpy.fft, nnpy.testing) are there; nothing is imported to tell.
FILES = """nn.exec(`import os, sys
[any(type(finder).__name__ == "_FilesFirst" for finder in sys.meta_path),
 os.path.isdir(os.path.dirname(sys.modules["numpy"].__file__) + "/fft"),
 os.path.isdir(os.path.dirname(sys.modules["nnpy"].__file__) + "/testing")]`)"""


def test_a_restored_start_is_ready_before_it_writes_the_files_of_numpy_and_nnpy(visit):
    """A snapshot holds memory, not files: a restored start answers "ready" before NumPy's and
    nnpy's files are written (its memory has every module a start imports), and writes them
    before the first import from those packages, or once the worker is idle."""
    page, _ = visit()
    wait_for_snapshot(page)
    page, _ = visit(page)
    steps = page.evaluate(f"""async () => {{
        window.nn = await nnpy.load();
        const ready = await {FILES};
        const imported = await nn.exec("import numpy.fft, nnpy.testing; numpy.fft.__name__");
        return [nn.info.boot, ready, imported, await {FILES}];
    }}""")
    assert steps == ["snapshot", [True, False, False], "numpy.fft", [False, True, True]]
    page, info = visit(page)
    assert info["boot"] == "snapshot"
    page.wait_for_timeout(500)  # idle: written without an import
    assert page.evaluate(FILES) == [False, True, True]
    assert page.evaluate(NUMPY_AT_WORK) == NUMPY_RESULTS
    assert page.errors == []


def test_a_first_visit_downloads_the_brotli_files_the_build_made(visit, site):
    """The runtime, NumPy, the standard library and nnpy arrive as their `.br` files (the
    wheels and zips are stored uncompressed so brotli sees all of them at once)."""
    page, info = visit(snapshot=False)
    sizes = page.evaluate("""nn.exec(`import js
{e.name.split("?")[0].split("/")[-1]: [e.encodedBodySize, e.decodedBodySize]
 for e in js.performance.getEntriesByType("resource")}`)""")
    manifest = json.loads((site / "web" / "nnpy-manifest.json").read_text())
    files = ["pyodide/pyodide.asm.wasm", "pyodide/pyodide.asm.js",
             *(manifest[key]["file"].removeprefix("../") for key in ("numpy", "stdlib", "nnpy"))]
    for file in files:
        name = file.split("/")[-1]
        assert sizes[name] == [(site / (file + ".br")).stat().st_size,
                               (site / file).stat().st_size], name
    assert info["numpyWheel"] == "trimmed" and page.evaluate(PREDICT) == "7"


def test_a_busy_first_visit_still_stores_its_snapshot(visit):
    """A page that asks the worker something every 100 ms (as a camera classifier does) never
    leaves it idle for long: the snapshot is stored anyway, once SNAPSHOT_LATEST_MS (5 s) after
    the start has passed, in a gap between requests; and every request is answered meanwhile."""
    page, first = visit()
    assert first["boot"] == "cold"
    busy = page.evaluate("""async () => {
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        const stored = async () => (await (await caches.open("nnpy-snapshot")).keys()).length;
        const start = performance.now();
        let answers = 0;
        while (performance.now() - start < 20000 && !(await stored())) {
            answers += (await nn.exec("1 + 1")) === 2;
            await sleep(100);
        }
        return { stored: await stored(), answers, seconds: (performance.now() - start) / 1000 };
    }""")
    assert busy["stored"] == 1, busy
    assert busy["answers"] > 10, busy  # it was busy; the store came at the deadline, not when idle
    page, second = visit(page)
    assert second["boot"] == "snapshot"


def test_random_numbers_differ_between_restored_sessions(visit):
    page, info = visit()
    cold = page.evaluate(DRAWS)
    wait_for_snapshot(page)
    draws = []
    for _ in range(2):
        page, info = visit(page)
        assert info["boot"] == "snapshot"
        draws.append(page.evaluate(DRAWS))
    for kind in range(3):  # random.random, NumPy's default_rng, os.urandom
        values = [cold[kind], draws[0][kind], draws[1][kind]]
        assert len(set(values)) == 3, (kind, values)


def test_a_new_version_ignores_and_replaces_the_stored_snapshot(visit):
    page, _ = visit()
    old_key = wait_for_snapshot(page, f"nnpy-{VERSION}/")
    # the site upgrades nnpy: the next visit gets a nnpy.js of another version
    page.context.route("**/web/nnpy.js", lambda route: route.fulfill(
        response=route.fetch(),
        body=route.fetch().text().replace(f'const VERSION = "{VERSION}"', 'const VERSION = "99.0.0"')))
    page, info = visit(page)
    assert info["boot"] == "cold", "a snapshot of another version must not be restored"
    new_key = wait_for_snapshot(page, "nnpy-99.0.0/")  # the old one is gone: one entry
    assert new_key != old_key and "nnpy-99.0.0/" in new_key
    page, info = visit(page)
    assert info["boot"] == "snapshot"
    assert page.evaluate(PREDICT) == "7"


@pytest.mark.parametrize("damage", ["flipped bytes", "not a snapshot"])
def test_a_damaged_snapshot_means_a_cold_start_and_is_replaced(visit, damage):
    page, _ = visit()
    key = wait_for_snapshot(page)
    # "flipped bytes" in Python's memory (the header stays valid, so only the stored checksum
    # can tell); "not a snapshot": a wrong magic number under a matching sha256, the check of an
    # entry stored without a checksum (by an earlier version; the damage happened before it was
    # stored), which Pyodide refuses to restore
    page.evaluate("""async (damage) => {
        const cache = await caches.open("nnpy-snapshot");
        const [request] = await cache.keys();
        const response = await cache.match(request);
        const bytes = new Uint8Array(await response.arrayBuffer());
        const headers = new Headers(response.headers);
        if (damage === "flipped bytes") {
            for (let i = 1; i <= 64; i++) bytes[bytes.length - i * 65537] ^= 0x5a;
        } else {
            bytes[0] ^= 0xff; // the magic number
            headers.delete("x-nnpy-checksum");
            const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
            headers.set("x-nnpy-sha256", Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
        }
        await cache.put(request, new Response(bytes, { headers }));
    }""", damage)
    page, info = visit(page)
    assert info["boot"] == "cold"
    assert page.evaluate(PREDICT) == "7"
    assert wait_for_snapshot(page) == key  # a sound one stored again
    page, info = visit(page)
    assert info["boot"] == "snapshot"
    assert page.errors == []


@pytest.mark.parametrize("record", ["table end", "unknown module", "no page map"])
def test_a_snapshot_whose_record_does_not_match_means_a_cold_start_and_is_replaced(visit, record):
    """The record stored with a snapshot says which of NumPy's extension modules it holds, in
    which order, where the function table ended after them, and which pages of memory it
    kept; a restore that would not lay out the same means a cold start."""
    page, _ = visit()
    key = wait_for_snapshot(page)
    page.evaluate("""async (record) => {
        const cache = await caches.open("nnpy-snapshot");
        const [request] = await cache.keys();
        const response = await cache.match(request);
        const headers = new Headers(response.headers);
        const dynlibs = JSON.parse(headers.get("x-nnpy-dynlibs"));
        if (record === "table end") dynlibs.tableEnd += 1;
        if (record === "unknown module") dynlibs.order.push(dynlibs.order[0].replace(".cpython", "_x.cpython"));
        if (record === "no page map") headers.delete("x-nnpy-pages");
        headers.set("x-nnpy-dynlibs", JSON.stringify(dynlibs));
        await cache.put(request, new Response(await response.arrayBuffer(), { headers }));
    }""", record)
    page, info = visit(page)
    assert info["boot"] == "cold"
    assert page.evaluate(PREDICT) == "7"
    assert wait_for_snapshot(page) == key
    page, info = visit(page)
    assert info["boot"] == "snapshot" and info["snapshotHolds"] == ["numpy", "nnpy.web"]
    assert page.evaluate(NUMPY_AT_WORK) == NUMPY_RESULTS
    assert page.errors == []


# What the worker script runs first, to take its reader away: a browser without nested workers,
# or one whose reader fails as it starts (its script throws).
NO_READER = {
    "no nested workers": "self.Worker = undefined;",
    "a reader that fails": """const RealWorker = self.Worker;
self.Worker = function () {
    return new RealWorker(URL.createObjectURL(new Blob(["throw new Error('no reader here')"])));
};""",
}


@pytest.mark.parametrize("without", NO_READER)
def test_a_worker_without_its_reader_reads_the_stored_files_itself(visit, without):
    """A repeat visit reads the snapshot and the wheels in a helper worker (the reader); without
    one it reads them on the worker's own thread, and still restores the snapshot."""
    page, _first = visit()
    wait_for_snapshot(page)

    def prepend(route):
        response = route.fetch()
        route.fulfill(response=response, body=NO_READER[without] + "\n" + response.text())

    page.route(re.compile(r"/web/worker\.js"), prepend)
    page, second = visit(page)
    assert second["boot"] == "snapshot"
    assert page.evaluate(PREDICT) == "7"
    assert page.errors == [] and page.blocked == []


def test_a_damaged_cached_wheel_is_downloaded_again(visit):
    page, _ = visit()
    wait_for_snapshot(page)
    damaged = page.evaluate("""async () => {
        const cache = await caches.open("nnpy-files");
        const requests = (await cache.keys()).filter((r) => r.url.includes("/nnpy_ml-"));
        for (const request of requests) {  // the body damaged, its checksum kept
            const bytes = new Uint8Array(await (await cache.match(request)).arrayBuffer());
            const headers = (await cache.match(request)).headers;
            bytes[bytes.length >> 1] ^= 1;
            await cache.put(request, new Response(bytes, { headers }));
        }
        return requests.map((r) => r.url);
    }""")
    assert len(damaged) == 1, damaged
    page, info = visit(page)
    assert info["boot"] == "snapshot"  # the snapshot holds the nnpy of the manifest's sha256
    assert page.evaluate("nn.exec('import nnpy.web; 6 * 7')") == 42
    assert page.evaluate(PREDICT) == "7"
    # downloaded again, and the cache holds the real wheel again
    manifest = page.evaluate("fetch('/web/nnpy-manifest.json').then((r) => r.json())")
    stored = page.evaluate("""async (url) => {
        const response = await (await caches.open("nnpy-files")).match(url);
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await response.arrayBuffer()));
        return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    }""", damaged[0])
    assert stored == manifest["nnpy"]["sha256"]


def test_snapshot_false_neither_uses_nor_makes_one(visit):
    page, info = visit(snapshot=False)
    assert info["boot"] == "cold"
    page.wait_for_timeout(1000)  # time a snapshot would have taken to be stored
    assert page.evaluate(SNAPSHOT_KEYS) == []


def test_the_trimmed_numpy_names_what_it_leaves_out_and_full_numpy_has_it(visit):
    page, info = visit(snapshot=False)
    error = page.evaluate("""nn.exec("import numpy.polynomial").then(() => null,
        (e) => ({name: e.name, message: e.message}))""")
    assert error["name"] == "ModuleNotFoundError" and 'numpy: "full"' in error["message"]
    assert page.evaluate("nn.exec('float(np.median(np.arange(5.0)) + np.fft.fft(np.ones(4)).real[0])')") == 6.0
    page, info = visit(page, snapshot=False, numpy="full")
    assert info["numpyWheel"] == "full"
    assert page.evaluate("nn.exec('import numpy.polynomial; numpy.polynomial.Polynomial([1, 2])(3)')") == 7.0


def test_preloaded_models_download_while_python_starts(visit):
    page, _ = visit(snapshot=False, preload=["/web/models/digits.safetensors"])
    loaded_at = page.evaluate("performance.now()")
    assert page.evaluate(PREDICT) == "7"
    fetches = page.evaluate("""performance.getEntriesByType("resource")
        .filter((e) => e.name.endsWith("/web/models/digits.safetensors"))
        .map((e) => ({start: e.startTime, end: e.responseEnd}))""")
    assert len(fetches) == 1, fetches  # loadModel used the preloaded download
    assert fetches[0]["start"] < loaded_at


def test_the_rest_of_the_standard_library_loads_on_first_use(visit):
    page, _ = visit(snapshot=False)
    result = page.evaluate("""nn.exec(`import os, sys
before = os.path.exists("/lib/python_stdlib_full.zip")
import email.parser, xml.dom.minidom, codecs
message = email.parser.Parser().parsestr("Subject: hi" + chr(10) * 2 + "body")
text = "é".encode("cp1252")  # a codec only the full library has
try:
    import tkinter  # not in Pyodide at all: still an ordinary ModuleNotFoundError
    missing = None
except ModuleNotFoundError as error:
    missing = error.name
[before, os.path.exists("/lib/python_stdlib_full.zip"), sys.modules["email"].__file__,
 message["Subject"], list(text), missing]`)""")
    before, after, email_file, subject, text, missing = result
    assert (before, after) == (False, True)
    assert email_file.startswith("/lib/python_stdlib_full.zip/")
    assert (subject, text, missing) == ("hi", [0xE9], "tkinter")


def test_without_cache_storage_nnpy_starts_and_works(site_url, tmp_path):
    """A site on plain http (not localhost) has no Cache Storage (nor crypto.subtle): nnpy
    starts cold every time, and works."""
    port = re.search(r":(\d+)/", site_url).group(1)
    script = f"""
import json, sys
sys.path.insert(0, {str(build.ROOT)!r})
import build
from playwright.sync_api import sync_playwright
with sync_playwright() as playwright:
    options = {{"args": [*build.CHROMIUM_FLAGS,
                        "--host-resolver-rules=MAP nnpy.example 127.0.0.1, MAP * ~NOTFOUND"]}}
    if executable := build.find_browser():
        options["executable_path"] = executable
    browser = playwright.chromium.launch(**options)
    page = browser.new_page()
    page.set_default_timeout({LOAD_TIMEOUT_MS})
    result = []
    for _ in range(2):
        page.goto("http://nnpy.example:{port}/_test/pages/blank.html")
        info = page.evaluate({LOAD!r}, {{}})
        result.append([info["boot"], info["cacheStorage"], page.evaluate("typeof caches"),
                       page.evaluate({PREDICT!r})])
    print(json.dumps(result))
"""
    # its own browser: the host-resolver rule is a launch flag
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    visits = json.loads(done.stdout.strip().splitlines()[-1])
    assert visits == [["cold", False, "undefined", "7"]] * 2


class Trace:
    """A Chrome trace of a page's V8 and timeline events, started and ended in turns."""

    def __init__(self, session):
        self.session, self.events, self.done = session, [], []
        session.on("Tracing.dataCollected", lambda data: self.events.extend(data["value"]))
        session.on("Tracing.tracingComplete", lambda data: self.done.append(True))
        self.start()

    def start(self):
        self.events.clear()
        self.done.clear()
        self.session.send("Tracing.start", {"transferMode": "ReportEvents", "traceConfig": {
            "includedCategories": ["v8", "disabled-by-default-devtools.timeline"]}})

    def end(self, page):
        """The events since start()."""
        self.session.send("Tracing.end")
        while not self.done:
            page.wait_for_timeout(100)
        return list(self.events)


def runtime_wasm_cached(events):
    """Whether the trace `events` show pyodide.asm.wasm's code handed to the browser's cache (a
    "cachedModule" event right after the "compiledModule" event naming the module)."""
    module = None
    for event in sorted(events, key=lambda event: event.get("ts", 0)):
        if event["name"] == "v8.wasm.compiledModule":
            module = event["args"].get("url", "")
        elif event["name"] == "v8.wasm.cachedModule" and module and "/pyodide.asm.wasm" in module:
            return True
    return False


def test_a_second_visit_with_a_browser_profile_finds_the_runtime_compiled(browser, site_url, tmp_path):
    """A visitor's browser profile keeps compiled code (a private window does not): the second
    visit takes pyodide.asm.js (1.2 MB of JavaScript, imported, not importScripts'd) and
    pyodide.asm.wasm from the browser's code cache instead of compiling them. pyodide.asm.js is
    kept from the second load on, so the first visit imports it once more when idle."""
    context = browser.browser_type.launch_persistent_context(tmp_path / "profile", **launch_options())
    try:
        page = context.new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        runtime_loads = []
        page.on("requestfinished", lambda request: runtime_loads.append(request.url)
                if "/pyodide.asm.js" in request.url else None)
        trace = Trace(context.new_cdp_session(page))
        page.goto(site_url + "_test/pages/blank.html")
        assert page.evaluate(LOAD, {})["boot"] == "cold"
        wait_for_snapshot(page)
        deadline = time.monotonic() + 30
        while len(runtime_loads) < 2:  # keepCompiledCode's import, once the snapshot is stored
            assert time.monotonic() < deadline, runtime_loads
            page.wait_for_timeout(100)
        # The browser caches a wasm module's code once enough of it is optimised and no more has
        # been for a while (seconds; longer on a busy machine): until it has (the trace is only
        # read when it ends, so it is read in turns), then a moment for the cache's write.
        deadline = time.monotonic() + 60
        while not runtime_wasm_cached(trace.end(page)):
            assert time.monotonic() < deadline, "pyodide.asm.wasm's compiled code was never cached"
            trace.start()
            page.wait_for_timeout(1000)
        page.wait_for_timeout(1000)

        trace.start()
        page.goto(site_url + "_test/pages/blank.html")
        assert page.evaluate(LOAD, {})["boot"] == "snapshot"
        assert page.evaluate(PREDICT) == "7"
        events = trace.end(page)
    finally:
        context.close()
    compiled = [event["args"]["data"] for event in events if event["name"] == "v8.compileModule"
                and "/pyodide.asm.js" in event["args"].get("data", {}).get("url", "")]
    assert len(compiled) == 1, compiled
    assert compiled[0].get("consumedCacheSize", 0) > 0 and not compiled[0].get("cacheRejected"), compiled
    wasm = [event["args"] for event in events if event["name"] == "v8.wasm.moduleCacheHit"]
    assert any("/pyodide.asm.wasm" in hit["url"] for hit in wasm), wasm


def test_the_unit_suite_passes_in_a_restored_interpreter(visit, site_url):
    page, _ = visit()
    wait_for_snapshot(page)
    page, info = visit(page)
    assert info["boot"] == "snapshot"
    run_unit_suite(page, site_url, "pyodide-suite-restored.txt")


# Every change of the demo's loading status, from the first moment of the page.
RECORD_STATUS = """addEventListener("DOMContentLoaded", () => {
    window.statusSeen = [];
    const status = document.getElementById("status");
    const record = () => statusSeen.push({text: document.getElementById("status-text").textContent,
        bytes: document.getElementById("status-bytes").textContent,
        value: document.getElementById("status-progress").getAttribute("value"),
        ready: status.classList.contains("ready")});
    new MutationObserver(record).observe(status, {subtree: true, childList: true, characterData: true,
        attributes: true});
});"""


def test_the_demo_shows_downloads_then_python_starting_never_a_full_bar(new_page, site_url):
    """Bytes of the manifest's sizes while files download; while Python starts (which nothing
    measures) an indeterminate bar and the stage's seconds so far."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.add_init_script(RECORD_STATUS)
    page.goto(site_url)
    page.wait_for_function("document.getElementById('status').classList.contains('ready')")
    seen = [state for state in page.evaluate("statusSeen") if not state["ready"]]
    assert all(state["value"] is None or float(state["value"]) < 1 for state in seen), seen
    assert any(state["value"] is not None and 0 < float(state["value"]) for state in seen)
    totals = {float(m.group(1)) for state in seen
              if (m := re.search(r"/ ([\d.]+) MB unpacked$", state["bytes"]))}
    assert max(totals) > 10, totals  # unpacked sizes, though the files arrive compressed
    starting = [state for state in seen if state["text"].startswith(("Starting Python", "Loading NumPy"))]
    assert starting and all(state["value"] is None for state in starting[-3:])
    seconds = {re.search(r"· ([\d.]+) s$", state["text"]).group(1) for state in starting}
    assert len(seconds) > 1, starting  # the seconds move while the stage runs
    assert "Ready in" in page.text_content("#status-text") and page.errors == []


def test_a_sketchpad_takes_a_drawing_while_python_starts_and_reads_it_once_ready(new_page, site_url):
    """NumPy's download is held back until the drawing is done: the pad draws meanwhile, says
    so, its model has already downloaded, and the reading comes without another stroke."""
    page = new_page(viewport={"width": 600, "height": 900})
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    held = []
    page.context.route(re.compile(r"/wheels/numpy-"), lambda route: held.append(route))
    page.goto(site_url + "_test/pages/sketchpad.html")
    pad = "nnpy-sketchpad"
    page.wait_for_function("""() => document.querySelector("nnpy-sketchpad").shadowRoot
        ?.querySelector(".status").textContent.includes("you can draw already")""")
    draw(page, place(DIGITS[7][0], *PLACEMENTS[0]), pad=pad + " canvas[part=canvas]")
    # (the worker may ask for NumPy after the drawing is done)
    wait_until(page, lambda: held, "NumPy's download was not held back")
    assert page.evaluate("document.querySelector('nnpy-sketchpad').model") is None
    # the model downloads while NumPy is held back
    page.wait_for_function("""performance.getEntriesByType("resource")
        .some((e) => e.name.endsWith("/models/digits.safetensors") && e.responseEnd > 0)""", timeout=30_000)
    for route in held:
        route.continue_()
    page.wait_for_function("document.querySelector('nnpy-sketchpad').model")
    reading = page.evaluate("document.querySelector('nnpy-sketchpad').reading()")
    assert reading and reading["label"] == "7", reading
    assert page.errors == []
