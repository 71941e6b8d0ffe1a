"""Draw a digit (index.html #digits-app), as a person uses it: Playwright draws with the mouse on
the sketch pad and reads what the page displays. Offline Chromium; one page for the module (Python
loads once), so the tests run in file order and share its state.

Stroke sets are drawn by hand below, in pad units (0..1): three per digit, each at its own size and
position, so 30 drawings. The new symbol for fine-tuning is a five-pointed star.
"""

import itertools
import json
import math
import random
import statistics
from pathlib import Path

import pytest
from conftest import offline_context

import build

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
LOAD_TIMEOUT_MS = 120_000
TRAIN_TIMEOUT_MS = 240_000
READY = ("window.digitsApp && digitsApp.network"
         " && document.querySelector('#status').classList.contains('ready')")


# ---- strokes ------------------------------------------------------------------------------------

def arc(cx, cy, rx, ry, start, end, n=24):
    """Points on an ellipse from angle `start` to `end` (degrees; 0 is right, 90 is down)."""
    return [(cx + rx * math.cos(math.radians(start + (end - start) * i / n)),
             cy + ry * math.sin(math.radians(start + (end - start) * i / n))) for i in range(n + 1)]


def line(*points, step=0.05):
    out = [points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return out


def figure_eight(width, height, n=48):
    return [(0.5 + width * math.sin(2 * t), 0.5 - height * math.cos(t))
            for t in (2 * math.pi * i / n for i in range(n + 2))]


DIGITS = {  # digit -> stroke sets; a stroke set is a list of strokes; a stroke is a list of points
    0: [[arc(0.5, 0.5, 0.26, 0.4, -90, 275, 40)],
        [arc(0.5, 0.5, 0.3, 0.38, -100, 265, 40)],
        [arc(0.5, 0.5, 0.22, 0.42, -80, 290, 40)]],
    1: [[line((0.52, 0.1), (0.48, 0.9))],
        [line((0.36, 0.25), (0.55, 0.1), (0.55, 0.9))],
        [line((0.58, 0.1), (0.44, 0.9))]],
    2: [[arc(0.5, 0.32, 0.24, 0.2, 190, 360, 16) + line((0.74, 0.32), (0.26, 0.88), (0.8, 0.88))],
        [arc(0.48, 0.3, 0.25, 0.2, 200, 380, 16)
         + line((0.7, 0.42), (0.58, 0.66), (0.24, 0.9), (0.78, 0.88))],
        [arc(0.5, 0.3, 0.22, 0.18, 180, 390, 18) + line((0.7, 0.4), (0.3, 0.86), (0.75, 0.86))]],
    3: [[arc(0.48, 0.3, 0.22, 0.19, 210, 450, 20) + arc(0.48, 0.69, 0.25, 0.21, -90, 150, 20)],
        [arc(0.5, 0.28, 0.2, 0.17, 200, 440, 20) + arc(0.5, 0.67, 0.26, 0.22, -85, 160, 22)],
        [line((0.28, 0.12), (0.72, 0.12), (0.46, 0.44)) + arc(0.48, 0.66, 0.26, 0.22, -90, 150, 20)]],
    4: [[line((0.6, 0.1), (0.2, 0.62), (0.82, 0.62)), line((0.62, 0.35), (0.62, 0.92))],
        [line((0.28, 0.1), (0.26, 0.55), (0.76, 0.55)), line((0.68, 0.1), (0.68, 0.92))],
        [line((0.55, 0.1), (0.22, 0.6), (0.8, 0.6)), line((0.6, 0.3), (0.58, 0.92))]],
    5: [[line((0.72, 0.12), (0.32, 0.12), (0.29, 0.46)) + arc(0.48, 0.65, 0.25, 0.22, -120, 150, 22)],
        [line((0.3, 0.12), (0.28, 0.46)) + arc(0.47, 0.65, 0.25, 0.21, -120, 150, 22),
         line((0.3, 0.12), (0.74, 0.12))],
        [line((0.7, 0.1), (0.34, 0.1), (0.3, 0.44)) + arc(0.5, 0.64, 0.24, 0.23, -125, 140, 22)]],
    6: [[line((0.66, 0.1), (0.3, 0.55)) + arc(0.5, 0.7, 0.22, 0.2, 180, 545, 30)],
        [arc(0.78, 0.62, 0.5, 0.52, 245, 180, 8) + arc(0.5, 0.7, 0.22, 0.2, 180, 540, 30)],
        [line((0.6, 0.08), (0.32, 0.5)) + arc(0.52, 0.7, 0.22, 0.21, 190, 560, 30)]],
    7: [[line((0.22, 0.12), (0.78, 0.12), (0.4, 0.92))],
        [line((0.24, 0.14), (0.76, 0.12), (0.52, 0.9)), line((0.4, 0.5), (0.74, 0.5))],
        [line((0.25, 0.22), (0.3, 0.12), (0.8, 0.12), (0.45, 0.9))]],
    8: [[figure_eight(0.24, 0.4)],
        [figure_eight(0.2, 0.42)],
        [arc(0.5, 0.3, 0.18, 0.18, 0, 360, 24), arc(0.5, 0.7, 0.24, 0.2, -90, 270, 24)]],
    9: [[arc(0.48, 0.32, 0.22, 0.2, 0, -360, 28) + line((0.7, 0.32), (0.64, 0.9))],
        [arc(0.5, 0.3, 0.2, 0.18, 10, -355, 28) + line((0.7, 0.3), (0.7, 0.9))],
        [arc(0.46, 0.3, 0.22, 0.2, -10, -360, 28) + arc(0.2, 0.3, 0.48, 0.6, 0, 60, 10)]],
}

PLACEMENTS = [  # (scale, centre x, centre y, slant): stroke set i is drawn at placement i
    (0.8, 0.5, 0.5, 0.0),  # big, centred
    (0.5, 0.32, 0.35, 0.12),  # small, up and left, slanted
    (0.62, 0.6, 0.62, -0.08),  # middling, down and right, leaning back
]


def place(strokes, scale, cx, cy, slant=0.0):
    return [[(cx + scale * ((x - 0.5) - slant * (y - 0.5)), cy + scale * (y - 0.5)) for x, y in s]
            for s in strokes]


def star(rotation, jitter, seed):
    """A five-pointed star in one stroke (a pentagram), wobbling by up to `jitter`."""
    rng = random.Random(seed)
    angles = [math.radians(-90 + rotation + 144 * i) for i in range(6)]
    corners = [(0.5 + 0.42 * math.cos(a) + rng.uniform(-jitter, jitter),
                0.52 + 0.42 * math.sin(a) + rng.uniform(-jitter, jitter)) for a in angles]
    return [line(*corners)]


# (rotation, scale, centre x, centre y, slant): the stars taught, and new ones read afterwards
TAUGHT_STARS = [place(star(r, 0.03, i), s, x, y, sl) for i, (r, s, x, y, sl) in enumerate([
    (0, 0.9, 0.5, 0.5, 0), (8, 0.7, 0.45, 0.5, 0.1), (-8, 0.8, 0.55, 0.45, 0),
    (4, 0.6, 0.4, 0.4, -0.1), (-4, 0.85, 0.5, 0.55, 0.05), (12, 0.65, 0.6, 0.6, 0)])]
NEW_STARS = [place(star(r, 0.03, 10 + i), s, x, y, sl) for i, (r, s, x, y, sl) in enumerate([
    (-6, 0.75, 0.48, 0.52, 0), (10, 0.55, 0.35, 0.6, 0.08), (2, 0.8, 0.55, 0.5, -0.05)])]


# ---- page helpers -------------------------------------------------------------------------------

def draw(page, strokes, pad="#digits-pad"):
    """Draw `strokes` with the mouse on the canvas `pad`: down, many small moves, up."""
    page.locator(pad).scroll_into_view_if_needed()
    box = page.locator(pad).bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)
        page.mouse.up()


def reading(page):
    """The label the page shows once it has read the newest drawing."""
    page.wait_for_function("String(digitsApp.pad.version)"
                           " === document.querySelector('#digits-answer').dataset.version")
    return page.text_content("#digits-answer")


def clear(page):
    page.click("#digits-clear")
    assert reading(page) == "?"


def draw_and_read(page, strokes):
    clear(page)
    draw(page, strokes)
    return reading(page)


def wait_for_message(page, *starts, timeout=LOAD_TIMEOUT_MS):
    page.wait_for_function("""(starts) => starts.some((start) =>
        document.querySelector('#digits-message').textContent.includes(start))""",
                           arg=list(starts), timeout=timeout)
    return page.text_content("#digits-message")


def open_page(page, url):
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_function(READY)
    page.locator("#digits-pad").scroll_into_view_if_needed()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@pytest.fixture(scope="module")
def page(browser, site_url):
    context = offline_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    open_page(page, site_url)
    yield page
    context.close()


def digits_errors(page):
    """Page errors that come from the digit demo's modules (other demos report their own)."""
    scripts = ("digits", "sketchpad", "network", "common")
    return [error for error in page.errors if any(name in error for name in scripts)]


# ---- tests --------------------------------------------------------------------------------------

def test_drawn_digits_are_read_through_the_page(page):
    assert page.text_content("#digits-model-badge") == "shipped model"
    misread = []
    total = 0
    for digit, stroke_sets in DIGITS.items():
        for number, (strokes, placement) in enumerate(zip(stroke_sets, PLACEMENTS)):
            label = draw_and_read(page, place(strokes, *placement))
            total += 1
            if label != str(digit):
                misread.append(f"{digit} (stroke set {number}) read as {label}")
    accuracy = 1 - len(misread) / total
    print(f"\n{total - len(misread)}/{total} drawn digits read correctly ({accuracy:.0%}); "
          f"misread: {misread}")
    assert accuracy >= 0.9, misread
    # what the page shows beside the answer: a bar per class, the top one marked, and the image
    assert page.locator("#digits-bars li").count() == 10
    top = page.locator("#digits-bars li.top .name").text_content()
    assert top == page.text_content("#digits-answer")
    seen = page.evaluate("""() => {
        const canvas = document.querySelector('#digits-seen');
        const data = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
        let ink = 0;
        for (let k = 0; k < data.length; k += 4) ink += data[k] < 128;
        return ink;
    }""")
    assert 20 < seen < 400, f"the 28x28 image shows {seen} dark pixels"
    assert digits_errors(page) == []


def test_predict_latency_per_stroke_update(page):
    """Every pointer move changes the drawing; at most one reading is in flight and the newest
    drawing is read next, so readings never queue up behind the pen and the page stays smooth."""
    clear(page)
    page.evaluate("""() => {
        const stats = digitsApp.predictor.stats; stats.predictMs.length = 0; stats.updateMs.length = 0;
        window.longTasks = [];
        window.taskObserver = new PerformanceObserver((list) =>
            longTasks.push(...list.getEntries().map((entry) => entry.duration)));
        taskObserver.observe({ type: "longtask" });
        window.firstVersion = digitsApp.pad.version;
    }""")
    for digit in (2, 3, 8, 5):
        clear(page)
        draw(page, place(DIGITS[digit][0], *PLACEMENTS[0]))
        assert reading(page) == str(digit)
    stats = page.evaluate("""() => {
        taskObserver.disconnect();
        const changes = digitsApp.pad.version - firstVersion;
        return { ...digitsApp.predictor.stats, changes, longTasks };
    }""")
    update, predict = stats["updateMs"], stats["predictMs"]
    result = {
        "stroke_updates": stats["changes"], "readings": len(predict),
        "update_ms_median": round(statistics.median(update), 1),
        "update_ms_p90": round(percentile(update, 0.9), 1),
        "predict_ms_median": round(statistics.median(predict), 1),
        "predict_ms_p90": round(percentile(predict, 0.9), 1),
        "long_tasks_ms": [round(t) for t in stats["longTasks"]],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "digits-latency.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\npredict latency per stroke update: {json.dumps(result)}")
    assert len(predict) <= stats["changes"], "never more readings than changes"
    assert result["update_ms_p90"] < 1000, result
    assert all(t < 500 for t in stats["longTasks"]), f"the main thread stalled: {stats['longTasks']}"


def test_a_finger_and_a_pen_draw_too(page):
    """Real touch and pen input (through Chromium's input pipeline): pointer events of those
    types; a finger's stroke draws instead of scrolling the page; a pen's pressure thickens ink."""
    cdp = page.context.new_cdp_session(page)
    page.evaluate("""() => { window.pointerTypes = [];
        digitsApp.pad.canvas.addEventListener('pointerdown', (e) => pointerTypes.push(e.pointerType));
    }""")
    clear(page)
    box = page.locator("#digits-pad").bounding_box()

    def points(strokes):
        return [[(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
                for stroke in strokes]

    def touch(kind, *point):
        touches = [{"x": point[0], "y": point[1]}] if point else []
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touches})

    def pen(kind, x, y, **more):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                              "pointerType": "pen", "force": 0.8, **more})

    scrolled = page.evaluate("window.scrollY")
    for first, *rest in points(place(DIGITS[7][0], *PLACEMENTS[0])):
        touch("touchStart", *first)
        for point in rest:
            touch("touchMove", *point)
        touch("touchEnd")
    assert reading(page) == "7"
    assert page.evaluate("window.scrollY") == scrolled
    clear(page)
    for first, *rest in points(place(DIGITS[1][0], *PLACEMENTS[0])):
        pen("mousePressed", *first, clickCount=1)
        for point in rest:
            pen("mouseMoved", *point, buttons=1)
        pen("mouseReleased", *rest[-1])
    assert reading(page) == "1"
    assert page.evaluate("pointerTypes") == ["touch", "pen"]
    assert page.evaluate("digitsApp.pad.strokes[0].points[3][2]") > 1  # pressed harder: wider
    cdp.detach()


def test_a_burst_of_strokes_is_read_once_and_the_newest_drawing_wins(page):
    """Pointer events faster than the network: one reading in flight, then only the newest."""
    clear(page)
    box = page.locator("#digits-pad").bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.1 * box["height"])
    page.mouse.down()
    result = page.evaluate("""([left, top, size]) => {
        const readings = digitsApp.predictor.stats.predictMs.length;
        const before = digitsApp.pad.version;
        for (let i = 1; i <= 80; i++) {  // one task: a straight down-stroke, a "1"
            digitsApp.pad.canvas.dispatchEvent(new PointerEvent("pointermove", {
                pointerId: 1, pointerType: "mouse", bubbles: true,
                clientX: left + 0.5 * size, clientY: top + (0.1 + i * 0.01) * size }));
        }
        return digitsApp.predictor.settled().then(() => ({
            changes: digitsApp.pad.version - before,
            readings: digitsApp.predictor.stats.predictMs.length - readings,
            answered: Number(document.querySelector('#digits-answer').dataset.version),
            version: digitsApp.pad.version }));
    }""", [box["x"], box["y"], box["width"]])
    page.mouse.up()
    assert result["changes"] == 80
    assert result["readings"] <= 2, result  # the one running when the burst came, and the newest
    assert result["answered"] == result["version"]
    assert reading(page) == "1"


def canvas_pixels(page):
    """The network picture's pixels, and how many are not blank."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('#digits-network').canvas;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0; for (let k = 3; k < data.length; k += 4) drawn += data[k] > 0;
        return { drawn, total: data.length / 4, data: Array.from(data.filter((_, k) => k % 16 === 1)) };
    }""")


def after_next_frame(page):
    """Once the page has drawn the animation frame after this moment (and the one after)."""
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def test_network_picture_renders_and_changes_with_the_digit(page):
    def picture_of(digit):
        clear(page)
        draw(page, place(DIGITS[digit][0], *PLACEMENTS[0]))
        assert reading(page) == str(digit)
        after_next_frame(page)  # the picture is drawn at the next animation frame
        return canvas_pixels(page)

    one, zero = picture_of(1), picture_of(0)
    RESULTS.mkdir(exist_ok=True)
    page.locator("#digits-network").screenshot(path=str(RESULTS / "digits-network.png"))
    for picture in (one, zero):
        assert picture["drawn"] > 0.2 * picture["total"], "the picture is empty"
    changed = sum(a != b for a, b in zip(one["data"], zero["data"])) / len(one["data"])
    assert changed > 0.02, f"only {changed:.1%} of the picture changed between a 1 and a 0"
    # hovering the top output unit names it and shows its probability
    box = page.locator("#digits-network").bounding_box()
    layout = page.evaluate("""() => {
        const view = digitsApp.view.view;
        return view.layout[view.layout.length - 1].nodes.map((node) => [node.x, node.y]);
    }""")
    page.mouse.move(box["x"] + layout[0][0], box["y"] + layout[0][1])
    tip = page.locator("#digits-network .tooltip")
    tip.wait_for(state="visible")
    assert tip.text_content().startswith('Output "0": probability')


def test_undo_and_clear(page):
    clear(page)
    strokes = place(DIGITS[4][0], *PLACEMENTS[0])  # two strokes
    draw(page, strokes)
    assert reading(page) == "4"
    page.click("#digits-undo")
    assert page.evaluate("digitsApp.pad.strokes.length") == 1
    assert reading(page) != "4"  # the bent first stroke alone is not a 4 any more
    page.click("#digits-undo")
    assert reading(page) == "?" and page.is_visible("#digits-hint")
    draw(page, strokes)
    assert reading(page) == "4"


def test_fine_tuning_on_a_new_symbol_survives_reload_and_reset(page):
    before = [draw_and_read(page, strokes) for strokes in NEW_STARS]
    assert "star" not in before
    page.fill("#digits-new-name", "star")
    page.click("#digits-new-class button")
    assert "Added “star”" in wait_for_message(page, "Added", "Error")
    assert page.locator("#digits-bars li").count() == 11
    for strokes in TAUGHT_STARS:
        clear(page)
        draw(page, strokes)
        reading(page)
        page.click("#digits-classes .chip[data-label='star']")
        page.wait_for_function("digitsApp.pad.isEmpty")
    assert page.text_content("#digits-classes .chip[data-label='star'] small") == str(len(TAUGHT_STARS))
    assert page.locator("#digits-examples canvas").count() == len(TAUGHT_STARS)
    page.click("#digits-train")
    page.wait_for_function(
        "document.querySelector('#digits-train-status').textContent.startsWith('Epoch')")
    assert page.is_visible("#digits-loss") and page.is_enabled("#digits-cancel")
    message = wait_for_message(page, "Trained", "failed", "Cancelled", timeout=TRAIN_TIMEOUT_MS)
    print(f"\n{message} {page.text_content('#digits-train-status')}")
    assert "Trained on your 6 drawings" in message
    assert page.text_content("#digits-model-badge") == "your fine-tuned model"
    losses = page.evaluate("digitsApp.history.loss")
    assert statistics.mean(losses[-5:]) < statistics.mean(losses[:5]), "the loss went down"

    after = [draw_and_read(page, strokes) for strokes in NEW_STARS]
    assert after.count("star") >= 2, f"new stars read as {after}"
    digits = [draw_and_read(page, place(DIGITS[d][0], *PLACEMENTS[0])) for d in range(10)]
    correct = sum(label == str(digit) for digit, label in enumerate(digits))
    assert correct >= 9, f"digits after fine-tuning: {digits}"

    page.reload()
    page.wait_for_function(READY)
    page.locator("#digits-pad").scroll_into_view_if_needed()
    assert page.text_content("#digits-model-badge") == "your fine-tuned model"
    assert page.locator("#digits-bars li").count() == 11
    assert draw_and_read(page, NEW_STARS[0]) == after[0]

    page.click("#digits-reset")
    assert "Back to the shipped model" in wait_for_message(page, "Back to", "Could not")
    assert page.text_content("#digits-model-badge") == "shipped model"
    assert page.locator("#digits-bars li").count() == 10
    assert draw_and_read(page, NEW_STARS[0]) == before[0]
    assert "digits-finetuned" not in page.evaluate("digitsApp.nn.savedModels()")
    assert digits_errors(page) == []


def test_a_bad_upload_is_refused_and_the_model_stays(page, tmp_path):
    good = bytes(page.evaluate("digitsApp.model.toBytes().then((b) => Array.from(b))"))
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(good[:8] + b"{not json" + good[17:])
    page.set_input_files("#digits-upload", str(broken))
    message = wait_for_message(page, "was refused", "Loaded")
    assert message.startswith("broken.safetensors was refused:") and "current model stays" in message
    assert page.get_attribute("#digits-message", "class") == "message error"
    assert page.text_content("#digits-model-badge") == "shipped model"
    assert draw_and_read(page, place(DIGITS[3][0], *PLACEMENTS[0])) == "3"
    # the model file itself goes back in, and is kept in this browser
    good_file = tmp_path / "digits.safetensors"
    good_file.write_bytes(good)
    page.set_input_files("#digits-upload", str(good_file))
    assert "Loaded digits.safetensors" in wait_for_message(page, "Loaded", "refused")
    assert page.text_content("#digits-model-badge") == "uploaded model"
    assert draw_and_read(page, place(DIGITS[6][0], *PLACEMENTS[0])) == "6"
    page.click("#digits-reset")
    wait_for_message(page, "Back to")


def test_training_can_be_cancelled_and_is_then_not_saved(page):
    clear(page)
    draw(page, place(DIGITS[3][1], *PLACEMENTS[0]))
    reading(page)
    page.click("#digits-classes .chip[data-label='3']")
    page.wait_for_function("digitsApp.pad.isEmpty")
    page.evaluate("digitsApp.settings.epochs = 1000")
    page.click("#digits-train")
    page.wait_for_function(
        "document.querySelector('#digits-train-status').textContent.startsWith('Epoch')")
    page.click("#digits-cancel")
    assert "Cancelled" in wait_for_message(page, "Cancelled", "Trained", "failed")
    assert page.is_enabled("#digits-train") and page.is_disabled("#digits-cancel")
    assert page.text_content("#digits-model-badge") == "shipped model"
    assert "digits-finetuned" not in page.evaluate("digitsApp.nn.savedModels()")
    page.evaluate("digitsApp.settings.epochs = 3")
    page.click("#digits-reset")  # the weights it learnt before the cancel go too
    wait_for_message(page, "Back to")


def test_screenshots_desktop_and_phone(page):
    """The demo at desktop and phone width, while it reads a digit; kept in test-results/ for a
    person to look at. At phone width nothing may scroll sideways."""
    RESULTS.mkdir(exist_ok=True)
    for name, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#digits-pad").scroll_into_view_if_needed()
        draw_and_read(page, place(DIGITS[5][0], *PLACEMENTS[0]))
        page.wait_for_timeout(150)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
        page.locator("#digits").screenshot(path=str(RESULTS / f"digits-{name}.png"))
        assert (RESULTS / f"digits-{name}.png").stat().st_size > 20_000
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("scripts", ["element scripts", "nnpy.js alone"])
def test_sketchpad_element_on_another_origin(browser, site_url, tmp_path, scripts):
    """<nnpy-sketchpad model="URL"> and <nnpy-network for=...> on a third-party page that includes
    nnpy.js and the elements' modules (elements/sketchpad/, elements/network/) from the nnpy site,
    or nnpy.js alone, which imports the modules of the elements a page uses."""
    web = site_url + "web/"
    tags = [f'<script src="{web}nnpy.js"></script>']
    if scripts == "element scripts":
        tags += [f'<script type="module" src="{web}elements/sketchpad/index.js"></script>',
                 f'<script type="module" src="{web}elements/network/index.js"></script>']
    (tmp_path / "index.html").write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>A blog post</title></head>
<body>
  <h1>Draw a digit for my blog</h1>
  <nnpy-sketchpad id="pad" model="{web}models/digits.safetensors"></nnpy-sketchpad>
  <nnpy-network for="pad"></nnpy-network>
  {"".join(tags)}
</body></html>
""")
    server, url = build.start_server(tmp_path)
    context = offline_context(browser, viewport={"width": 900, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_function("document.querySelector('#pad').model")
        draw(page, place(DIGITS[7][0], *PLACEMENTS[0]), pad="#pad .pad canvas")
        page.wait_for_function("""() => {
            const pad = document.querySelector('#pad');
            const answer = pad.shadowRoot.querySelector('.answer');
            return answer.dataset.version === String(pad.pad.version);
        }""")
        assert page.locator("#pad .answer").text_content().startswith("7")
        assert page.locator("#pad .bar").count() == 10
        after_next_frame(page)
        drawn = page.evaluate("""() => {
            const canvas = document.querySelector('nnpy-network').canvas;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let drawn = 0;
            for (let k = 3; k < data.length; k += 4) drawn += data[k] > 0;
            return drawn / (data.length / 4);
        }""")
        assert drawn > 0.2, "the linked network picture is drawn"
        assert context.blocked == [] and errors == []
    finally:
        context.close()
        server.shutdown()
