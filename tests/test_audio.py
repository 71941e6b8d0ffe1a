"""nnpy.audio's clips and wav files (the spectrogram against librosa, on spoken words, is in
tests/audio/, which needs programs a browser does not have)."""

import io
import wave

import numpy as np
import pytest

from nnpy import audio


def hiss(rng, seconds, level):
    """White noise at `level` (peak), as float32 at 16 kHz."""
    noise = rng.standard_normal(int(seconds * audio.SAMPLE_RATE))
    return (noise / np.abs(noise).max() * level).astype(np.float32)


def test_to_clip_keeps_the_loud_second_and_pads_a_short_one():
    rng = np.random.default_rng(0)
    quiet = hiss(rng, 3.0, level=0.001)
    quiet[30000:34000] += 0.5 * rng.standard_normal(4000).astype(np.float32)  # a clap at 1.9 s
    clip = audio.to_clip(quiet)
    assert clip.shape == (audio.CLIP_SAMPLES,) and np.abs(clip).max() > 0.4
    short = audio.to_clip(np.ones(4000, np.float32))
    assert short.shape == (audio.CLIP_SAMPLES,) and short[:6000].sum() == 0 and short[8000] == 1


@pytest.mark.parametrize("width, dtype", [(1, np.uint8), (2, np.int16), (4, np.int32)])
def test_read_wav_scales_integer_samples_to_plus_minus_one_and_mixes_channels(width, dtype):
    stereo = np.array([[0.5, -0.5], [0.25, 0.25], [-1.0, 0.0]])
    scale = 2.0 ** (8 * width - 1)
    raw = (stereo * scale + (128 if width == 1 else 0)).clip(np.iinfo(dtype).min,
                                                             np.iinfo(dtype).max).astype(dtype)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(width)
        writer.setframerate(8000)
        writer.writeframes(raw.tobytes())
    signal, rate = audio.read_wav(buffer.getvalue())
    assert rate == 8000
    np.testing.assert_allclose(signal, [0.0, 0.25, -0.5], atol=2 / scale)


def test_read_wav_names_what_is_wrong():
    with pytest.raises(ValueError, match="PCM .wav"):
        audio.read_wav(b"RIFF\x00\x00\x00\x00WAVEjunk")


def test_to_clips_finds_each_time_a_word_was_said_in_a_recording():
    rng = np.random.default_rng(0)
    recording = hiss(rng, 5.0, level=0.002)
    said_at = (3000, 30000, 52000)  # samples; three bursts of 0.4 s in 5 s
    for start in said_at:
        recording[start:start + 6400] += 0.3 * rng.standard_normal(6400).astype(np.float32)
    clips = audio.to_clips(recording, count=3)
    assert clips.shape == (3, audio.CLIP_SAMPLES)
    for clip, start in zip(clips, said_at):  # each clip holds one whole burst, in time order
        loud = np.flatnonzero(np.abs(clip) > 0.05)
        assert loud[-1] - loud[0] > 6000
    assert len(audio.to_clips(recording[:24000], count=3)) == 1  # 1.5 s hold one second only
