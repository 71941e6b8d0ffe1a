"""The sound trainer (<nnpy-sound-classifier>) in Chromium, through the real getUserMedia path:
Chromium's fake microphone plays a .wav file this test writes from spoken words (espeak-ng,
tests/audio/sounds.py) and room noise. Real sounds, not tones.

One browser launch plays one file, so the story is told over launches sharing one profile:
  1-4 (a file per class, looping): the project comes back from IndexedDB each time; record 12
      clips of the room's noise (and 2 more by holding the button; then one of "yes" held
      right after, deleted again), of "yes", of "no", of "stop"
      through the UI ("Record 12 clips"); after the last one, train through the UI (curves,
      confusion matrix).
  5 (a file played once): words said by voices training never heard, at other speeds and
      pitches, over louder noise; the element listens live; the words it names, in order, are
      compared with the words said: at least 80% right (15 words; chance is a third; runs here
      name 12-15 of them, so 90% failed one CI run in the tail of the spread, with the
      training's random start). Answers a second and the latency from
      sound to answer are measured.
Plus every getUserMedia failure shown by name with what to do, with uploads of .wav files still
working while the microphone is denied.
"""

import difflib
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from trainer_pages import (
    FAKE_GET_USER_MEDIA,
    LOAD_TIMEOUT_MS,
    check_every_failure_is_named,
    device_browser,
    failures,
    helpers,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio"))
from sounds import (
    ESPEAK,
    HELD_OUT_VOICES,
    TRAINING_VOICES,
    require_espeak,
    room_noise,
    word_clip,
)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
APP = "nnpy-sound-classifier"
ELEMENT = f"document.querySelector('{APP}')"
RATE = 16000
CLASSES = ["Background noise", "yes", "no", "stop"]
CLIPS = 12  # per class, set in the element's "Clips per recording"


# ---- the fake microphone's files -----------------------------------------------------------------

def write_wav(path, signal, rate=RATE):
    """Mono 16-bit PCM, as a recorder writes it."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def said_once_a_second(word, voices, rng, noise_level):
    """`word` by each voice, one a second, over continuous room noise."""
    clips = [word_clip(word, voice, rng, noise_level=0) for voice in voices]
    speech = np.concatenate(clips)
    return speech + room_noise(rng, len(speech) / RATE, level=noise_level)


def twin(rng):
    """A generator that draws what `rng` will draw next, leaving `rng` as it is."""
    copy = np.random.Generator(np.random.PCG64())
    copy.bit_generator.state = rng.bit_generator.state
    return copy


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    require_espeak()
    folder = tmp_path_factory.mktemp("microphone")
    rng = np.random.default_rng(0)
    files = {"Background noise": write_wav(folder / "background.wav",
                                           np.concatenate([room_noise(rng) for _ in range(12)]))}
    for word in CLASSES[1:]:
        files[word] = write_wav(folder / f"{word}.wav",
                                said_once_a_second(word, TRAINING_VOICES, rng, 0.004))
    # held out: other voices, speeds and pitches; each word then 1.5 s of louder room noise
    said, ends, pieces = [], [], [room_noise(rng, 1.5, level=0.02)]
    for voice in HELD_OUT_VOICES:
        for word in rng.permutation(CLASSES[1:]):
            said.append(str(word))
            clean = word_clip(str(word), voice, twin(rng), noise_level=0)  # where the word ends
            loud = np.flatnonzero(np.abs(clean) > 0.05 * np.abs(clean).max())
            ends.append((sum(map(len, pieces)) + loud[-1]) / RATE)
            pieces += [word_clip(str(word), voice, rng, noise_level=0.02),
                       room_noise(rng, 1.5, level=0.02)]
    files["held-out"] = write_wav(folder / "held-out.wav", np.concatenate(pieces))
    files["said"], files["ends"] = said, ends
    return files


def espeak_wav(word):
    """The bytes espeak-ng writes (16-bit PCM at 22,050 Hz), as a person's recorder might."""
    return subprocess.run([ESPEAK, "-v", "en-us", "--stdout", word], check=True,
                          capture_output=True).stdout


def microphone_browser(browser, sound, profile, once=False, **options):
    """A Chromium whose microphone plays `sound`, looping or `once`."""
    flag = f"--use-file-for-fake-audio-capture={sound}{'%noloop' if once else ''}"
    return device_browser(browser, profile, flag, **options)


# ---- driving the trainer like a person -------------------------------------------------------------

open_trainer, card, count, rename, wait_saved = helpers(APP)
PAGE = "_test/pages/sound.html"


def start_microphone(page):
    page.click(f"{APP} .start-microphone")
    page.wait_for_function(f"{ELEMENT}.ring && {ELEMENT}.ring.total > 8000")


def hold_to_record(page, index, seconds):
    """Hold the class's record button for `seconds`: a clip per whole second."""
    before = count(page, index)
    card(page, index).locator(".record").hover()
    page.mouse.down()
    page.wait_for_timeout(seconds * 1000)
    page.mouse.up()
    after = before + int(seconds)
    expect(card(page, index).locator(".count")).to_have_text(f"{after} sample{'' if after == 1 else 's'}")


def record_clips(page, index):
    before = count(page, index)
    page.fill(f"{APP} .clip-count", str(CLIPS))
    page.press(f"{APP} .clip-count", "Enter")
    expect(card(page, index).locator(".record-clips")).to_have_text(f"Record {CLIPS} clips")
    card(page, index).locator(".record-clips").click()
    expect(card(page, index).locator(".count")).to_have_text(f"{before + CLIPS} samples",
                                                             timeout=30_000)
    assert card(page, index).locator(".thumb").count() == before + CLIPS


def screenshot(page, name):
    RESULTS.mkdir(exist_ok=True)
    page.locator(APP).screenshot(path=str(RESULTS / f"{name}.png"))


def events(decisions, background="Background noise"):
    """The words the element named, in order, each with the decision that first named it: each
    run of sure answers naming one word (answers of the background, or not sure, separate two
    runs) counts once."""
    named, previous = [], None
    for decision in decisions:
        label = decision["label"] if decision["sure"] and decision["label"] != background else None
        if label and label != previous:
            named.append((label, decision))
        previous = label
    return named


# ---- the tests ---------------------------------------------------------------------------------------

def test_record_through_the_microphone_train_and_recognise_voices_never_heard(
        browser, site_url, sounds, tmp_path):
    profile = tmp_path / "profile"
    figures = {}
    for index, name in enumerate(CLASSES):
        with microphone_browser(browser, sounds[name], profile) as page:
            status = open_trainer(page, site_url + PAGE)
            if index == 0:
                assert status.startswith("Ready")
                page.click(f"{APP} .add-class")
                expect(page.locator(f"{APP} .class-card")).to_have_count(4)
                for position, label in enumerate(CLASSES[1:], 1):
                    rename(page, position, label)
            else:
                assert status.startswith("Restored your project"), status
            start_microphone(page)
            record_clips(page, index)
            if index == 0:
                hold_to_record(page, 0, 2.5)
                # a mouse hold on another class's button right after records too (the
                # previous button's blur used to end it); that clip is deleted again
                hold_to_record(page, 1, 1.5)
                card(page, 1).locator(".thumb").first.hover()
                card(page, 1).locator(".delete-sample").first.click()
                expect(card(page, 1).locator(".count")).to_have_text("0 samples")
            if index == len(CLASSES) - 1:
                page.fill(f"{APP} .epochs", "40")
                page.fill(f"{APP} .learning-rate", "0.003")
                page.click(f"{APP} .train")
                expect(page.locator(f"{APP} .train-message")).to_contain_text(
                    "Trained", timeout=LOAD_TIMEOUT_MS)
                figures["validation_accuracy"] = page.evaluate(f"{ELEMENT}.history.valAccuracy.at(-1)")
                assert page.locator(f"{APP} table.confusion td").count() >= 16
                screenshot(page, "sound-trained")
            wait_saved(page)
            assert page.errors == [], page.errors

    with microphone_browser(browser, sounds["held-out"], profile, once=True) as page:
        assert open_trainer(page, site_url + PAGE).startswith("Restored your project")
        assert page.evaluate(f"{ELEMENT}.trained")
        start_microphone(page)
        seconds = len(sounds["said"]) * 2.5 + 2.5
        page.wait_for_timeout(seconds * 1000 * 0.5)
        figures.update(page.evaluate(f"{ELEMENT}.stats()"))
        screenshot(page, "sound-listening")
        page.wait_for_timeout(seconds * 1000 * 0.5 + 1500)
        decisions = page.evaluate(f"{ELEMENT}.decisions")
        assert page.errors == [], page.errors
    named = events(decisions)
    heard = [label for label, _ in named]
    matcher = difflib.SequenceMatcher(a=sounds["said"], b=heard, autojunk=False)
    pairs = [(block.a + k, block.b + k) for block in matcher.get_matching_blocks()
             for k in range(block.size)]
    right = len(pairs)
    # from the end of a word in the file to its answer on the page: the microphone started with
    # the file, so the samples heard when the answer was asked say where in the file it was
    delays = [named[b][1]["heard"] / RATE - sounds["ends"][a]
              + (named[b][1]["at"] - named[b][1]["sent"]) / 1000 for a, b in pairs]
    figures["word_end_to_answer_ms"] = {"median": float(np.median(delays)) * 1000,
                                        "max": float(np.max(delays)) * 1000}
    figures["decision_spacing_s"] = float(np.median(np.diff([d["heard"] for d in decisions]))) / RATE
    figures.update({"words_said": len(sounds["said"]), "words_named": len(heard),
                    "named_in_order": right, "accuracy": right / len(sounds["said"]),
                    "false_words": len(heard) - right, "decisions": len(decisions),
                    "said": sounds["said"], "heard": heard})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sound-performance.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nsound trainer:", json.dumps(figures))
    assert figures["accuracy"] >= 0.8, figures
    assert figures["false_words"] <= 0.15 * len(sounds["said"]), figures
    # about four decisions a second (the element asks every 250 ms), counted on the microphone's
    # own clock: the median sound heard between two decisions, so one slow second on a busy
    # machine does not decide it (classifiedPerSecond, one wall-clock second, is only reported)
    assert figures["decision_spacing_s"] <= 0.3, figures


def test_every_microphone_failure_is_named_and_uploads_still_work(new_page, site_url, sounds,
                                                                   tmp_path):
    page = new_page()
    page.add_init_script(FAKE_GET_USER_MEDIA)
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    assert open_trainer(page, site_url + PAGE).startswith("Ready")
    check_every_failure_is_named(page, APP, ".start-microphone",
                                 failures("microphone", "a microphone"))

    # the microphone is denied, and sound files still become clips: a word each (at the
    # recorder's own 22.05 kHz), one a second of a background recording; a non-sound is skipped
    rng = np.random.default_rng(5)
    files = [write_wav(tmp_path / f"yes-{i}.wav", word_clip("yes", voice, rng), rate=RATE)
             for i, voice in enumerate(TRAINING_VOICES[:2])]
    files.append(tmp_path / "yes-22k.wav")
    files[-1].write_bytes(espeak_wav("yes"))
    (tmp_path / "notes.txt").write_text("not a sound")
    page.set_input_files(f"{APP} .class-card >> nth=1 >> .upload input",
                         [str(f) for f in [*files, tmp_path / "notes.txt"]])
    expect(card(page, 1).locator(".count")).to_have_text("3 samples")
    expect(page.locator(f"{APP} .status")).to_contain_text("notes.txt")
    noise = write_wav(tmp_path / "room.wav", room_noise(rng, 3.2))
    page.set_input_files(f"{APP} .class-card >> nth=0 >> .upload input", str(noise))
    expect(card(page, 0).locator(".count")).to_have_text("3 samples")
    assert card(page, 1).locator(".thumb").count() == 3
    # at phone width: one column, nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at phone width"
    screenshot(page, "sound-phone")
    assert page.errors == [], page.errors

