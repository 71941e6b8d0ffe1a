"""Where the heavy arithmetic runs: every layer calls `matmul`, and a platform may route it to a
faster kernel (the WebAssembly SIMD GEMM the page installs through `wasm_gemm`)."""

from .dispatch import IN_BROWSER, depthwise, infer, matmul, set_depthwise, set_gemm, set_inference

__all__ = ["IN_BROWSER", "depthwise", "infer", "matmul", "set_depthwise", "set_gemm",
           "set_inference"]
