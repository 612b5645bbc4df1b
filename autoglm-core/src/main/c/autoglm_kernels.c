/*
 * autoglm native kernels: quantized weight rows (GGML block layouts, read in place from the mapped GGUF file)
 * times activations quantized to 8 bits per block, for the engine's matrix products. Optional: the pure-Java
 * kernels are the reference and the path that works everywhere; this library is loaded through FFM when it was
 * built and the CPU runs one of its variants (ai.autoglm.core.tensor.NativeKernels).
 *
 * Our own code. The block layouts are GGML's (ggml-common.h block_q4_0, block_q8_0, block_q4_K, block_q5_K,
 * block_q6_K; dequantize_row_* in ggml-quants.c define what each byte means), the activation layouts below are
 * ours. Each kernel computes sum_i w_i * x_i with w_i exactly as dequantize_row_* decodes it and x_i as
 * d_x * q_i (q_i = round(x_i / d_x), d_x = max|x| / 127 of the activation block).
 *
 * Activation layouts (one token, n elements, produced by agk_quantize):
 *   form 0 (32-blocks, for Q4_0 and Q8_0 weights): int8 q[n]; float d[n/32]; float s[n/32] (s = d * sum q).
 *   form 1 (256-blocks, for K-quants):             int8 q[n]; float d[n/256]; int16 bsum[n/16] (sum of q per 16).
 *
 * Variants: AVX512-VNNI (vpdpbusd, EVEX ymm), AVX-VNNI (vpdpbusd, VEX), AVX2 (vpmaddubsw/vpmaddwd), and portable
 * C; chosen once by agk_init from __builtin_cpu_supports (or forced, for tests).
 *
 * F16 weights (GGML_TYPE_F16) take float activations instead, not quantized: kernels_f16.inc.
 */
#include <stdint.h>
#include <string.h>
#include <math.h>

#define T_F16 1
#define T_Q4_0 2
#define T_Q8_0 8
#define T_Q4_K 12
#define T_Q5_K 13
#define T_Q6_K 14

/* Rows per tile of the multi-token product: 32 rows of a 2048-wide Q4_K matrix are 36 KB. */
#define ROW_TILE 32

/* Rows ahead that the x86 kernels prefetch. */
#ifndef PREFETCH_ROWS
#define PREFETCH_ROWS 2
#endif

#define EXPORT __attribute__((visibility("default")))

/*
 * The 6-bit scale and min of each of the 8 sub-blocks from the 12-byte field (the packing get_scale_min_k4 reads:
 * bytes 0-3 scales 0-3 and bytes 4-7 mins 0-3 in their low 6 bits; bytes 8-11 the low 4 bits of scales 4-7 (low
 * nibble) and mins 4-7 (high nibble), whose top 2 bits are the top bits of bytes 0-3 and 4-7). Four bytes at a time.
 */
static inline void k_scales(const uint8_t *s, uint8_t *sc, uint8_t *mn) {
    uint32_t w0, w1, w2;
    memcpy(&w0, s, 4);
    memcpy(&w1, s + 4, 4);
    memcpy(&w2, s + 8, 4);
    uint32_t sc03 = w0 & 0x3F3F3F3Fu, mn03 = w1 & 0x3F3F3F3Fu;
    uint32_t sc47 = (w2 & 0x0F0F0F0Fu) | ((w0 >> 2) & 0x30303030u);
    uint32_t mn47 = ((w2 >> 4) & 0x0F0F0F0Fu) | ((w1 >> 2) & 0x30303030u);
    memcpy(sc, &sc03, 4);
    memcpy(sc + 4, &sc47, 4);
    memcpy(mn, &mn03, 4);
    memcpy(mn + 4, &mn47, 4);
}

/* IEEE binary16 to float, portable (the x86 variants use F16C). */
static float half_to_float(const uint8_t *p) {
    uint32_t h = (uint32_t) p[0] | ((uint32_t) p[1] << 8);
    uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) {
                mant <<= 1;
                exp--;
            }
            bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ---------------------------------------------------------------- portable C */

static float dot_q8_0_c(const uint8_t *w, const uint8_t *xq, int n) {
    const int8_t *xs = (const int8_t *) xq;
    const float *xd = (const float *) (xq + n);
    float sum = 0.f;
    for (int b = 0; b < n / 32; b++) {
        const int8_t *q = (const int8_t *) (w + 34 * b + 2);
        int s = 0;
        for (int i = 0; i < 32; i++) s += q[i] * xs[32 * b + i];
        sum += half_to_float(w + 34 * b) * xd[b] * (float) s;
    }
    return sum;
}

static float dot_q4_0_c(const uint8_t *w, const uint8_t *xq, int n) {
    const int8_t *xs = (const int8_t *) xq;
    const float *xd = (const float *) (xq + n);
    float sum = 0.f;
    for (int b = 0; b < n / 32; b++) {
        const uint8_t *q = w + 18 * b + 2;
        const int8_t *x = xs + 32 * b;
        int s = 0;
        for (int i = 0; i < 16; i++) s += ((q[i] & 0xF) - 8) * x[i] + ((q[i] >> 4) - 8) * x[i + 16];
        sum += half_to_float(w + 18 * b) * xd[b] * (float) s;
    }
    return sum;
}

static float dot_k45_c(const uint8_t *w, const uint8_t *xq, int n, int five) {
    int nb = n / 256;
    const int8_t *xs = (const int8_t *) xq;
    const float *xd = (const float *) (xq + n);
    const int16_t *bs = (const int16_t *) (xd + nb);
    const int bytes = five ? 176 : 144;
    float sum = 0.f;
    for (int b = 0; b < nb; b++) {
        const uint8_t *blk = w + (size_t) bytes * b, *qh = blk + 16, *qs = blk + (five ? 48 : 16);
        uint8_t sc[8], mn[8];
        k_scales(blk + 4, sc, mn);
        const int8_t *x = xs + 256 * b;
        int isum = 0, msum = 0;
        for (int sub = 0; sub < 8; sub++) {
            int s = 0;
            for (int l = 0; l < 32; l++) {
                int byte = qs[32 * (sub / 2) + l];
                int q = (sub % 2 == 0) ? byte & 0xF : byte >> 4;
                if (five) q |= ((qh[l] >> sub) & 1) << 4;
                s += q * x[32 * sub + l];
            }
            isum += sc[sub] * s;
            msum += mn[sub] * (bs[16 * b + 2 * sub] + bs[16 * b + 2 * sub + 1]);
        }
        sum += half_to_float(blk) * xd[b] * (float) isum - half_to_float(blk + 2) * xd[b] * (float) msum;
    }
    return sum;
}

static float dot_q4_k_c(const uint8_t *w, const uint8_t *xq, int n) {
    return dot_k45_c(w, xq, n, 0);
}

static float dot_q5_k_c(const uint8_t *w, const uint8_t *xq, int n) {
    return dot_k45_c(w, xq, n, 1);
}

static float dot_q6_k_c(const uint8_t *w, const uint8_t *xq, int n) {
    const int8_t *xs = (const int8_t *) xq;
    const float *xd = (const float *) (xq + n);
    float sum = 0.f;
    for (int b = 0; b < n / 256; b++) {
        const uint8_t *blk = w + (size_t) 210 * b;
        const int8_t *sc = (const int8_t *) (blk + 192);
        const int8_t *x = xs + 256 * b;
        int isum = 0;
        for (int e = 0; e < 256; e++) {
            int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
            int ql = blk[64 * h + l + (g % 2 == 1 ? 32 : 0)];
            int lo = g < 2 ? ql & 0xF : ql >> 4;
            int hi = (blk[128 + 32 * h + l] >> (2 * g)) & 3;
            isum += sc[8 * h + l / 16 + 2 * g] * ((lo | (hi << 4)) - 32) * x[e];
        }
        sum += half_to_float(blk + 208) * xd[b] * (float) isum;
    }
    return sum;
}

static void matmul_c(int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                     const uint8_t *xq, int64_t xqStride, int k, float *out, int64_t outStride) {
    float (*dot)(const uint8_t *, const uint8_t *, int);
    switch (type) {
        case T_Q4_0: dot = dot_q4_0_c; break;
        case T_Q8_0: dot = dot_q8_0_c; break;
        case T_Q4_K: dot = dot_q4_k_c; break;
        case T_Q5_K: dot = dot_q5_k_c; break;
        case T_Q6_K: dot = dot_q6_k_c; break;
        default: return;
    }
    for (int t0 = r0; t0 < r1; t0 += ROW_TILE) {
        int t1 = t0 + ROW_TILE < r1 ? t0 + ROW_TILE : r1;
        for (int t = 0; t < k; t++) {
            for (int r = t0; r < t1; r++) out[t * outStride + r] = dot(w + r * rowBytes, xq + t * xqStride, n);
        }
    }
}

/* K-quant GEMM for prefill (kquant_gemm.c, kernels_kquant_gemm_x86.inc): the portable part. */
#include "kquant_gemm.c"

/* ---------------------------------------------------------------- x86 variants */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X86 1

#define SFX avx2
#define ATTR __attribute__((target("avx2,fma,f16c")))
#define DPMODE 0
#include "kernels_x86.inc"
#include "kernels_kquant_gemm_x86.inc"
#undef SFX
#undef ATTR
#undef DPMODE

#define SFX avxvnni
#define ATTR __attribute__((target("avx2,fma,f16c,avxvnni")))
#define DPMODE 2
#include "kernels_x86.inc"
#include "kernels_kquant_gemm_x86.inc"
#undef SFX
#undef ATTR
#undef DPMODE

#define SFX avx512vnni
#define ATTR __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define DPMODE 1
#include "kernels_x86.inc"
#include "kernels_kquant_gemm_x86.inc"
#undef SFX
#undef ATTR
#undef DPMODE
#endif

/* F16 weights times float activations (kernels_f16.inc): f16_select(isa). */
#include "kernels_f16.inc"

/* ---------------------------------------------------------------- activations */

/* One block of m floats to int8 with d = max|x| / 127 (round to nearest), returns d; *qsum = sum of the bytes. */
static float quantize_block(const float *x, int m, int8_t *q) {
    float amax = 0.f;
    for (int i = 0; i < m; i++) {
        float a = fabsf(x[i]);
        amax = a > amax ? a : amax;
    }
    float d = amax / 127.f, id = amax > 0.f ? 127.f / amax : 0.f;
    for (int i = 0; i < m; i++) q[i] = (int8_t) lrintf(x[i] * id);
    return d;
}

/* Form-0 quantization by the selected SIMD variant (packed.inc); 0 when the portable loop below is to run. */
static int pk_quantize32(const float *x, int n, uint8_t *o);

/* Bytes of one token's activations in the given form (64-byte multiple, so tokens stay aligned). */
EXPORT int64_t agk_quantized_bytes(int form, int n) {
    int64_t bytes = form == 0 ? (int64_t) n + 8 * (n / 32) : (int64_t) n + 4 * (n / 256) + 2 * (n / 16);
    return (bytes + 63) & ~(int64_t) 63;
}

/*
 * Quantizes k tokens x[t * xStride .. + n) into out + t * outStride in the form the weight type reads
 * (form 0: 32-blocks, form 1: 256-blocks). n must be a multiple of the block size.
 */
static int selected_isa; /* tentative definition: the variant agk_init chose (set with the dispatch below) */

EXPORT void agk_quantize(int form, const float *x, int n, int64_t xStride, int k, uint8_t *out, int64_t outStride) {
#ifdef HAVE_X86
    if (form == 1 && selected_isa >= 1) { /* the K-quant form, vectorised (kernels_kquant_gemm_x86.inc) */
        kq_quantize_avx2(x, n, xStride, k, out, outStride);
        return;
    }
#endif
    for (int t = 0; t < k; t++) {
        const float *xt = x + t * xStride;
        uint8_t *o = out + t * outStride;
        int8_t *q = (int8_t *) o;
        if (form == 0) {
            if (pk_quantize32(xt, n, o)) continue;
            int nb = n / 32;
            float *d = (float *) (o + n), *s = d + nb;
            for (int b = 0; b < nb; b++) {
                d[b] = quantize_block(xt + 32 * b, 32, q + 32 * b);
                int sum = 0;
                for (int i = 0; i < 32; i++) sum += q[32 * b + i];
                s[b] = d[b] * (float) sum;
            }
        } else {
            int nb = n / 256;
            float *d = (float *) (o + n);
            int16_t *bs = (int16_t *) (d + nb);
            for (int b = 0; b < nb; b++) {
                d[b] = quantize_block(xt + 256 * b, 256, q + 256 * b);
                for (int g = 0; g < 16; g++) {
                    int sum = 0;
                    for (int i = 0; i < 16; i++) sum += q[256 * b + 16 * g + i];
                    bs[16 * b + g] = (int16_t) sum;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- dispatch */

typedef void (*matmul_fn)(int, const uint8_t *, int64_t, int, int, int, const uint8_t *, int64_t, int, float *, int64_t);

static matmul_fn selected = matmul_c;
static matmul_fn selected_kq_gemm = kq_gemm_c;
static f16_matmul_fn selected_f16 = f16_matmul_c;
static int selected_isa = 0;

/* 0 portable C, 1 AVX2, 2 AVX-VNNI, 3 AVX512-VNNI. */
static int isa_supported(int isa) {
    if (isa == 0) return 1;
#ifdef HAVE_X86
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (isa == 1) return avx2;
    if (isa == 2) return avx2 && __builtin_cpu_supports("avxvnni");
    if (isa == 3) return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                         && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    return 0;
}

/*
 * Selects a variant: isa < 0 picks the best the CPU supports, otherwise that one if supported. Returns the ISA
 * selected, or -1 (nothing changed) when the requested one is not supported.
 */
EXPORT int agk_init(int isa) {
    if (isa < 0) {
        for (isa = 3; isa > 0 && !isa_supported(isa); isa--) {
        }
    } else if (!isa_supported(isa)) {
        return -1;
    }
    switch (isa) {
#ifdef HAVE_X86
        case 1: selected = matmul_avx2; selected_kq_gemm = kq_gemm_avx2; break;
        case 2: selected = matmul_avxvnni; selected_kq_gemm = kq_gemm_avxvnni; break;
        case 3: selected = matmul_avx512vnni; selected_kq_gemm = kq_gemm_avx512vnni; break;
#endif
        default: selected = matmul_c; selected_kq_gemm = kq_gemm_c; isa = 0; break;
    }
    selected_f16 = f16_select(isa);
    selected_isa = isa;
    if (kq_amx_granted < 0) kq_amx_on = kq_amx_available(); /* AMX on by default where it is granted */
    return isa;
}

/* 1 when this library has a kernel for the GGML type id. */
EXPORT int agk_supports(int type) {
    return type == T_F16 || type == T_Q4_0 || type == T_Q8_0 || type == T_Q4_K || type == T_Q5_K || type == T_Q6_K;
}

/*
 * out[t * outStride + r] = row r of w . token t, for rows [r0, r1) and tokens t < k. Row r starts at
 * w + r * rowBytes (n elements of the type); token t's quantized activations at xq + t * xqStride (for F16
 * weights: token t's n floats, not quantized).
 */
EXPORT void agk_matmul(int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                       const uint8_t *xq, int64_t xqStride, int k, float *out, int64_t outStride) {
    if (type == T_F16) {
        selected_f16(w, rowBytes, r0, r1, n, xq, xqStride, k, out, outStride);
        return;
    }
    selected(type, w, rowBytes, r0, r1, n, xq, xqStride, k, out, outStride);
}

/*
 * Turns the AMX tile multiplies of the AVX512-VNNI variant's K-quant GEMM on (want != 0, where the CPU and the OS
 * allow them) or off (tests run both). Returns 1 when they are on. On by default where available (agk_init).
 */
EXPORT int agk_kq_gemm_amx(int want) {
    kq_amx_on = want && kq_amx_available();
    return kq_amx_on;
}

/* 1 when agk_kq_gemm has a kernel for the GGML type id (the K-quants Q2_K .. Q6_K). */
EXPORT int agk_kq_gemm_supports(int type) {
    return kq_is_type(type);
}

/*
 * The K-quant GEMM (prefill, many tokens): the same contract as agk_matmul, activations in form 1. The weights are
 * decoded once per panel of rows and reused across all k tokens (kquant_gemm.c).
 */
EXPORT void agk_kq_gemm(int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                        const uint8_t *xq, int64_t xqStride, int k, float *out, int64_t outStride) {
    if (!kq_is_type(type) || n % 256 != 0) return;
    selected_kq_gemm(type, w, rowBytes, r0, r1, n, xq, xqStride, k, out, outStride);
}

/* Bytes agk_kq_pack writes for k tokens of n elements for weights of this type. */
EXPORT int64_t agk_kq_packed_bytes(int type, int n, int k) {
    if (!kq_is_type(type) || n % 256 != 0 || k < 1) return -1;
    return (int64_t) kq_tile_bytes(type, n) * ((k + KQ_TT - 1) / KQ_TT);
}

/*
 * The tokens of agk_kq_gemm_packed, made once per product on the caller's thread (agk_kq_gemm packs them in every
 * call, that is once per row range and thread).
 */
EXPORT void agk_kq_pack(int type, int n, const uint8_t *xq, int64_t xqStride, int k, uint8_t *packed) {
    if (!kq_is_type(type) || n % 256 != 0) return;
    kq_pack_all(type, n, xq, xqStride, k, packed);
}

/* agk_kq_gemm on tokens packed by agk_kq_pack. */
EXPORT void agk_kq_gemm_packed(int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                               const uint8_t *packed, int k, float *out, int64_t outStride) {
    if (!kq_is_type(type) || n % 256 != 0) return;
    switch (selected_isa) {
#ifdef HAVE_X86
        case 1: kq_gemm_packed_avx2(type, w, rowBytes, r0, r1, n, packed, k, out, outStride); break;
        case 2: kq_gemm_packed_avxvnni(type, w, rowBytes, r0, r1, n, packed, k, out, outStride); break;
        case 3: kq_gemm_packed_avx512vnni(type, w, rowBytes, r0, r1, n, packed, k, out, outStride); break;
#endif
        default: kq_gemm_packed_c(type, w, rowBytes, r0, r1, n, packed, k, out, outStride); break;
    }
}

#include "packed.inc"
