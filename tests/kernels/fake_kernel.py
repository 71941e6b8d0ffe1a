"""A pure-Python stand-in for the JS kernel object (web/kernels/gemm.js) and for `Float32Array`,
faithful where nnpy.backend.wasm_gemm depends on the real ones (checked against Pyodide 0.27.7):

- alloc() is a 64-byte-aligned bump allocator; growing the memory detaches the old ArrayBuffer,
  and using a detached buffer or a view on it raises TypeError (as JS does);
- `Float32Array.new(buffer, byteOffset, length).assign(array)` needs a contiguous float32 array of
  exactly `length` values and copies its bytes in memory order; `assign_to(out)` is the reverse.
"""

import numpy as np

PAGE = 65536


class ArrayBuffer:
    def __init__(self, nbytes):
        self.bytes = bytearray(nbytes)
        self.detached = False



class Memory:
    def __init__(self, pages):
        self.buffer = ArrayBuffer(pages * PAGE)

    def grow(self, pages):
        old = self.buffer
        self.buffer = ArrayBuffer(len(old.bytes) + pages * PAGE)
        self.buffer.bytes[: len(old.bytes)] = old.bytes
        old.detached = True


class Float32Array:
    def __init__(self, buffer, byte_offset, length):
        if buffer.detached:
            raise TypeError("Cannot perform Construct on a detached ArrayBuffer")
        if byte_offset % 4 or byte_offset + 4 * length > len(buffer.bytes):
            raise RangeError(f"invalid typed array at {byte_offset} of length {length}")
        self.buffer, self.byte_offset, self.length = buffer, byte_offset, length

    new = classmethod(lambda cls, buffer, byte_offset, length: cls(buffer, byte_offset, length))

    def _floats(self):
        if self.buffer.detached:
            raise TypeError("detached ArrayBuffer")
        return np.frombuffer(self.buffer.bytes, np.float32, self.length, self.byte_offset)

    @staticmethod
    def _check(array, length):
        if not (array.flags.c_contiguous or array.flags.f_contiguous):
            raise ValueError("ndarray is not contiguous")
        if array.dtype != np.float32:
            raise ValueError("TypedArray and memorybuffer have incompatible formats")
        if array.size != length:
            raise ValueError(f"length mismatch: {array.size} vs {length}")

    def assign(self, array):
        self._check(array, self.length)
        self._floats()[:] = array.ravel(order="K")       # memory order, like a memcpy

    def assign_to(self, out):
        self._check(out, self.length)
        np.copyto(out, self._floats().reshape(out.shape, order="F" if out.flags.f_contiguous
                                              and not out.flags.c_contiguous else "C"))


class RangeError(Exception):
    pass


class FakeKernel:
    """loadGemmKernel's object: gemm, alloc, reset, memory; records every gemm call."""

    simd = True
    relaxed = False

    def __init__(self, pages=2, max_pages=1 << 16):
        self.memory = Memory(pages)
        self.max_pages = max_pages
        self.heap_base = 1024                    # the real kernel's data and stack sit below
        self.top = self.heap_base
        self.gemm_calls = []                     # (M, N, K, transA, transB, accumulate)

    def reset(self):
        self.top = self.heap_base

    def alloc(self, nbytes):
        start = (self.top + 63) // 64 * 64
        end = start + nbytes
        have = len(self.memory.buffer.bytes)
        if end > have:
            pages = -(-(end - have) // PAGE)
            if have // PAGE + pages > self.max_pages:
                raise RangeError(f"GEMM kernel: cannot allocate {nbytes} bytes")
            self.memory.grow(pages)
        self.top = end
        return start

    def gemm(self, m, n, k, a_pointer, b_pointer, c_pointer, trans_a, trans_b, accumulate):
        self.gemm_calls.append((m, n, k, trans_a, trans_b, accumulate))
        memory = self.memory.buffer.bytes
        a = np.frombuffer(memory, np.float32, m * k, a_pointer).reshape((k, m) if trans_a else (m, k))
        b = np.frombuffer(memory, np.float32, k * n, b_pointer).reshape((n, k) if trans_b else (k, n))
        c = np.frombuffer(memory, np.float32, m * n, c_pointer).reshape(m, n)
        product = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b)
        c[...] = c + product if accumulate else product
