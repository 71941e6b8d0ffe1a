"""The microphone trainer's project: 1 s clips, spectrogram features, augmentation on the
spectrogram, training and the one-file save. Spoken words (espeak-ng) are in
tests/audio/test_sound_words.py; these tests use coloured noise, so they run in Pyodide too."""

import numpy as np
import pytest

from nnpy.audio import CLIP_SAMPLES, log_mel_spectrogram
from nnpy.errors import ModelFormatError
from nnpy.tasks.image_classifier import ImageClassifierProject
from nnpy.tasks.sound_classifier import (
    LOG_CENTRE,
    LOG_SCALE,
    SoundClassifierProject,
    augment_spectrograms,
    features,
)


def coloured_noise(rng, tilt, level=0.05, samples=CLIP_SAMPLES):
    """Noise whose power falls (tilt > 0: a rumble) or rises (tilt < 0: a hiss) with pitch."""
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    spectrum /= np.maximum(np.arange(len(spectrum)), 1) ** (tilt / 2)
    noise = np.fft.irfft(spectrum, n=samples)
    return (noise / np.abs(noise).max() * level * rng.uniform(0.3, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    project = SoundClassifierProject(["Background noise", "rumble", "hiss"])
    for _ in range(8):
        project.add_sample(0, coloured_noise(rng, 0, level=0.005))
        project.add_sample(1, coloured_noise(rng, 2))
        project.add_sample(2, coloured_noise(rng, -1))
    for _ in project.train_iter(epochs=6, learning_rate=3e-3):
        pass
    return project


def test_clips_are_stored_as_their_loudest_second_in_int16():
    project = SoundClassifierProject(["Background noise", "clap"])
    signal = coloured_noise(np.random.default_rng(0), 1, level=0.01, samples=40000)
    signal[30000:31000] = 0.9  # a loud burst at 1.9 s
    sample = project.add_sample(1, signal)
    assert sample.shape == (CLIP_SAMPLES,) and sample.dtype == np.int16
    assert np.abs(sample).max() >= 0.89 * 32767
    short = project.add_sample(0, np.full(800, 0.5, np.float32))
    assert short.shape == (CLIP_SAMPLES,) and short[0] == 0


def test_features_are_the_scaled_log_mel_spectrogram_of_each_clip():
    clips = (np.random.default_rng(0).standard_normal((3, CLIP_SAMPLES)) * 3000).astype(np.int16)
    x = features(clips)
    assert x.shape == (3, 49, 40) and x.dtype == np.float32
    np.testing.assert_allclose(x[2] * LOG_SCALE + LOG_CENTRE,
                               log_mel_spectrogram(clips[2] / 32768), atol=1e-5)


def test_augmentation_shifts_changes_gain_and_mixes_in_noise():
    rng = np.random.default_rng(0)
    x = np.random.default_rng(1).standard_normal((64, 49, 40)).astype(np.float32)
    plain = augment_spectrograms(x, np.random.default_rng(3), max_shift=0, gain_db=0)
    np.testing.assert_array_equal(plain, x)  # nothing asked, nothing changed
    louder = augment_spectrograms(x, rng, max_shift=0, gain_db=6)
    offsets = (louder - x).reshape(64, -1)
    assert np.allclose(offsets, offsets[:, :1], atol=1e-5)  # one gain per clip, every band
    assert np.abs(offsets).max() <= 6 * np.log(10) / 10 / LOG_SCALE + 1e-6
    shifted = augment_spectrograms(x, rng, max_shift=5, gain_db=0)
    assert shifted.shape == x.shape and not np.array_equal(shifted, x)
    noise = np.full((2, 49, 40), 10.0, np.float32)  # louder than anything in x
    mixed = augment_spectrograms(x, rng, noise, max_shift=0, gain_db=0, mix_probability=1)
    assert (mixed >= x - 1e-6).all() and (mixed > x + 1).mean() > 0.9  # powers add


def test_deleting_a_class_keeps_track_of_the_background_class():
    project = SoundClassifierProject(["a", "Background noise", "b", "c"], background_class=1)
    project.delete_class(2)
    assert project.background_class == 1
    project.delete_class(0)
    assert project.background_class == 0
    project.add_class("d")
    project.delete_class(0)
    assert project.background_class is None and project.class_names == ["c", "d"]


def test_trains_and_the_project_file_round_trips_and_is_not_an_image_project(trained):
    rng = np.random.default_rng(1)
    assert trained.predict(coloured_noise(rng, 2)).argmax() == 1
    assert trained.predict(coloured_noise(rng, -1)).argmax() == 2
    data = trained.to_bytes()
    again = SoundClassifierProject.from_bytes(data)
    assert again.class_names == trained.class_names and again.background_class == 0
    np.testing.assert_array_equal(np.stack(again.samples[1]), np.stack(trained.samples[1]))
    probe = coloured_noise(rng, 1)
    np.testing.assert_allclose(again.predict(probe), trained.predict(probe), rtol=1e-5)
    assert again.history == trained.history and again.confusion.sum() == 6
    with pytest.raises(ModelFormatError, match="a sound project; open it in the sound"):
        ImageClassifierProject.from_bytes(data)
    image_project = ImageClassifierProject(["a", "b"], image_size=16).to_bytes()
    with pytest.raises(ModelFormatError, match="an image project"):
        SoundClassifierProject.from_bytes(image_project)
