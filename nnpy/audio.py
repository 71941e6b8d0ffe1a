"""Sound in, network input out: a log-mel spectrogram in NumPy, the one path from a clip of audio
to what a sound classifier sees, used alike for training and for live listening.

    signal, rate = read_wav(data)                    # (samples,) float32 in [-1, 1], mono
    clip = to_clip(signal, rate)                     # (16000,): 1 s at 16 kHz, the loud part
    features = log_mel_spectrogram(clip)             # (49, 40): 49 frames of 40 mel bands

How a spectrogram is made (each step is one function below):
  1. cut the signal into overlapping frames: 512 samples (32 ms) every 320 samples (20 ms);
  2. multiply each frame by a Hann window, so its ends fade to zero and the FFT sees no jump;
  3. rFFT: the power |X(f)|^2 of each frequency from 0 to 8 kHz (257 bins of 31.25 Hz);
  4. add the bins up in 40 triangular mel bands, narrow at low pitch and wide at high pitch, as
     the ear hears them (Slaney's mel scale and band areas, librosa's default);
  5. log, with a floor so that digital silence gives a finite value.
The frames are not centred (no padding at the ends), so a stream can be cut anywhere.
"""

import io
import wave

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import ShapeError

SAMPLE_RATE = 16000  # Hz: speech lives below 8 kHz; a browser resamples the microphone to it
CLIP_SAMPLES = SAMPLE_RATE  # one second
FFT_SIZE = 512  # samples per frame (32 ms)
HOP = 320  # samples between frame starts (20 ms)
MELS = 40
LOW_HZ, HIGH_HZ = 20.0, 8000.0
LOG_FLOOR = 1e-6  # in units of power of a signal in [-1, 1]: about -60 dB


def frames(signal, size=FFT_SIZE, hop=HOP):
    """(..., samples) -> (..., T, size), T = 1 + (samples - size) // hop, a strided view."""
    if signal.shape[-1] < size:
        raise ShapeError(f"a signal of {signal.shape[-1]} samples is shorter than one frame ({size})")
    return sliding_window_view(signal, size, axis=-1)[..., ::hop, :]


def hann_window(size):
    """The periodic Hann window (as scipy's get_window('hann') and librosa use): the FFT of a
    frame then has no discontinuity where it wraps around."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size)).astype(np.float32)


def hz_to_mel(hz):
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


def mel_filterbank(rate=SAMPLE_RATE, size=FFT_SIZE, mels=MELS, low_hz=LOW_HZ, high_hz=HIGH_HZ):
    """(mels, size // 2 + 1) float32: row m is a triangle over the FFT bins, rising from band
    edge m to its peak at edge m + 1 and falling to edge m + 2, scaled to unit area (Slaney)."""
    bins_hz = np.linspace(0, rate / 2, size // 2 + 1)                          # (F,)
    edges = mel_to_hz(np.linspace(hz_to_mel(low_hz), hz_to_mel(high_hz), mels + 2))  # (M+2,)
    widths = np.diff(edges)                                                    # (M+1,)
    distance = edges[:, None] - bins_hz[None, :]                               # (M+2, F)
    rising = -distance[:-2] / widths[:-1, None]
    falling = distance[2:] / widths[1:, None]
    triangles = np.maximum(0, np.minimum(rising, falling))                     # (M, F)
    return (triangles * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


_FILTERBANK = {}


def log_mel_spectrogram(signal, rate=SAMPLE_RATE, size=FFT_SIZE, hop=HOP, mels=MELS,
                        floor=LOG_FLOOR):
    """(..., samples) float in [-1, 1] -> (..., T, mels) float32: ln(max(mel power, floor))."""
    signal = np.asarray(signal, dtype=np.float32)
    key = (rate, size, mels)
    if key not in _FILTERBANK:
        _FILTERBANK[key] = mel_filterbank(rate, size, mels)
    windowed = frames(signal, size, hop) * hann_window(size)                  # (..., T, size)
    spectrum = np.fft.rfft(windowed, axis=-1)                                  # (..., T, F)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    mel_power = power @ _FILTERBANK[key].T                                     # (..., T, mels)
    return np.log(np.maximum(mel_power, floor)).astype(np.float32)


# ------------------------------------------------------------------------- clips and wav files


def resample(signal, rate_in, rate_out=SAMPLE_RATE):
    """(samples,) at rate_in -> at rate_out, band-limited: the spectrum is cut (or padded) at the
    new Nyquist frequency, so no alias of a high pitch folds into the band that is kept."""
    signal = np.asarray(signal, dtype=np.float32)
    if int(rate_in) == int(rate_out) or not len(signal):
        return signal
    count = max(1, round(len(signal) * rate_out / rate_in))
    spectrum = np.fft.rfft(signal)
    kept = np.zeros(count // 2 + 1, dtype=spectrum.dtype)
    shared = min(len(kept), len(spectrum))
    kept[:shared] = spectrum[:shared]
    return (np.fft.irfft(kept, n=count) * (count / len(signal))).astype(np.float32)


def loudest_windows(signal, count=1, length=CLIP_SAMPLES, step=160):
    """Where the `count` non-overlapping stretches of `length` samples with the most energy in
    all start (on a grid of `step` samples), in time order; fewer when fewer fit, [0] for a
    signal no longer than `length`. A recording of a word said four times gives a stretch
    around each time it was said; four seconds of noise, four back-to-back seconds.

    Dynamic programming over the grid: best[k][i] is the most energy k stretches can hold
    among the first i starts, and a stretch at start j leaves starts before j - length free."""
    if len(signal) <= length:
        return [0]
    energy = np.concatenate([[0.0], np.cumsum(np.square(signal, dtype=np.float64))])
    starts = np.arange(0, len(signal) - length + 1, step)                  # (P,)
    window_energy = energy[starts + length] - energy[starts]               # (P,)
    apart = -(-length // step)  # grid starts this far apart do not overlap
    count = min(count, (len(starts) - 1) // apart + 1)
    earlier = np.maximum(0, np.arange(len(starts)) + 1 - apart)
    best = np.zeros(len(starts) + 1)  # best[0][i]: no stretch holds no energy
    candidates = []
    for _ in range(count):
        candidate = best[earlier] + window_energy  # the last stretch starting at each j
        candidates.append(candidate)
        best = np.concatenate([[-np.inf], np.maximum.accumulate(candidate)])
    chosen, limit = [], len(starts)
    for candidate in reversed(candidates):  # walk back from the last stretch to the first
        j = int(np.argmax(candidate[:limit]))
        chosen.append(int(starts[j]))
        limit = int(earlier[j])
    return sorted(chosen)


def to_clips(signal, rate=SAMPLE_RATE, count=1, length=CLIP_SAMPLES):
    """A recording -> `count` clips (count, length) float32 at SAMPLE_RATE: its loudest
    non-overlapping stretches (fewer when the recording is too short for `count`)."""
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ShapeError(f"a recording is one channel of samples (samples,), got shape {signal.shape}")
    signal = resample(signal, rate)
    return np.stack([to_clip(signal[start:start + length], length=length)
                     for start in loudest_windows(signal, count, length)])


def to_clip(signal, rate=SAMPLE_RATE, length=CLIP_SAMPLES):
    """Any mono signal -> (length,) float32 at SAMPLE_RATE: its loudest `length` samples, or the
    whole of a shorter one centred between zeros. What a recording or an upload becomes."""
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ShapeError(f"a clip is one channel of samples (samples,), got shape {signal.shape}")
    signal = resample(signal, rate)
    start = loudest_windows(signal, 1, length)[0]
    signal = signal[start:start + length]
    before = (length - len(signal)) // 2
    return np.pad(signal, (before, length - len(signal) - before))


def read_wav(data):
    """The bytes of a PCM .wav file (8, 16, 24 or 32-bit integers) -> ((samples,) float32 in
    [-1, 1], the channels averaged; the sample rate). ValueError names what is wrong."""
    try:
        with wave.open(io.BytesIO(bytes(data))) as reader:
            channels, width = reader.getnchannels(), reader.getsampwidth()
            rate, raw = reader.getframerate(), reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"not a PCM .wav file this reader knows ({error}); save it as 16-bit "
                         "PCM WAV, or let the page decode it") from None
    if width == 3:  # 24-bit: widen each sample to 4 bytes, the lowest byte zero
        raw = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        raw = np.concatenate([np.zeros((len(raw), 1), np.uint8), raw], axis=1).tobytes()
        width = 4
    samples = np.frombuffer(raw, {1: np.uint8, 2: "<i2", 4: "<i4"}[width]).astype(np.float32)
    if width == 1:
        samples = (samples - 128) / 128  # 8-bit wav is unsigned
    else:
        samples /= 2.0 ** (8 * width - 1)
    return samples.reshape(-1, channels).mean(axis=1), rate
