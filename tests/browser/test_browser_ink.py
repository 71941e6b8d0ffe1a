"""Dark ink on light paper reads as light ink on dark: through `model.predict(canvas)` and through
<nnpy-sketchpad ink paper>, for a hand-drawn stroke set of every digit (the strokes of
test_browser_digits.py, drawn with the mouse on the pads)."""

import pytest
from conftest import LOAD_TIMEOUT_MS
from test_browser_digits import DIGITS, PLACEMENTS, draw, place

import build

# one stroke set per digit, at the big centred placement: (digit, strokes in pad units 0..1)
DRAWINGS = [(digit, place(sets[0], *PLACEMENTS[0])) for digit, sets in DIGITS.items()]
SCHEMES = {"dark on light": ("#1b1f3b", "#fafafa"), "light on dark": ("#ffffff", "#101418")}

TWO_PADS = """<!doctype html><meta charset="utf-8"><title>two pads</title>
<script src="{{NNPY_JS}}"></script>
<nnpy-sketchpad id="dark-on-light" ink="#1b1f3b" paper="#fafafa"></nnpy-sketchpad>
<nnpy-sketchpad id="light-on-dark" ink="#ffffff" paper="#101418"></nnpy-sketchpad>
"""


def test_model_predict_reads_a_canvas_either_way_round(nn_page):
    """The shipped digit model, given canvases the page painted itself (opaque, no alpha)."""
    labels = nn_page.evaluate("""async ([drawings, schemes]) => {
        const model = await nn.loadModel(nnpy.scriptURL.replace(/nnpy\\.js$/, "models/digits.safetensors"));
        const canvas = Object.assign(document.createElement("canvas"), { width: 280, height: 280 });
        const context = canvas.getContext("2d");
        const read = {};
        for (const [scheme, [ink, paper]] of Object.entries(schemes)) {
          read[scheme] = [];
          for (const [, strokes] of drawings) {
            context.fillStyle = paper;
            context.fillRect(0, 0, 280, 280);
            Object.assign(context, { strokeStyle: ink, lineWidth: 24, lineCap: "round", lineJoin: "round" });
            for (const stroke of strokes) {
              context.beginPath();
              stroke.forEach(([x, y], i) => (i ? context.lineTo(x * 280, y * 280) : context.moveTo(x * 280, y * 280)));
              context.stroke();
            }
            read[scheme].push((await model.predict(canvas)).label);
          }
        }
        return read;
    }""", [DRAWINGS, SCHEMES])
    assert labels["dark on light"] == labels["light on dark"]
    right = sum(label == str(digit) for label, (digit, _) in zip(labels["light on dark"], DRAWINGS))
    assert right >= 9, labels


@pytest.fixture
def two_pads(new_page, site_url, tmp_path):
    (tmp_path / "index.html").write_text(TWO_PADS.replace("{{NNPY_JS}}", site_url + "web/nnpy.js"))
    server, url = build.start_server(tmp_path)
    page = new_page(viewport={"width": 900, "height": 1400})
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_function("[...document.querySelectorAll('nnpy-sketchpad')].every((pad) => pad.model)")
    yield page
    server.shutdown()


def test_the_sketchpad_reads_dark_ink_on_light_paper_as_light_on_dark(two_pads):
    page = two_pads
    read = {scheme: [] for scheme in SCHEMES}
    for _, strokes in DRAWINGS:
        for scheme in SCHEMES:
            pad = "#" + scheme.replace(" ", "-")
            page.evaluate("(pad) => document.querySelector(pad).pad.clear()", pad)
            draw(page, strokes, pad=pad + " canvas[part=canvas]")  # into the element's shadow root
            result = page.evaluate("(pad) => document.querySelector(pad).reading()", pad)
            read[scheme].append(result["label"])
    assert read["dark on light"] == read["light on dark"]
    right = sum(label == str(digit) for label, (digit, _) in zip(read["light on dark"], DRAWINGS))
    assert right >= 9, read
    # the pads look as the page asked: the paper's colour at a corner of each
    corners = page.evaluate("""() => [...document.querySelectorAll('nnpy-sketchpad')].map((element) => {
        const canvas = element.shadowRoot.querySelector('canvas');
        return Array.from(canvas.getContext('2d').getImageData(1, 1, 1, 1).data);
    })""")
    assert corners == [[250, 250, 250, 255], [16, 20, 24, 255]]
    assert page.errors == []
