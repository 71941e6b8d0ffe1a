"""The webcam trainer (<nnpy-webcam-classifier> on the demo page) in Chromium, through the real
getUserMedia path: Chromium's fake camera plays a Y4M video this file writes. This story learns
from scratch (a small CNN on flat colours); test_browser_webcam_pretrained.py tells the default,
pretrained features on real photographs. Longer than 400 lines because the story, the camera
failures, the missing backbone, the Teachable Machine model and the embedding share its video
and page helpers.

One browser launch plays one video, so the story is told over three launches:
  A (a red video, profile P): choose "from scratch", record "Red", stop the camera, leave the
     page; the project is autosaved in IndexedDB and downloaded.
  B (a blue video, profile P again): the project comes back from IndexedDB; record "Blue", train
     (timed; then the status says it is trained, not "Ready"), cancel a longer run (its live line
     never reads "NaN ms") and resume it, see the camera classified as Blue; download.
  C (the red video, a fresh profile): a bad file is refused; B's file opens and round-trips
     byte for byte; the camera is classified as Red; images upload as samples.
Plus every getUserMedia failure, each shown by name with what to do, and the element embedded
on another origin with one script tag.
"""

import json
import re
import statistics
import struct
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_until
from trainer_pages import (
    FAKE_GET_USER_MEDIA,
    LOAD_TIMEOUT_MS,
    check_every_failure_is_named,
    device_browser,
    failures,
    helpers,
    wait_recorded,
)

import build  # the repository root is on sys.path (conftest.py)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
APP = "nnpy-webcam-classifier"
ELEMENT = f"document.querySelector('{APP}')"
RED, BLUE = (205, 45, 40), (40, 65, 205)


# ---- the fake camera's videos ------------------------------------------------------------------

def write_y4m(path, frames, fps=30):
    """(N, H, W, 3) uint8 RGB frames -> a Y4M file at `fps`, C420jpeg (full-range BT.601 YCbCr,
    chroma averaged over 2x2 blocks): what --use-file-for-fake-video-capture plays in a loop."""
    _, height, width, _ = frames.shape

    def half(chroma):  # 4:2:0 - one chroma value per 2x2 block
        return chroma.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    with open(path, "wb") as file:
        file.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames.astype(np.float32):
            r, g, b = frame[..., 0], frame[..., 1], frame[..., 2]
            y = 0.299 * r + 0.587 * g + 0.114 * b
            cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
            cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
            file.write(b"FRAME\n")
            file.writelines(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes()
                            for plane in (y, half(cb), half(cr)))
    return path


def textured_video(colour, seed, count=30, width=320, height=240):
    """A colour with moving stripes and noise: a scene that changes, not one flat image."""
    rng = np.random.default_rng(seed)
    columns = np.arange(width)[None, :, None]
    frames = [np.asarray(colour, np.float32) + 25 * np.sin((columns + 5 * t) / 9)
              + rng.normal(0, 12, (height, width, 1)) for t in range(count)]
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def png(colour, size=(40, 30)):
    """A solid-colour RGB PNG file's bytes (for uploading images as samples)."""
    width, height = size
    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    return {"red": write_y4m(folder / "red.y4m", textured_video(RED, seed=1)),
            "blue": write_y4m(folder / "blue.y4m", textured_video(BLUE, seed=2)),
            "solid-red": write_y4m(folder / "solid-red.y4m",
                                   np.full((2, 240, 320, 3), (255, 0, 0), np.uint8))}


def camera_browser(browser, video, profile, **options):
    return device_browser(browser, profile, f"--use-file-for-fake-video-capture={video}", **options)


# ---- driving the trainer like a person ---------------------------------------------------------

open_trainer, card, count, rename, wait_saved = helpers(APP)


def start_camera(page):
    page.click(f"{APP} .start-camera")
    page.wait_for_function(f"{ELEMENT}.stream && {ELEMENT}.shadowRoot.querySelector('video').videoWidth > 0")


def record(page, index, samples):
    """Hold the class's record button until it has `samples` samples; the count shown only
    goes up meanwhile (Python's answers come while more frames are on their way)."""
    shown_count = f"{ELEMENT}.shadowRoot.querySelectorAll('.class-card')[{index}].querySelector('.count')"
    page.evaluate(f"""() => {{
        const count = {shown_count};
        window.countsShown = [];
        window.countWatch = new MutationObserver(() => countsShown.push(parseInt(count.textContent)));
        countWatch.observe(count, {{ childList: true, characterData: true, subtree: true }});
    }}""")
    card(page, index).locator(".record").hover()
    page.mouse.down()
    page.wait_for_function(f"() => parseInt({shown_count}.textContent) >= {samples}")
    page.mouse.up()
    wait_recorded(APP, page, index)
    shown = page.evaluate("countWatch.disconnect(), countsShown")
    assert shown and shown == sorted(shown) and shown[-1] >= samples, shown


def centre_pixel(page):
    """The RGB the page reads at the middle of the live video."""
    return page.evaluate(f"""() => {{
        const video = {ELEMENT}.shadowRoot.querySelector('video');
        const canvas = Object.assign(document.createElement('canvas'), {{ width: 8, height: 8 }});
        const context = canvas.getContext('2d');
        context.drawImage(video, 0, 0, 8, 8);
        return Array.from(context.getImageData(4, 4, 1, 1).data.slice(0, 3));
    }}""")


def train(page, epochs):
    page.fill(f"{APP} .epochs", str(epochs))
    started = time.perf_counter()
    page.click(f"{APP} .train")
    expect(page.locator(f"{APP} .train-message")).to_contain_text("Trained", timeout=LOAD_TIMEOUT_MS)
    return time.perf_counter() - started


def epochs_done(page):
    return page.evaluate(f"({ELEMENT}.history.loss || []).length")


def live_verdicts(page, seconds=1.5):
    """The class the Live panel names, read every 100 ms for `seconds`."""
    seen = []
    for _ in range(int(seconds * 10)):
        seen.append(page.text_content(f"{APP} .verdict").split(" · ")[0])
        page.wait_for_timeout(100)
    return seen


def download(page, path):
    with page.expect_download() as info:
        page.click(f"{APP} .download")
    info.value.save_as(path)
    return path.read_bytes()


def screenshot(page, name):
    RESULTS.mkdir(exist_ok=True)
    page.locator("#webcam").screenshot(path=str(RESULTS / f"{name}.png"))


# ---- the tests -------------------------------------------------------------------------------------

def test_the_fake_camera_reads_back_its_colour(browser, site_url, videos, tmp_path):
    """The Y4M conversion is right: a solid red video is red on the page."""
    with camera_browser(browser, videos["solid-red"], tmp_path / "profile") as page:
        open_trainer(page, site_url)
        start_camera(page)
        red, green, blue = centre_pixel(page)
        assert red >= 240 and green <= 15 and blue <= 15, (red, green, blue)


def test_the_camera_starts_while_python_starts_and_records_once_it_is_ready(browser, site_url, videos, tmp_path):
    """NumPy's download is held back: the camera starts and shows its video meanwhile, the status
    says Python is starting and the camera works already, and nothing that needs Python can be
    pressed; once Python is in, the same running camera records."""
    with camera_browser(browser, videos["red"], tmp_path / "profile") as page:
        held = []
        page.context.route(re.compile(r"/wheels/numpy-"), lambda route: held.append(route))
        page.goto(site_url)
        status = f"{ELEMENT}.shadowRoot.querySelector('.status').textContent"
        page.wait_for_function(f"customElements.get('{APP}') && {status}.includes('you can start the camera already')")
        start_camera(page)
        page.wait_for_function(f"{status}.includes('the camera works already')")
        wait_until(page, lambda: held, "NumPy's download was not held back")
        assert page.evaluate(f"{ELEMENT}.handle") is None  # Python is still starting
        for button in (".add-class", ".train", ".download", ".new-project"):
            assert page.is_disabled(f"{APP} {button}"), button
        assert page.evaluate(f"{ELEMENT}.shadowRoot.querySelectorAll('.record:not(:disabled)').length") == 0
        for route in held:
            route.continue_()
        page.evaluate(f"{ELEMENT}.ready")
        assert page.evaluate(f"{ELEMENT}.stream") is not None and page.text_content(f"{APP} .status").startswith("Camera on")
        record(page, 0, 5)
        assert page.errors == []


def test_record_relaunch_train_classify_and_resume(browser, site_url, videos, tmp_path):
    profile = tmp_path / "profile"
    figures = {}

    # ---- launch A: a red scene ----
    with camera_browser(browser, videos["red"], profile) as page:
        assert open_trainer(page, site_url).startswith("Ready")
        assert page.is_disabled(f"{APP} .train")  # nothing recorded yet
        assert page.evaluate(f"{ELEMENT}.mode") == "pretrained"  # a new project's default
        page.select_option(f"{APP} .mode", "scratch")
        page.wait_for_function(f"{ELEMENT}.mode === 'scratch'")
        rename(page, 0, "Red")
        start_camera(page)
        red, green, blue = centre_pixel(page)
        assert red > 150 and green < 110 and blue < 110, (red, green, blue)
        record(page, 0, 50)
        # a sample deleted from its thumbnail
        before = count(page, 0)
        card(page, 0).locator(".thumb").first.hover()
        card(page, 0).locator(".delete-sample").first.click()
        expect(card(page, 0).locator(".count")).to_have_text(f"{before - 1} samples")
        record(page, 0, before)  # and back to the count we had
        # Stop turns the camera off; so does leaving the tab (and it comes back on return)
        page.click(f"{APP} .stop-camera")
        assert page.evaluate(f"{ELEMENT}.stream") is None
        start_camera(page)
        ended = page.evaluate(f"""() => {{
            const tracks = {ELEMENT}.stream.getTracks();
            Object.defineProperty(document, 'visibilityState', {{ value: 'hidden', configurable: true }});
            document.dispatchEvent(new Event('visibilitychange'));
            return tracks.every((track) => track.readyState === 'ended');
        }}""")
        assert ended
        page.evaluate("""() => { delete document.visibilityState;
                                 document.dispatchEvent(new Event('visibilitychange')); }""")
        page.wait_for_function(f"{ELEMENT}.stream")
        ended = page.evaluate(f"""() => {{ const tracks = {ELEMENT}.stream.getTracks();
            window.dispatchEvent(new PageTransitionEvent('pagehide'));
            return tracks.every((track) => track.readyState === 'ended'); }}""")
        assert ended
        wait_saved(page)
        red_samples = count(page, 0)
        screenshot(page, "webcam-recorded-desktop")
        assert page.errors == []

    # ---- launch B: a blue scene; the project comes back from IndexedDB ----
    with camera_browser(browser, videos["blue"], profile) as page:
        status = open_trainer(page, site_url)
        assert status.startswith("Restored your project from this browser"), status
        assert card(page, 0).locator(".class-name").input_value() == "Red"
        assert count(page, 0) == red_samples == card(page, 0).locator(".thumb").count()
        rename(page, 1, "Blue")
        start_camera(page)
        record(page, 1, 50)
        figures["train_2x50x10_s"] = round(train(page, 10), 2)
        assert epochs_done(page) == 10
        assert "Trained: 10 epochs" in page.text_content(f"{APP} .train-message")
        status = page.text_content(f"{APP} .status")  # the camera is on: it is classified
        assert status.startswith("Trained: the camera is classified live"), status
        verdicts = live_verdicts(page)
        assert verdicts.count("Blue") >= len(verdicts) - 1, verdicts
        rows = page.locator(f"{APP} table.confusion tbody tr").all_text_contents()
        assert len(rows) == 2 and rows[0].startswith("Red") and rows[1].startswith("Blue")
        # performance of live classification, the page staying at display rate (measured once
        # the autosave after training, which holds the worker for a moment, is done)
        # (the per-second counts read every half second for 4 s, their medians: one slow second
        # of a busy machine is not the page's pace)
        wait_saved(page)
        page.evaluate(f"{ELEMENT}.resetStats()")
        seconds = []
        for _ in range(8):
            page.wait_for_timeout(500)
            seconds.append(page.evaluate(f"{ELEMENT}.stats()"))
        stats = seconds[-1]
        classified = statistics.median(second["classifiedPerSecond"] for second in seconds)
        fps = statistics.median(second["displayFps"] for second in seconds)
        figures.update(predict_round_trip_ms=stats["roundTripMs"], predict_python_ms=stats["pythonMs"],
                       classified_per_second=classified, display_fps=fps)
        assert classified >= 10 and fps >= 30, seconds
        assert "frames classified/s" in page.text_content(f"{APP} .perf")
        screenshot(page, "webcam-trained-desktop")
        # a long run cancelled, then resumed: the epochs go on from where they were; while it
        # trains, answers are not timed (they wait for training steps) and the live line says so
        page.fill(f"{APP} .epochs", "500")
        page.click(f"{APP} .train")
        page.wait_for_function(f"({ELEMENT}.history.loss || []).length >= 11")
        page.evaluate(f"{ELEMENT}.resetStats()")  # no timing kept from here until training ends
        expect(page.locator(f"{APP} .perf")).to_contain_text("between training steps")
        assert "NaN" not in page.text_content(f"{APP} .perf")
        page.click(f"{APP} .cancel")
        expect(page.locator(f"{APP} .train-message")).to_contain_text("Cancelled")
        cancelled_at = epochs_done(page)
        assert 11 <= cancelled_at < 500
        train(page, 2)
        assert cancelled_at < epochs_done(page) <= cancelled_at + 2
        wait_saved(page)
        trained_file = download(page, tmp_path / "trained.safetensors")
        assert page.errors == []

    # ---- launch C: the red scene again, a new browser profile, the downloaded file ----
    with camera_browser(browser, videos["red"], tmp_path / "another-profile") as page:
        assert open_trainer(page, site_url).startswith("Ready")
        broken = tmp_path / "broken.safetensors"
        broken.write_bytes(b"this is not a project")
        page.set_input_files(f"{APP} .open-file", str(broken))
        message = page.locator(f"{APP} .project-message")
        expect(message).to_contain_text("was refused")
        assert "broken.safetensors was refused" in message.text_content()
        assert "Your current project is unchanged" in message.text_content()
        assert card(page, 0).locator(".class-name").input_value() == "Class 1"

        page.set_input_files(f"{APP} .open-file", str(tmp_path / "trained.safetensors"))
        expect(message).to_contain_text("Opened trained.safetensors")
        assert [card(page, i).locator(".class-name").input_value() for i in (0, 1)] == ["Red", "Blue"]
        assert count(page, 0) == red_samples and count(page, 1) >= 50
        assert page.text_content(f"{APP} .train").strip() == "Train more"
        assert download(page, tmp_path / "again.safetensors") == trained_file  # byte for byte
        start_camera(page)
        page.wait_for_function(f"{ELEMENT}.shadowRoot.querySelector('.verdict').textContent")
        verdicts = live_verdicts(page)
        assert verdicts.count("Red") >= len(verdicts) - 1, verdicts
        # images upload as samples too (a non-image is skipped with a message)
        images = [tmp_path / "a.png", tmp_path / "b.png", tmp_path / "notes.txt"]
        images[0].write_bytes(png((220, 30, 30)))
        images[1].write_bytes(png((200, 60, 20), size=(30, 50)))
        images[2].write_text("not an image")
        page.set_input_files(f"{APP} .class-card >> nth=0 >> .upload input", [str(p) for p in images])
        expect(card(page, 0).locator(".count")).to_have_text(f"{red_samples + 2} samples")
        expect(page.locator(f"{APP} .status")).to_contain_text("notes.txt")
        # at phone width: one column, nothing wider than the screen
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at phone width"
        screenshot(page, "webcam-phone")
        assert page.errors == []

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webcam-performance.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nwebcam trainer:", json.dumps(figures))


def test_every_camera_failure_is_named_with_what_to_do(new_page, site_url):
    page = new_page()
    page.add_init_script(FAKE_GET_USER_MEDIA)
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(site_url)
    page.wait_for_function(f"!!customElements.get('{APP}')")
    check_every_failure_is_named(page, APP, ".start-camera", failures("camera", "a webcam"))
    assert page.errors == []


def test_a_name_being_typed_survives_the_cards_being_redrawn(new_page, site_url):
    """The cards are redrawn whenever Python answers (another class renamed, a sample recorded):
    what a person is typing into a class's name is kept there, with the caret, and committed."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    assert open_trainer(page, site_url).startswith("Ready")
    field = card(page, 1).locator(".class-name")
    field.click()
    page.keyboard.press("End")
    page.keyboard.type(" cof")
    page.evaluate(f"{ELEMENT}.render()")  # as an answer from Python would, mid-word
    page.keyboard.type("fee")
    expect(card(page, 1).locator(".class-name")).to_have_value("Class 2 coffee")
    # Class 0 renamed (Python's answer redraws the cards) while class 1's name is still typed.
    page.evaluate(f"{ELEMENT}.classChange('project_rename_class', {{ class_index: 0, name: 'tea' }})")
    expect(card(page, 0).locator(".class-name")).to_have_value("tea")
    expect(card(page, 1).locator(".class-name")).to_have_value("Class 2 coffee")
    assert page.evaluate(f"{ELEMENT}.shadowRoot.activeElement === "
                         f"{ELEMENT}.shadowRoot.querySelectorAll('.class-name')[1]")
    card(page, 1).locator(".class-name").press("Enter")
    page.wait_for_function(f"{ELEMENT}.classes.map((c) => c.name).join() === 'tea,Class 2 coffee'")
    page.evaluate(f"{ELEMENT}.render()")
    assert [card(page, i).locator(".class-name").input_value() for i in (0, 1)] == [
        "tea", "Class 2 coffee"]
    assert page.errors == []


def test_without_its_pretrained_network_a_new_project_learns_from_scratch_and_says_why(
        new_page, site_url):
    """A site without the backbone file (or a failed download): no crash, a new project in
    scratch mode, the reason under "Learn with"; choosing pretrained again tries again."""
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    asked = []

    def missing(route):
        asked.append(route.request.url)
        route.fulfill(status=404, body="not here")

    page.route("**/efficientnet-lite0.safetensors*", missing)
    assert open_trainer(page, site_url).startswith("Ready")
    assert asked, "the element did not ask for its pretrained network"
    assert page.evaluate(f"[{ELEMENT}.mode, {ELEMENT}.size, {ELEMENT}.needsBackbone]") == [
        "scratch", 64, False]
    message = page.locator(f"{APP} .mode-message")
    expect(message).to_contain_text("could not be loaded")
    assert "HTTP 404" in message.text_content() and "learns from scratch" in message.text_content()
    assert page.input_value(f"{APP} .mode") == "scratch"
    page.select_option(f"{APP} .mode", "pretrained")  # tries again, and falls back again
    page.wait_for_function(f"{ELEMENT}.mode === 'scratch' && {ELEMENT}.backboneProblem")
    assert len(asked) >= 2
    assert page.errors == []


def test_a_teachable_machine_model_opens_fine_tunes_and_comes_back(new_page, site_url, tmp_path):
    """Its export's three files chosen together become a project of its classes, trained at
    once; images uploaded as samples fine-tune it; after a reload it is still there (its
    MobileNet is kept in the project). A wrong choice of files is refused by name."""
    sys.path.insert(0, str(ROOT / "tests" / "tasks"))
    from test_pretrained_mode import teachable_machine_like

    model_json, _ = teachable_machine_like(tmp_path)
    export = sorted(str(path) for path in Path(model_json).parent.iterdir())
    page = new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    open_trainer(page, site_url)
    message = page.locator(f"{APP} .project-message")
    page.set_input_files(f"{APP} .open-teachable", [p for p in export if p.endswith(".bin")])
    expect(message).to_contain_text("model.json, weights.bin and metadata.json")
    page.set_input_files(f"{APP} .open-teachable", export)
    expect(message).to_contain_text("Opened the Teachable Machine model: 3 classes "
                                    "(thumbs up, thumbs down, nothing)")
    assert page.evaluate(f"[{ELEMENT}.trained, {ELEMENT}.mode, {ELEMENT}.size]") == [
        True, "pretrained", 32]
    assert page.text_content(f"{APP} .train").strip() == "Train more"
    for index, colour in enumerate([(220, 30, 30), (30, 200, 40), (40, 40, 210)]):
        images = [tmp_path / f"{index}-{n}.png" for n in range(2)]
        for n, image in enumerate(images):
            image.write_bytes(png(colour, size=(40 + 10 * n, 30)))
        page.set_input_files(f"{APP} .class-card >> nth={index} >> .upload input",
                             [str(image) for image in images])
        expect(card(page, index).locator(".count")).to_have_text("2 samples")
    train(page, 5)
    assert epochs_done(page) == 5
    wait_saved(page)
    page.reload()
    status = open_trainer(page, site_url)
    assert status == "Restored your project from this browser: 3 classes, 6 samples, trained.", status
    assert page.evaluate(f"[{ELEMENT}.needsBackbone, {ELEMENT}.backboneProblem]") == [False, None]
    assert page.errors == []


EMBED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>A site embedding the webcam trainer</title></head>
<body>
  <h1>My page, another origin</h1>
  <nnpy-webcam-classifier project-name="embedded" permission-timeout="5"></nnpy-webcam-classifier>
  <script type="module" src="{{WEBCAM_JS}}"></script>
</body></html>
"""

EMBED_WITH_NNPY_JS = EMBED_PAGE.replace('<script type="module" src="{{WEBCAM_JS}}"></script>',
                                        '<script src="{{NNPY_JS}}"></script>')


@pytest.mark.parametrize("tag", ["element module", "nnpy.js"])
def test_embedding_with_one_script_tag_on_another_origin(new_page, site_url, tmp_path, tag):
    """One tag on another origin is enough: the element's module (which brings nnpy.js), or
    nnpy.js, which imports that module when the page has the element. Each brings Python and the
    styles."""
    page_source = EMBED_PAGE if tag == "element module" else EMBED_WITH_NNPY_JS
    module = site_url + "web/elements/webcam-classifier/index.js"
    (tmp_path / "index.html").write_text(page_source.replace("{{WEBCAM_JS}}", module)
                                         .replace("{{NNPY_JS}}", site_url + "web/nnpy.js"))
    server, url = build.start_server(tmp_path)
    try:
        page = new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        page.goto(url)
        assert url.split(":")[2] != site_url.split(":")[2], "two origins"
        page.wait_for_function(f"!!customElements.get('{APP}')")
        assert open_trainer(page, url).startswith("Ready")
        assert page.evaluate("nnpy.scriptURL") == site_url + "web/nnpy.js"
        styled = page.evaluate(f"""getComputedStyle({ELEMENT}.shadowRoot.querySelector('.start-camera'))
                                   .backgroundColor""")
        assert styled == "rgb(59, 91, 219)", styled  # its style.css came from nnpy's origin
        assert page.locator(f"{APP} .class-card").count() == 2
        assert page.blocked == [] and page.errors == []
    finally:
        server.shutdown()
