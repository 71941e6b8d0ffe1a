// Single-precision GEMM for WebAssembly SIMD (f32x4), freestanding: no libc, no imports.
//
//     C = alpha * op(A) @ op(B) + beta * C + bias      (row-major, op(X) = X or X^T)
//
// op(A) is (M, K), op(B) is (K, N), C is (M, N); bias (optional) is a row of N added to every row.
// With transA the stored A is (K, M); with transB the stored B is (N, K). So `x.T @ dz` and
// `dz @ W.T` need no transposed copies: pass the C-contiguous array and the flag.
//
// The layout follows Goto/BLIS, with A read in place as XNNPACK does:
//   for each NC-wide column block of op(B):
//     for each KC-deep slice of K:                    pack a KC x NC panel of op(B)   (L2)
//       for each MC-tall row block of op(A):          its MC x KC block stays in L2
//         for each MR x NR tile of C:                 micro-kernel: KC rank-1 updates in registers
// Packing B puts the NR values the micro-kernel needs for each k at consecutive addresses, whatever
// the transposes; A needs no packing, because the micro-kernel splats one value per row and k from
// four row pointers (stride 1 along k, or lda when transposed). Packing A as well was measured
// 5% slower on squares and 3x slower on im2col shapes (N = 8 filters: A is read once per tile).
//
// Memory: the JS side places operands in this module's memory with alloc(bytes) (a bump allocator
// that grows memory when needed) and frees them all with reset().

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

// Register tile: MR rows x NR columns of C held in MR * NR / 4 f32x4 accumulators.
// 4 x 8 measured fastest in V8 (Node 20 and Chromium, x64): 8 accumulators + 2 B + 1 A fit the
// xmm registers with room to spare; 6 x 8 (15 live vectors) and 5 x 8 spill and run at 60% speed,
// and unrolling the k loop hurts for the same reason. Override with -DMR=.. -DNR=.. to re-tune.
#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 8
#endif
#define NV (NR / 4)
// Cache blocks: an MR x KC sliver of A and a KC x NR sliver of B stay in L1 (4 KB + 8 KB), the
// MC x KC block of A in L2 (128 KB), the KC x NC panel of B in L2/L3 (512 KB; 1024 was no faster
// here and phones have smaller caches).
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 128
#endif
#ifndef NC
#define NC 512
#endif

#ifdef __wasm_relaxed_simd__
// Fused multiply-add where the engine has it (relaxed SIMD); same result up to rounding.
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else
#define MADD(a, b, c) wasm_f32x4_add(c, wasm_f32x4_mul(a, b))
#endif

static float packed_b[KC * NC] __attribute__((aligned(64)));
static float edge_tile[MR * NR] __attribute__((aligned(64)));

// ---- memory: bump allocator over the heap, growing the wasm memory on demand ----

extern unsigned char __heap_base;
static unsigned long heap_top = 0;

// Reserve `bytes` (64-byte aligned) and return the address, or 0 if memory cannot grow.
EXPORT(alloc) unsigned long alloc(unsigned long bytes) {
    if (heap_top == 0) heap_top = (unsigned long)&__heap_base;
    unsigned long start = (heap_top + 63) & ~63ul;
    unsigned long end = start + bytes;
    if (end < start) return 0;
    unsigned long have = __builtin_wasm_memory_size(0) * 65536ul;
    if (end > have) {
        unsigned long pages = (end - have + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (unsigned long)-1) return 0;
    }
    heap_top = end;
    return start;
}

// Free everything alloc() handed out.
EXPORT(reset) void reset(void) { heap_top = (unsigned long)&__heap_base; }

// 1 when built with relaxed SIMD (fused multiply-add), 0 for plain SIMD128.
EXPORT(relaxed) int relaxed(void) {
#ifdef __wasm_relaxed_simd__
    return 1;
#else
    return 0;
#endif
}

// ---- packing ----

// Four rows of 4 floats -> four columns: out[i] = (rows[0][i], rows[1][i], rows[2][i], rows[3][i]).
static void transpose4(const v128_t rows[4], v128_t out[4]) {
    v128_t low01 = wasm_i32x4_shuffle(rows[0], rows[1], 0, 4, 1, 5);
    v128_t high01 = wasm_i32x4_shuffle(rows[0], rows[1], 2, 6, 3, 7);
    v128_t low23 = wasm_i32x4_shuffle(rows[2], rows[3], 0, 4, 1, 5);
    v128_t high23 = wasm_i32x4_shuffle(rows[2], rows[3], 2, 6, 3, 7);
    out[0] = wasm_i32x4_shuffle(low01, low23, 0, 1, 4, 5);
    out[1] = wasm_i32x4_shuffle(low01, low23, 2, 3, 6, 7);
    out[2] = wasm_i32x4_shuffle(high01, high23, 0, 1, 4, 5);
    out[3] = wasm_i32x4_shuffle(high01, high23, 2, 3, 6, 7);
}

// NR full columns of op(B) = NR rows of the stored (N, K) B, k from 0 to kc, 4 k at a time:
// load 4 consecutive k of each stored row and transpose 4 x 4 blocks. Returns how many k it did.
static int pack_b_transposed_sliver(int kc, const float *b, int ldb, float *dst) {
    int k = 0;
    for (; k + 4 <= kc; k += 4) {
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            v128_t rows[4], columns[4];
#pragma clang loop unroll(full)
            for (int c = 0; c < 4; c++) rows[c] = wasm_v128_load(b + (4 * v + c) * ldb + k);
            transpose4(rows, columns);
#pragma clang loop unroll(full)
            for (int q = 0; q < 4; q++) wasm_v128_store(dst + (k + q) * NR + 4 * v, columns[q]);
        }
    }
    return k;
}

// op(B)[k0:k0+kc, j0:j0+nc] -> packed_b as slivers of NR columns, each stored k-major
// (NR consecutive values per k). Columns past nc are zero.
static void pack_b(int kc, int nc, const float *b, int ldb, int trans) {
    for (int j = 0; j < nc; j += NR) {
        float *dst = packed_b + j * kc;
        int cols = nc - j < NR ? nc - j : NR;
        int k = 0;
        if (cols == NR && !trans) {                  // rows of op(B) are contiguous: vector copies
            for (; k < kc; k++) {
                const float *src = b + k * ldb + j;
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    wasm_v128_store(dst + k * NR + 4 * v, wasm_v128_load(src + 4 * v));
            }
        } else if (cols == NR) {
            k = pack_b_transposed_sliver(kc, b + j * ldb, ldb, dst);
        }
        for (; k < kc; k++) {                        // edges: the last k and the last columns
            for (int c = 0; c < NR; c++) {
                float value = 0.0f;
                if (c < cols) value = trans ? b[(j + c) * ldb + k] : b[k * ldb + j + c];
                dst[k * NR + c] = value;
            }
        }
    }
}

// ---- micro-kernel ----

// c[0:MR, 0:NR] (row stride ldc) = or += alpha * op(A)[rows, 0:kc] @ (packed sliver b).
// op(A)[r, k] is a[r * row_stride + k * k_stride]; rows past `rows` repeat the last one.
static void micro_kernel(int kc, const float *a, int row_stride, int k_stride, int rows,
                         const float *b, float *c, int ldc, v128_t alpha, int add) {
    v128_t acc[MR][NV];
    const float *a_row[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        a_row[r] = a + (r < rows ? r : rows - 1) * row_stride;
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
    }

    for (int k = 0; k < kc; k++) {
        v128_t bv[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) bv[v] = wasm_v128_load(b + 4 * v);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            v128_t av = wasm_v128_load32_splat(a_row[r]);
            a_row[r] += k_stride;
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) acc[r][v] = MADD(av, bv[v], acc[r][v]);
        }
        b += NR;
    }

#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            float *dst = c + r * ldc + 4 * v;
            v128_t value = wasm_f32x4_mul(alpha, acc[r][v]);
            if (add) value = wasm_f32x4_add(value, wasm_v128_load(dst));
            wasm_v128_store(dst, value);
        }
}

// ---- the GEMM ----

// C = beta * C + bias before the products are added (only when the first K slice cannot simply
// overwrite C). beta == 0 never reads C, so uninitialised memory (NaN) does not leak in.
static void prepare_c(int m, int n, float beta, const float *bias, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        float *row = c + i * ldc;
        for (int j = 0; j < n; j++) {
            float value = beta == 0.0f ? 0.0f : beta * row[j];
            row[j] = bias ? value + bias[j] : value;
        }
    }
}

// One row of C from one row of op(A) (m < MR: the register tile would compute MR rows and keep
// one, and packing B would copy all of it first, where each of its values is used once):
// c[0:n] (+)= alpha * a_row @ op(B), op(A)[k] at a[k * k_stride]. With B stored (K, N) the row is
// built 16 columns at a time down K; stored (N, K), each value is a dot product along K.
static void gemv_row(int n, int k, const float *a, int k_stride, const float *b, int ldb,
                     int trans_b, float *c, float alpha, int add) {
    if (!trans_b) {
        int j = 0;
        for (; j + 16 <= n; j += 16) {
            v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            const float *column = b + j;
            for (int q = 0; q < k; q++, column += ldb) {
                v128_t av = wasm_f32x4_splat(a[q * k_stride]);
                acc0 = MADD(av, wasm_v128_load(column), acc0);
                acc1 = MADD(av, wasm_v128_load(column + 4), acc1);
                acc2 = MADD(av, wasm_v128_load(column + 8), acc2);
                acc3 = MADD(av, wasm_v128_load(column + 12), acc3);
            }
            v128_t accs[4] = {acc0, acc1, acc2, acc3};
            v128_t alpha_v = wasm_f32x4_splat(alpha);
            for (int v = 0; v < 4; v++) {
                v128_t value = wasm_f32x4_mul(alpha_v, accs[v]);
                if (add) value = wasm_f32x4_add(value, wasm_v128_load(c + j + 4 * v));
                wasm_v128_store(c + j + 4 * v, value);
            }
        }
        for (; j + 4 <= n; j += 4) {
            v128_t acc = wasm_f32x4_splat(0.0f);
            const float *column = b + j;
            for (int q = 0; q < k; q++, column += ldb)
                acc = MADD(wasm_f32x4_splat(a[q * k_stride]), wasm_v128_load(column), acc);
            v128_t value = wasm_f32x4_mul(wasm_f32x4_splat(alpha), acc);
            if (add) value = wasm_f32x4_add(value, wasm_v128_load(c + j));
            wasm_v128_store(c + j, value);
        }
        for (; j < n; j++) {
            float sum = 0.0f;
            for (int q = 0; q < k; q++) sum += a[q * k_stride] * b[q * ldb + j];
            c[j] = add ? c[j] + alpha * sum : alpha * sum;
        }
        return;
    }
    for (int j = 0; j < n; j++) {
        const float *row = b + (long)j * ldb;
        int q = 0;
        float sum = 0.0f;
        if (k_stride == 1) {
            v128_t acc = wasm_f32x4_splat(0.0f);
            for (; q + 4 <= k; q += 4)
                acc = MADD(wasm_v128_load(a + q), wasm_v128_load(row + q), acc);
            sum = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
                  wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
        }
        for (; q < k; q++) sum += a[q * k_stride] * row[q];
        c[j] = add ? c[j] + alpha * sum : alpha * sum;
    }
}

// Full BLAS-style entry point. lda/ldb/ldc are the row strides (in floats) of the stored arrays;
// bias is a pointer to N floats or 0.
EXPORT(sgemm) void sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta,
                         float *c, int ldc, const float *bias) {
    if (m <= 0 || n <= 0) return;
    int overwrite = beta == 0.0f && !bias;        // the first K slice may store instead of add
    if (!overwrite && !(beta == 1.0f && !bias)) prepare_c(m, n, beta, bias, c, ldc);
    if (k <= 0) {
        if (overwrite) prepare_c(m, n, 0.0f, 0, c, ldc);
        return;
    }
    if (m < MR) {
        for (int i = 0; i < m; i++)
            gemv_row(n, k, trans_a ? a + i : a + (long)i * lda, trans_a ? lda : 1, b, ldb,
                     trans_b, c + (long)i * ldc, alpha, !overwrite);
        return;
    }
    v128_t alpha_v = wasm_f32x4_splat(alpha);

    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = k - k0 < KC ? k - k0 : KC;
            int add = !(overwrite && k0 == 0);
            pack_b(kc, nc, trans_b ? b + j0 * ldb + k0 : b + k0 * ldb + j0, ldb, trans_b);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int mc = m - i0 < MC ? m - i0 : MC;
                const float *a_block = trans_a ? a + k0 * lda + i0 : a + i0 * lda + k0;
                int row_stride = trans_a ? 1 : lda, k_stride = trans_a ? lda : 1;
                for (int j = 0; j < nc; j += NR) {
                    int cols = nc - j < NR ? nc - j : NR;
                    const float *b_sliver = packed_b + j * kc;
                    for (int i = 0; i < mc; i += MR) {
                        int rows = mc - i < MR ? mc - i : MR;
                        const float *a_sliver = a_block + i * row_stride;
                        float *c_tile = c + (i0 + i) * ldc + j0 + j;
                        if (rows == MR && cols == NR) {
                            micro_kernel(kc, a_sliver, row_stride, k_stride, rows, b_sliver,
                                         c_tile, ldc, alpha_v, add);
                            continue;
                        }
                        // Edge tile: compute the full tile aside, then keep the part inside C.
                        micro_kernel(kc, a_sliver, row_stride, k_stride, rows, b_sliver,
                                     edge_tile, NR, alpha_v, 0);
                        for (int r = 0; r < rows; r++)
                            for (int s = 0; s < cols; s++) {
                                float value = edge_tile[r * NR + s];
                                c_tile[r * ldc + s] = add ? c_tile[r * ldc + s] + value : value;
                            }
                    }
                }
            }
        }
    }
}

// The common case: dense operands, alpha = 1, C = op(A) @ op(B) (accumulate: C += ...).
EXPORT(gemm) void gemm(int m, int n, int k, const float *a, const float *b, float *c,
                       int trans_a, int trans_b, int accumulate) {
    sgemm(trans_a, trans_b, m, n, k, 1.0f, a, trans_a ? m : k, b, trans_b ? k : n,
          accumulate ? 1.0f : 0.0f, c, n, 0);
}

// Depthwise convolution (MobileNet's, EfficientNet's): every channel convolved with its own
// kh x kw filter, depth multiplier 1, NHWC, for one image at a time:
//
//     out[oy, ox, c] = bias[c] + sum over (i, j) of x[oy*sh + i - top, ox*sw + j - left, c] * k[i, j, c]
//
// with taps outside the image left out (zero padding). Channels are contiguous in x, k and out,
// so four channels go at once in one f32x4; an output pixel's C accumulators live in `out`
// itself (at most a few KB: in L1 while its taps are added). Not a GEMM, so it had no kernel:
// in NumPy it was half of EfficientNet-Lite0's time in the browser.
EXPORT(depthwise) void depthwise(const float *x, int height, int width, int channels,
                                 const float *k, int kh, int kw, int sh, int sw, int top,
                                 int left, const float *bias, float *out, int out_h, int out_w) {
    int vector_end = channels & ~3;
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            float *o = out + ((long)oy * out_w + ox) * channels;
            for (int c = 0; c < channels; c++) o[c] = bias ? bias[c] : 0.0f;
            for (int i = 0; i < kh; i++) {
                int iy = oy * sh + i - top;
                if (iy < 0 || iy >= height) continue;
                for (int j = 0; j < kw; j++) {
                    int ix = ox * sw + j - left;
                    if (ix < 0 || ix >= width) continue;
                    const float *xp = x + ((long)iy * width + ix) * channels;
                    const float *kp = k + (i * kw + j) * channels;
                    int c = 0;
                    for (; c < vector_end; c += 4) {
                        v128_t acc = wasm_v128_load(o + c);
                        acc = MADD(wasm_v128_load(xp + c), wasm_v128_load(kp + c), acc);
                        wasm_v128_store(o + c, acc);
                    }
                    for (; c < channels; c++) o[c] += xp[c] * kp[c];
                }
            }
        }
    }
}

// ---- inference: a network's layers on NHWC images that stay in this memory ----------------------
//
// nnpy.backend.wasm_inference runs a model's prediction as a sequence of these calls on buffers in
// this memory, so nothing crosses back to Python between layers (each crossing copies the
// activations twice and costs several microseconds). Training keeps to the GEMM above.

// One image's patches, zero-padded: row p = (oy, ox) holds x[oy*sh+i-top, ox*sw+j-left, :] for
// every tap (i, j), in the kernel's (kh, kw, C) order: (out_h*out_w, kh*kw*C). In NHWC a window
// row's taps are kw*C consecutive floats, so each is one copy (its part inside the image) and
// zeros around it: copying tap by tap, channel by channel, took most of a 1- or 3-channel
// convolution's time (the first layer of a digit or webcam network).
static void im2col(const float *x, int height, int width, int channels, int kh, int kw, int sh,
                   int sw, int top, int left, int out_h, int out_w, float *cols) {
    int span = kw * channels;
    int row_length = kh * span;
    for (int oy = 0; oy < out_h; oy++) {
        for (int ox = 0; ox < out_w; ox++) {
            float *row = cols + ((long)oy * out_w + ox) * row_length;
            int x0 = ox * sw - left;                       // the window's first column
            int first = x0 < 0 ? -x0 : 0;                  // taps [first, last) are inside
            int last = x0 + kw > width ? width - x0 : kw;
            if (last < first) last = first;
            int from = first * channels, to = last * channels;
            for (int i = 0; i < kh; i++) {
                int iy = oy * sh + i - top;
                float *dst = row + i * span;
                if (iy < 0 || iy >= height) {
                    for (int q = 0; q < span; q++) dst[q] = 0.0f;
                    continue;
                }
                const float *src = x + ((long)iy * width + x0 + first) * channels - from;
                for (int q = 0; q < from; q++) dst[q] = 0.0f;
                int q = from;
                for (; q + 4 <= to; q += 4) wasm_v128_store(dst + q, wasm_v128_load(src + q));
                for (; q < to; q++) dst[q] = src[q];
                for (q = to; q < span; q++) dst[q] = 0.0f;
            }
        }
    }
}

// Conv2D of n images: out (n, out_h, out_w, filters) = patches @ kernel (kh*kw*C, filters) + bias.
// `cols` holds one image's patches (out_h*out_w*kh*kw*C floats); a 1x1 stride-1 unpadded
// convolution reads the image itself.
EXPORT(conv2d) void conv2d(const float *x, int n, int height, int width, int channels,
                           const float *kernel, int kh, int kw, int filters, int sh, int sw,
                           int top, int left, int out_h, int out_w, const float *bias, float *out,
                           float *cols) {
    int depth = kh * kw * channels;
    int pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && top == 0 && left == 0 &&
                    out_h == height && out_w == width;
    for (int image = 0; image < n; image++) {
        const float *xi = x + (long)image * height * width * channels;
        float *oi = out + (long)image * out_h * out_w * filters;
        const float *a = xi;
        if (!pointwise) {
            im2col(xi, height, width, channels, kh, kw, sh, sw, top, left, out_h, out_w, cols);
            a = cols;
        }
        sgemm(0, 0, out_h * out_w, filters, depth, 1.0f, a, depth, kernel, filters, 0.0f, oi,
              filters, bias);
    }
}

// Dense: out (n, units) = x (n, features) @ kernel (features, units) + bias.
EXPORT(dense) void dense(const float *x, int n, int features, const float *kernel, int units,
                         const float *bias, float *out) {
    sgemm(0, 0, n, units, features, 1.0f, x, features, kernel, units, 0.0f, out, units, bias);
}

// In place over `count` values: kind 1 max(x, 0); 2 min(max(x, 0), a) (ReLU6: a = 6);
// 3 x where x > 0, else a * x (LeakyReLU). NaN stays NaN (the SIMD min/max keep it too).
EXPORT(activate) void activate(float *x, int count, int kind, float a) {
    int i = 0;
    v128_t zero = wasm_f32x4_splat(0.0f), cap = wasm_f32x4_splat(a);
    if (kind == 1) {
        for (; i + 4 <= count; i += 4) wasm_v128_store(x + i, wasm_f32x4_max(wasm_v128_load(x + i), zero));
        for (; i < count; i++) x[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN stays NaN, as in NumPy
    } else if (kind == 2) {
        for (; i + 4 <= count; i += 4) {
            v128_t v = wasm_f32x4_min(wasm_f32x4_max(wasm_v128_load(x + i), zero), cap);
            wasm_v128_store(x + i, v);
        }
        for (; i < count; i++) x[i] = x[i] < 0.0f ? 0.0f : (x[i] > a ? a : x[i]);
    } else if (kind == 3) {
        for (; i < count; i++) x[i] = x[i] > 0.0f ? x[i] : a * x[i];
    }
}

// BatchNormalization at inference, in place over x (rows, channels): per channel
// gamma * (x - mean) / sqrt(var + epsilon) + beta, as x * scale + shift. `scratch` holds 2 * channels floats.
EXPORT(batch_norm) void batch_norm(float *x, int rows, int channels, const float *gamma,
                                   const float *beta, const float *mean, const float *var,
                                   float epsilon, float *scratch) {
    float *scale = scratch, *shift = scratch + channels;
    for (int c = 0; c < channels; c++) {
        scale[c] = gamma[c] / __builtin_sqrtf(var[c] + epsilon);
        shift[c] = beta[c] - mean[c] * scale[c];
    }
    for (int r = 0; r < rows; r++) {
        float *row = x + (long)r * channels;
        for (int c = 0; c < channels; c++) row[c] = row[c] * scale[c] + shift[c];
    }
}

// Max (average = 0) or mean (average = 1) over each window of n images (N, H, W, C); positions
// outside the image are left out (max: never chosen; mean: not counted), as nnpy's layers do.
EXPORT(pool2d) void pool2d(const float *x, int n, int height, int width, int channels, int ph,
                           int pw, int sh, int sw, int top, int left, int out_h, int out_w,
                           int average, float *out) {
    for (int image = 0; image < n; image++) {
        const float *xi = x + (long)image * height * width * channels;
        float *oi = out + (long)image * out_h * out_w * channels;
        for (int oy = 0; oy < out_h; oy++) {
            for (int ox = 0; ox < out_w; ox++) {
                float *o = oi + ((long)oy * out_w + ox) * channels;
                int taps = 0;
                for (int i = 0; i < ph; i++) {
                    int iy = oy * sh + i - top;
                    if (iy < 0 || iy >= height) continue;
                    for (int j = 0; j < pw; j++) {
                        int ix = ox * sw + j - left;
                        if (ix < 0 || ix >= width) continue;
                        const float *p = xi + ((long)iy * width + ix) * channels;
                        if (taps == 0) {
                            for (int c = 0; c < channels; c++) o[c] = p[c];
                        } else if (average) {
                            for (int c = 0; c < channels; c++) o[c] += p[c];
                        } else {
                            for (int c = 0; c < channels; c++)  // a NaN wins, as in NumPy
                                o[c] = (p[c] > o[c] || p[c] != p[c]) ? p[c] : o[c];
                        }
                        taps++;
                    }
                }
                if (average && taps > 0) {
                    float share = 1.0f / (float)taps;
                    for (int c = 0; c < channels; c++) o[c] *= share;
                }
            }
        }
    }
}

// The mean over all `pixels` positions of each of n images (N, pixels, C) -> (N, C).
EXPORT(global_average) void global_average(const float *x, int n, int pixels, int channels,
                                           float *out) {
    for (int image = 0; image < n; image++) {
        const float *xi = x + (long)image * pixels * channels;
        float *o = out + (long)image * channels;
        for (int c = 0; c < channels; c++) o[c] = 0.0f;
        for (int p = 0; p < pixels; p++) {
            const float *row = xi + (long)p * channels;
            for (int c = 0; c < channels; c++) o[c] += row[c];
        }
        float share = 1.0f / (float)pixels;
        for (int c = 0; c < channels; c++) o[c] *= share;
    }
}
