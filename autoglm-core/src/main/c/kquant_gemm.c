/*
 * K-quant GEMM (prefill): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K weight rows times many tokens of form-1 activations (int8,
 * 256-element blocks with 16-element sums, made by agk_quantize). Included by autoglm_kernels.c; the per-ISA
 * microkernels are in kernels_kquant_gemm_x86.inc. Our own code: the block layouts are GGML's (ggml-common.h
 * block_q2_K .. block_q6_K, read as dequantize_row_q*_K in ggml-quants.c decodes them).
 *
 * Every K-quant weight is (level - offset) * step, with an unsigned integer level per element and a step and an
 * offset per sub-block of SB elements (SB = 32 for Q4_K/Q5_K, 16 for Q2_K/Q3_K/Q6_K):
 *   Q4_K, Q5_K: level 0..15 / 0..31,  w = d*sc_j * level - dmin*m_j
 *   Q6_K:       level 0..63,          w = d*sc_j * level - 32*d*sc_j       (sc_j signed int8)
 *   Q3_K:       level 0..7,           w = d*(sc_j-32) * level - 4*d*(sc_j-32)
 *   Q2_K:       level 0..3,           w = d*(sc_j&15) * level - dmin*(sc_j>>4)
 * so one generic product serves them all: a panel of PR rows is unpacked once per call into a level byte per
 * element plus two floats per sub-block (fs = step, fm = offset term), and is then multiplied into every token
 * tile of the call:
 *   out[t][r] = sum_b dx[t][b] * sum_{s in b} ( fs[r][s] * I[r][s][t] - fm[r][s] * X[t][s] )
 * with I = sum over the sub-block of level * q (an int32 dot product of unsigned levels and signed activation
 * bytes: vpdpbusd) and X = sum of the sub-block's activation bytes. The weights are decoded once per panel, not once
 * per token (the per-token kernels of kernels_x86.inc decode every block for every 4 tokens).
 *
 * Token tiles are TT = 16 tokens with the activation bytes interleaved four at a time, [n/4][16 tokens][4 bytes],
 * so that one 32-bit weight group broadcast against one 64-byte vector (or two 32-byte ones) gives 16 tokens'
 * partial sums in 16 int32 lanes: the accumulators hold tokens, not rows, and no horizontal sums are needed.
 */
#include <stdlib.h>
#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define T_Q2_K 10
#define T_Q3_K 11

#define KQ_PR 16 /* rows per unpacked panel */
/* Below this many tokens the x86 variants take Q2_K and Q3_K row by row (kq_small): a 16-token tile would be mostly padding. */
#define KQ_SMALL_TOKENS 4
#define KQ_TT 16 /* tokens per tile */

static int kq_sub(int type) {
    return type == T_Q4_K || type == T_Q5_K ? 32 : 16;
}

static int kq_is_type(int type) {
    return type == T_Q2_K || type == T_Q3_K || type == T_Q4_K || type == T_Q5_K || type == T_Q6_K;
}

/* Q3_K's 16 6-bit scales (0..63) from its 12-byte field, four per word, as dequantize_row_q3_K unpacks them. */
static inline __attribute__((always_inline)) void q3_raw_scales(const uint8_t *s, uint32_t r[4]) {
    uint32_t a0, a1, tmp;
    memcpy(&a0, s, 4);
    memcpy(&a1, s + 4, 4);
    memcpy(&tmp, s + 8, 4);
    r[0] = (a0 & 0x0F0F0F0Fu) | (((tmp >> 0) & 0x03030303u) << 4);
    r[1] = (a1 & 0x0F0F0F0Fu) | (((tmp >> 2) & 0x03030303u) << 4);
    r[2] = ((a0 >> 4) & 0x0F0F0F0Fu) | (((tmp >> 4) & 0x03030303u) << 4);
    r[3] = ((a1 >> 4) & 0x0F0F0F0Fu) | (((tmp >> 6) & 0x03030303u) << 4);
}

/* The same minus 32, as int8. */
static inline __attribute__((always_inline)) void q3_scales8(const uint8_t *s, int8_t *out) {
    uint32_t r[4];
    q3_raw_scales(s, r);
    /* 0..63 minus 32, bytewise without borrows: bytes 0x80+v-0x20 (v-32 offset by 0x80), then the offset removed */
    for (int i = 0; i < 4; i++) r[i] = (r[i] | 0x80808080u) - 0x20202020u;
    for (int i = 0; i < 4; i++) r[i] ^= 0x80808080u;
    memcpy(out, r, 16);
}

/* The same minus 32, as int. */
static inline __attribute__((always_inline)) void q3_scales(const uint8_t *s, int *out) {
    uint32_t r[4];
    q3_raw_scales(s, r);
    const uint8_t *b = (const uint8_t *) r;
    for (int i = 0; i < 16; i++) out[i] = (int) b[i] - 32;
}

/*
 * One row's levels (n bytes) and per-sub-block step and offset term (n/SB floats each, at stride KQ_PR: the panel
 * holds them as [sub-block][row]).
 */
static void kq_unpack_row(int type, const uint8_t *w, int n, uint8_t *lv, float *fs, float *fm) {
    int nb = n / 256;
    for (int b = 0; b < nb; b++) {
        uint8_t *y = lv + 256 * b;
        if (type == T_Q4_K || type == T_Q5_K) {
            int five = type == T_Q5_K;
            const uint8_t *blk = w + (size_t) (five ? 176 : 144) * b, *qh = blk + 16, *qs = blk + (five ? 48 : 16);
            uint8_t sc[8], mn[8];
            k_scales(blk + 4, sc, mn);
            float d = half_to_float(blk), dmin = half_to_float(blk + 2);
            for (int j = 0; j < 4; j++) {
                for (int l = 0; l < 32; l++) {
                    y[64 * j + l] = qs[32 * j + l] & 0xF;
                    y[64 * j + 32 + l] = qs[32 * j + l] >> 4;
                }
                if (five) {
                    for (int l = 0; l < 32; l++) {
                        y[64 * j + l] |= ((qh[l] >> (2 * j)) & 1) << 4;
                        y[64 * j + 32 + l] |= ((qh[l] >> (2 * j + 1)) & 1) << 4;
                    }
                }
            }
            for (int s = 0; s < 8; s++) {
                fs[(8 * b + s) * KQ_PR] = d * (float) sc[s];
                fm[(8 * b + s) * KQ_PR] = dmin * (float) mn[s];
            }
        } else if (type == T_Q6_K) {
            const uint8_t *blk = w + (size_t) 210 * b;
            const int8_t *sc = (const int8_t *) (blk + 192);
            float d = half_to_float(blk + 208);
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = blk + 64 * h, *qh = blk + 128 + 32 * h;
                uint8_t *yh = y + 128 * h;
                for (int l = 0; l < 32; l++) {
                    yh[l] = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
                    yh[32 + l] = (ql[32 + l] & 0xF) | (((qh[l] >> 2) & 3) << 4);
                    yh[64 + l] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                    yh[96 + l] = (ql[32 + l] >> 4) | (((qh[l] >> 6) & 3) << 4);
                }
            }
            for (int s = 0; s < 16; s++) {
                fs[(16 * b + s) * KQ_PR] = d * (float) sc[s];
                fm[(16 * b + s) * KQ_PR] = 32.f * d * (float) sc[s];
            }
        } else if (type == T_Q3_K) {
            const uint8_t *blk = w + (size_t) 110 * b, *hm = blk, *qs = blk + 32;
            int sc[16];
            q3_scales(blk + 96, sc);
            float d = half_to_float(blk + 108);
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 4; j++) {
                    int m = 4 * h + j;
                    for (int l = 0; l < 32; l++) {
                        y[128 * h + 32 * j + l] = ((qs[32 * h + l] >> (2 * j)) & 3) | (((hm[l] >> m) & 1) << 2);
                    }
                }
            }
            for (int s = 0; s < 16; s++) {
                fs[(16 * b + s) * KQ_PR] = d * (float) sc[s];
                fm[(16 * b + s) * KQ_PR] = 4.f * d * (float) sc[s];
            }
        } else { /* T_Q2_K */
            const uint8_t *blk = w + (size_t) 84 * b, *qs = blk + 16;
            float d = half_to_float(blk + 80), dmin = half_to_float(blk + 82);
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 4; j++) {
                    for (int l = 0; l < 32; l++) y[128 * h + 32 * j + l] = (qs[32 * h + l] >> (2 * j)) & 3;
                }
            }
            for (int s = 0; s < 16; s++) {
                fs[(16 * b + s) * KQ_PR] = d * (float) (blk[s] & 0xF);
                fm[(16 * b + s) * KQ_PR] = dmin * (float) (blk[s] >> 4);
            }
        }
    }
}

/*
 * One tile of up to KQ_TT tokens from form-1 activations into the interleaved layout: xp[n/4][16][4] int8, dx[nb][16]
 * (block scales), xs[n/SB][16] (sub-block sums of the bytes, as floats). Missing tokens are zero.
 */
static void kq_pack_tokens(const uint8_t *xq, int64_t xqStride, int kt, int n, int sb, int8_t *xp, float *dx, float *xs) {
    int nb = n / 256, ns = n / sb;
    memset(xp, 0, (size_t) n * KQ_TT);
    memset(dx, 0, sizeof(float) * nb * KQ_TT);
    memset(xs, 0, sizeof(float) * ns * KQ_TT);
    for (int t = 0; t < kt; t++) {
        const uint8_t *x = xq + t * xqStride;
        const float *d = (const float *) (x + n);
        const int16_t *bs = (const int16_t *) (d + nb);
        uint32_t *dst = (uint32_t *) xp + t;
        for (int g = 0; g < n / 4; g++) {
            uint32_t v;
            memcpy(&v, x + 4 * g, 4);
            dst[g * KQ_TT] = v;
        }
        for (int b = 0; b < nb; b++) dx[b * KQ_TT + t] = d[b];
        for (int s = 0; s < ns; s++) {
            int v = sb == 16 ? bs[s] : bs[2 * s] + bs[2 * s + 1];
            xs[s * KQ_TT + t] = (float) v;
        }
    }
}

/*
 * Whether the AVX512-VNNI variant's GEMM runs its tile multiplies on AMX (kernels_kquant_gemm_x86.inc). Linux hands
 * out the AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA, once per process);
 * without the CPU feature or the grant the variant runs its vpdpbusd tiles.
 */
static int kq_amx_on;
static int kq_amx_granted = -1;

static int kq_amx_available(void) {
#if defined(__x86_64__) && defined(__linux__)
    if (kq_amx_granted < 0) {
        unsigned a, b, c, d;
        int cpu = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 24)) && (d & (1u << 25)); /* AMX-TILE, AMX-INT8 */
        kq_amx_granted = cpu && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
    }
    return kq_amx_granted;
#else
    return 0;
#endif
}

/* Per-thread scratch, grown on demand (the compute pool's threads live as long as the process): slot 0 the token
 * tiles of a call that packs its own, slot 1 the panel and the result tile. */
static __thread uint8_t *kq_scratch[2];
static __thread size_t kq_scratch_size[2];

static uint8_t *kq_room(int slot, size_t bytes) {
    if (kq_scratch_size[slot] < bytes) {
        free(kq_scratch[slot]);
        kq_scratch[slot] = NULL;
        kq_scratch_size[slot] = 0;
        if (posix_memalign((void **) &kq_scratch[slot], 64, bytes) != 0) abort(); /* no result beats a wrong one */
        kq_scratch_size[slot] = bytes;
    }
    return kq_scratch[slot];
}

/*
 * The microkernel contract: rows [0, KQ_PR) of an unpacked panel times one token tile; res[r * KQ_TT + t].
 */
typedef void (*kq_tile_fn)(int n, int sb, const uint8_t *lv, const float *fs, const float *fm,
                           const int8_t *xp, const float *dx, const float *xs, float *res);

/* Portable C microkernel: the same sums in plain loops. */
static void kq_tile_c(int n, int sb, const uint8_t *lv, const float *fs, const float *fm,
                      const int8_t *xp, const float *dx, const float *xs, float *res) {
    int nb = n / 256, spb = 256 / sb;
    for (int r = 0; r < KQ_PR; r++) {
        const uint8_t *l = lv + (size_t) r * n;
        float acc[KQ_TT] = {0};
        for (int b = 0; b < nb; b++) {
            float bacc[KQ_TT] = {0};
            for (int s = b * spb; s < (b + 1) * spb; s++) {
                int32_t isum[KQ_TT] = {0};
                for (int g = s * sb / 4; g < (s + 1) * sb / 4; g++) {
                    for (int t = 0; t < KQ_TT; t++) {
                        const int8_t *x = xp + ((size_t) g * KQ_TT + t) * 4;
                        isum[t] += l[4 * g] * x[0] + l[4 * g + 1] * x[1] + l[4 * g + 2] * x[2] + l[4 * g + 3] * x[3];
                    }
                }
                float a = fs[s * KQ_PR + r], m = fm[s * KQ_PR + r];
                for (int t = 0; t < KQ_TT; t++) bacc[t] += a * (float) isum[t] - m * xs[s * KQ_TT + t];
            }
            for (int t = 0; t < KQ_TT; t++) acc[t] += bacc[t] * dx[b * KQ_TT + t];
        }
        for (int t = 0; t < KQ_TT; t++) res[r * KQ_TT + t] = acc[t];
    }
}

/* Bytes of one packed token tile (64-byte multiple): the interleaved bytes, the block scales, the sub-block sums. */
static size_t kq_tile_bytes(int type, int n) {
    int sb = kq_sub(type);
    size_t bytes = (size_t) n * KQ_TT + sizeof(float) * (size_t) (n / 256 + n / sb) * KQ_TT;
    return (bytes + 63) & ~(size_t) 63;
}

/* All k tokens as tiles of KQ_TT into dst (kq_tile_bytes each). */
static void kq_pack_all(int type, int n, const uint8_t *xq, int64_t xqStride, int k, uint8_t *dst) {
    size_t tileBytes = kq_tile_bytes(type, n);
    for (int i = 0; i * KQ_TT < k; i++) {
        uint8_t *p = dst + tileBytes * i;
        int kt = k - i * KQ_TT < KQ_TT ? k - i * KQ_TT : KQ_TT;
        kq_pack_tokens(xq + (int64_t) i * KQ_TT * xqStride, xqStride, kt, n, kq_sub(type), (int8_t *) p,
                       (float *) (p + (size_t) n * KQ_TT), (float *) (p + (size_t) n * KQ_TT) + n / 256 * KQ_TT);
    }
}

/*
 * The product for rows [r0, r1) and k tokens already packed (kq_pack_all): per panel of KQ_PR rows the levels
 * unpacked once and multiplied into every token tile. unpack is the row decoder compiled for the caller's ISA.
 */
static void kq_gemm_packed_run(kq_tile_fn tile, void (*unpack)(int, const uint8_t *, int, uint8_t *, float *, float *),
                               int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                               const uint8_t *packed, int k, float *out, int64_t outStride) {
    int sb = kq_sub(type), nb = n / 256, ns = n / sb, tiles = (k + KQ_TT - 1) / KQ_TT;
    size_t tileBytes = kq_tile_bytes(type, n);
    size_t panelBytes = (size_t) n * KQ_PR + 2 * sizeof(float) * (size_t) ns * KQ_PR;
    panelBytes = (panelBytes + 63) & ~(size_t) 63;
    uint8_t *lv = kq_room(1, panelBytes + sizeof(float) * KQ_PR * KQ_TT);
    float *fs = (float *) (lv + (size_t) n * KQ_PR), *fm = fs + (size_t) ns * KQ_PR;
    float *res = (float *) (lv + panelBytes);
    for (int p0 = r0; p0 < r1; p0 += KQ_PR) {
        int rows = r1 - p0 < KQ_PR ? r1 - p0 : KQ_PR;
        if (rows < KQ_PR) { /* a partial panel: the missing rows multiply as zeros */
            memset(lv + (size_t) rows * n, 0, (size_t) (KQ_PR - rows) * n);
            memset(fs, 0, sizeof(float) * (size_t) ns * KQ_PR);
            memset(fm, 0, sizeof(float) * (size_t) ns * KQ_PR);
        }
        /* Each row's steps and offsets land at stride KQ_PR: fs[s][r], one row of 16 per sub-block for the kernels. */
        for (int r = 0; r < rows; r++) unpack(type, w + (p0 + r) * rowBytes, n, lv + (size_t) r * n, fs + r, fm + r);
        for (int i = 0; i < tiles; i++) {
            const uint8_t *p = packed + tileBytes * i;
            const float *dx = (const float *) (p + (size_t) n * KQ_TT);
            tile(n, sb, lv, fs, fm, (const int8_t *) p, dx, dx + nb * KQ_TT, res);
            int kt = k - i * KQ_TT < KQ_TT ? k - i * KQ_TT : KQ_TT;
            for (int t = 0; t < kt; t++) {
                float *o = out + (int64_t) (i * KQ_TT + t) * outStride + p0;
                for (int r = 0; r < rows; r++) o[r] = res[r * KQ_TT + t];
            }
        }
    }
}

/* The packed product's per-ISA entry: type, rows, packed tokens, out (the tile kernel and decoder bound inside). */
typedef void (*kq_packed_fn)(int, const uint8_t *, int64_t, int, int, int, const uint8_t *, int, float *, int64_t);

/* The whole product from form-1 activations: the tokens packed into this thread's scratch, then the packed product. */
static void kq_gemm_run(kq_packed_fn packedFn, int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                        const uint8_t *xq, int64_t xqStride, int k, float *out, int64_t outStride) {
    uint8_t *packed = kq_room(0, kq_tile_bytes(type, n) * (size_t) ((k + KQ_TT - 1) / KQ_TT));
    kq_pack_all(type, n, xq, xqStride, k, packed);
    packedFn(type, w, rowBytes, r0, r1, n, packed, k, out, outStride);
}

static void kq_unpack_c(int type, const uint8_t *w, int n, uint8_t *lv, float *fs, float *fm) {
    kq_unpack_row(type, w, n, lv, fs, fm);
}

static void kq_gemm_packed_c(int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                             const uint8_t *packed, int k, float *out, int64_t outStride) {
    kq_gemm_packed_run(kq_tile_c, kq_unpack_c, type, w, rowBytes, r0, r1, n, packed, k, out, outStride);
}

static void kq_gemm_c(int type, const uint8_t *w, int64_t rowBytes, int r0, int r1, int n,
                      const uint8_t *xq, int64_t xqStride, int k, float *out, int64_t outStride) {
    kq_gemm_run(kq_gemm_packed_c, type, w, rowBytes, r0, r1, n, xq, xqStride, k, out, outStride);
}
