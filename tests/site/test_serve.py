"""build.py's server sends what a production host should (README, "What a host must serve"):
the brotli file the build made beside a file to a browser that accepts `br`, gzip to one that
accepts only that, the file itself otherwise, and never a brotli file older than its source."""

import gzip
import os
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build

brotli = pytest.importorskip("brotli")

TEXT = ("// a script brotli and gzip both shrink a lot\n" + "const x = 1;\n" * 2000).encode()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(site folder, base URL): a site with one script, precompressed by build.py."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "app.js").write_bytes(TEXT)
    (site / "photo.png").write_bytes(os.urandom(4000))  # never compressed
    monkeypatch.setattr(build, "BROTLI_CACHE", tmp_path / "brotli-cache")
    build.precompress_site(site)
    server, url = build.start_server(site)
    yield site, url
    server.shutdown()


def get(url, accept_encoding):
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding})
    with urllib.request.urlopen(request) as response:
        return response.headers, response.read()


def test_the_build_writes_a_brotli_file_only_where_it_pays(served):
    site, _ = served
    assert brotli.decompress((site / "app.js.br").read_bytes()) == TEXT
    assert not (site / "photo.png.br").exists()


@pytest.mark.parametrize(("accept", "encoding", "decode"), [
    ("gzip, deflate, br, zstd", "br", brotli.decompress),
    ("gzip, deflate", "gzip", gzip.decompress),
    ("gzip, br;q=0", "gzip", gzip.decompress),
    ("identity", None, bytes),
])
def test_the_server_sends_the_encoding_the_browser_accepts(served, accept, encoding, decode):
    _, url = served
    headers, body = get(url + "app.js?v=0123456789abcdef", accept)
    assert headers.get("Content-Encoding") == encoding
    assert decode(body) == TEXT
    assert int(headers["Content-Length"]) == len(body)
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == build.IMMUTABLE and headers["Vary"] == "Accept-Encoding"


def test_a_brotli_file_older_than_its_source_is_not_sent(served):
    site, url = served
    changed = TEXT.replace(b"x = 1", b"y = 2")
    (site / "app.js").write_bytes(changed)
    stamp = (site / "app.js.br").stat().st_mtime + 10
    os.utime(site / "app.js", (stamp, stamp))
    headers, body = get(url + "app.js", "gzip, br")
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == changed


def test_accepted_encodings_reads_the_header():
    assert build.accepted_encodings("gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert build.accepted_encodings("br;q=0, GZIP;q=0.5") == {"gzip"}
    assert build.accepted_encodings("") == set()
