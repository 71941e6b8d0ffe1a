"""nnpy.audio against librosa, an independent implementation, on real speech."""

import io
import wave

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


def test_to_clip_keeps_the_loud_second_and_pads_a_short_one():
    rng = np.random.default_rng(0)
    quiet = room_noise(rng, 3.0, level=0.001)
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
    recording = room_noise(rng, 5.0, level=0.002)
    said_at = (3000, 30000, 52000)  # samples; three bursts of 0.4 s in 5 s
    for start in said_at:
        recording[start:start + 6400] += 0.3 * rng.standard_normal(6400).astype(np.float32)
    clips = audio.to_clips(recording, count=3)
    assert clips.shape == (3, audio.CLIP_SAMPLES)
    for clip, start in zip(clips, said_at):  # each clip holds one whole burst, in time order
        loud = np.flatnonzero(np.abs(clip) > 0.05)
        assert loud[-1] - loud[0] > 6000
    assert len(audio.to_clips(recording[:24000], count=3)) == 1  # 1.5 s hold one second only
