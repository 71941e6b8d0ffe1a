"""Real sounds for the audio tests, made offline: spoken words from espeak-ng (several voices,
speeds and pitches) and noise shaped like a recording (pink noise, mains hum, rumble, clicks).
Nothing here is a pure tone; every clip is seeded, so a test sees the same sounds every run."""

import shutil
import subprocess

import numpy as np
import pytest

from nnpy.audio import SAMPLE_RATE, read_wav, to_clip

ESPEAK = shutil.which("espeak-ng")
WORDS = ("yes", "no", "stop")
# (voice, speed in words a minute, pitch 0-99): the speakers a user records ...
TRAINING_VOICES = [(voice, speed, pitch) for voice in ("en-us", "en-gb+f3", "en-gb-scotland+m3")
                   for speed in (140, 175) for pitch in (35, 65)]
# ... and others the classifier never heard: other accents, speeds and pitches
HELD_OUT_VOICES = [("en-029+f4", 120, 50), ("en-gb-x-rp+m5", 200, 45), ("en-us+f2", 160, 80),
                   ("en-gb-x-gbclan", 110, 25), ("en+m7", 190, 55)]


def require_espeak():
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


def spoken(word, voice, speed, pitch):
    """(samples,) float32 at the voice's own rate (22050 Hz), and that rate."""
    wav = subprocess.run([ESPEAK, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout",
                          word], check=True, capture_output=True).stdout
    return read_wav(wav)


def room_noise(rng, seconds=1.0, rate=SAMPLE_RATE, level=None):
    """Noise as a microphone in a room records it: pink noise, 50 Hz hum with harmonics, a slow
    rumble and a few clicks, at a random level."""
    count = int(seconds * rate)
    white = rng.standard_normal(count)
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))  # 1/f power: pink
    pink = np.fft.irfft(spectrum, n=count)
    pink /= pink.std()
    t = np.arange(count) / rate
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3))
    rumble = np.convolve(rng.standard_normal(count), np.ones(400) / 20, mode="same")
    clicks = np.zeros(count)
    clicks[rng.integers(0, count, rng.integers(0, 4))] = rng.uniform(-1, 1, 1) * 4
    noise = pink + rng.uniform(0, 0.5) * hum + rng.uniform(0, 1) * rumble + clicks
    level = rng.uniform(0.005, 0.05) if level is None else level
    return (noise / np.abs(noise).max() * level).astype(np.float32)


def word_clip(word, voice, rng, noise_level=0.003):
    """One 1 s clip at 16 kHz of `word` in `voice` (voice, speed, pitch), placed at a random
    time, at a random loudness, over faint room noise."""
    signal, rate = spoken(word, *voice)
    clip = to_clip(signal, rate)
    clip = np.roll(clip, int(rng.integers(-1600, 1600))) * rng.uniform(0.3, 1.0)
    return (clip + room_noise(rng, level=noise_level)).astype(np.float32)
