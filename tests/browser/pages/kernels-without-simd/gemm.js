// Stands in for web/kernels/gemm.js in a browser without WebAssembly SIMD: loadGemmKernel gives
// null there (see gemm.js), and the worker must keep NumPy and say so once in the console.
self.loadGemmKernel = async () => null;
