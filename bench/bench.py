"""Side-by-side benchmarks: nnpy in Pyodide against TF.js and ConvNetJS in headless Chromium, and
nnpy in CPython against PyTorch, all in one run, on this machine.

    python build.py bench                  # installs what it needs, builds the site, runs this
    python bench/bench.py [--rounds 7] [--workloads sgemm-256,mlp-train] [--systems ...]

Writes bench/results.json (rows {workload, system, value, unit, min, median, max, rounds, note})
and prints the table with speed ratios (see bench/README.md for how to read it).

How it measures: each system is set up once per workload (built, then warmed up by an untimed
round), then the systems take turns, round after round, so load from elsewhere on the machine
hits them alike. A rate (GFLOP/s, examples/s) is measured over a round of about a second; a
latency workload records 25 predictions per round. `value` is the median over rounds.
"""

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import workloads

import build

BENCH_NODE_MODULES = build.BENCH_NODE / "node_modules"
DATA = build.CACHE / "bench-data"
RESULTS = HERE / "results.json"

# system -> bench page (browser systems) or None (a CPython process, bench/cpython.py)
SYSTEMS = {
    "nnpy-pyodide": "nnpy.html",
    "nnpy-pyodide-numpy": "nnpy.html?kernels=0",
    "tfjs-wasm": "tfjs.html?backend=wasm",
    "tfjs-cpu": "tfjs.html?backend=cpu",
    "convnetjs": "convnetjs.html",
    "nnpy-cpython": None,
    "torch-cpu": None,
}
NOT_APPLICABLE = {("convnetjs", "sgemm")}       # ConvNetJS has no matrix-product API
COLD_SYSTEMS = ["nnpy-pyodide", "tfjs-wasm", "tfjs-cpu", "convnetjs"]
# The ratio columns: (nnpy system, peer)
RATIOS = [("nnpy-pyodide", "tfjs-wasm"), ("nnpy-pyodide", "tfjs-cpu"),
          ("nnpy-pyodide", "convnetjs"), ("nnpy-pyodide", "nnpy-pyodide-numpy"),
          ("nnpy-cpython", "torch-cpu")]
SECONDS = {"sgemm": 0.3, "train": 1.0}           # per round
# Offline without request interception (which would disable the HTTP cache and slow every
# request): every host name but 127.0.0.1 fails to resolve.
BENCH_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
TIMEOUT_MS = 600_000


class Unsupported(Exception):
    """The system cannot run the workload (recorded as a row with value null and a note)."""


class BrowserSystem:
    def __init__(self, name, context, url):
        self.name = name
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)
        self.info = self.page.evaluate("window.ready")

    def call(self, expression, argument=None):
        self.page.bring_to_front()
        try:
            return self.page.evaluate(expression, argument)
        except Exception as error:  # noqa: BLE001 -- a JS exception: the message is the note
            message = str(error).split("\n")[0].removeprefix("Page.evaluate: ")
            raise Unsupported(message) from None

    def setup(self, workload):
        return self.call("(name) => system.setup(name)", workload) or {}

    def round(self, seconds):
        return self.call("(seconds) => system.round(seconds)", seconds)


class ProcessSystem:
    def __init__(self, name):
        self.name = name
        self.info = {"python": sys.version.split()[0]}
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "cpython.py"), "--serve", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def request(self, **message):
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        if "error" in reply:
            raise Unsupported(reply["error"])
        return reply

    def setup(self, workload):
        return self.request(op="setup", workload=workload)

    def round(self, seconds):
        return self.request(op="round", seconds=seconds)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def percentile(samples, fraction):
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def row(workload, system, values, unit, note=None):
    """A results row from the per-round values (None: unsupported)."""
    entry = {"workload": workload, "system": system, "value": None, "unit": unit}
    if values:
        median = statistics.median(values)
        entry.update(value=median, min=min(values), median=median, max=max(values),
                     rounds=len(values))
    if note:
        entry["note"] = note
    return entry


def run_workload(name, systems, rounds, log):
    """Set up every system for workload `name`, then interleave `rounds` rounds; returns rows."""
    spec = workloads.WORKLOADS[name]
    kind, unit = spec["kind"], spec["unit"]
    ready, notes = {}, {}
    for system in systems.values():
        if (system.name, kind) in NOT_APPLICABLE:
            continue
        try:
            notes[system.name] = system.setup(name).get("note")
            system.round(SECONDS.get(kind, 0))       # warm-up, not counted
            ready[system.name] = system
        except Unsupported as error:
            notes[system.name] = f"unsupported: {error}"
            log(f"  {name}: {system.name} unsupported ({error})")
    if spec.get("same_input"):
        agreement(ready, notes, log)
    per_round = {system: [] for system in ready}
    for _ in range(rounds):
        for system in ready.values():
            per_round[system.name].append(system.round(SECONDS.get(kind, 0)))
    rows = []
    for system in systems.values():
        if (system.name, kind) in NOT_APPLICABLE:
            continue
        results = per_round.get(system.name, [])
        note = notes.get(system.name) or system_note(system)
        if kind != "predict":
            rows.append(row(name, system.name, [r["value"] for r in results], unit, note))
            continue
        for label, fraction in (("p50", 0.5), ("p90", 0.9)):
            values = [percentile(r["samples"], fraction) for r in results]
            rows.append(row(f"{name}-{label}", system.name, values, unit, note))
    for entry in rows:
        if entry["value"] is not None:
            log(f"  {entry['workload']:<22}{entry['system']:<20}{entry['value']:>12.4g} {unit}")
    return rows


def agreement(ready, notes, log):
    """Each browser peer's first prediction against nnpy-pyodide's, as the largest difference in
    the peer's note: the rows time the same computation on the same weights, or say they do not."""
    reference = ready.get("nnpy-pyodide")
    if not isinstance(reference, BrowserSystem):
        return
    expected = np.asarray(reference.call("() => system.outputs()"), np.float64)
    for name, system in ready.items():
        if system is reference or not isinstance(system, BrowserSystem):
            continue
        try:
            got = np.asarray(system.call("() => system.outputs()"), np.float64)
        except Unsupported:
            continue  # the system cannot hand back its outputs (ConvNetJS: another network)
        difference = (float(np.abs(got - expected).max()) if got.shape == expected.shape
                      else float("inf"))
        found = f"outputs vs nnpy-pyodide: max |diff| {difference:.1e}"
        notes[name] = f"{notes[name]}; {found}" if notes.get(name) else found
        log(f"  {name}: {found}")


def system_note(system):
    info = getattr(system, "info", None) or {}
    if system.name == "tfjs-wasm":
        return (f"binary {', '.join(info.get('wasm', [])) or '?'}, SIMD {info.get('simd')}, "
                f"{info.get('threads')} thread")
    if system.name.startswith("nnpy-pyodide"):
        return f"gemm {info.get('gemm')}"
    return None


SETTLE_MS = 2000  # how long a page stays open after its first prediction, before the next visit


# How a visitor's browser keeps things between visits: "profile" is a browser profile on disk,
# as a visitor has (HTTP cache, Cache Storage and the code cache: compiled wasm and scripts);
# "private" a private window, where Chromium keeps files but not compiled code.
VISITORS = ("profile", "private")


def cold_starts(open_visitor, base_url, cold_systems, rounds, log):
    """Seconds from navigation to the first digit prediction: uncached (a new visitor, empty
    caches) and cached (the same page loaded again by that visitor, SETTLE_MS after the first
    visit's prediction), for each kind of visitor in VISITORS (`open_visitor(kind)` gives a new
    browser context; rows `cold-start-{uncached,cached}` for "profile", `...-private` for
    "private"). Each row also holds `stages`, the
    median seconds at which each milestone of the start was reached (for nnpy: the loading
    stages nnpy.load reports and the ones its worker times; then "ready", "model" (loaded),
    "predict" (first prediction) for every system); and rows `download-*` give the bytes the
    visit transferred (bench/README.md)."""
    reports = {(kind, system): {"uncached": [], "cached": []}
               for kind in VISITORS for system in cold_systems}
    for _ in range(rounds):
        for kind in VISITORS:
            for system in cold_systems:
                context = open_visitor(kind)
                try:
                    page = context.new_page()
                    page.set_default_timeout(TIMEOUT_MS)
                    url = base_url + "bench/pages/" + SYSTEMS[system]
                    url += ("&" if "?" in url else "?") + "cold=1"
                    for state in ("uncached", "cached"):
                        page.goto(url)
                        reports[kind, system][state].append(page.evaluate("window.coldReport()"))
                        # a visitor comes back later, not the moment the first prediction
                        # shows: what the first visit does in the background (nnpy stores its
                        # snapshot once the worker is idle; the browser writes compiled code to
                        # its cache) ends first
                        page.wait_for_timeout(SETTLE_MS)
                finally:
                    context.close()
    rows = []
    for kind in VISITORS:
        suffix = "" if kind == "profile" else f"-{kind}"
        for state in ("uncached", "cached"):
            for system in cold_systems:
                found = reports[kind, system][state]
                entry = row(f"cold-start-{state}{suffix}", system, [r["seconds"] for r in found], "s")
                milestones = dict.fromkeys(name for r in found for name in r["marks"])
                entry["stages"] = {name: round(statistics.median(
                    r["marks"][name] for r in found if name in r["marks"]), 3) for name in milestones}
                boots = [r["boot"] for r in found if r.get("boot")]
                if boots:  # how nnpy started Python: "cold" or restored from its "snapshot"
                    entry["note"] = "Python started: " + ", ".join(
                        f"{boot} ×{boots.count(boot)}" for boot in sorted(set(boots)))
                rows.append(entry)
                log(f"  {entry['workload']:<30}{system:<20}{entry['value']:>12.4g} s  {entry['stages']}")
    for state, field, workload in (("uncached", "transfer", "download-uncached"),
                                   ("uncached", "decoded", "download-uncached-raw"),
                                   ("cached", "transfer", "download-cached")):
        for system in cold_systems:
            visits = [library_files(r["resources"]) for r in reports["profile", system][state]]
            entry = row(workload, system, [sum(f[field] for f in v.values()) / 1e6 for v in visits],
                        "MB")
            entry["files"] = {name: {"transfer": f["transfer"], "encoded": f["encoded"],
                                     "decoded": f["decoded"]} for name, f in visits[-1].items()}
            rows.append(entry)
            log(f"  {workload:<30}{system:<20}{entry['value']:>12.4g} MB")
    return rows


def library_files(resources):
    """{file name: bytes} of what the library fetched: the benchmark's own page, harness and
    data (/bench/, /bench-data/) are left out, but not TF.js's model files (/bench-data/tfjs/:
    nnpy's digit model counts too); a file fetched twice counts twice."""
    files = {}
    for entry in resources:
        path = urlsplit(entry["name"]).path
        if path.startswith(("/bench/", "/bench-data/")) and not path.startswith("/bench-data/tfjs/"):
            continue
        name = path.rsplit("/", 1)[-1]
        while name in files:
            name += "+"
        files[name] = entry
    return files


# ------------------------------------------------------------------------------------ the table

def speedup(workload_rows, system, peer):
    """How many times faster `system` is than `peer` (above 1: faster), or None."""
    a, b = workload_rows.get(system), workload_rows.get(peer)
    if not a or not b or a["value"] is None or b["value"] is None:
        return None
    return a["value"] / b["value"] if a["unit"] not in ("ms", "s", "MB") else b["value"] / a["value"]


def format_value(entry):
    if entry is None:
        return "—"
    if entry["value"] is None:
        return "unsupported"
    value = entry["value"]
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def table(rows):
    """The results as a Markdown table: medians per system, then speed ratios."""
    order = list(dict.fromkeys(r["workload"] for r in rows))
    by_workload = {w: {r["system"]: r for r in rows if r["workload"] == w} for w in order}
    systems = [s for s in SYSTEMS if any(s in found for found in by_workload.values())]
    ratios = [(a, b) for a, b in RATIOS if a in systems and b in systems]
    header = ["workload", "unit", *systems,
              *(f"{a.removeprefix('nnpy-')} ÷ {b.removeprefix('nnpy-')}" for a, b in ratios)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for workload in order:
        found = by_workload[workload]
        unit = next(iter(found.values()))["unit"]
        cells = [workload, unit, *(format_value(found.get(s)) for s in systems)]
        for a, b in ratios:
            ratio = speedup(found, a, b)
            cells.append("—" if ratio is None else f"{ratio:.2f}×")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stage_table(rows):
    """The cold starts' milestones: seconds from navigation, median over page loads."""
    lines = []
    for entry in rows:
        if entry.get("stages"):
            visit = entry["workload"].removeprefix("cold-start-")
            steps = ", ".join(f"{name} {seconds:.2f}" for name, seconds in entry["stages"].items())
            lines.append(f"- {entry['system']}, {visit}: {steps}")
    return "\n".join(lines)


def notes(rows):
    """The notes of the rows, one line per distinct (system, note)."""
    seen = {}
    for entry in rows:
        if entry.get("note"):
            seen.setdefault((entry["system"], entry["note"]), []).append(entry["workload"])
    return "\n".join(f"- {system} ({', '.join(found)}): {note}"
                     for (system, note), found in seen.items())


# ------------------------------------------------------------------------------------ main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per workload")
    parser.add_argument("--cold-rounds", type=int, default=5, help="page loads per cold-start row")
    parser.add_argument("--workloads", default=",".join([*workloads.WORKLOADS, "cold-start"]))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    chosen = args.workloads.split(",")
    wanted = [s for s in args.systems.split(",") if s]
    unknown = (set(chosen) - {*workloads.WORKLOADS, "cold-start"}) | (set(wanted) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown workloads or systems: {sorted(unknown)}")

    from playwright.sync_api import sync_playwright

    started = time.perf_counter()

    def log(message):
        print(f"[bench {time.perf_counter() - started:6.1f}s] {message}", flush=True)

    workloads.write_data(DATA)
    mounts = {"/bench/": HERE, "/bench-node/": BENCH_NODE_MODULES, "/bench-data/": DATA}
    server, base_url = build.start_server(build.SITE, mounts=mounts)
    rows, systems = [], {}
    try:
        with sync_playwright() as playwright:
            options = {"args": [*build.CHROMIUM_FLAGS, *BENCH_FLAGS]}
            if executable := build.find_browser():
                options["executable_path"] = executable
            browser = playwright.chromium.launch(**options)
            log(f"Chromium {browser.version}; loading the systems")
            context = browser.new_context()
            for name in wanted:
                page = SYSTEMS[name]
                systems[name] = (BrowserSystem(name, context, base_url + "bench/pages/" + page)
                                 if page else ProcessSystem(name))
                log(f"{name}: {json.dumps(systems[name].info)}")
            for name in chosen:
                if name == "cold-start":
                    continue
                log(f"{name}")
                rows += run_workload(name, systems, args.rounds, log)
            if "cold-start" in chosen:
                log("cold-start")
                cold_systems = [s for s in COLD_SYSTEMS if s in wanted]
                with tempfile.TemporaryDirectory(prefix="nnpy-bench-") as profiles:
                    visitors = itertools.count()

                    def open_visitor(kind):
                        if kind == "private":
                            return browser.new_context()
                        folder = Path(profiles) / str(next(visitors))  # a new visitor each time
                        return playwright.chromium.launch_persistent_context(folder, **options)

                    rows += cold_starts(open_visitor, base_url, cold_systems, args.cold_rounds, log)
            for system in systems.values():
                if getattr(system, "errors", None):
                    log(f"{system.name}: page errors {system.errors}")
            browser.close()
    finally:
        for system in systems.values():
            if isinstance(system, ProcessSystem):
                system.close()
        server.shutdown()
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"\n{table(rows)}\n\nCold-start milestones (s):\n{stage_table(rows)}\n\n"
          f"Notes:\n{notes(rows)}\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
