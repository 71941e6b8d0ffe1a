"""The documentation in the built site: the JavaScript examples of docs/javascript.md run, in
order, on a plain page that includes nnpy.js (offline), and the demo page leads to the docs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD_TIMEOUT_MS = 120_000
JS_BLOCK = re.compile(r"^```js\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_javascript_examples_run_in_order(new_page, site_url):
    blocks = JS_BLOCK.findall((ROOT / "docs" / "javascript.md").read_text())
    assert len(blocks) >= 6 and "nnpy.load(" in blocks[0]
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    logged = []
    page.on("console", lambda message: logged.append(message.text))
    page.goto(site_url + "_test/pages/blank.html")
    # one function, so that later examples see the names earlier ones made (nn, xor, ...)
    page.evaluate("async () => {\n" + "\n".join(blocks) + "\n}")
    assert page.errors == [] and page.blocked == []
    text = "\n".join(logged)
    assert re.search(r"^(cold|snapshot) wasm-simd", text, re.MULTILINE), text  # nn.info
    assert re.search(r"^6 Float32Array\(4\) \[2, 2\] hello from Python$", text, re.MULTILINE), text
    assert re.search(r"^1 1 0\.9\d+$", text, re.MULTILINE), text              # the drawn "1"
    assert "Total params: 114,314" in text                                    # summary()
    assert re.search(r"^200 [\d.e-]+ 1$", text, re.MULTILINE), text            # fit's onEpoch
    assert "AbortError" in logged                                             # cancelled fit
    assert re.search(r"^ModelFormatError ", text, re.MULTILINE), text
    assert "ZeroDivisionError true" in logged
    assert "true null" in logged                                              # saved, reloaded


def test_the_demo_page_links_to_the_docs(new_page, site_url):
    page = new_page()
    page.goto(site_url)
    page.click("text=Documentation")
    page.wait_for_url("**/docs/index.html")
    assert page.text_content("h1") == "nnpy documentation"
    page.click("nav >> text=JavaScript API")
    assert page.locator("h2#the-elements").count() == 1
    page.click("nav >> text=Python API")
    page.wait_for_url("**/docs/api/nnpy.html")
    assert "Sequential" in page.text_content("body")
