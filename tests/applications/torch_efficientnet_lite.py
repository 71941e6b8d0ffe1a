"""A PyTorch reference for EfficientNet-Lite0, written from the paper and the checkpoint's module
names (not from nnpy): NCHW, batch norm kept as it is in the checkpoint (not folded), TensorFlow
"same" padding done with F.pad. Used to check nnpy's backbone logits on real photographs."""

import torch.nn.functional as F

STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]


def _conv_same(x, weight, stride, groups=1):
    """TensorFlow padding="same": out = ceil(in / stride); the odd pixel of padding goes after."""
    kernel = weight.shape[-1]
    pads = []
    for size in (x.shape[3], x.shape[2]):   # F.pad wants (left, right, top, bottom)
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.conv2d(F.pad(x, pads), weight, stride=stride, groups=groups)


def _bn(x, state, prefix):
    return F.batch_norm(x, state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"],
                        state[f"{prefix}.weight"], state[f"{prefix}.bias"], False, 0.0, 1e-3)


def logits(state, images):
    """state: {name: torch tensor} from the .pth; images (N, 3, 224, 224) normalised."""
    x = F.relu6(_bn(_conv_same(images, state["_conv_stem.weight"], 2), state, "_bn0"))
    block = 0
    for repeats, kernel, stride, expansion, _ in STAGES:
        for repeat in range(repeats):
            prefix, inputs = f"_blocks.{block}", x
            if expansion != 1:
                x = F.relu6(_bn(F.conv2d(x, state[f"{prefix}._expand_conv.weight"]), state,
                                f"{prefix}._bn0"))
            depthwise = state[f"{prefix}._depthwise_conv.weight"]
            x = _conv_same(x, depthwise, stride if repeat == 0 else 1, groups=depthwise.shape[0])
            x = F.relu6(_bn(x, state, f"{prefix}._bn1"))
            x = _bn(F.conv2d(x, state[f"{prefix}._project_conv.weight"]), state, f"{prefix}._bn2")
            if repeat > 0:
                x = x + inputs
            block += 1
    x = F.relu6(_bn(F.conv2d(x, state["_conv_head.weight"]), state, "_bn1"))
    return F.linear(x.mean(dim=(2, 3)), state["_fc.weight"], state["_fc.bias"])
