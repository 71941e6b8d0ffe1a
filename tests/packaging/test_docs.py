"""The documentation: `python build.py docs` builds without a warning, every link in it (and the
demo page's links to it) leads somewhere that exists, and its Python examples run — the doctests
in the docstrings and the python blocks of docs/*.md. (The JavaScript examples of
docs/javascript.md run in tests/browser/test_browser_docs.py.)"""

import doctest
import html.parser
import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import nnpy


class Links(html.parser.HTMLParser):
    """The href/src values and element ids of one HTML page."""

    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.links.append((tag, name, attrs[name]))


def parsed(path, cache={}):  # noqa: B006 - a cache of parsed pages for this module's tests
    if path not in cache:
        cache[path] = Links()
        cache[path].feed(path.read_text())
    return cache[path]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A site folder with the demo page and the docs as `build.py docs` makes them."""
    site = tmp_path_factory.mktemp("site")
    shutil.copy2(ROOT / "index.html", site / "index.html")
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), "docs", "--out",
                           str(site / "docs")], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    (site / "build-output.txt").write_text(done.stdout + done.stderr)
    return site


def test_the_docs_build_without_warnings(site):
    output = (site / "build-output.txt").read_text()
    assert "warning" not in output.lower(), output
    pages = {path.relative_to(site / "docs").as_posix() for path in (site / "docs").rglob("*.html")}
    assert {"index.html", "javascript.html", "model-card-digits.html", "api/nnpy.html",
            "api/nnpy/layers.html", "api/nnpy/tasks.html", "api/nnpy/torch.html"} <= pages


def test_every_link_in_the_docs_and_from_the_demo_page_resolves(site):
    pages = [site / "index.html", *sorted((site / "docs").rglob("*.html"))]
    checked = 0
    for page in pages:
        for tag, attribute, link in parsed(page).links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https"):
                # the docs work offline: nothing is loaded from elsewhere, only linked to
                assert tag == "a", f"{page.name} loads {link}"
                continue
            if parts.scheme == "data":
                continue
            assert not parts.scheme, f"{page.name}: {link}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert not target.name.endswith(".md"), f"{page.name} links to a source: {link}"
            if page.name == "index.html" and page.parent == site and not link.startswith("docs/"):
                continue  # the demo page's own files (web/...) are checked by the browser tests
            assert target.is_file(), f"{page.relative_to(site)} links to {link}: no such file"
            if parts.fragment and target.suffix == ".html":
                assert unquote(parts.fragment) in parsed(target).ids, \
                    f"{page.relative_to(site)} links to {link}: no such anchor"
            checked += 1
    demo_links = {link for _, _, link in parsed(site / "index.html").links}
    assert {"docs/index.html", "docs/api/nnpy.html", "docs/javascript.html"} <= demo_links
    assert checked > 1000   # pdoc's pages link every name they mention


def test_every_page_of_the_docs_is_reached_from_the_demo_page(site):
    reached, todo = set(), [site / "index.html"]
    while todo:
        page = todo.pop()
        if page in reached or not page.is_file() or page.suffix != ".html":
            continue
        reached.add(page)
        for tag, _, link in parsed(page).links:
            parts = urlsplit(link)
            if tag == "a" and not parts.scheme and parts.path:
                todo.append((page.parent / unquote(parts.path)).resolve())
    pages = set((site / "docs").rglob("*.html")) - {site / "docs" / "api" / "index.html"}
    assert sorted(p.relative_to(site).as_posix() for p in pages - reached) == []


def nnpy_modules():
    """Every module of the package (but __main__ modules, which run when imported)."""
    names = ["nnpy"]
    for module in pkgutil.walk_packages(nnpy.__path__, "nnpy."):
        if not module.name.endswith("__main__"):
            names.append(module.name)
    return names


def test_the_docstring_examples_run():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    attempted = 0
    for name in nnpy_modules():
        for test in finder.find(importlib.import_module(name), name):
            runner.run(test)
            attempted += len(test.examples)
    results = runner.summarize(verbose=False)
    assert results.failed == 0
    assert attempted >= 30, attempted   # the examples in nnpy, Sequential, Dense, data, load_model


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_the_python_blocks_of_the_docs_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)   # the examples save files
    blocks = PYTHON_BLOCK.findall((ROOT / "docs" / page).read_text())
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"docs/{page}, python block {number}", "exec"), {})  # noqa: S102 - our own docs
    if page == "index.md":
        assert len(blocks) >= 2 and "Total params: 82" in capsys.readouterr().out


def test_a_site_built_without_pdoc_says_how_to_build_its_docs(tmp_path):
    import build

    build.write_docs_placeholder(tmp_path / "docs")
    page = (tmp_path / "docs" / "index.html").read_text()
    assert "python build.py docs" in page and "pip install -e '.[docs]'" in page
    (tmp_path / "docs" / "api").mkdir()
    (tmp_path / "docs" / "index.html").write_text("built")
    build.write_docs_placeholder(tmp_path / "docs")   # docs built before are kept
    assert (tmp_path / "docs" / "index.html").read_text() == "built"
