"""A sound project taught spoken words (espeak-ng, several voices) recognises the same words
said by voices it never heard, over room noise."""

import numpy as np
import pytest
from sounds import HELD_OUT_VOICES, TRAINING_VOICES, require_espeak, room_noise, word_clip

from nnpy.tasks.sound_classifier import SoundClassifierProject

WORDS = ("yes", "no")


@pytest.fixture(scope="module")
def trained():
    """A project taught "yes" and "no" by 12 voices, with the room's noise as background."""
    require_espeak()
    rng = np.random.default_rng(0)
    project = SoundClassifierProject(["Background noise", *WORDS])
    for voice in TRAINING_VOICES:
        project.add_sample(0, room_noise(rng))
        for index, word in enumerate(WORDS, 1):
            project.add_sample(index, word_clip(word, voice, rng))
    for _ in project.train_iter(epochs=30, learning_rate=3e-3):
        pass
    return project


def test_learns_spoken_words_and_recognises_voices_it_never_heard(trained):
    rng = np.random.default_rng(1)
    right = []
    for voice in HELD_OUT_VOICES:
        right.append(trained.predict(room_noise(rng)).argmax() == 0)
        for index, word in enumerate(WORDS, 1):
            for noise in (0.003, 0.02):  # faint and clearly audible room noise
                right.append(trained.predict(word_clip(word, voice, rng, noise)).argmax() == index)
    assert np.mean(right) >= 0.9, np.mean(right)
    assert trained.confusion.sum() == sum(max(1, round(0.2 * n)) for n in trained.counts())
