"""The same computation replayed in PyTorch (CPU, float64): forward values and gradients agree."""

import numpy as np
import pytest

import nnpy
from nnpy import Sequential, layers, losses, optimizers

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-7, 1e-9


def _run(layer, x, training=True):
    """nnpy float64 forward and backward of sum(y * r); returns y, dx, grads, r."""
    layer.build(x.shape[1:], np.random.default_rng(0))
    layer.astype(np.float64)
    y = layer.forward(x, training=training)
    r = np.random.default_rng(5).standard_normal(y.shape)
    dx = layer.backward(r)
    return y, dx, layer.grads, r


def _leaf(array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _dense_case(rng, activation, torch_activation):
    layer = layers.Dense(3, activation=activation)
    x = rng.standard_normal((4, 6))
    y, dx, grads, r = _run(layer, x)
    tx, tk, tb = _leaf(x), _leaf(layer.params["kernel"]), _leaf(layer.params["bias"])
    ty = torch_activation(F.linear(tx, tk.T, tb))  # torch weight is (out, in): our kernel.T
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)
    _close(grads["kernel"], tk.grad)
    _close(grads["bias"], tb.grad)


@pytest.mark.parametrize("activation, torch_activation", [
    (None, lambda t: t), ("relu", F.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
    ("gelu", lambda t: F.gelu(t, approximate="tanh")), ("softmax", lambda t: F.softmax(t, -1)),
])
def test_dense_with_activation_matches_torch(rng, activation, torch_activation):
    _dense_case(rng, activation, torch_activation)


def _same_padding(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_matches_torch(rng, padding, stride):
    layer = layers.Conv2D(4, (3, 2), strides=stride, padding=padding)
    x = rng.standard_normal((2, 7, 8, 3))  # NHWC
    y, dx, grads, r = _run(layer, x)
    tx, tk, tb = _leaf(x), _leaf(layer.params["kernel"]), _leaf(layer.params["bias"])
    nchw = tx.permute(0, 3, 1, 2)
    if padding == "same":  # TensorFlow-style "same" may pad one more at the bottom/right
        top, bottom = _same_padding(7, 3, stride)
        left, right = _same_padding(8, 2, stride)
        nchw = F.pad(nchw, (left, right, top, bottom))
    ty = F.conv2d(nchw, tk.permute(3, 2, 0, 1), tb, stride=stride).permute(0, 2, 3, 1)
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)
    _close(grads["kernel"], tk.grad)
    _close(grads["bias"], tb.grad)


@pytest.mark.parametrize("kind, pool, stride", [("max", 2, 2), ("max", 3, 3), ("max", 3, 2),
                                               ("avg", 2, 2), ("avg", 3, 2)])
def test_pooling_matches_torch(rng, kind, pool, stride):
    layer = (layers.MaxPool2D if kind == "max" else layers.AvgPool2D)(pool, strides=stride)
    x = rng.standard_normal((2, 8, 7, 3))
    y, dx, _, r = _run(layer, x)
    tx = _leaf(x)
    pool_fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    ty = pool_fn(tx.permute(0, 3, 1, 2), pool, stride).permute(0, 2, 3, 1)
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)


def test_global_average_pooling_matches_torch(rng):
    x = rng.standard_normal((2, 4, 5, 3))
    y, dx, _, r = _run(layers.GlobalAveragePooling2D(), x)
    tx = _leaf(x)
    ty = tx.mean(dim=(1, 2))
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)


@pytest.mark.parametrize("shape", [(8, 5), (3, 4, 4, 5)])
def test_batchnorm_training_matches_torch(rng, shape):
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    x = rng.standard_normal(shape) * 2 + 1
    layer.build(shape[1:])
    layer.astype(np.float64)
    layer.params["gamma"] = rng.standard_normal(shape[-1])
    layer.params["beta"] = rng.standard_normal(shape[-1])
    y = layer.forward(x, training=True)
    r = rng.standard_normal(y.shape)
    dx = layer.backward(r)
    tx, tg, tb = _leaf(x), _leaf(layer.params["gamma"]), _leaf(layer.params["beta"])
    running_mean, running_var = torch.zeros(shape[-1], dtype=torch.float64), \
        torch.ones(shape[-1], dtype=torch.float64)
    channels_first = tx if len(shape) == 2 else tx.permute(0, 3, 1, 2)
    ty = F.batch_norm(channels_first, running_mean, running_var, tg, tb, training=True,
                      momentum=0.1, eps=1e-3)  # torch's momentum is our 1 - momentum
    ty = ty if len(shape) == 2 else ty.permute(0, 2, 3, 1)
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)
    _close(layer.grads["gamma"], tg.grad)
    _close(layer.grads["beta"], tb.grad)
    _close(layer.state["running_mean"], running_mean)


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  "binary_crossentropy", "mse"])
def test_losses_match_torch(rng, name):
    logits = rng.standard_normal((6, 4)) * 4
    labels = rng.integers(0, 4, 6)
    loss = losses.get(name)
    t_logits = _leaf(logits)
    if name == "sparse_categorical_crossentropy":
        targets, expected = labels, F.cross_entropy(t_logits, torch.tensor(labels))
    elif name == "categorical_crossentropy":
        targets = np.eye(4)[labels]
        expected = F.cross_entropy(t_logits, torch.tensor(targets))
    elif name == "binary_crossentropy":
        targets = rng.uniform(0, 1, logits.shape)
        expected = F.binary_cross_entropy_with_logits(t_logits, torch.tensor(targets))
    else:
        targets = rng.standard_normal(logits.shape)
        expected = F.mse_loss(t_logits, torch.tensor(targets))
    value = loss.forward(logits, targets)
    expected.backward()
    np.testing.assert_allclose(value, expected.item(), rtol=1e-10)
    _close(loss.backward(), t_logits.grad)


def _one_step(optimizer, torch_optimizer_factory, steps=3):
    rng = np.random.default_rng(1)
    params = {"0.kernel": rng.standard_normal((3, 2)), "0.bias": rng.standard_normal(2)}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    topt = torch_optimizer_factory(list(tparams.values()))
    for _ in range(steps):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        optimizer.apply(params, {k: g.copy() for k, g in grads.items()})
        topt.zero_grad()
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        topt.step()
    for k, value in params.items():
        _close(value, tparams[k])


def test_adam_matches_torch():
    _one_step(optimizers.Adam(0.01, epsilon=1e-8),
              lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8))


def test_adamw_matches_torch():
    _one_step(optimizers.AdamW(0.01, weight_decay=0.1, epsilon=1e-8),
              lambda p: torch.optim.AdamW(p, lr=0.01, eps=1e-8, weight_decay=0.1))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_torch(nesterov):
    _one_step(optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov, weight_decay=0.01),
              lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=nesterov,
                                        weight_decay=0.01))


def test_rmsprop_matches_torch():
    _one_step(optimizers.RMSprop(0.01, rho=0.9, epsilon=1e-8),
              lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8))


def test_global_clipnorm_matches_torch_clip_grad_norm():
    rng = np.random.default_rng(2)
    grads = {"a": rng.standard_normal((4, 3)) * 10, "b": rng.standard_normal(3) * 10}
    tgrads = [torch.tensor(g.copy()) for g in grads.values()]
    ours = optimizers.clip_by_global_norm(grads, 1.0)
    tensors = [torch.zeros_like(t, requires_grad=True) for t in tgrads]
    for t, g in zip(tensors, tgrads):
        t.grad = g
    theirs = torch.nn.utils.clip_grad_norm_(tensors, 1.0)
    np.testing.assert_allclose(ours, theirs.item(), rtol=1e-12)
    for g, t in zip(grads.values(), tensors):
        _close(g, t.grad)


def test_whole_cnn_step_matches_torch():
    """A small CNN's loss and every parameter gradient, end to end."""
    model = Sequential([layers.Input((8, 8, 1)), layers.Conv2D(3, 3, padding="same",
                        activation="relu"), layers.MaxPool2D(2), layers.Flatten(),
                        layers.Dense(4)], seed=0).astype(np.float64)
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 8, 8, 1)), rng.integers(0, 4, 5)
    loss = model.train_on_batch(x, y)["loss"]
    p = {k: _leaf(v) for k, v in model.parameters().items()}
    h = F.conv2d(_leaf(x).permute(0, 3, 1, 2), p["0.kernel"].permute(3, 2, 0, 1), p["0.bias"],
                 padding=1)
    h = F.max_pool2d(F.relu(h), 2).permute(0, 2, 3, 1).reshape(5, -1)
    expected = F.cross_entropy(h @ p["3.kernel"] + p["3.bias"], torch.tensor(y))
    expected.backward()
    np.testing.assert_allclose(loss, expected.item(), rtol=1e-10)
    for name, grad in model.gradients().items():
        _close(grad, p[name].grad)


# --------------------------------------------------------------------------- graph layers


@pytest.mark.parametrize("stride, padding, multiplier", [(1, "same", 1), (2, "same", 1),
                                                         (2, "valid", 2)])
def test_depthwise_conv2d_matches_torch_grouped_convolution(rng, stride, padding, multiplier):
    layer = layers.DepthwiseConv2D(3, strides=stride, padding=padding,
                                   depth_multiplier=multiplier, activation="relu6")
    x = rng.standard_normal((2, 7, 8, 3)) * 4  # some values above 6: the cap is exercised
    y, dx, grads, r = _run(layer, x)
    tx, tk, tb = _leaf(x), _leaf(layer.params["kernel"]), _leaf(layer.params["bias"])
    nchw = tx.permute(0, 3, 1, 2)
    if padding == "same":
        top, bottom = _same_padding(7, 3, stride)
        left, right = _same_padding(8, 3, stride)
        nchw = F.pad(nchw, (left, right, top, bottom))
    # ours (kh, kw, C, M) -> torch (C*M, 1, kh, kw): group c makes output channels c*M ... c*M+M-1
    weight = tk.permute(2, 3, 0, 1).reshape(3 * multiplier, 1, 3, 3)
    ty = F.relu6(F.conv2d(nchw, weight, tb, stride=stride, groups=3)).permute(0, 2, 3, 1)
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)
    _close(grads["kernel"], tk.grad)
    _close(grads["bias"], tb.grad)


def test_zero_padding_matches_torch_pad(rng):
    x = rng.standard_normal((2, 3, 4, 2))
    y, dx, _, r = _run(layers.ZeroPadding2D(((0, 1), (2, 1))), x)
    tx = _leaf(x)
    ty = F.pad(tx.permute(0, 3, 1, 2), (2, 1, 0, 1)).permute(0, 2, 3, 1)  # (left, right, top, bottom)
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)


def test_a_residual_graph_model_matches_torch_values_and_gradients(rng):
    """An inverted-residual block (expand 1x1, depthwise 3x3, project 1x1, add the input) with a
    branch concatenated beside it: the model's forward and every gradient, through the graph."""
    inputs = layers.Input((5, 5, 4))
    expanded = layers.Conv2D(8, 1, activation="relu6")(inputs)
    spatial = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(expanded)
    projected = layers.Conv2D(4, 1)(spatial)
    block = layers.Add()([inputs, projected])
    joined = layers.Concatenate()([block, layers.Conv2D(2, 1)(inputs)])
    outputs = layers.Dense(3)(layers.GlobalAveragePooling2D()(joined))
    model = nnpy.Model(inputs, outputs, seed=1)
    model.astype(np.float64)
    x = rng.standard_normal((3, 5, 5, 4)) * 2
    y = model.forward(x, training=True)
    r = np.random.default_rng(5).standard_normal(y.shape)
    model.backward(r)

    weights = {name: _leaf(value) for name, value in model.parameters().items()}

    def conv(t, name, **options):
        return F.conv2d(t, weights[f"{name}.kernel"].permute(3, 2, 0, 1), weights[f"{name}.bias"],
                        **options)

    tx = _leaf(x)
    nchw = tx.permute(0, 3, 1, 2)
    t_expanded = F.relu6(conv(nchw, "0"))
    depthwise = weights["1.kernel"].permute(2, 3, 0, 1)                    # (8, 1, 3, 3)
    t_spatial = F.relu6(F.conv2d(t_expanded, depthwise, weights["1.bias"], padding=1, groups=8))
    t_block = nchw + conv(t_spatial, "2")
    t_joined = torch.cat([t_block, conv(nchw, "4")], dim=1)
    ty = F.linear(t_joined.mean(dim=(2, 3)), weights["7.kernel"].T, weights["7.bias"])
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "DepthwiseConv2D", "Conv2D", "Add", "Conv2D", "Concatenate",
        "GlobalAveragePooling2D", "Dense"]
    for name, gradient in model.gradients().items():
        _close(gradient, weights[name].grad)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv1d_matches_torch(rng, padding, stride):
    layer = layers.Conv1D(4, 3, strides=stride, padding=padding, activation="relu")
    x = rng.standard_normal((2, 9, 3))  # (N, L, C)
    y, dx, grads, r = _run(layer, x)
    tx, tk, tb = _leaf(x), _leaf(layer.params["kernel"]), _leaf(layer.params["bias"])
    ncl = tx.permute(0, 2, 1)
    if padding == "same":
        ncl = F.pad(ncl, _same_padding(9, 3, stride))
    ty = F.relu(F.conv1d(ncl, tk.permute(2, 1, 0), tb, stride=stride)).permute(0, 2, 1)
    (ty * torch.tensor(r)).sum().backward()
    _close(y, ty)
    _close(dx, tx.grad)
    _close(grads["kernel"], tk.grad)
    _close(grads["bias"], tb.grad)


@pytest.mark.parametrize("pool, stride", [(2, 2), (3, 2), (3, 3)])
def test_max_pool1d_and_global_average_pooling1d_match_torch(rng, pool, stride):
    x = rng.standard_normal((2, 10, 3))
    for layer, reference in [
            (layers.MaxPool1D(pool, strides=stride),
             lambda t: F.max_pool1d(t.permute(0, 2, 1), pool, stride).permute(0, 2, 1)),
            (layers.GlobalAveragePooling1D(), lambda t: t.mean(dim=1))]:
        y, dx, _, r = _run(layer, x)
        tx = _leaf(x)
        ty = reference(tx)
        (ty * torch.tensor(r)).sum().backward()
        _close(y, ty)
        _close(dx, tx.grad)
