"""A sound-classifier project, as a microphone trainer needs it: named classes of 1 s clips (one
of them the background noise of the room, recorded like the others), a small network over their
log-mel spectrograms, and one file that holds it all.

    project = SoundClassifierProject(["Background noise", "Clap", "Whistle"])
    project.add_sample(1, clip)                  # clip: (samples,) float in [-1, 1] at 16 kHz
    for log in project.train_iter(epochs=30):    # one log dict per batch / epoch
        ...
    project.predict(last_second)                 # probabilities, one per class
    same = SoundClassifierProject.from_bytes(project.to_bytes())

Training sees each clip many ways (augment): moved in time, louder or softer, and mixed with the
background class's noise. All three happen on the spectrogram, where they are cheap: a shift
moves frames, a gain adds a constant to the log power, and two independent sounds' powers add,
so mixing is ln(e^a + g e^b) band by band.
"""

import numpy as np

from .. import layers
from ..audio import CLIP_SAMPLES, log_mel_spectrogram, to_clip
from ..model import Sequential
from .classifier_project import ClassifierProject

LOG_CENTRE, LOG_SCALE = -7.0, 4.0  # ln(mel power) of speech spans about -14..2: to about -2..2
FRAMES = 1 + (CLIP_SAMPLES - 512) // 320  # 49 spectrogram frames in a clip


def features(clips):
    """(N, samples) int16 or float clips -> (N, frames, mels) float32, the network's input."""
    clips = np.asarray(clips)
    if clips.dtype == np.int16:
        clips = clips.astype(np.float32) / 32768
    return (log_mel_spectrogram(clips) - LOG_CENTRE) / LOG_SCALE


def augment_spectrograms(x, rng, noise=None, max_shift=8, gain_db=6.0, mix_probability=0.5):
    """A batch of features (N, T, M) moved by up to `max_shift` frames (edge frames repeated),
    made up to `gain_db` louder or softer, and, with `mix_probability`, mixed with a random
    spectrogram of `noise` (K, T, M) at a random level."""
    n, frames_count, _ = x.shape
    shift = rng.integers(-max_shift, max_shift + 1, n)
    rows = np.clip(np.arange(frames_count)[None, :] - shift[:, None], 0, frames_count - 1)  # (N, T)
    out = x[np.arange(n)[:, None], rows]
    gain = rng.uniform(-gain_db, gain_db, (n, 1, 1)) * (np.log(10) / 10) / LOG_SCALE
    out = out + gain.astype(x.dtype)
    if noise is not None and len(noise):
        mixed = rng.random(n) < mix_probability
        chosen = noise[rng.integers(0, len(noise), mixed.sum())]
        level = rng.uniform(-20, 0, (mixed.sum(), 1, 1)) * (np.log(10) / 10) / LOG_SCALE
        # ln(e^a + e^b) on the features: LOG_CENTRE is on both sides and cancels
        out[mixed] = np.logaddexp(out[mixed] * LOG_SCALE, (chosen + level) * LOG_SCALE) / LOG_SCALE
    return out.astype(x.dtype)


def default_model(num_classes, seed=0):
    """A small 1-D CNN over time: each mel frame is a step with 40 values; three convolutions
    see ~0.3 s of sound each, then the mean over time lets a word count wherever it starts."""
    return Sequential([
        layers.Input((FRAMES, 40)),
        layers.Conv1D(32, 3, padding="same", activation="relu"),          # (49, 32)
        layers.BatchNormalization(momentum=0.9),
        layers.MaxPool1D(2),                                               # (24, 32)
        layers.Conv1D(48, 3, padding="same", activation="relu"),          # (24, 48)
        layers.BatchNormalization(momentum=0.9),
        layers.MaxPool1D(2),                                               # (12, 48)
        layers.Conv1D(64, 3, padding="same", activation="relu"),          # (12, 64)
        layers.GlobalAveragePooling1D(),                                   # (64,)
        layers.Dropout(0.3),
        layers.Dense(num_classes),                                         # logits
    ], seed=seed, name="sound-classifier")


class SoundClassifierProject(ClassifierProject):
    """Samples are 1 s clips at 16 kHz, stored as (16000,) int16. `background_class` is the
    class whose clips are the room's noise, mixed into the others while training (None: no
    mixing)."""

    KIND = "sound"
    SETTINGS = ("background_class",)

    def __init__(self, class_names=("Background noise", "Class 2"), background_class=0, seed=0):
        super().__init__(class_names, seed)
        self.background_class = background_class
        self.noise = None

    def to_sample(self, clip):
        """(samples,) float in [-1, 1] (or int16) at 16 kHz -> its loudest second, int16."""
        clip = np.asarray(clip)
        if clip.dtype == np.int16:
            clip = clip.astype(np.float32) / 32768
        clip = to_clip(clip)
        return np.clip(np.rint(clip * 32767), -32768, 32767).astype(np.int16)

    def sample_spec(self):
        return (CLIP_SAMPLES,), np.dtype(np.int16)

    def inputs(self, samples):
        return features(samples)

    def default_model(self):
        return default_model(len(self.class_names), self.seed)

    def delete_class(self, index):
        super().delete_class(index)
        if self.background_class == index:
            self.background_class = None
        elif self.background_class is not None and self.background_class > index:
            self.background_class -= 1

    def prepare_training(self, x, y):
        self.noise = None if self.background_class is None else x[y == self.background_class]

    def augment(self, batch, rng):
        return augment_spectrograms(batch, rng, self.noise)
