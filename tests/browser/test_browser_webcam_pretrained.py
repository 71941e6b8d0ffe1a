"""The webcam trainer in pretrained mode (its default), through Chromium's fake camera, as one
story over two launches:
- real photographs of three objects (scikit-image's sample photos: a cat, a cup of coffee, an
  astronaut) played as a video that pans, zooms and changes brightness; 20 samples a class
  recorded through the UI by mouse, in two presses a class, the classes one after another (the
  first hold on a second button used to record nothing: the previous button's blur ended the
  recording the new press had just started); trained through the UI;
- then held-out videos with another trajectory and light, part of the object covered by a
  hand-shaped patch, and the object farther away, classified live; the same samples and video
  then score the from-scratch CNN for comparison (reported, not asserted).
Along the way: the "saved", "trained" and "prediction" events a host page can use, the status
line after training, the confusion table inside its box, and the live speed (reported).

A video shows one object at a time in segments; coloured strips at its left and right edges
(outside the centre square the network sees) say which object and which condition, so the test
knows what is on screen when."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from test_browser_webcam import (
    APP,
    ELEMENT,
    RESULTS,
    camera_browser,
    card,
    count,
    open_trainer,
    rename,
    start_camera,
    wait_saved,
    write_y4m,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "applications"))
from photos import photo
from trainer_pages import wait_recorded

from nnpy.data import resize

WIDTH, HEIGHT = 320, 240
FPS, REPEAT = 30, 2             # the camera's rate; each picture shown for 2 frames (15 a second)
STRIP = 30                      # the marker strip's width (the centre square starts at x = 40)
OBJECTS = [("cat", "chelsea.png"), ("coffee", "coffee.png"), ("astronaut", "astronaut.png")]
MARKERS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
CONDITIONS = ["other trajectory and light", "covered by a hand", "farther away"]
TRAIN_SEGMENT_S, HELD_OUT_SEGMENT_S = 4, 3
SAMPLES = 20                    # per class, in two presses of the record button


def background(rng):
    """A plain, slightly noisy wall."""
    wall = np.full((HEIGHT, WIDTH, 3), (150, 140, 128), np.float32)
    return wall + rng.normal(0, 4, (HEIGHT, WIDTH, 1))


def view(image, centre, side, out):
    """The square of `image` of `side` pixels around `centre` (fractions), resized to `out`."""
    height, width = image.shape[:2]
    side = int(min(side, height, width))
    top = int(np.clip(centre[0] * height - side / 2, 0, height - side))
    left = int(np.clip(centre[1] * width - side / 2, 0, width - side))
    return resize(image[top:top + side, left:left + side].astype(np.float32), out, out)


def hand(size, rng):
    """A hand-shaped patch (a palm and four fingers, skin tones, shaded) of (size, size) with
    its mask: what covers part of the object."""
    y, x = np.mgrid[0:size, 0:size] / size
    palm = ((x - 0.5) / 0.38) ** 2 + ((y - 0.72) / 0.3) ** 2 < 1
    fingers = np.zeros_like(palm)
    for i, cx in enumerate((0.24, 0.41, 0.58, 0.75)):
        fingers |= (np.abs(x - cx) < 0.07) & (y > 0.12 + 0.05 * abs(i - 1.5)) & (y < 0.7)
    mask = palm | fingers
    shade = 0.8 + 0.2 * np.cos((x - 0.5) * 3)[..., None]
    skin = np.array([224, 172, 140], np.float32) * shade + rng.normal(0, 5, (size, size, 1))
    return skin, mask


def frame(image, marker, centre, side, brightness, rng, scale=1.0, cover=False, tint=(1, 1, 1),
          condition_marker=(255, 255, 255)):
    """One 320x240 frame: the object's view in the centre square (at `scale` of it, on the wall),
    the object's marker strip at the left, the condition's at the right."""
    canvas = background(rng)
    size = int(HEIGHT * scale)
    top, left = (HEIGHT - size) // 2, (WIDTH - size) // 2
    canvas[top:top + size, left:left + size] = view(image, centre, side, size)
    if cover:  # a hand over the lower right of the object
        skin, mask = hand(int(size * 0.55), rng)
        y0, x0 = top + size - skin.shape[0], left + size - skin.shape[1] - size // 10
        region = canvas[y0:y0 + skin.shape[0], x0:x0 + skin.shape[1]]
        region[mask] = skin[mask]
    canvas *= brightness * np.asarray(tint, np.float32)
    canvas[:, :STRIP] = marker
    canvas[:, -STRIP:] = condition_marker
    return canvas


def segment_frames(label, condition, rng):
    """A segment of object `label` under `condition` (None: the training recording)."""
    image = photo(OBJECTS[label][1])
    short = min(image.shape[:2])
    seconds = TRAIN_SEGMENT_S if condition is None else HELD_OUT_SEGMENT_S
    frames = []
    for t in np.linspace(0, 1, seconds * FPS // REPEAT):
        if condition is None:            # pans left to right, zooms in, light rises and falls
            centre = (0.5, 0.4 + 0.2 * t)
            side = short * (1.0 - 0.25 * t)
            options = {"brightness": 0.85 + 0.3 * np.sin(np.pi * t)}
        elif condition == 0:             # a circle the other way, closer, dimmer and warmer
            centre = (0.5 + 0.12 * np.sin(2 * np.pi * t), 0.5 - 0.12 * np.cos(2 * np.pi * t))
            side = short * 0.7
            options = {"brightness": 0.6 + 0.15 * t, "tint": (1.1, 0.95, 0.8)}
        elif condition == 1:             # part covered by a hand
            centre, side = (0.5, 0.5), short * 0.9
            options = {"brightness": 1.0, "cover": True}
        else:                            # farther away: half the size, on the wall
            centre, side = (0.5, 0.5 + 0.1 * t), short
            options = {"brightness": 0.95, "scale": 0.55}
        picture = frame(image, MARKERS[label], centre, side, rng=rng,
                        condition_marker=MARKERS[condition or 0], **options)
        frames += [picture] * REPEAT
    return frames


def video(path, segments, seed):
    rng = np.random.default_rng(seed)
    frames = [f for label, condition in segments for f in segment_frames(label, condition, rng)]
    return write_y4m(path, np.clip(np.stack(frames), 0, 255).astype(np.uint8), fps=FPS)


# What is on screen, sampled by the page on every animation frame: [time, label, condition], read
# from the marker strips of the video (-1 when no marker is seen); and what the element tells a
# host page (its events).
WATCH = f"""() => {{
    window.timeline = [];
    window.predictions = [];
    window.heard = window.heard || {{ trained: [], saved: [] }};
    const element = {ELEMENT};
    const video = element.shadowRoot.querySelector('video');
    const canvas = Object.assign(document.createElement('canvas'), {{ width: 32, height: 24 }});
    const context = canvas.getContext('2d', {{ willReadFrequently: true }});
    const markers = {json.dumps(MARKERS)};
    const tick = () => {{
        if (video.videoWidth) {{
            context.drawImage(video, 0, 0, 32, 24);
            const read = (x) => {{
                const [r, g, b] = context.getImageData(x, 12, 1, 1).data;
                return markers.findIndex(([mr, mg, mb]) =>
                    Math.abs(r - mr) + Math.abs(g - mg) + Math.abs(b - mb) < 150);
            }};
            window.timeline.push([performance.now(), read(1), read(30)]);
        }}
        requestAnimationFrame(tick);
    }};
    requestAnimationFrame(tick);
    element.addEventListener('prediction', (event) =>
        window.predictions.push([performance.now(), event.detail.index, event.detail.label,
                                 event.detail.probabilities.length]));
    element.addEventListener('trained', (event) => window.heard.trained.push(event.detail));
    element.addEventListener('saved', (event) => window.heard.saved.push(event.detail));
}}"""

# the label on screen now, and for how long it has been
SHOWING = """() => {
    const t = window.timeline, last = t[t.length - 1];
    if (!last) return [-1, 0];   // no video frame seen yet
    let i = t.length - 1;
    while (i > 0 && t[i - 1][1] === last[1]) i--;
    return [last[1], performance.now() - t[i][0]];
}"""


def press_while_shown(page, label, until, fresh):
    """Hold class `label`'s button by mouse while its object is on screen (from the start of
    its segment when `fresh`) until the class has `until` samples; the samples this press
    recorded."""
    start = "ms < 600" if fresh else "ms < 1500"  # time left in the segment to record 10
    page.wait_for_function(f"() => {{ const [l, ms] = ({SHOWING})(); return l === {label} && {start}; }}",
                           timeout=60_000)
    before = count(page, label)
    card(page, label).locator(".record").hover()
    page.mouse.down()
    page.wait_for_function(
        f"""() => parseInt({ELEMENT}.shadowRoot.querySelectorAll('.class-card')[{label}]
                 .querySelector('.count').textContent) >= {until}
                 || ({SHOWING})()[0] !== {label}""", timeout=20_000)
    page.mouse.up()
    wait_recorded(APP, page, label)
    return count(page, label) - before


def scores(page, settle_ms=1200):
    """Per condition: whether each live prediction named the object on screen, counting only
    predictions made while one object and condition had been showing for `settle_ms` (a verdict
    arrives a round trip after its frame)."""
    timeline = np.array(page.evaluate("window.timeline"))
    results = {}
    for at, said, *_ in page.evaluate("window.predictions"):
        shown = timeline[(timeline[:, 0] >= at - settle_ms) & (timeline[:, 0] <= at), 1:]
        if len(shown) == 0 or (shown < 0).any() or (shown != shown[0]).any():
            continue
        label, condition = int(shown[0, 0]), int(shown[0, 1])
        results.setdefault(condition, []).append(said == label)
    return results


def train_through_the_ui(page, epochs=""):
    page.fill(f"{APP} .epochs", epochs)
    page.click(f"{APP} .train")
    page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelector('.train-message').textContent"
                           ".startsWith('Trained')", timeout=300_000)
    return page.text_content(f"{APP} .train-message")


def watch_one_loop(page, loop_ms):
    """The held-out video played once through (and a little more) with fresh predictions;
    returns the live stats measured over it."""
    page.evaluate(f"window.predictions = []; {ELEMENT}.resetStats()")
    page.wait_for_timeout(loop_ms + 1500)
    return page.evaluate(f"{ELEMENT}.stats()")


@pytest.fixture(scope="module")
def object_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("objects")
    held_out = [(label, condition) for condition in range(3) for label in range(3)]
    return {"train": video(folder / "train.y4m", [(label, None) for label in range(3)], seed=1),
            "held-out": video(folder / "held-out.y4m", held_out, seed=2),
            "held-out-ms": len(held_out) * HELD_OUT_SEGMENT_S * 1000}


def test_real_objects_20_samples_each_pretrained_vs_scratch(browser, site_url, object_videos,
                                                            tmp_path):
    profile = tmp_path / "profile"
    figures = {}
    with camera_browser(browser, object_videos["train"], profile) as page:
        assert open_trainer(page, site_url).startswith("Ready")
        assert page.evaluate(f"[{ELEMENT}.mode, {ELEMENT}.needsBackbone, {ELEMENT}.size]") == [
            "pretrained", False, 160]  # the default, with its backbone loaded
        assert "whole recordings" in page.text_content(f"{APP} .training-note")
        page.click(f"{APP} .add-class")
        page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelectorAll('.class-card').length === 3")
        for index, (name, _) in enumerate(OBJECTS):
            rename(page, index, name)
        start_camera(page)
        page.evaluate(WATCH)
        presses = []
        for label in range(3):  # by mouse, class after class: each first press records
            presses.append([press_while_shown(page, label, SAMPLES // 2, fresh=True)])
            while count(page, label) < SAMPLES:
                presses[-1].append(press_while_shown(page, label, SAMPLES, fresh=False))
        figures["samples_per_press"] = presses
        assert all(class_presses[0] >= 5 for class_presses in presses), presses
        counts = [count(page, i) for i in range(3)]
        assert all(SAMPLES <= c <= SAMPLES + 4 for c in counts), counts
        assert page.evaluate(f"{ELEMENT}.burst") == sum(map(len, presses))  # one burst a press

        figures["pretrained_train_message"] = train_through_the_ui(page)
        status = page.text_content(f"{APP} .status")
        assert status.startswith("Trained: the camera is classified live"), status
        trained = page.evaluate("window.heard.trained")
        assert len(trained) == 1 and trained[0]["classNames"] == [n for n, _ in OBJECTS]
        assert len(trained[0]["confusion"]) == 3 and trained[0]["history"]["valAccuracy"]
        wait_saved(page)
        saved = page.evaluate("window.heard.saved")
        assert saved and saved[-1]["bytes"] > 3 * SAMPLES * 160 * 160 * 3  # the samples, at least
        # the confusion table fits its box at desktop width
        table, box = (page.locator(f"{APP} {selector}").bounding_box()
                      for selector in ("table.confusion", ".confusion-wrap"))
        assert table["x"] + table["width"] <= box["x"] + box["width"] + 0.5, (table, box)
        RESULTS.mkdir(exist_ok=True)
        page.locator("#webcam").screenshot(path=str(RESULTS / "webcam-pretrained-trained.png"))
        assert page.errors == []

    loop_ms = object_videos["held-out-ms"]
    with camera_browser(browser, object_videos["held-out"], profile) as page:
        status = open_trainer(page, site_url)
        assert status.startswith("Restored"), status
        assert page.evaluate(f"{ELEMENT}.mode === 'pretrained' && !{ELEMENT}.needsBackbone")
        start_camera(page)
        page.evaluate(WATCH)
        page.wait_for_function("window.predictions.length > 0")
        stats = watch_one_loop(page, loop_ms)
        pretrained = scores(page)
        predictions = page.evaluate("window.predictions")
        assert {p[2] for p in predictions} <= {n for n, _ in OBJECTS}
        assert {p[3] for p in predictions} == {3}
        figures["pretrained_live"] = {
            "frames_classified_per_s": round(len(predictions) / (loop_ms / 1000 + 1.5), 1),
            "python_ms": stats["pythonMs"], "round_trip_ms": stats["roundTripMs"],
            "display_fps": stats["displayFps"]}
        page.locator("#webcam").screenshot(path=str(RESULTS / "webcam-pretrained-live.png"))
        # the from-scratch CNN on the same samples and the same video
        page.select_option(f"{APP} .mode", "scratch")
        page.wait_for_function(f"{ELEMENT}.mode === 'scratch' && !{ELEMENT}.trained")
        figures["scratch_train_message"] = train_through_the_ui(page, "30")
        stats = watch_one_loop(page, loop_ms)
        scratch = scores(page)
        figures["scratch_live"] = {"python_ms": stats["pythonMs"],
                                   "display_fps": stats["displayFps"]}
        assert page.errors == []
    for name, results in (("pretrained", pretrained), ("scratch", scratch)):
        figures[name] = {CONDITIONS[c]: f"{sum(r)}/{len(r)}" for c, r in sorted(results.items())}
    (RESULTS / "webcam-pretrained-objects.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nreal objects, live predictions right:", json.dumps(figures))
    for condition in range(3):
        right = pretrained.get(condition, [])
        assert len(right) >= 10 and np.mean(right) >= 0.95, (CONDITIONS[condition], figures)
