"""nnpy as its users get it from npm: the packed package (`build.pack`) installed with npm into a
temporary folder, its node_modules/nnpy served as a CDN serves npm packages file by file (its
own origin, `/npm/nnpy@VERSION/...`, `Access-Control-Allow-Origin: *`, UTF-8 text, wasm as
application/wasm), and a plain page on another origin, from a server that names no charset and
without <meta charset>, with the README's embed snippet (taken from README.md, as it is) and the
four elements. Pyodide comes from where nnpy.js looks for it when the package holds none, the
official CDN for the pinned version: requests there are answered from the vendored copy (the
tests are offline), and the test checks that they were.

One browser launch (a fake camera and microphone) tells the whole story; the tarballs' contents
and the server's headers are checked without a browser."""

import functools
import http.server
import json
import mimetypes
import posixpath
import re
import shutil
import subprocess
import tarfile
import threading
import urllib.request
from pathlib import Path

import pytest
from trainer_pages import device_browser

import build  # the repository root is on sys.path (conftest.py)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
VERSION = build.project_version()
CDN_PREFIX = f"https://cdn.jsdelivr.net/npm/nnpy@{VERSION}/"  # what the README tells users to paste
EMBED_HEADING = "## `<script>` embedding quick start"
SNIPPET_TIMEOUT_MS = 180_000  # two Pythons start: the snippet's own and the elements' shared one


def readme_snippet():
    """The first ```html block after the embedding heading of README.md, as it is."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(EMBED_HEADING):]
    return re.search(r"```html\n(.*?)```", section, re.DOTALL).group(1)


@pytest.fixture(scope="module")
def tarball(site):
    return build.pack(build=False)


def members(path):
    """The files of an npm tarball, by their path in the package."""
    with tarfile.open(path) as tar:
        return {m.name.removeprefix("package/") for m in tar.getmembers() if m.isfile()}


def read_member(path, name):
    with tarfile.open(path) as tar:
        return tar.extractfile(f"package/{name}").read()


def test_the_package_holds_the_built_site_and_its_types(tarball):
    names = members(tarball)
    manifest = json.loads(read_member(tarball, "web/nnpy-manifest.json"))
    package = json.loads(read_member(tarball, "package.json"))
    assert package["name"] == "nnpy" and package["version"] == VERSION == manifest["version"]
    assert package["types"] in names
    for required in ["web/nnpy.js", "web/worker.js", "web/common/library.js", "web/kernels/gemm.wasm",
                     "web/elements/sketchpad/index.js", "web/elements/webcam-classifier/index.js",
                     "web/elements/sound-classifier/index.js", "web/elements/network/index.js",
                     "web/models/digits.safetensors", "LICENSE", "README.md", "CHANGELOG.md",
                     "docs/index.html", "docs/javascript.html", "docs/api/nnpy.html"]:
        assert required in names, required
    named = [manifest["wheel"], *manifest["models"], *(manifest[key]["file"] for key in ("nnpy", "numpy", "stdlib"))]
    for path in named:  # every file the manifest names is there (its paths are relative to web/)
        assert posixpath.normpath(f"web/{path}") in names, path
    # without Pyodide: nnpy.js takes it from the official CDN, without looking in the package
    assert not any(name.startswith("pyodide/") for name in names)
    assert "pyodide_files" not in manifest and manifest["pyodide_url"] == build.PYODIDE_CDN
    assert not any(name.endswith((".c", ".py")) or "__pycache__" in name for name in names)


def test_the_package_with_pyodide_holds_the_subset_its_manifest_names(site):
    path = build.pack(with_pyodide=True, build=False)
    names = members(path)
    manifest = json.loads(read_member(path, "web/nnpy-manifest.json"))
    assert path.name == f"nnpy-{VERSION}-with-pyodide.tgz"
    assert set(manifest["pyodide_files"]) == set(build.PYODIDE_CORE_FILES)
    assert {f"pyodide/{name}" for name in build.PYODIDE_CORE_FILES} <= names


def test_npm_refuses_to_pack_the_source_folder(tmp_path):
    """package.json describes the built site: npm pack in the repository says how to make it."""
    shutil.copy2(ROOT / "package.json", tmp_path / "package.json")
    done = subprocess.run(["npm", "pack", "--dry-run"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0 and "python build.py pack" in done.stderr, done.stderr


# ---- the CDN and the plain page ---------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """A project folder with the tarball installed by npm (offline: nnpy has no dependencies)."""
    folder = tmp_path_factory.mktemp("npm-install")
    (folder / "package.json").write_text('{"private": true}\n')
    subprocess.run(["npm", "install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts",
                    "--loglevel=error", str(tarball)], cwd=folder, check=True)
    assert (folder / "node_modules" / "nnpy" / "web" / "nnpy.js").exists()
    return folder


@pytest.fixture(scope="module")
def cdn(installed, tmp_path_factory):
    """node_modules/nnpy served at /npm/nnpy@VERSION/ by build.py's server; yields its URL."""
    empty = tmp_path_factory.mktemp("cdn-root")
    mounts = {f"/npm/nnpy@{VERSION}/": installed / "node_modules" / "nnpy"}
    server, url = build.start_server(empty, mounts=mounts)
    yield url
    server.shutdown()


def test_typescript_finds_the_installed_package_types(installed):
    """A TypeScript project that installed nnpy gets its declarations by name."""
    (installed / "page.ts").write_text('/// <reference types="nnpy" />\n'
                                       "const nn = await nnpy.load({ numpy: \"full\" });\n"
                                       "export const version: string = nn.info.nnpy ?? nnpy.version;\n")
    (installed / "wrong.ts").write_text('/// <reference types="nnpy" />\n'
                                        "export const nn = nnpy.load({ numpy: 2 });\n")
    tsc = ["node", str(build.ensure_typescript()), "--noEmit", "--strict", "--target", "ES2022",
           "--module", "ES2022", "--moduleResolution", "bundler", "--lib", "ES2022,DOM"]
    right = subprocess.run([*tsc, "page.ts"], cwd=installed, capture_output=True, text=True, check=False)
    assert right.returncode == 0, right.stdout
    wrong = subprocess.run([*tsc, "wrong.ts"], cwd=installed, capture_output=True, text=True, check=False)
    assert wrong.returncode != 0 and "wrong.ts(2," in wrong.stdout, wrong.stdout


class PlainHost(http.server.SimpleHTTPRequestHandler):
    """A host as many are: Python's own static server, whose HTML names no charset."""

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def plain_page(cdn, tmp_path_factory):
    """The host page (no <meta charset>) on its own origin: the README snippet with the CDN
    URL pointing at the test's CDN, then the elements."""
    snippet = readme_snippet()
    assert snippet.count(CDN_PREFIX) == 1, f"the README's snippet should load nnpy from {CDN_PREFIX}"
    folder = tmp_path_factory.mktemp("plain-host")
    (folder / "index.html").write_text(
        '<!doctype html>\n<html lang="en"><head><link rel="icon" href="data:,">'
        "<title>A plain page on another site</title></head>\n<body>\n<h1>My page</h1>\n"
        + snippet.replace(CDN_PREFIX, f"{cdn}npm/nnpy@{VERSION}/")
        + '<nnpy-sketchpad id="pad"></nnpy-sketchpad>\n<nnpy-network for="pad"></nnpy-network>\n'
        '<nnpy-webcam-classifier permission-timeout="5"></nnpy-webcam-classifier>\n'
        '<nnpy-sound-classifier permission-timeout="5"></nnpy-sound-classifier>\n</body></html>\n',
        encoding="ascii")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(PlainHost, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def test_the_cdn_serves_what_browsers_need(cdn):
    """The headers a CDN sends (and build.py's server, which stands in for it): UTF-8 text,
    application/wasm, and CORS for pages on other origins."""
    base = f"{cdn}npm/nnpy@{VERSION}/"
    expected = {"web/nnpy.js": "text/javascript; charset=utf-8",
                "web/elements/webcam-classifier/index.js": "text/javascript; charset=utf-8",
                "web/common/trainer/trainer.css": "text/css; charset=utf-8",
                "index.html": "text/html; charset=utf-8",
                "web/kernels/gemm.wasm": "application/wasm",
                "web/nnpy-manifest.json": "application/json"}
    for path, content_type in expected.items():
        with urllib.request.urlopen(base + path) as response:
            assert response.headers["Content-Type"] == content_type, path
            assert response.headers["Access-Control-Allow-Origin"] == "*", path


# Record every text a shadow root's .status shows (the loading ones last only as long as Python
# takes to start), and the page's uncaught errors (the snippet's, say) for wait_for_function.
RECORD_STATUS = """
window.statusTexts = [];
window.failures = [];
window.addEventListener("error", (event) => window.failures.push(String(event.message)));
window.addEventListener("unhandledrejection", (event) => window.failures.push(String(event.reason)));
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (options) {
  const root = attachShadow.call(this, options);
  new MutationObserver(() => root.querySelectorAll(".status").forEach((s) => window.statusTexts.push(s.textContent)))
    .observe(root, { childList: true, subtree: true, characterData: true });
  return root;
};
"""

PYODIDE_CDN_FILES = build.PYODIDE_CDN + "**"


def serve_pyodide_from_the_vendored_copy(context, served):
    """Answer requests for the official Pyodide CDN from dist/site/pyodide/ (the same files,
    sha256-checked when vendored), as that CDN answers: CORS, wasm as application/wasm."""

    def answer(route):
        name = route.request.url.split("?")[0].removeprefix(build.PYODIDE_CDN)
        path = build.SITE / "pyodide" / name
        if "/" in name or not path.is_file():
            route.fulfill(status=404, body="not found", headers={"Access-Control-Allow-Origin": "*"})
            return
        served.append(name)
        content_type = {".wasm": "application/wasm", ".js": "text/javascript; charset=utf-8",
                        ".mjs": "text/javascript; charset=utf-8", ".json": "application/json"}.get(
            path.suffix, mimetypes.guess_type(name)[0] or "application/octet-stream")
        route.fulfill(status=200, path=str(path),
                      headers={"Content-Type": content_type, "Access-Control-Allow-Origin": "*"})

    context.route(PYODIDE_CDN_FILES, answer)


def test_a_plain_page_runs_the_readme_snippet_and_the_elements_from_the_cdn(browser, cdn,
                                                                           plain_page, tmp_path):
    served = []
    with device_browser(browser, tmp_path / "profile") as page:
        serve_pyodide_from_the_vendored_copy(page.context, served)
        page.add_init_script(RECORD_STATUS)
        cdn_requests = []
        page.on("request", lambda request: cdn_requests.append(request.url)
                if request.url.startswith(cdn) else None)
        page.goto(plain_page)
        assert plain_page.split(":")[2] != cdn.split(":")[2], "two origins"
        assert page.evaluate("document.characterSet") == "windows-1252"  # no charset anywhere
        assert page.evaluate("nnpy.scriptURL") == f"{cdn}npm/nnpy@{VERSION}/web/nnpy.js"

        # the README's snippet, as it is: XOR trained, the drawn "1" read, the model saved
        page.wait_for_function("document.body.innerText.includes('the drawing reads as') || "
                               "window.failures.length", timeout=SNIPPET_TIMEOUT_MS)
        assert page.evaluate("window.failures") == []
        text = page.inner_text("body")  # not the scripts' source
        xor = float(re.search(r"XOR\(1, 0\) = ([0-9.]+)", text).group(1))
        assert xor > 0.9, text
        assert text.strip().endswith("the drawing reads as 1"), text

        # <nnpy-sketchpad> and <nnpy-network>: draw a 1, the shipped model reads it, the picture follows
        pad = page.locator("nnpy-sketchpad canvas").first
        page.wait_for_function("document.querySelector('nnpy-sketchpad').model")
        box = pad.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * (0.15 + 0.07 * step))
        page.mouse.up()
        reading = page.evaluate("document.querySelector('nnpy-sketchpad').reading().then((r) => r.label)")
        assert reading == "1"
        page.wait_for_function("document.querySelector('nnpy-network').view.network !== null")

        # <nnpy-webcam-classifier>: the camera's frames become samples in Python
        webcam = "nnpy-webcam-classifier"
        page.evaluate(f"document.querySelector('{webcam}').ready")
        assert page.text_content(f"{webcam} .status").startswith("Ready"), page.text_content(f"{webcam} .status")
        page.click(f"{webcam} .start-camera")
        page.wait_for_function(f"document.querySelector('{webcam}').shadowRoot.querySelector('video').videoWidth > 0")
        hold_until(page, webcam, index=0, samples=5)

        # <nnpy-sound-classifier>: the microphone's sound becomes a clip in Python
        sound = "nnpy-sound-classifier"
        page.evaluate(f"document.querySelector('{sound}').ready")
        assert page.text_content(f"{sound} .status").startswith("Ready"), page.text_content(f"{sound} .status")
        page.click(f"{sound} .start-microphone")
        page.wait_for_function(f"document.querySelector('{sound}').ring && document.querySelector('{sound}').ring.total > 8000")
        hold_until(page, sound, index=1, samples=1)

        # what web/nnpy.d.ts declares is there (its required members, on the live objects)
        for interface, expression in DECLARED_ON.items():
            names = declared_members(interface)
            missing = page.evaluate(f"(names) => names.filter((name) => !(name in {expression}))", names)
            assert missing == [], f"{interface} declares {missing}, which {expression} lacks"

        # the elements' own text on a page that names no charset
        statuses = page.evaluate("window.statusTexts")
        for sign in ("…", "·", "—"):  # "Starting Python…", "Finding nnpy · 0.1 s — you can draw"
            assert any(sign in status for status in statuses), (sign, statuses)
        assert not any("â€" in status or "Â" in status for status in statuses), statuses
        # (a new project learns on pretrained features: the backbone came from the CDN too)
        assert page.evaluate(f"document.querySelector('{webcam}').mode") == "pretrained"
        assert "160×160" in page.text_content(f"{webcam} figcaption")
        assert page.locator(f"{webcam} .delete-class").first.text_content() == "×"
        page.locator("nnpy-network").scroll_into_view_if_needed()
        network = "document.querySelector('nnpy-network').view"
        page.wait_for_function(f"{network}.layout && {network}.layout.length")
        spot = page.evaluate(f"""() => {{
            const node = {network}.layout[0].nodes[0], box = {network}.canvas.getBoundingClientRect();
            return [box.left + node.x, box.top + node.y];
        }}""")
        page.mouse.move(*spot)  # the input column's tooltip
        expect(page.locator("nnpy-network .tooltip")).to_have_text("Input: the 28×28 image the network sees")
        assert page.errors == []
    assert "pyodide.asm.wasm" in served and "pyodide.js" in served, served
    assert not [url for url in cdn_requests if "/pyodide/" in url], cdn_requests  # nothing probed


# interface in web/nnpy.d.ts -> the object in the page it describes
DECLARED_ON = {
    "Nnpy": "nnpy",
    "Client": "document.querySelector('nnpy-sketchpad').nn",
    "Model": "document.querySelector('nnpy-sketchpad').model",
    "NnpySketchpadElement": "document.querySelector('nnpy-sketchpad')",
    "NnpyNetworkElement": "document.querySelector('nnpy-network')",
    "NnpyTrainerElement": "document.querySelector('nnpy-webcam-classifier')",
    "NnpySoundClassifierElement": "document.querySelector('nnpy-sound-classifier')",
}


def declared_members(interface):
    """The required members (not `name?`) an interface or class of web/nnpy.d.ts declares."""
    text = (ROOT / "web" / "nnpy.d.ts").read_text()
    block = re.search(rf"^export (?:interface|declare class) {interface}\b[^{{]*{{\n(.*?)^}}", text,
                      re.MULTILINE | re.DOTALL).group(1)
    names = re.findall(r"^  (?:readonly |get |set )?(\w+)(?=[(<:])", block, re.MULTILINE)
    names = sorted(set(names) - {"constructor"})
    assert names, interface
    return names


def hold_until(page, app, index, samples):
    """Hold class `index`'s record button until it has `samples` samples."""
    page.locator(f"{app} .class-card").nth(index).locator(".record").hover()
    page.mouse.down()
    page.wait_for_function(
        f"""() => parseInt(document.querySelector('{app}').shadowRoot.querySelectorAll('.class-card')[{index}]
                 .querySelector('.count').textContent) >= {samples}""")
    page.mouse.up()
