"""The nnpy.js promise API against the real worker, Pyodide and wheel, offline, in Chromium."""

import pytest

import build  # the repository root is on sys.path (conftest.py)

XOR_MODEL = """
from nnpy import layers, optimizers
model = nnpy.Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"), layers.Dense(1)],
                       seed=0)
model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
model
"""
XOR = "{x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [[0], [1], [1], [0]]}"


def test_load_reports_named_stages_and_bytes(nn_page):
    progress = nn_page.evaluate("window.progress")
    stages = [p["stage"] for p in progress if p["stage"] != "download"]
    assert stages == ["manifest", "runtime", "numpy", "nnpy", "ready"]
    downloads = {p["file"]: p for p in progress if p["stage"] == "download"}
    assert "pyodide.asm.wasm" in downloads
    assert any(name.startswith(f"nnpy_ml-{build.project_version()}-") and name.endswith(".whl")
               for name in downloads)
    assert any(name.startswith("python_stdlib") for name in downloads)
    assert any(name.startswith("numpy-2.0.2") for name in downloads)
    wasm = downloads["pyodide.asm.wasm"]
    assert wasm["loaded"] == wasm["total"] > 5_000_000
    info = nn_page.evaluate("nn.info")
    assert info["pyodide"] == "0.27.7" and info["numpy"] == "2.0.2" and info["python"] == "3.12.7"
    assert info["pyodideURL"].startswith("http://127.0.0.1:"), "the vendored copy, not the CDN"


def test_nothing_but_loopback_was_requested(nn_page):
    assert nn_page.blocked == []
    assert nn_page.errors == []
    # and the interception works: a request elsewhere fails
    failed = nn_page.evaluate(
        "fetch('https://cdn.jsdelivr.net/pyodide/').then(() => false, () => true)")
    assert failed and nn_page.blocked == ["https://cdn.jsdelivr.net/pyodide/"]
    nn_page.blocked.clear()


@pytest.mark.parametrize("source, expected", [
    ("6 * 7", 42),
    ("2 ** 0.5", 2 ** 0.5),
    ("'héllo ' + 'wörld'", "héllo wörld"),
    ("[1, 'two', [3.5, None], True]", [1, "two", [3.5, None], True]),
    ("{'a': 1, 'b': {'c': [1, 2]}, 'd': (3, 4)}", {"a": 1, "b": {"c": [1, 2]}, "d": [3, 4]}),
    ("x = 5\ny = x * 2\n", None),
    ("np.float32(1.5)", 1.5),
    ("import asyncio\nawait asyncio.sleep(0)\n'awaited'", "awaited"),
])
def test_exec_round_trips_values(nn_page, source, expected):
    value = nn_page.evaluate("""async (source) => {
        const v = await nn.exec(source);
        return v === undefined ? null : v;
    }""", source)
    assert value == expected


def test_exec_returns_numpy_arrays_as_typed_arrays(nn_page):
    result = nn_page.evaluate("""async () => {
        const a = await nn.exec("np.arange(6, dtype=np.float32).reshape(2, 3) / 2");
        const i = await nn.exec("np.array([1, -2, 3], dtype=np.int32)");
        const b = await nn.exec("np.array([True, False])");
        return {type: a.constructor.name, shape: a.shape, values: Array.from(a),
                intType: i.constructor.name, ints: Array.from(i), bools: Array.from(b)};
    }""")
    assert result == {"type": "Float32Array", "shape": [2, 3], "values": [0, 0.5, 1, 1.5, 2, 2.5],
                      "intType": "Int32Array", "ints": [1, -2, 3], "bools": [1, 0]}


def test_state_persists_between_exec_calls(nn_page):
    assert nn_page.evaluate("nn.exec('counter = 41').then(() => nn.exec('counter + 1'))") == 42


@pytest.mark.parametrize("source, name, message", [
    ("1 / 0", "ZeroDivisionError", "division by zero"),
    ("{}['missing']", "KeyError", "'missing'"),
    ("raise nnpy.ShapeError('wrong shape')", "ShapeError", "wrong shape"),
    ("def f(:\n  pass", "SyntaxError", "invalid syntax"),
])
def test_python_errors_arrive_with_their_type_and_message(nn_page, source, name, message):
    error = nn_page.evaluate("""(source) => nn.exec(source).then(
        () => null,
        (e) => ({isError: e instanceof Error, name: e.name, message: e.message,
                 traceback: e.pythonTraceback}))""", source)
    assert error["isError"] and error["name"] == name
    assert message in error["message"]
    assert "Traceback" in error["traceback"]
    assert nn_page.evaluate("nn.exec('1 + 1')") == 2, "the worker still works afterwards"


def test_xor_trains_in_the_worker_with_progress(nn_page):
    result = nn_page.evaluate(f"""async (source) => {{
        const data = {XOR};
        const model = await nn.exec(source);
        const epochs = [], batches = [];
        const history = await model.fit(data.x, data.y, {{
            epochs: 300, batchSize: 4, onEpoch: (l) => epochs.push(l), onBatch: (l) => batches.push(l)}});
        const answers = [];
        for (const x of data.x) answers.push((await model.predict(new Float32Array(x))).probabilities[0]);
        const summary = await model.summary();
        await model.dispose();
        return {{epochs, batches, history, answers, summary}};
    }}""", XOR_MODEL)
    assert [e["epoch"] for e in result["epochs"]] == list(range(300))
    assert all(e["kind"] == "epoch" and "loss" in e and "accuracy" in e for e in result["epochs"])
    # 4 samples, batches of 4: one batch an epoch. The first batch is always reported, later ones
    # at most ~30 times a second (the worker thins them), each with where it stands.
    batches = result["batches"]
    assert batches[0]["epoch"] == 0 and len(batches) <= 300
    assert all(b["kind"] == "batch" and b["batch"] == 0 and b["batches"] == 1 and b["size"] == 4
               for b in batches)
    assert [b["epoch"] for b in batches] == sorted({b["epoch"] for b in batches})
    assert len(result["history"]["loss"]) == 300
    assert result["history"]["loss"][-1] < 0.05 < result["history"]["loss"][0]
    assert [round(p) for p in result["answers"]] == [0, 1, 1, 0]
    assert "Dense" in result["summary"] and "Total params: 33" in result["summary"]


def test_training_can_be_cancelled(nn_page):
    result = nn_page.evaluate(f"""async (source) => {{
        const data = {XOR};
        const model = await nn.exec(source);
        const controller = new AbortController();
        let seen = 0, abortedAt = 0;
        const outcome = await model.fit(data.x, data.y, {{
            epochs: 1000000, batchSize: 4, signal: controller.signal,
            onEpoch: () => {{ if (++seen === 20) {{ abortedAt = performance.now(); controller.abort(); }} }},
        }}).then(() => "finished", (e) => e.name);
        const latency = performance.now() - abortedAt;
        const stillWorks = await model.predict(new Float32Array([1, 0]));
        const again = await model.fit(data.x, data.y, {{epochs: 2, batchSize: 4, signal: controller.signal}})
            .then(() => "ran", (e) => e.name);
        return {{outcome, seen, latency, p: stillWorks.probabilities[0], again, ok: await nn.exec("1 + 1")}};
    }}""", XOR_MODEL)
    assert result["outcome"] == "AbortError"
    # stopped soon after the abort (bounds a busy machine stays within, far from the million
    # epochs, or the minutes, of a cancel that was not heard)
    assert result["seen"] < 100_000, "stopped soon after the abort"
    assert result["latency"] < 10_000
    assert 0 <= result["p"] <= 1
    assert result["again"] == "AbortError", "an already-aborted signal rejects at once"
    assert result["ok"] == 2


def test_main_thread_stays_responsive_while_training(nn_page):
    result = nn_page.evaluate(f"""async (source) => {{
        const data = {XOR};
        const model = await nn.exec(source);
        const longTasks = [];
        const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration)));
        observer.observe({{ type: "longtask" }});
        // the page animates while the worker trains: count frames
        let frames = 0, training = true;
        const tick = () => {{ frames++; if (training) requestAnimationFrame(tick); }};
        requestAnimationFrame(tick);
        const start = performance.now();
        let epochs = 0;
        await model.fit(data.x, data.y, {{ epochs: 4000, batchSize: 1, onEpoch: () => epochs++ }});
        const seconds = (performance.now() - start) / 1000;
        training = false;
        await new Promise((r) => setTimeout(r, 100));
        observer.disconnect();
        return {{ longTasks, seconds, epochs }};
    }}""", XOR_MODEL)
    assert result["epochs"] == 4000
    assert result["seconds"] > 1, "long enough to observe"
    assert [d for d in result["longTasks"] if d > 200] == []


def test_predict_reads_a_canvas_at_the_models_input_size(nn_page, site_url):
    """An image model gets the canvas resized to its input spec, greyscaled and scaled."""
    result = nn_page.evaluate("""async () => {
        const model = await nn.exec(`
from nnpy import layers
m = nnpy.Sequential([layers.Input((4, 4, 1)), layers.Flatten(), layers.Dense(2)], seed=0)
m.compile(loss="sparse_categorical_crossentropy")
m.build()
m.labels = ["dark", "light"]
# a model that reports its input: weights pick the mean brightness
m.layers[-1].params["kernel"][:] = np.stack([-np.ones(16), np.ones(16)], axis=1) / 16
m.layers[-1].params["bias"][:] = [0.5, -0.5]
m`);
        const canvas = document.getElementById("canvas");
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = "black"; ctx.fillRect(0, 0, canvas.width, canvas.height);
        const dark = await model.predict(canvas);
        ctx.fillStyle = "white"; ctx.fillRect(0, 0, canvas.width, canvas.height);
        const light = await model.predict(canvas);
        const inverted = await model.predict(canvas, { invert: true });
        const fromImageData = await model.predict(ctx.getImageData(0, 0, 280, 280));
        return { spec: model.input, labels: model.labels,
                 dark: dark.label, light: light.label, inverted: inverted.label, imageData: fromImageData.label,
                 p: Array.from(light.probabilities) };
    }""")
    assert result["spec"] == {"height": 4, "width": 4, "channels": 1, "scale": [0, 1],
                              "invert": False}
    assert result["labels"] == ["dark", "light"]
    assert (result["dark"], result["light"], result["inverted"], result["imageData"]) == (
        "dark", "light", "dark", "light")
    assert result["p"][1] > 0.5 and abs(sum(result["p"]) - 1) < 1e-5


def test_shipped_digit_model_reads_a_drawing(nn_page):
    models = nn_page.evaluate("fetch('/web/nnpy-manifest.json').then((r) => r.json())")["models"]
    if "models/digits.safetensors" not in models:
        pytest.skip("no digit model in web/models/ yet")
    result = nn_page.evaluate("""async () => {
        const model = await nn.loadModel("/web/models/digits.safetensors");
        const canvas = document.getElementById("canvas");
        const ctx = canvas.getContext("2d");
        ctx.clearRect(0, 0, canvas.width, canvas.height);   // transparent: the alpha is the ink
        ctx.strokeStyle = "black"; ctx.lineWidth = 22; ctx.lineCap = "round";
        ctx.beginPath(); ctx.moveTo(140, 50); ctx.lineTo(140, 230); ctx.stroke();   // a "1"
        const out = await model.predict(canvas);
        return { input: model.input, labels: model.labels, n: out.probabilities.length, label: out.label };
    }""")
    assert result["n"] == 10 and result["labels"] == [str(d) for d in range(10)]
    assert result["input"]["preprocess"] == "mnist-digit"
    assert result["label"] == "1"


def test_a_model_files_checksum_is_checked_by_the_browser_and_a_damaged_file_refused(nn_page):
    """The worker hashes a file's tensor data natively (WebCrypto) for its "nnpy.sha256"; Python
    compares, and does not hash it again. One bit of one weight changed: the file is refused."""
    result = nn_page.evaluate("""async () => {
        const model = await nn.exec("nnpy.Sequential([nnpy.layers.Input((3,)), nnpy.layers.Dense(2)], seed=1)");
        const bytes = await model.toBytes();   // saved with its checksum
        await nn.exec(`import hashlib
_real_sha256, _hashed = hashlib.sha256, []
hashlib.sha256 = lambda *data: _hashed.append(len(data)) or _real_sha256(*data)
None`);
        try {
            const loaded = await nn.loadModel(bytes);
            const out = await loaded.predict([[1, 2, 3]]);
            const damaged = bytes.slice(0);
            damaged[damaged.length - 2] ^= 0x01;
            const error = await nn.loadModel(damaged).then(() => "loaded", (e) => e.name + ": " + e.message);
            return { n: out.probabilities.length, error, hashed: await nn.exec("len(_hashed)") };
        } finally {
            await nn.exec("hashlib.sha256 = _real_sha256; None");
        }
    }""")
    assert result["n"] == 2
    assert result["error"].startswith("ModelFormatError: the file is damaged: its tensor data does "
                                      "not match the SHA-256 checksum"), result["error"]
    assert result["hashed"] == 0  # both files' digests came from the worker


def test_a_missing_model_url_is_a_clear_error(nn_page):
    error = nn_page.evaluate(
        "nn.loadModel('/web/models/nope.safetensors').catch((e) => e.name + ': ' + e.message)")
    assert error.startswith("NetworkError:") and "404" in error


def test_a_refused_connection_names_the_url(nn_page):
    """Nothing listens on port 9 of this machine: the browser's bare "Failed to fetch" becomes an
    error that says which address failed and what to check."""
    error = nn_page.evaluate(
        "nn.loadModel('http://127.0.0.1:9/model.safetensors').catch((e) => e.name + ': ' + e.message)")
    assert error.startswith("NetworkError: http://127.0.0.1:9/model.safetensors: the connection failed")
    assert "server is running" in error


@pytest.mark.parametrize("record, found", [
    ("{bytes: new ArrayBuffer(0), savedAt: 1, size: 0}", "an empty model"),
    ("{savedAt: 1}", "a record without model bytes"),
    ("42", "a number instead of a record"),
    ("null", "null instead of a record"),
])
def test_a_damaged_saved_model_says_so_and_how_to_mend_it(nn_page, record, found):
    """A record in the browser's store that is not a saved model (another page's write, a broken
    save by an older version) is refused with what was found, not "0 bytes" or a RangeError."""
    error = nn_page.evaluate("""async (record) => {
        const db = await new Promise((resolve, reject) => {
            const request = indexedDB.open("nnpy", 1);
            request.onupgradeneeded = () => request.result.createObjectStore("models");
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
        });
        await new Promise((resolve) => {
            const transaction = db.transaction("models", "readwrite");
            transaction.objectStore("models").put(eval("(" + record + ")"), "damaged");
            transaction.oncomplete = resolve;
        });
        db.close();
        return nn.loadModel("indexeddb://damaged").catch((e) => e.name + ": " + e.message);
    }""", record)
    assert error == (f'ModelFormatError: the model saved as "indexeddb://damaged" is damaged (the '
                     f'browser holds {found}); delete it with nn.deleteModel("indexeddb://damaged") '
                     f'and save the model again')
    assert "damaged" not in nn_page.evaluate("nn.deleteModel('indexeddb://damaged').then(() => nn.savedModels())")


def test_a_deeply_nested_upload_is_refused_and_python_lives_on(nn_page):
    """200,000 '[' in a header would overflow the worker's stack inside Python's JSON parser."""
    error = nn_page.evaluate("""async () => {
        const header = new Uint8Array(200000).fill(91);   // "["
        const file = new Uint8Array(8 + header.length);
        new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
        file.set(header, 8);
        return nn.loadModel(new Blob([file])).catch((e) => e.name + ": " + e.message);
    }""")
    assert error.startswith("ModelFormatError: the safetensors header is JSON nested more than")
    assert nn_page.evaluate("nn.exec('1 + 1')") == 2


def test_a_python_crash_is_reported_not_hung(fresh_nn_page):
    result = fresh_nn_page.evaluate("""async () => {
        const crash = await nn.exec("import json\\njson.loads('[' * 200000)").catch((e) => e.name);
        const after = await nn.exec("1").catch((e) => e.name + ": " + e.message);
        const fresh = await nnpy.load();
        return { crash, after, fresh: await fresh.exec("2 + 2") };
    }""")
    assert result["crash"] in ("FatalError", "RecursionError")
    assert result["after"].startswith("FatalError: Python crashed") or result["after"] == 1
    assert result["fresh"] == 4
