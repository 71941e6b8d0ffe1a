"""nnpy.torch: nnpy models as torch modules with the same outputs, and back again, also from
plain torch stacks."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnpy

torch = pytest.importorskip("torch")
import nnpy.torch as nnpy_torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared sample models
from interop_models import sample_models

nn = torch.nn
TOLERANCE = 1e-5  # float32, a different order of operations


def _inputs(shape, count=3, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (count, *shape)).astype("f4")


@pytest.mark.parametrize("name", ["sequential", "functional"])
def test_to_torch_gives_nnpy_outputs_for_nhwc_inputs(name):
    model = sample_models()[name]
    module = nnpy_torch.to_torch(model).eval()
    x = _inputs(model.input_shape)
    with torch.no_grad():
        theirs = module(torch.from_numpy(x)).numpy()
    assert np.abs(theirs - model.forward(x)).max() < TOLERANCE
    assert sum(p.numel() for p in module.parameters()) == model.count_params()


@pytest.mark.parametrize("name", ["sequential", "functional"])
def test_weights_trained_in_torch_come_back_to_nnpy(name):
    model = sample_models()[name]
    module = nnpy_torch.to_torch(model)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    x = torch.from_numpy(_inputs(model.input_shape, count=8, seed=2))
    for _ in range(3):  # training mode: BatchNorm's running statistics move too
        optimizer.zero_grad()
        module(x).square().mean().backward()
        optimizer.step()
    back = nnpy_torch.from_torch(module.eval())
    assert type(back) is type(model)
    changed = [name for name, value in model.state_dict().items()
               if not np.array_equal(value, back.state_dict()[name])]
    assert len(changed) == len(model.state_dict())  # every tensor trained (or updated)
    with torch.no_grad():
        theirs = module(x).numpy()
    assert np.abs(back.forward(x.numpy()) - theirs).max() < TOLERANCE


def test_from_torch_reads_a_plain_torch_stack():
    torch.manual_seed(0)
    stack = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, groups=8, bias=False), nn.ReLU6(),
        nn.ZeroPad2d((0, 1, 0, 1)), nn.MaxPool2d(2), nn.AvgPool2d(2, stride=1),
        nn.Conv2d(16, 4, 1, padding="same"), nn.Tanh(),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(4 * 2 * 2, 10), nn.LeakyReLU(0.2),
        nn.Linear(10, 5), nn.Softmax(dim=1),
    )
    with torch.no_grad():  # running statistics that are not 0 and 1
        stack[1].running_mean.uniform_(-0.5, 0.5)
        stack[1].running_var.uniform_(0.5, 1.5)
    stack.eval()
    model = nnpy_torch.from_torch(stack, input_shape=(12, 12, 3))
    x = _inputs((12, 12, 3))
    with torch.no_grad():
        theirs = stack(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    assert np.abs(model.forward(x) - theirs).max() < TOLERANCE


def test_from_torch_reads_global_average_pooling_then_flatten():
    stack = nn.Sequential(nn.Conv2d(2, 6, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(6, 2)).eval()
    model = nnpy_torch.from_torch(stack, (5, 5, 2))
    x = _inputs((5, 5, 2))
    with torch.no_grad():
        theirs = stack(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    assert np.abs(model.forward(x) - theirs).max() < TOLERANCE


def test_from_torch_names_what_it_cannot_read():
    with pytest.raises(TypeError, match="LSTM"):
        nnpy_torch.from_torch(nn.Sequential(nn.LSTM(4, 4)), (4,))
    with pytest.raises(ValueError, match="input_shape"):
        nnpy_torch.from_torch(nn.Sequential(nn.Linear(4, 4)))


def test_a_model_from_torch_saves_and_loads_as_an_nnpy_file(tmp_path):
    model = sample_models()["functional"]
    back = nnpy_torch.from_torch(nnpy_torch.to_torch(model))
    back.save(tmp_path / "m.safetensors")
    x = _inputs(model.input_shape)
    np.testing.assert_array_equal(nnpy.load_model(tmp_path / "m.safetensors").forward(x),
                                  model.forward(x))
