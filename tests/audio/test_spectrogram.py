"""nnpy.audio against librosa, an independent implementation, on real speech."""

import numpy as np
import pytest
from sounds import TRAINING_VOICES, require_espeak, room_noise, spoken

from nnpy import audio

librosa = pytest.importorskip("librosa")


def _speech():
    require_espeak()
    signal, rate = spoken("seven yellow boxes", *TRAINING_VOICES[0])
    return audio.resample(signal, rate) + room_noise(np.random.default_rng(0), len(signal) / rate)[
        :round(len(signal) * audio.SAMPLE_RATE / rate)]


def test_mel_filterbank_equals_librosa():
    ours = audio.mel_filterbank()
    theirs = librosa.filters.mel(sr=audio.SAMPLE_RATE, n_fft=audio.FFT_SIZE, n_mels=audio.MELS,
                                 fmin=audio.LOW_HZ, fmax=audio.HIGH_HZ)  # Slaney scale and areas
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_log_mel_spectrogram_of_speech_equals_librosa_within_float32_tolerance():
    signal = _speech().astype(np.float32)
    ours = audio.log_mel_spectrogram(signal)                              # (T, mels)
    power = librosa.feature.melspectrogram(
        y=signal, sr=audio.SAMPLE_RATE, n_fft=audio.FFT_SIZE, hop_length=audio.HOP,
        window="hann", center=False, power=2.0, n_mels=audio.MELS, fmin=audio.LOW_HZ,
        fmax=audio.HIGH_HZ)                                               # (mels, T)
    theirs = np.log(np.maximum(power, audio.LOG_FLOOR)).T
    assert ours.shape == theirs.shape and ours.dtype == np.float32 and len(ours) > 50
    # log power: an absolute error of 1e-4 is a relative error of 1e-4 in the power
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


def test_a_batch_of_clips_gives_each_clip_its_own_spectrogram():
    signal = _speech()[:3 * audio.CLIP_SAMPLES]
    clips = np.stack([audio.to_clip(signal[i:]) for i in (0, 4000, 8000)])
    batch = audio.log_mel_spectrogram(clips)
    assert batch.shape == (3, 49, audio.MELS)
    np.testing.assert_array_equal(batch[1], audio.log_mel_spectrogram(clips[1]))


def test_resample_equals_librosa_fft_resampling_away_from_the_edges():
    require_espeak()
    signal, rate = spoken("zero", *TRAINING_VOICES[1])
    ours = audio.resample(signal, rate)
    theirs = librosa.resample(signal, orig_sr=rate, target_sr=audio.SAMPLE_RATE, res_type="fft")
    assert len(ours) == len(theirs)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
