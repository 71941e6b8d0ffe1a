"""`python build.py bench` end to end on a small budget (one round, a few workloads), and the
table's arithmetic. The full run is `python build.py bench` (bench/README.md)."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import build

pytest.importorskip("playwright.sync_api")
pytest.importorskip("torch")
import bench


def test_percentile_speedup_and_table():
    assert bench.percentile([3, 1, 2, 4], 0.5) == 2.5
    assert bench.percentile(list(range(11)), 0.9) == 9
    rows = [bench.row("sgemm-256", "nnpy-pyodide", [10, 30, 20], "GFLOP/s"),
            bench.row("sgemm-256", "tfjs-wasm", [8, 10, 12], "GFLOP/s", "binary x.wasm"),
            bench.row("cold-start-cached", "nnpy-pyodide", [4.0], "s"),
            bench.row("cold-start-cached", "tfjs-wasm", [1.0], "s"),
            bench.row("cnn-train", "tfjs-wasm", [], "examples/s", "unsupported: no backprop")]
    assert rows[0] | {} == {"workload": "sgemm-256", "system": "nnpy-pyodide", "value": 20,
                            "unit": "GFLOP/s", "min": 10, "median": 20, "max": 30, "rounds": 3}
    assert rows[-1]["value"] is None
    by_system = {r["system"]: r for r in rows[:2]}
    assert bench.speedup(by_system, "nnpy-pyodide", "tfjs-wasm") == 2.0
    times = {r["system"]: r for r in rows[2:4]}
    assert bench.speedup(times, "nnpy-pyodide", "tfjs-wasm") == 0.25   # lower is better
    text = bench.table(rows)
    assert "| sgemm-256 | GFLOP/s | 20 | 10 |" in text and "2.00×" in text and "0.25×" in text
    assert "| cnn-train | examples/s | — | unsupported |" in text
    assert "tfjs-wasm (cnn-train): unsupported: no backprop" in bench.notes(rows)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if not build.find_browser():
        pytest.skip("no Chromium")
    build.ensure_bench_dependencies()
    if not build.is_vendored() or not (build.SITE / "web" / "kernels" / "gemm.wasm").exists():
        build.build_site()
        build.vendor()
    out = tmp_path_factory.mktemp("bench") / "results.json"
    assert bench.main(["--rounds", "1", "--cold-rounds", "1", "--out", str(out),
                       "--workloads", "sgemm-128,cnn-train,webcam-predict,cold-start"]) == 0
    return {(r["workload"], r["system"]): r for r in json.loads(out.read_text())}


def test_a_short_run_gives_every_row(results):
    systems = set(bench.SYSTEMS)
    assert {s for w, s in results if w == "sgemm-128"} == systems - {"convnetjs"}
    assert {s for w, s in results if w == "cnn-train"} == systems
    assert {s for w, s in results if w == "webcam-predict-p90"} == systems
    for visit in ("uncached", "cached", "uncached-private", "cached-private"):  # both visitors
        assert {s for w, s in results if w == f"cold-start-{visit}"} == set(bench.COLD_SYSTEMS)
    for (workload, system), entry in results.items():
        if (workload, system) == ("cnn-train", "tfjs-wasm"):
            continue
        assert entry["value"] > 0 and entry["min"] <= entry["median"] <= entry["max"], entry


def test_what_a_peer_cannot_do_is_a_row_with_a_note_not_a_zero(results):
    entry = results["cnn-train", "tfjs-wasm"]
    assert entry["value"] is None
    assert "unsupported" in entry["note"] and "Conv2DBackpropFilter" in entry["note"]


def test_the_rows_say_which_engine_ran(results):
    assert results["sgemm-128", "nnpy-pyodide"]["note"] == "gemm wasm-simd-relaxed"
    assert results["sgemm-128", "nnpy-pyodide-numpy"]["note"] == "gemm numpy"
    assert "tfjs-backend-wasm-simd.wasm" in results["sgemm-128", "tfjs-wasm"]["note"]
    assert "BatchNormalization" in results["webcam-predict-p50", "convnetjs"]["note"]


def test_tfjs_predicts_with_nnpys_own_weights(results):
    # TF.js opens what nnpy.export.tfjs wrote from the model nnpy runs: the same numbers out
    for system in ("tfjs-wasm", "tfjs-cpu"):
        note = results["webcam-predict-p50", system]["note"]
        difference = float(note.split("outputs vs nnpy-pyodide: max |diff| ")[1].split(";")[0])
        assert difference <= 1e-5, note
