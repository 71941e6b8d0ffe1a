"""The webcam trainer in pretrained mode (its default), through Chromium's fake camera:
- a mouse records classes 1, 2 and 3 in a row (the first hold on a second button used to record
  nothing: the previous button's blur ended the recording the new press had just started);
- real photographs of three objects (scikit-image's sample photos: a cat, a cup of coffee, an
  astronaut) played as a video that pans, zooms and changes brightness; 20 samples a class
  recorded through the UI, trained through the UI; then held-out videos with another trajectory
  and light, part of the object covered by a hand-shaped patch, and the object farther away are
  classified live. The same videos score the from-scratch CNN for comparison.

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
    start_camera,
    textured_video,
    write_y4m,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "applications"))
from photos import photo

from nnpy.data import resize

WIDTH, HEIGHT, FPS = 320, 240, 15
STRIP = 30                      # the marker strip's width (the centre square starts at x = 40)
OBJECTS = [("cat", "chelsea.png"), ("coffee", "coffee.png"), ("astronaut", "astronaut.png")]
MARKERS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
CONDITIONS = ["other trajectory and light", "covered by a hand", "farther away"]
SEGMENT_S = 4


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


def frame(image, marker, centre, side, brightness, rng, scale=1.0, cover=None, tint=(1, 1, 1),
          condition_marker=(255, 255, 255)):
    """One 320x240 frame: the object's view in the centre square (at `scale` of it, on the wall),
    the object's marker strip at the left, the condition's at the right."""
    canvas = background(rng)
    size = int(HEIGHT * scale)
    top, left = (HEIGHT - size) // 2, (WIDTH - size) // 2
    canvas[top:top + size, left:left + size] = view(image, centre, side, size)
    if cover is not None:  # a hand over the lower right of the object
        skin, mask = hand(int(size * 0.55), rng)
        y0, x0 = top + size - skin.shape[0], left + size - skin.shape[1] - size // 10
        region = canvas[y0:y0 + skin.shape[0], x0:x0 + skin.shape[1]]
        region[mask] = skin[mask]
    canvas *= brightness * np.asarray(tint, np.float32)
    canvas[:, :STRIP] = marker
    canvas[:, -STRIP:] = condition_marker
    return canvas


def segment_frames(label, condition, rng):
    """SEGMENT_S seconds of object `label` under `condition` (None: the training recording)."""
    image = photo(OBJECTS[label][1])
    short = min(image.shape[:2])
    frames = []
    count_frames = SEGMENT_S * FPS
    for t in np.linspace(0, 1, count_frames):
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
        frames.append(frame(image, MARKERS[label], centre, side, rng=rng,
                            condition_marker=MARKERS[condition or 0], **options))
    return frames


def video(path, segments, seed):
    rng = np.random.default_rng(seed)
    frames = [f for label, condition in segments for f in segment_frames(label, condition, rng)]
    return write_y4m(path, np.clip(np.stack(frames), 0, 255).astype(np.uint8), fps=FPS)


# What is on screen, sampled by the page on every animation frame: [time, label, condition], read
# from the marker strips of the video (-1 when no marker is seen).
WATCH = f"""() => {{
    window.timeline = [];
    window.predictions = [];
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
        window.predictions.push([performance.now(), event.detail.index]));
}}"""

# the label on screen now, and for how long it has been
SHOWING = """() => {
    const t = window.timeline, last = t[t.length - 1];
    if (!last) return [-1, 0];   // no video frame seen yet
    let i = t.length - 1;
    while (i > 0 && t[i - 1][1] === last[1]) i--;
    return [last[1], performance.now() - t[i][0]];
}"""


def record_by_mouse(page, index, until):
    card(page, index).locator(".record").hover()
    page.mouse.down()
    page.wait_for_function(
        f"""() => parseInt({ELEMENT}.shadowRoot.querySelectorAll('.class-card')[{index}]
                 .querySelector('.count').textContent) >= {until}""", timeout=20_000)
    page.mouse.up()


def record_when_shown(page, label, until):
    """Hold class `label`'s button while its object is on screen, from the start of its
    segment, until the class has `until` samples."""
    page.wait_for_function(f"() => {{ const [l, ms] = ({SHOWING})(); return l === {label} && ms < 600; }}",
                           timeout=60_000)
    card(page, label).locator(".record").hover()
    page.mouse.down()
    page.wait_for_function(
        f"""() => parseInt({ELEMENT}.shadowRoot.querySelectorAll('.class-card')[{label}]
                 .querySelector('.count').textContent) >= {until}
                 || ({SHOWING})()[0] !== {label}""", timeout=20_000)
    page.mouse.up()
    page.wait_for_timeout(300)


def scores(page, settle_ms=1500):
    """Per condition: whether each live prediction named the object on screen, counting only
    predictions made while one object and condition had been showing for `settle_ms` (a verdict
    arrives a round trip after its frame)."""
    timeline = np.array(page.evaluate("window.timeline"))
    predictions = page.evaluate("window.predictions")
    results = {}
    for at, said in predictions:
        shown = timeline[(timeline[:, 0] >= at - settle_ms) & (timeline[:, 0] <= at), 1:]
        if len(shown) == 0 or (shown < 0).any() or (shown != shown[0]).any():
            continue
        label, condition = int(shown[0, 0]), int(shown[0, 1])
        results.setdefault(condition, []).append(said == label)
    return results


def test_mouse_records_classes_1_2_3_in_a_row(browser, site_url, tmp_path):
    scene = write_y4m(tmp_path / "scene.y4m", textured_video((120, 150, 90), seed=3))
    with camera_browser(browser, scene, tmp_path / "profile") as page:
        open_trainer(page, site_url)
        page.click(f"{APP} .add-class")
        page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelectorAll('.class-card').length === 3")
        start_camera(page)
        for index in range(3):  # each button's first hold records, right after another's
            record_by_mouse(page, index, 5)
            page.wait_for_timeout(200)
        assert [count(page, i) >= 5 for i in range(3)] == [True] * 3
        assert page.evaluate(f"{ELEMENT}.recording") is None
        assert page.errors == []


@pytest.fixture(scope="module")
def object_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("objects")
    held_out = [(label, condition) for condition in range(3) for label in range(3)]
    return {"train": video(folder / "train.y4m", [(label, None) for label in range(3)], seed=1),
            "held-out": video(folder / "held-out.y4m", held_out, seed=2),
            "held-out-segments": held_out}


def test_real_objects_20_samples_each_pretrained_vs_scratch(browser, site_url, object_videos,
                                                            tmp_path):
    profile = tmp_path / "profile"
    figures = {}
    with camera_browser(browser, object_videos["train"], profile) as page:
        open_trainer(page, site_url)
        page.wait_for_function(f"{ELEMENT}.mode === 'pretrained' && !{ELEMENT}.needsBackbone",
                               timeout=120_000)
        page.click(f"{APP} .add-class")
        for index, (name, _) in enumerate(OBJECTS):
            page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelectorAll('.class-card').length === 3")
            field = card(page, index).locator(".class-name")
            field.fill(name)
            field.press("Enter")
        start_camera(page)
        page.evaluate(WATCH)
        for label in range(3):  # two presses of 10 frames each: two recordings a class
            record_when_shown(page, label, 10)
            record_when_shown(page, label, 20)
        counts = [count(page, i) for i in range(3)]
        assert all(20 <= c <= 24 for c in counts), counts
        page.click(f"{APP} .train")
        page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelector('.train-message').textContent"
                               ".startsWith('Trained')", timeout=120_000)
        figures["train_message"] = page.text_content(f"{APP} .train-message")
        page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelector('.save-state').textContent"
                               ".startsWith('Saved in this browser')")
        RESULTS.mkdir(exist_ok=True)
        page.locator("#webcam").screenshot(path=str(RESULTS / "webcam-pretrained-trained.png"))
        assert page.errors == []

    loop_ms = len(object_videos["held-out-segments"]) * SEGMENT_S * 1000
    with camera_browser(browser, object_videos["held-out"], profile) as page:
        status = open_trainer(page, site_url)
        assert status.startswith("Restored"), status
        page.wait_for_function(f"!{ELEMENT}.needsBackbone", timeout=120_000)
        start_camera(page)
        page.evaluate(WATCH)
        page.wait_for_timeout(loop_ms + 2000)
        pretrained = scores(page)
        page.locator("#webcam").screenshot(path=str(RESULTS / "webcam-pretrained-live.png"))
        # the from-scratch CNN on the same samples and the same video
        page.select_option(f"{APP} .mode", "scratch")
        page.wait_for_function(f"{ELEMENT}.mode === 'scratch'")
        page.fill(f"{APP} .epochs", "30")
        page.click(f"{APP} .train")
        page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelector('.train-message').textContent"
                               ".startsWith('Trained')", timeout=300_000)
        page.evaluate("window.predictions = []")
        page.wait_for_timeout(loop_ms + 2000)
        scratch = scores(page)
        assert page.errors == []
    for name, results in (("pretrained", pretrained), ("scratch", scratch)):
        figures[name] = {CONDITIONS[c]: f"{sum(r)}/{len(r)}" for c, r in sorted(results.items())}
    (RESULTS / "webcam-pretrained-objects.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nreal objects, live predictions right:", json.dumps(figures))
    for condition in range(3):
        right = pretrained.get(condition, [])
        assert len(right) >= 5 and np.mean(right) >= 0.95, (CONDITIONS[condition], figures)
