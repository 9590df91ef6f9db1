/* Unit tests of the quantization pieces: arith.h's rounding and quantization
 * math, histograms, the calibrators (against brute-force searches written
 * plainly here), the TensorRT calibration cache and the plan file.
 * Usage: test_quant [TMPDIR]. Prints failures and "N passed, N failed". */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/arith.h"
#include "quant/calibrator.h"
#include "quant/histogram.h"
#include "quant/plan.h"
#include "quant/trt_cache.h"
#include "quant/weights.h"

static char tmpdir[512];

static void tmp_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text, size_t len) {
    /* a fresh file: rewriting a truncated one makes ext4 flush on close */
    remove(path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        printf("cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
    fwrite(text, 1, len, f);
    fclose(f);
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (b) b[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* ---- deterministic random numbers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rng_uniform(void) { return (double)(rng_u64() >> 11) * 0x1p-53; }
static double rng_gauss(void) {
    double u = rng_uniform(), v = rng_uniform();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ======================= arith.h ======================= */

static void test_rounding(void) {
    CHECK(oct_round_half_even(0.5f) == 0 && !signbit(oct_round_half_even(0.5f)), "0.5 -> 0");
    CHECK(oct_round_half_even(1.5f) == 2, "1.5 -> 2");
    CHECK(oct_round_half_even(2.5f) == 2, "2.5 -> 2");
    CHECK(oct_round_half_even(3.5f) == 4, "3.5 -> 4");
    CHECK(oct_round_half_even(-0.5f) == 0 && signbit(oct_round_half_even(-0.5f)), "-0.5 -> -0");
    CHECK(oct_round_half_even(-1.5f) == -2, "-1.5 -> -2");
    CHECK(oct_round_half_even(-2.5f) == -2, "-2.5 -> -2");
    CHECK(oct_round_half_even(2.5000002f) == 3, "just above a tie rounds up");

    CHECK(oct_quantize_s8(1000.0f, 1.0f) == 127, "saturates at 127");
    CHECK(oct_quantize_s8(-1000.0f, 1.0f) == -128, "saturates at -128");
    CHECK(oct_quantize_s8(127.5f, 1.0f) == 127, "127.5 -> 128 -> 127");
    CHECK(oct_quantize_s8(-128.5f, 1.0f) == -128, "-128.5 -> -128");
    CHECK(oct_quantize_s8(-127.5f, 1.0f) == -128, "-127.5 -> -128 (even)");
    CHECK(oct_quantize_s8(126.5f, 1.0f) == 126, "126.5 -> 126 (even)");
    CHECK(oct_quantize_s8(NAN, 1.0f) == 0, "NaN -> 0");
    CHECK(oct_quantize_s8(INFINITY, 1.0f) == 127, "inf -> 127");
    CHECK(oct_quantize_s8(0.625f, 0.25f) == 2, "2.5 steps -> 2");
    CHECK(oct_quantize_s8(0.875f, 0.25f) == 4, "3.5 steps -> 4");
    CHECK(oct_fake_quant_s8(0.625f, 0.25f) == 0.5f, "fake quant of a tie");
    CHECK(oct_fake_quant_s8(-0.875f, 0.25f) == -1.0f, "fake quant, negative tie");
    CHECK(oct_fake_quant_s8(100.0f, 0.25f) == 31.75f, "fake quant saturates at 127 steps");
    CHECK(oct_fake_quant_s8(-100.0f, 0.25f) == -32.0f, "fake quant saturates at -128 steps");
    {
        /* The vectorizable fake quantization must equal quantize-then-scale
         * bit for bit: ties, saturation, NaN, infinities, tiny scales. */
        uint32_t seed = 12345;
        int same = 1;
        const float scales[] = {0.25f, 1.0f / 127, 6.38f, 1e-6f, 3.0f};
        for (int i = 0; i < 200000 && same; i++) {
            seed = seed * 1664525u + 1013904223u;
            float x = (float)((int32_t)seed) / 2147483648.0f * (i % 7 == 0 ? 1e6f : 300.0f);
            if (i % 11 == 0) x = (float)((int)(x * 2)) * 0.5f; /* ties */
            if (i == 5) x = NAN;
            if (i == 6) x = INFINITY;
            if (i == 7) x = -INFINITY;
            float sc = scales[i % 5];
            int32_t zp = (int32_t)(seed % 256);
            float a = oct_fake_quant_s8(x, sc), b = (float)oct_quantize_s8(x, sc) * sc;
            float c = oct_fake_quant_u8(x, sc, zp),
                  d = (float)(oct_quantize_u8(x, sc, zp) - zp) * sc;
            same = oct_f32_bits(a) == oct_f32_bits(b) && oct_f32_bits(c) == oct_f32_bits(d);
            if (!same)
                fprintf(stderr, "x=%g scale=%g zp=%d: %g vs %g, %g vs %g\n", x, sc, zp, a, b, c, d);
        }
        CHECK(same, "fast fake quantization equals quantize * scale");
    }
    CHECK(oct_scale_s8(127.0) == 1.0f, "scale of amax 127");
    CHECK(oct_scale_s8(1.0) == (float)(1.0 / 127.0), "scale of amax 1");
    CHECK(oct_amax_usable(0) == OCT_AMAX_FALLBACK, "amax 0 -> fallback");
    CHECK(oct_amax_usable(NAN) == OCT_AMAX_FALLBACK, "amax NaN -> fallback");
    CHECK(oct_amax_usable(INFINITY) == OCT_AMAX_FALLBACK, "amax inf -> fallback");
    CHECK(oct_amax_usable(1e-40) == OCT_AMAX_FALLBACK, "tiny amax -> fallback");
    CHECK(oct_amax_usable(3.5) == 3.5, "normal amax kept");

    float s;
    int32_t zp;
    oct_asym_params_u8(-1, 3, &s, &zp);
    CHECK(s == (float)(4.0 / 255.0) && zp == 64, "asym [-1,3]: scale %g zp %d", (double)s, (int)zp);
    oct_asym_params_u8(0.5, 2, &s, &zp);
    CHECK(s == (float)(2.0 / 255.0) && zp == 0, "asym range widened to include 0");
    oct_asym_params_u8(-2, -1, &s, &zp);
    CHECK(s == (float)(2.0 / 255.0) && zp == 255, "asym negative range: zp 255");
    oct_asym_params_u8(0, 0, &s, &zp);
    CHECK(s == 1.0f && zp == 0, "asym empty range");
    oct_asym_params_u8(-1, 3, &s, &zp);
    CHECK(oct_quantize_u8(0.0f, s, zp) == 64 && oct_fake_quant_u8(0.0f, s, zp) == 0.0f,
          "u8 zero exact");
    CHECK(oct_quantize_u8(100.0f, s, zp) == 255 && oct_quantize_u8(-100.0f, s, zp) == 0,
          "u8 saturation");
}

/* element (i0, i1, i2, i3) of a [2,3,2,2] tensor */
static void test_per_channel(void) {
    int64_t dims[4] = {2, 3, 2, 2};
    size_t o, c, in;
    CHECK(oct_axis_split(dims, 4, 0, &o, &c, &in) == 0 && o == 1 && c == 2 && in == 12,
          "axis 0 split");
    CHECK(oct_axis_split(dims, 4, 1, &o, &c, &in) == 0 && o == 2 && c == 3 && in == 4,
          "axis 1 split");
    CHECK(oct_axis_split(dims, 4, -1, &o, &c, &in) == 0 && o == 12 && c == 2 && in == 1, "axis -1");
    CHECK(oct_axis_split(dims, 4, 4, &o, &c, &in) == -1, "axis 4 out of range");
    CHECK(oct_axis_split(dims, 4, -5, &o, &c, &in) == -1, "axis -5 out of range");

    float x[24], q0[24], q1[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)((i * 37 % 24) - 11) * 0.37f;
    for (int axis = 0; axis < 2; axis++) {
        size_t nch = (size_t)dims[axis];
        float amax[3], scale[3];
        int8_t q[24];
        CHECK(oct_axis_split(dims, 4, axis, &o, &c, &in) == 0, "split");
        oct_absmax_channels(x, o, c, in, amax);
        int ok = 1;
        for (size_t ch = 0; ch < nch; ch++) {
            float m = 0;
            for (int i = 0; i < 24; i++) {
                int idx[4] = {i / 12, i / 4 % 3, i / 2 % 2, i % 2};
                if ((size_t)idx[axis] == ch && fabsf(x[i]) > m) m = fabsf(x[i]);
            }
            ok &= m == amax[ch];
            scale[ch] = oct_scale_s8(m * (1 + (double)ch)); /* different per channel */
        }
        CHECK(ok, "per-channel amax, axis %d", axis);
        memcpy(axis ? q1 : q0, x, sizeof x);
        oct_fake_quant_s8_channels(axis ? q1 : q0, o, c, in, scale);
        oct_quantize_s8_channels(x, q, o, c, in, scale);
        ok = 1;
        for (int i = 0; i < 24; i++) {
            int idx[4] = {i / 12, i / 4 % 3, i / 2 % 2, i % 2};
            float sc = scale[idx[axis]];
            ok &= (axis ? q1 : q0)[i] == oct_fake_quant_s8(x[i], sc);
            ok &= q[i] == oct_quantize_s8(x[i], sc);
        }
        CHECK(ok, "per-channel quantization uses each element's channel, axis %d", axis);
    }
}

/* The 8-bit weight quantization as it was before weights could be 4 or 6
 * bits, from arith.h's int8 pieces: what oct_weight_quantize_s8 must still
 * give bit for bit. */
static void old_weight_s8(const float *w, size_t outer, size_t ch, size_t inner, int8_t *q,
                          float *scales, float *fake) {
    float amax[64];
    oct_absmax_channels(w, outer, ch, inner, amax);
    for (size_t c = 0; c < ch; c++)
        scales[c] = oct_scale_s8(oct_amax_usable(amax[c]));
    oct_quantize_s8_channels(w, q, outer, ch, inner, scales);
    memcpy(fake, w, outer * ch * inner * sizeof *fake);
    oct_fake_quant_s8_channels(fake, outer, ch, inner, scales);
}

static uint32_t wrng = 12345u;
static float wrand(void) {
    wrng = wrng * 1664525u + 1013904223u;
    return (float)((wrng >> 8) * (1.0 / 8388608.0) - 1.0);
}

/* Weights of 4, 6 and 8 bits (quant/weights.h on arith.h). */
static void test_weight_bits(void) {
    CHECK(oct_qmax_bits(4) == 7 && oct_qmax_bits(6) == 31 && oct_qmax_bits(8) == 127,
          "qmax of 4, 6, 8 bits");
    CHECK(oct_weight_bits_valid(4) && oct_weight_bits_valid(6) && oct_weight_bits_valid(8) &&
              !oct_weight_bits_valid(0) && !oct_weight_bits_valid(5) &&
              !oct_weight_bits_valid(16) && !oct_weight_bits_valid(-8),
          "valid weight widths");
    CHECK(oct_scale_sym(127.0, 127) == oct_scale_s8(127.0) &&
              oct_scale_sym(0.3, 127) == oct_scale_s8(0.3),
          "scale_sym at 127 is scale_s8");
    CHECK(oct_scale_sym(7.0, 7) == 1.0f && oct_scale_sym(1.0, 31) == (float)(1.0 / 31.0),
          "scale_sym");

    /* A hand-made [3, 4] weight, channels on axis 0, W = qmax * B so that
     * every W / scale is exact in float:
     *   B0 = {1, -0.5, 0.25, -0.75}   amax qmax, scale 1
     *   B1 = 0                        all zero: scale 1 / qmax, codes 0
     *   B2 = {-2, 1, 0.5, 0.125}      amax 2 qmax, scale 2
     * Ties round to even: 3.5 -> 4, -15.5 -> -16, 63.5 -> 64. */
    static const float B[12] = {1, -0.5f, 0.25f, -0.75f, 0, 0, 0, 0, -2, 1, 0.5f, 0.125f};
    static const int8_t want[3][12] = {
        {7, -4, 2, -5, 0, 0, 0, 0, -7, 4, 2, 0},
        {31, -16, 8, -23, 0, 0, 0, 0, -31, 16, 8, 2},
        {127, -64, 32, -95, 0, 0, 0, 0, -127, 64, 32, 8},
    };
    const int bits_list[3] = {4, 6, 8};
    int64_t dims[2] = {3, 4};
    for (int b = 0; b < 3; b++) {
        int bits = bits_list[b];
        int32_t qmax = oct_qmax_bits(bits);
        float w[12], f[12], scales[3];
        int8_t q[12];
        for (int i = 0; i < 12; i++)
            w[i] = (float)qmax * B[i];
        oct_error err = {0};
        CHECK(oct_weight_quantize_bits(w, 2, dims, 0, bits, q, scales, &err) == OCT_OK,
              "%d bits: %s", bits, err.message);
        CHECK(scales[0] == 1.0f && scales[1] == (float)(1.0 / qmax) && scales[2] == 2.0f,
              "%d bits: hand-made scales %g %g %g", bits, (double)scales[0], (double)scales[1],
              (double)scales[2]);
        int ok = 1;
        for (int i = 0; i < 12; i++)
            ok &= q[i] == want[b][i];
        CHECK(ok, "%d bits: hand-made codes", bits);
        memcpy(f, w, sizeof f);
        CHECK(oct_weight_fake_quant_bits(f, 2, dims, 0, bits, &err) == OCT_OK, "%d bits fake quant",
              bits);
        ok = 1;
        for (int i = 0; i < 12; i++)
            ok &= f[i] == (float)want[b][i] * scales[i / 4];
        CHECK(ok, "%d bits: hand-made fake quantization = code * scale", bits);
        /* saturation at the narrow range; NaN codes 0 */
        CHECK(oct_quantize_sym(1e30f, 1.0f, qmax) == qmax &&
                  oct_quantize_sym(-1e30f, 1.0f, qmax) == -qmax &&
                  oct_quantize_sym(-INFINITY, 1.0f, qmax) == -qmax &&
                  oct_quantize_sym(NAN, 1.0f, qmax) == 0,
              "%d bits: saturation to -qmax..qmax", bits);
        CHECK(oct_fake_quant_sym(-1e30f, 0.5f, qmax) == -0.5f * (float)qmax &&
                  oct_fake_quant_sym(NAN, 0.5f, qmax) == 0.0f,
              "%d bits: fake quantization saturates", bits);
    }

    /* Random weights of varied magnitude per channel, on every layout the
     * weights use: scale = amax / qmax per channel, codes within -qmax..qmax
     * and equal to clamp(rint(w / scale)), fake quantization = code * scale
     * bit for bit, and within half a step of w. */
    enum { O = 5, C = 3, K = 4, N = O * C * K };
    int64_t d3[3] = {O, C, K};
    for (int b = 0; b < 3; b++) {
        int bits = bits_list[b];
        int32_t qmax = oct_qmax_bits(bits);
        for (int axis = -1; axis < 3; axis++) {
            float w[N], f[N], scales[O];
            int8_t q[N];
            for (int i = 0; i < N; i++)
                w[i] = wrand() * (float)(1 + (i % 7)) * 0.3f;
            if (axis == 0) /* an all-zero channel */
                for (int i = 0; i < C * K; i++)
                    w[2 * C * K + i] = 0;
            size_t outer = 1, ch = 1, inner = N;
            if (axis >= 0) oct_axis_split(d3, 3, axis, &outer, &ch, &inner);
            oct_error err = {0};
            CHECK(oct_weight_n_scales(3, d3, axis) == ch, "n_scales");
            CHECK(oct_weight_quantize_bits(w, 3, d3, axis, bits, q, scales, &err) == OCT_OK, "%s",
                  err.message);
            memcpy(f, w, sizeof f);
            CHECK(oct_weight_fake_quant_bits(f, 3, d3, axis, bits, &err) == OCT_OK, "%s",
                  err.message);
            float amax[O] = {0};
            for (size_t o = 0; o < outer; o++)
                for (size_t c = 0; c < ch; c++)
                    for (size_t i = 0; i < inner; i++) {
                        float a = fabsf(w[(o * ch + c) * inner + i]);
                        if (a > amax[c]) amax[c] = a;
                    }
            int ok_s = 1, ok_q = 1, ok_f = 1, ok_e = 1;
            for (size_t c = 0; c < ch; c++)
                ok_s &= scales[c] ==
                        (amax[c] > 0 ? (float)((double)amax[c] / qmax) : (float)(1.0 / qmax));
            for (size_t o = 0; o < outer; o++)
                for (size_t c = 0; c < ch; c++)
                    for (size_t i = 0; i < inner; i++) {
                        size_t k = (o * ch + c) * inner + i;
                        float r = nearbyintf(w[k] / scales[c]);
                        r = r < (float)-qmax ? (float)-qmax : r > (float)qmax ? (float)qmax : r;
                        ok_q &= q[k] >= -qmax && q[k] <= qmax && q[k] == (int8_t)r;
                        ok_f &= oct_f32_bits(f[k]) == oct_f32_bits((float)q[k] * scales[c]);
                        ok_e &= fabsf(f[k] - w[k]) <= 0.5f * scales[c] * (1 + 1e-6f);
                    }
            CHECK(ok_s, "%d bits axis %d: scale = amax / %d per channel", bits, axis, (int)qmax);
            CHECK(ok_q, "%d bits axis %d: codes in -%d..%d, rounded half to even", bits, axis,
                  (int)qmax, (int)qmax);
            CHECK(ok_f, "%d bits axis %d: fake quantization = code * scale", bits, axis);
            CHECK(ok_e, "%d bits axis %d: within half a step", bits, axis);
        }
    }

    /* 8 bits is the old 8-bit quantization, bit for bit, on random data
     * with zero, NaN, tiny and huge channels. Not with an infinite weight:
     * its channel gets the fallback scale 1/127, so its other weights may
     * saturate, and negative ones now stop at -127 where they reached -128
     * (checked below). */
    {
        enum { CH = 16, IN = 37 };
        static float w[CH * IN], f[CH * IN], f_old[CH * IN];
        int8_t q[CH * IN], q_old[CH * IN], q_s8[CH * IN];
        float sc[CH], sc_old[CH], sc_s8[CH];
        int64_t d2[2] = {CH, IN};
        int same = 1;
        for (int round = 0; round < 20; round++) {
            for (int c = 0; c < CH; c++) {
                float mag = powf(10.0f, (float)((c + round) % 9) - 4.0f);
                for (int i = 0; i < IN; i++)
                    w[c * IN + i] = wrand() * mag;
            }
            for (int i = 0; i < IN; i++)
                w[3 * IN + i] = 0;
            w[5 * IN + 2] = NAN;
            for (int i = 0; i < IN; i++)
                w[7 * IN + i] = wrand() * 1e-40f;
            w[8 * IN] = 3e38f;
            oct_error err = {0};
            same &= oct_weight_quantize_bits(w, 2, d2, 0, 8, q, sc, &err) == OCT_OK;
            same &= oct_weight_quantize_s8(w, 2, d2, 0, q_s8, sc_s8, &err) == OCT_OK;
            memcpy(f, w, sizeof f);
            same &= oct_weight_fake_quant_s8(f, 2, d2, 0, &err) == OCT_OK;
            old_weight_s8(w, 1, CH, IN, q_old, sc_old, f_old);
            same &= !memcmp(q, q_old, sizeof q) && !memcmp(q_s8, q_old, sizeof q) &&
                    !memcmp(sc, sc_old, sizeof sc) && !memcmp(sc_s8, sc_old, sizeof sc) &&
                    !memcmp(f, f_old, sizeof f);
        }
        CHECK(same, "8 bits: the same scales, codes and fake-quantized weights as before");
    }

    {
        float wi[4] = {INFINITY, -3.0f, 0.5f, -INFINITY}, si;
        int8_t qi[4];
        int64_t d1[1] = {4};
        oct_error err = {0};
        CHECK(oct_weight_quantize_bits(wi, 1, d1, -1, 8, qi, &si, &err) == OCT_OK &&
                  si == oct_scale_s8(1.0) && qi[0] == 127 && qi[1] == -127 && qi[2] == 64 &&
                  qi[3] == -127,
              "an infinite weight: fallback scale, narrow range (%d %d %d %d)", qi[0], qi[1], qi[2],
              qi[3]);
    }

    /* bad arguments */
    float w[4] = {1, 2, 3, 4}, s[4];
    int8_t q[4];
    int64_t d1[1] = {4};
    oct_error err = {0};
    CHECK(oct_weight_quantize_bits(w, 1, d1, -1, 5, q, s, &err) == OCT_E_INVALID_ARG &&
              strstr(err.message, "5 bits"),
          "5 bits refused: %s", err.message);
    CHECK(oct_weight_fake_quant_bits(w, 1, d1, -1, 16, &err) == OCT_E_INVALID_ARG && w[0] == 1.0f,
          "16 bits refused, weight untouched");
    CHECK(oct_weight_quantize_bits(w, 1, d1, 1, 4, q, s, &err) == OCT_E_INVALID_ARG,
          "axis out of range");
}

static int is_nearest_half(float f, uint16_t h) {
    /* positive finite f within half range: h must be at least as close as
     * both neighbours, and even on a tie */
    double v = oct_f16_to_f32(h), d = fabs((double)f - v);
    if (h > 0) {
        double dp = fabs((double)f - oct_f16_to_f32((uint16_t)(h - 1)));
        if (dp < d || (dp == d && (h & 1))) return 0;
    }
    if (h < 0x7bff) {
        double dn = fabs((double)f - oct_f16_to_f32((uint16_t)(h + 1)));
        if (dn < d || (dn == d && (h & 1))) return 0;
    }
    return 1;
}

static void test_fp16(void) {
    CHECK(oct_f32_to_f16(1.0f) == 0x3c00, "1.0");
    CHECK(oct_f32_to_f16(-2.0f) == 0xc000, "-2.0");
    CHECK(oct_f32_to_f16(-0.0f) == 0x8000, "-0");
    CHECK(oct_f32_to_f16(65504.0f) == 0x7bff, "65504 max");
    CHECK(oct_f32_to_f16(65519.996f) == 0x7bff, "just below 65520 -> 65504");
    CHECK(oct_f32_to_f16(65520.0f) == 0x7c00, "65520 -> inf");
    CHECK(oct_f32_to_f16(-65520.0f) == 0xfc00, "-65520 -> -inf");
    CHECK(oct_f32_to_f16(1e10f) == 0x7c00, "overflow -> inf");
    CHECK(oct_f32_to_f16(INFINITY) == 0x7c00, "inf");
    uint16_t hn = oct_f32_to_f16(NAN);
    CHECK((hn & 0x7c00) == 0x7c00 && (hn & 0x3ff) != 0, "NaN stays NaN");
    CHECK(isnan(oct_f16_to_f32(0x7e00)), "half NaN -> NaN");
    CHECK(oct_f32_to_f16(0x1p-14f) == 0x0400, "smallest normal");
    CHECK(oct_f32_to_f16(0x1p-24f) == 0x0001, "2^-24 smallest subnormal");
    CHECK(oct_f32_to_f16(0x1p-25f) == 0x0000, "2^-25 ties to even (0)");
    CHECK(oct_f32_to_f16(-0x1p-25f) == 0x8000, "-2^-25 -> -0");
    CHECK(oct_f32_to_f16(0x1.000002p-25f) == 0x0001, "just above 2^-25 -> 2^-24");
    CHECK(oct_f32_to_f16(0x1.8p-24f) == 0x0002, "1.5 * 2^-24 ties to even (2)");
    CHECK(oct_f32_to_f16(0x1.4p-23f) == 0x0002, "2.5 * 2^-24 ties to even (2)");
    CHECK(oct_f32_to_f16(0x1p-26f) == 0x0000, "2^-26 -> 0");
    CHECK(oct_f32_to_f16(0x1.ffcp-15f) == 0x0400,
          "largest subnormal + half ulp ties to even (normal)");
    CHECK(oct_f16_to_f32(0x03ff) == 0x1.ff8p-15f, "largest subnormal decodes");
    CHECK(oct_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00, "1 + half ulp ties to even");
    CHECK(oct_f32_to_f16(1.0f + 0x1.8p-10f) == 0x3c02, "1 + 1.5 ulp ties to even (up)");
    CHECK(oct_round_f16(0.1f) == 0x1.998p-4f, "round_f16(0.1)");

    int ok = 1;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = oct_f16_to_f32((uint16_t)h);
        uint16_t back = oct_f32_to_f16(f);
        if (isnan(f))
            ok &= (back & 0x7c00) == 0x7c00 && (back & 0x3ff) != 0;
        else
            ok &= back == h;
    }
    CHECK(ok, "every half survives f16 -> f32 -> f16");
    ok = 1;
    for (int i = 0; i < 1000000 && ok; i++) {
        /* random exponent from deep subnormal to the top of the half range */
        float f = (float)ldexp(1 + rng_uniform(), -27 + (int)(rng_u64() % 43));
        if (f >= 65504.0f) continue;
        uint16_t h = oct_f32_to_f16(f);
        ok &= is_nearest_half(f, h);
        if (!ok) printf("  f16 of %a gave %04x\n", (double)f, h);
    }
    CHECK(ok, "f32 -> f16 picks the nearest half (ties even) on 1e6 random floats");
    /* every tie between two adjacent halves goes to the even one */
    ok = 1;
    for (uint32_t h = 0; h < 0x7bff; h++) {
        float mid =
            (float)(((double)oct_f16_to_f32((uint16_t)h) + oct_f16_to_f32((uint16_t)(h + 1))) / 2);
        ok &= oct_f32_to_f16(mid) == ((h & 1) ? h + 1 : h);
    }
    CHECK(ok, "every midpoint between adjacent halves rounds to even");
}

static void test_bf16(void) {
    CHECK(oct_f32_to_bf16(1.0f) == 0x3f80, "bf16 1.0");
    CHECK(oct_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "bf16 tie to even (down)");
    CHECK(oct_f32_to_bf16(1.0f + 0x1.8p-7f) == 0x3f82, "bf16 tie to even (up)");
    CHECK(oct_f32_to_bf16(1.0f + 0x1.2p-8f) == 0x3f81, "bf16 above tie rounds up");
    CHECK(oct_f32_to_bf16(-1.0f) == 0xbf80, "bf16 -1");
    CHECK(oct_f32_to_bf16(FLT_MAX) == 0x7f80, "FLT_MAX rounds to inf");
    CHECK(oct_f32_to_bf16(0x1.fep127f) == 0x7f7f, "largest bf16 kept");
    CHECK(oct_f32_to_bf16(INFINITY) == 0x7f80, "bf16 inf");
    uint16_t b = oct_f32_to_bf16(oct_bits_f32(0x7f800001u)); /* signalling NaN, payload low */
    CHECK((b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0, "bf16 NaN stays NaN (quiet)");
    CHECK(oct_f32_to_bf16(0x1p-133f) == 0x0001, "bf16 subnormal");
    CHECK(oct_round_bf16(3.14159265f) == 3.140625f, "round_bf16(pi)");
}

/* ======================= histograms ======================= */

static void fill_hist(oct_histogram *h, const float *x, size_t n, size_t batch) {
    for (size_t i = 0; i < n; i += batch)
        oct_hist_observe(h, x + i, n - i < batch ? n - i : batch);
}

/* Two passes over the data: TensorRT's scheme. */
static void two_pass(oct_histogram *h, const float *x, size_t n, int flags) {
    oct_error err;
    oct_hist_init(h, OCT_HIST_TWO_PASS, flags, &err);
    fill_hist(h, x, n, 4096);
    oct_hist_end_first_pass(h, &err);
    fill_hist(h, x, n, 4096);
}

static void test_histogram(void) {
    oct_error err;
    oct_histogram h;
    float v[] = {0.0f, 1.0f, 2.0f, -4.0f, NAN, INFINITY, -INFINITY, 3.0f, 0.001953125f};
    CHECK(oct_hist_init(&h, OCT_HIST_TWO_PASS, OCT_HIST_SIGNED, &err) == OCT_OK, "init");
    oct_hist_observe(&h, v, 9);
    CHECK(!oct_hist_binning(&h) && h.total == 0, "pass 1 does not bin");
    CHECK(h.count == 6 && h.nonfinite == 3 && h.min == -4 && h.max == 3 && h.absmax == 4,
          "pass-1 stats: count %lld nonfinite %lld min %g max %g", (long long)h.count,
          (long long)h.nonfinite, h.min, h.max);
    CHECK(oct_calib_entropy.threshold(&h, NULL, &(double){0}, &err) != OCT_OK &&
              strstr(err.message, "pass 2"),
          "entropy before pass 2 is an error: %s", err.message);
    CHECK(oct_hist_end_first_pass(&h, &err) == OCT_OK, "end pass 1");
    CHECK(oct_hist_end_first_pass(&h, &err) != OCT_OK, "end pass 1 twice is an error");
    oct_hist_observe(&h, v, 9);
    CHECK(h.total == 6 && h.count == 6, "pass 2 bins, stats unchanged");
    /* w = 4/2048 = 2^-9: 2^-9 -> bin 1, 1 -> 512, 2 -> 1024, 3 -> 1536, 4 -> last */
    CHECK(h.bins[0] == 1 && h.bins[1] == 1 && h.bins[512] == 1 && h.bins[1024] == 1 &&
              h.bins[1536] == 1 && h.bins[2047] == 1,
          "two-pass bin placement");
    CHECK(h.neg->total == 1 && h.neg->absmax == 4 && h.neg->bins[2047] == 1, "negative half");
    CHECK(h.pos->total == 5 && h.pos->absmax == 3 && h.pos->bins[2047] == 1 && h.pos->bins[0] == 1,
          "non-negative half");
    float big = 5.0f;
    oct_hist_observe(&h, &big, 1);
    CHECK(h.clamped == 1 && h.bins[2047] == 2, "pass-2 value beyond the range is clamped");
    oct_hist_free(&h);

    /* streaming: exact, independent of batching and order */
    size_t n = 300000;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(rng_gauss() * (i < n / 2 ? 0.01 : 1.0));
        if (i % 50000 == 7) x[i] = (float)(37.0 * (1 + rng_uniform()));
        if (i < 1000) x[i] = 0;
    }
    for (size_t i = 0; i < n; i++)
        y[n - 1 - i] = x[i];
    oct_histogram a, b;
    oct_hist_init(&a, OCT_HIST_STREAMING, 0, &err);
    oct_hist_init(&b, OCT_HIST_STREAMING, 0, &err);
    fill_hist(&a, x, n, 1000);
    fill_hist(&b, y, n, 77777);
    CHECK(a.range == b.range && memcmp(a.bins, b.bins, OCT_HIST_BINS * sizeof *a.bins) == 0,
          "streaming histogram independent of order and batching");
    double r = 1;
    while (r <= a.absmax)
        r *= 2;
    while (r / 2 > a.absmax)
        r /= 2;
    CHECK(a.range == r, "streaming range is the power of two just above absmax (%g vs %g)", a.range,
          r);
    int64_t *ref = calloc(OCT_HIST_BINS, sizeof *ref);
    double w = r / OCT_HIST_BINS;
    for (size_t i = 0; i < n; i++)
        ref[(int)floor(fabs((double)x[i]) / w)]++;
    CHECK(memcmp(ref, a.bins, OCT_HIST_BINS * sizeof *ref) == 0 && a.total == (int64_t)n,
          "streaming bins count exactly the values of each final bin");
    /* merging two halves gives the whole */
    oct_histogram m1, m2;
    oct_hist_init(&m1, OCT_HIST_STREAMING, 0, &err);
    oct_hist_init(&m2, OCT_HIST_STREAMING, 0, &err);
    fill_hist(&m1, x, n / 2, 5000);
    fill_hist(&m2, x + n / 2, n - n / 2, 5000);
    CHECK(oct_hist_merge(&m1, &m2, &err) == OCT_OK, "merge");
    CHECK(m1.range == a.range && memcmp(m1.bins, a.bins, OCT_HIST_BINS * sizeof *ref) == 0 &&
              m1.count == a.count && m1.min == a.min && m1.max == a.max && m1.absmax == a.absmax,
          "merged streaming halves equal the whole");
    oct_hist_free(&m1);
    oct_hist_free(&m2);
    /* two-pass with per-thread collectors: merge pass-1 stats, copy ranges */
    oct_histogram t1, t2, whole;
    oct_hist_init(&t1, OCT_HIST_TWO_PASS, 0, &err);
    oct_hist_init(&t2, OCT_HIST_TWO_PASS, 0, &err);
    fill_hist(&t1, x, n / 2, 5000);
    fill_hist(&t2, x + n / 2, n - n / 2, 5000);
    CHECK(oct_hist_merge(&t1, &t2, &err) == OCT_OK && oct_hist_end_first_pass(&t1, &err) == OCT_OK,
          "two-pass merge of pass-1 stats");
    oct_hist_free(&t2);
    oct_hist_init(&t2, OCT_HIST_TWO_PASS, 0, &err);
    CHECK(oct_hist_copy_ranges(&t2, &t1, &err) == OCT_OK, "copy ranges");
    fill_hist(&t1, x, n / 2, 5000);
    fill_hist(&t2, x + n / 2, n - n / 2, 5000);
    CHECK(oct_hist_merge(&t1, &t2, &err) == OCT_OK, "two-pass merge of bins");
    two_pass(&whole, x, n, 0);
    CHECK(t1.range == whole.range && memcmp(t1.bins, whole.bins, OCT_HIST_BINS * sizeof *ref) == 0,
          "per-thread two-pass collection equals one collector");
    oct_hist_free(&t1);
    oct_hist_free(&t2);
    oct_hist_free(&whole);
    free(ref);
    oct_hist_free(&a);
    oct_hist_free(&b);

    /* streaming that starts with zeros only */
    float z[4] = {0, 0, 0, 0}, one = 1.5f;
    oct_hist_init(&a, OCT_HIST_STREAMING, 0, &err);
    oct_hist_observe(&a, z, 4);
    CHECK(a.range == 0 && a.bins[0] == 4, "zeros before any range");
    oct_hist_observe(&a, &one, 1);
    CHECK(a.range == 2 && a.bins[0] == 4 && a.bins[1536] == 1 && a.total == 5, "range appears");
    float huge = 1e30f;
    oct_hist_observe(&a, &huge, 1);
    CHECK(a.bins[0] == 5 && a.total == 6 && a.range > 1e30,
          "huge growth folds everything into bin 0");
    oct_hist_free(&a);

    /* percentile interpolation on a hand-made histogram */
    int64_t bins[OCT_HIST_BINS] = {0};
    oct_histogram hm = {0};
    hm.nbins = OCT_HIST_BINS;
    hm.bins = bins;
    hm.range = 2048;
    hm.absmax = 2047.75;
    hm.binning = 1;
    bins[10] = 4;
    bins[2047] = 4;
    hm.total = 8;
    CHECK(oct_hist_percentile(&hm, 25) == 10.5, "p25 interpolated in bin 10: %g",
          oct_hist_percentile(&hm, 25));
    CHECK(oct_hist_percentile(&hm, 12.5) == 10.25, "p12.5");
    CHECK(oct_hist_percentile(&hm, 50) == 11, "p50 at the top of bin 10");
    CHECK(oct_hist_percentile(&hm, 75) == 2047.5, "p75 in the last bin");
    hm.absmax = 2047.25;
    CHECK(oct_hist_percentile(&hm, 75) == 2047.25, "p75 capped at absmax");
    hm.absmax = 2047.75;
    CHECK(oct_hist_percentile(&hm, 100) == 2047.75 && oct_hist_percentile(&hm, 0) == 0, "p100, p0");
    oct_tensor_stats st;
    oct_hist_stats(&hm, &st);
    CHECK(st.count == 0 && isnan(st.min) && st.p9999 > 2047, "stats of a hand-made histogram");
    free(x);
    free(y);
}

/* ======================= calibrators ======================= */

/* Entropy2, written plainly: P, Q and KL(P||Q) for every candidate. */
static double brute_entropy(const oct_histogram *h) {
    int n = h->nbins;
    double *P = malloc(n * sizeof *P), *Q = malloc(n * sizeof *Q);
    double gsum[128];
    int gcnt[128];
    double best = INFINITY;
    int best_i = -1;
    for (int i = 128; i <= n; i++) {
        double outl = 0, sp = 0, sq = 0;
        for (int k = i; k < n; k++)
            outl += (double)h->bins[k];
        for (int j = 0; j < i; j++)
            P[j] = (double)h->bins[j];
        P[i - 1] += outl;
        for (int g = 0; g < 128; g++)
            gsum[g] = 0, gcnt[g] = 0;
        for (int j = 0; j < i; j++) {
            int g = (int)floor((double)j * 128.0 / i);
            gsum[g] += (double)h->bins[j];
            if (h->bins[j] != 0) gcnt[g]++;
        }
        for (int j = 0; j < i; j++) {
            int g = (int)floor((double)j * 128.0 / i);
            Q[j] = h->bins[j] != 0 ? gsum[g] / gcnt[g] : 0;
        }
        /* the one smoothing: an empty last bin receiving outliers */
        if (P[i - 1] > 0 && Q[i - 1] == 0) Q[i - 1] = 1e-4;
        double below = 0; /* data below the last kept bin */
        for (int j = 0; j < i - 1; j++)
            below += (double)h->bins[j];
        if (below == 0) continue;
        for (int j = 0; j < i; j++)
            sp += P[j], sq += Q[j];
        double kl = 0;
        for (int j = 0; j < i; j++) {
            double p = P[j] / sp, q = sq > 0 ? Q[j] / sq : 0;
            if (p == 0) continue;
            if (q == 0) {
                kl = INFINITY;
                break;
            }
            kl += p * log(p / q);
        }
        if (kl < best) best = kl, best_i = i;
    }
    free(P);
    free(Q);
    if (best_i < 0) return h->absmax;
    double t = (best_i + 0.5) * h->range / n;
    return t < h->absmax ? t : h->absmax;
}

/* Expected squared error at every bin edge from 128 on, written plainly. */
static double brute_mse(const oct_histogram *h) {
    int n = h->nbins;
    double w = h->range / n, best = INFINITY, best_t = h->absmax;
    for (int j = 128; j <= n; j++) {
        double t = j * w, s = t / 127, e = 0;
        for (int k = 0; k < n; k++) {
            double c = (k + 0.5) * w;
            e += (double)h->bins[k] * (c < t ? s * s / 12 : (c - t) * (c - t));
        }
        if (e < best) best = e, best_t = t;
    }
    return best_t < h->absmax ? best_t : h->absmax;
}

static double run(const oct_calibrator *c, const oct_histogram *h, double pct) {
    oct_calib_params p;
    oct_error err;
    double amax = -1;
    oct_calib_params_default(&p);
    if (pct > 0) p.percentile = pct;
    if (c->threshold(h, &p, &amax, &err) != OCT_OK)
        printf("  %s failed: %s\n", c->name, err.message);
    return amax;
}

static void test_find(void) {
    oct_calib_params p;
    oct_error err;
    char spec[64];
    CHECK(oct_calibrator_find("minmax", &p, &err) == &oct_calib_minmax, "find minmax");
    CHECK(oct_calibrator_find("entropy", &p, &err) == &oct_calib_entropy, "find entropy");
    CHECK(oct_calibrator_find("mse", &p, &err) == &oct_calib_mse, "find mse");
    CHECK(oct_calibrator_find("percentile", &p, &err) == &oct_calib_percentile &&
              p.percentile == 99.99,
          "percentile default 99.99");
    CHECK(oct_calibrator_find("percentile:99.9", &p, &err) == &oct_calib_percentile &&
              p.percentile == 99.9,
          "percentile:99.9");
    oct_calibrator_spec(&oct_calib_percentile, &p, spec, sizeof spec);
    CHECK(strcmp(spec, "percentile:99.9") == 0, "canonical spec: %s", spec);
    CHECK(oct_calibrator_find("percentile:100", &p, &err) && p.percentile == 100, "percentile:100");
    const char *bad[] = {"percentile:",    "percentile:0",  "percentile:101", "percentile:abc",
                         "percentile:99x", "foo",           "minmax:3",       "",
                         "Entropy",        "percentile:nan"};
    for (int i = 0; i < 10; i++) {
        err.message[0] = 0;
        CHECK(!oct_calibrator_find(bad[i], &p, &err) && strstr(err.message, bad[i]),
              "bad spec '%s' refused: %s", bad[i], err.message);
    }
    CHECK(!oct_calibrator_find(NULL, &p, &err), "NULL spec refused");
    int n = 0;
    for (const oct_calibrator *const *c = oct_calibrator_list(); *c; c++)
        n++;
    CHECK(n == 4, "four calibrators listed");
}

typedef struct dataset {
    const char *name;
    size_t n;
    float *x;
} dataset;

static dataset make_data(int kind, size_t n) {
    dataset d = {"", n, malloc(n * sizeof(float))};
    for (size_t i = 0; i < n; i++) {
        double g = rng_gauss(), u = rng_uniform(), v;
        switch (kind) {
        case 0:
            d.name = "gaussian";
            v = g;
            break;
        case 1:
            d.name = "gaussian+outliers";
            v = i % 100000 == 3 ? 100.0 * (u < 0.5 ? -1 : 1) : g;
            break;
        case 2:
            d.name = "laplace";
            v = (u < 0.5 ? -1 : 1) * log(1 - rng_uniform() + 1e-300) * -0.7;
            break;
        case 3:
            d.name = "relu";
            v = g > 0 ? g * 2 : 0;
            break;
        case 4:
            d.name = "uniform";
            v = 8 * u - 4;
            break;
        case 5:
            d.name = "sparse-discrete";
            v = (double)(rng_u64() % 7) * 0.25 * (u < 0.3 ? 1 : 0) + (i == 0 ? 9 : 0);
            break;
        case 6:
            d.name = "bimodal";
            v = (u < 0.5 ? -3 : 2) + 0.3 * g;
            break;
        default:
            d.name = "sigmoid-like";
            v = 1 / (1 + exp(-(g * 3 - 6)));
            break;
        }
        d.x[i] = (float)v;
    }
    return d;
}

static void test_calibrators(void) {
    oct_error err;
    oct_histogram h;
    test_find();

    /* uniform: minmax is the max */
    dataset u = make_data(4, 200000);
    float m = 0;
    for (size_t i = 0; i < u.n; i++)
        m = fabsf(u.x[i]) > m ? fabsf(u.x[i]) : m;
    two_pass(&h, u.x, u.n, 0);
    CHECK(run(&oct_calib_minmax, &h, 0) == m, "minmax on uniform = max |x|");
    double p50 = run(&oct_calib_percentile, &h, 50);
    CHECK(fabs(p50 - 2.0) < 0.02, "median of |U(-4,4)| is 2: %g", p50);
    CHECK(run(&oct_calib_percentile, &h, 100) == m, "percentile:100 = minmax");
    oct_hist_free(&h);
    free(u.x);

    /* Gaussian + rare outliers at +-100 */
    dataset g = make_data(1, 1000000);
    two_pass(&h, g.x, g.n, 0);
    double mm = run(&oct_calib_minmax, &h, 0), pc = run(&oct_calib_percentile, &h, 0),
           en = run(&oct_calib_entropy, &h, 0), ms = run(&oct_calib_mse, &h, 0);
    printf("  gaussian+outliers: minmax %g percentile %g entropy %g mse %g\n", mm, pc, en, ms);
    CHECK(mm == 100.0, "minmax sits at the outliers");
    CHECK(pc > 3.5 && pc < 4.5, "percentile 99.99 ignores the outliers (~3.9 sigma): %g", pc);
    CHECK(en > 5 && en < 15, "entropy ignores the outliers: %g", en);
    CHECK(ms < 100, "mse below the outliers: %g", ms);
    oct_hist_free(&h);
    free(g.x);

    /* entropy and mse equal brute-force searches, on both histogram kinds */
    for (int kind = 0; kind < 8; kind++) {
        dataset d = make_data(kind, 200000);
        for (int mode = 0; mode < 2; mode++) {
            if (mode == 0) {
                two_pass(&h, d.x, d.n, 0);
            } else {
                oct_hist_init(&h, OCT_HIST_STREAMING, 0, &err);
                fill_hist(&h, d.x, d.n, 3000);
            }
            const char *mn = mode ? "streaming" : "two-pass";
            double e = run(&oct_calib_entropy, &h, 0), eb = brute_entropy(&h);
            CHECK(e == eb, "entropy = brute force on %s (%s): %.17g vs %.17g", d.name, mn, e, eb);
            double s = run(&oct_calib_mse, &h, 0), sb = brute_mse(&h);
            CHECK(s == sb, "mse = brute force on %s (%s): %.17g vs %.17g", d.name, mn, s, sb);
            CHECK(e > 0 && e <= h.absmax && s > 0 && s <= h.absmax,
                  "thresholds within (0, absmax]");
            oct_hist_free(&h);
        }
        free(d.x);
    }

    /* entropy conventions on hand-made histograms */
    int64_t bins[OCT_HIST_BINS] = {0};
    oct_histogram hm = {0};
    hm.nbins = OCT_HIST_BINS;
    hm.bins = bins;
    hm.range = 2048; /* bin width 1 */
    hm.absmax = 2048;
    hm.binning = 1;
    bins[0] = 100;
    hm.total = 100;
    CHECK(run(&oct_calib_entropy, &hm, 0) == 128.5,
          "all candidates tie: the first wins, T = (128 + 0.5) w");
    bins[2047] = 10;
    hm.total = 110;
    /* clipping 10 of 110 values into an empty bin costs more than keeping
     * the range: i = nbins (no clipping) has KL 0 */
    CHECK(run(&oct_calib_entropy, &hm, 0) == 2048, "a far cluster is kept");
    CHECK(brute_entropy(&hm) == 2048, "brute force agrees");
    /* a ragged bulk in bins 0..127 and one far outlier: clipping it into the
     * empty bin 127... costs little, coarser groups cost more */
    for (int j = 0; j < 128; j++)
        bins[j] = 1000 + (j * 37 % 101) * 10;
    bins[0] = 100;
    bins[2047] = 1;
    hm.total = 0;
    for (int j = 0; j < OCT_HIST_BINS; j++)
        hm.total += bins[j];
    double t = run(&oct_calib_entropy, &hm, 0);
    CHECK(t == 128.5 && brute_entropy(&hm) == t, "a rare outlier is clipped: %g", t);
    bins[127] = 0; /* now the clipped outlier lands in an empty bin */
    hm.total -= 1000 + (127 * 37 % 101) * 10;
    t = run(&oct_calib_entropy, &hm, 0);
    CHECK(t < 200 && brute_entropy(&hm) == t, "a rare outlier is clipped into a gap: %g", t);
    /* data far from 0, e.g. U(2, 4): the candidates whose kept range holds
     * data only in its last bin (P = Q = one spike, KL 0) are skipped */
    memset(bins, 0, sizeof bins);
    for (int j = 1024; j < 2048; j++)
        bins[j] = 1000 + j % 7;
    hm.total = 0;
    for (int j = 0; j < OCT_HIST_BINS; j++)
        hm.total += bins[j];
    t = run(&oct_calib_entropy, &hm, 0);
    CHECK(t == brute_entropy(&hm) && t > 2000, "U(2,4) is not clipped to its lowest bin: %g", t);
    memset(bins, 0, sizeof bins);
    bins[2047] = 50;
    hm.total = 50;
    CHECK(run(&oct_calib_entropy, &hm, 0) == 2048, "a constant tensor keeps its value");
    memset(bins, 0, sizeof bins);
    hm.total = 0;
    CHECK(run(&oct_calib_entropy, &hm, 0) == 2048 && run(&oct_calib_mse, &hm, 0) == 2048,
          "empty histogram: absmax");

    /* all-zero tensor: amax falls back to 1 */
    float z[100] = {0};
    double amax;
    float scale;
    two_pass(&h, z, 100, 0);
    for (const oct_calibrator *const *c = oct_calibrator_list(); *c; c++) {
        oct_calib_params p;
        oct_calib_params_default(&p);
        CHECK(oct_calibrate(*c, &h, &p, &amax, &scale, &err) == OCT_OK && amax == 1.0 &&
                  scale == oct_scale_s8(1.0),
              "%s on zeros: amax %g", (*c)->name, amax);
    }
    oct_hist_free(&h);

    /* asymmetric: each sign on its own */
    dataset bm = make_data(6, 100000);
    two_pass(&h, bm.x, bm.n, OCT_HIST_SIGNED);
    double lo, hi;
    int32_t zp;
    oct_calib_params p;
    oct_calib_params_default(&p);
    CHECK(oct_calibrate_asym(&oct_calib_minmax, &h, &p, &lo, &hi, &scale, &zp, &err) == OCT_OK &&
              lo == h.min && hi == h.max,
          "asymmetric minmax = [min, max]");
    float s2;
    int32_t z2;
    oct_asym_params_u8(lo, hi, &s2, &z2);
    CHECK(s2 == scale && z2 == zp, "asymmetric scale and zero point");
    CHECK(oct_calibrate_asym(&oct_calib_entropy, &h, &p, &lo, &hi, &scale, &zp, &err) == OCT_OK &&
              lo < -2 && lo >= h.min && hi > 1.5 && hi <= h.max,
          "asymmetric entropy: [%g, %g]", lo, hi);
    oct_hist_free(&h);
    two_pass(&h, bm.x, bm.n, 0);
    CHECK(oct_calibrate_asym(&oct_calib_minmax, &h, &p, &lo, &hi, &scale, &zp, &err) != OCT_OK,
          "asymmetric without a signed histogram is an error");
    oct_hist_free(&h);
    free(bm.x);

    /* speed of the histogram searches on a dense histogram */
    dataset sp = make_data(3, 1000000);
    two_pass(&h, sp.x, sp.n, 0);
    clock_t t0 = clock();
    for (int i = 0; i < 10; i++)
        run(&oct_calib_entropy, &h, 0);
    clock_t t1 = clock();
    for (int i = 0; i < 10; i++)
        run(&oct_calib_mse, &h, 0);
    clock_t t2 = clock();
    printf("  per tensor: entropy %.1f ms, mse %.1f ms\n", (double)(t1 - t0) / CLOCKS_PER_SEC * 100,
           (double)(t2 - t1) / CLOCKS_PER_SEC * 100);
    oct_hist_free(&h);
    free(sp.x);
}

/* ======================= TensorRT cache ======================= */

static void expect_cache_error(const char *name, const char *text, size_t len, const char *want) {
    char path[600];
    oct_trt_cache *c = (oct_trt_cache *)&path; /* must be reset to NULL */
    oct_error err = {0};
    tmp_path(path, sizeof path, "bad.cache");
    write_text(path, text, len);
    oct_status st = oct_trt_cache_read(path, &c, &err);
    CHECK(st != OCT_OK && c == NULL && strstr(err.message, want), "%s: '%s' (wanted '%s')", name,
          err.message, want);
}

static void test_trt_cache(void) {
    char path[600], hex[9];
    oct_error err;
    float ex = oct_bits_f32(0x3c010a14u);
    CHECK(fabs(ex - 0.0078759) < 5e-8 && fabs(ex * 127.0 - 1.0002) < 5e-5,
          "3c010a14 decodes to %.7g (amax %.5g)", (double)ex, ex * 127.0);
    oct_trt_scale_hex(ex, hex);
    CHECK(strcmp(hex, "3c010a14") == 0, "and encodes back: %s", hex);
    oct_trt_scale_hex(1.0f, hex);
    CHECK(strcmp(hex, "3f800000") == 0, "1.0 = 3f800000");

    tmp_path(path, sizeof path, "example.cache");
    const char *text = "TRT-8601-EntropyCalibration2\r\nimages: 3c010a14\r\n(Unnamed Layer* 4) "
                       "[Fully Connected]_output: 3d65992f\r\nconv1/Relu:0: 800000\r\n\r\n";
    write_text(path, text, strlen(text));
    oct_trt_cache *c = NULL;
    CHECK(oct_trt_cache_read(path, &c, &err) == OCT_OK, "read example: %s", err.message);
    if (c) {
        CHECK(c->version == 8601 && strcmp(c->algorithm, "EntropyCalibration2") == 0 && c->n == 3,
              "header and count");
        CHECK(strcmp(c->entries[0].name, "images") == 0 &&
                  oct_f32_bits(c->entries[0].scale) == 0x3c010a14u,
              "example entry decodes bit for bit");
        CHECK(strcmp(c->entries[1].name, "(Unnamed Layer* 4) [Fully Connected]_output") == 0,
              "names with spaces");
        CHECK(strcmp(c->entries[2].name, "conv1/Relu:0") == 0 &&
                  oct_f32_bits(c->entries[2].scale) == 0x800000u && c->entries[2].line == 4,
              "names with ':' split at the last one; short hex");
        oct_plan *p = oct_plan_new();
        CHECK(oct_trt_cache_to_plan(c, p, &err) == OCT_OK && p->n_tensors == 3, "to plan");
        CHECK(p->tensors[0].precision == OCT_PREC_INT8 &&
                  oct_f32_bits(p->tensors[0].scale) == 0x3c010a14u &&
                  p->tensors[0].amax == (double)ex * 127 &&
                  strcmp(p->tensors[0].method, "trt-cache:EntropyCalibration2") == 0,
              "imported tensor keeps the scale bits");
        CHECK(oct_scale_s8(p->tensors[0].amax) == p->tensors[0].scale,
              "amax/127 gives the scale back");
        oct_plan_free(p);
        oct_trt_cache_free(c);
    }

    /* round trip, custom header */
    int n = 500;
    oct_trt_entry *e = calloc((size_t)n, sizeof *e);
    char(*names)[32] = malloc((size_t)n * 32);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], 32, i % 3 ? "/model.%d/conv/Conv_output_0" : "t:%d", i);
        e[i].name = names[i];
        e[i].scale = i == 0 ? 0 : (float)ldexp(rng_uniform() + 0.5, -20 + (int)(rng_u64() % 30));
    }
    tmp_path(path, sizeof path, "rt.cache");
    CHECK(oct_trt_cache_write(path, 100700, "MinMaxCalibration", e, n, &err) == OCT_OK, "write: %s",
          err.message);
    c = NULL;
    CHECK(oct_trt_cache_read(path, &c, &err) == OCT_OK, "read back: %s", err.message);
    if (c) {
        int ok =
            c->n == n && c->version == 100700 && strcmp(c->algorithm, "MinMaxCalibration") == 0;
        for (int i = 0; ok && i < n; i++)
            ok &= strcmp(c->entries[i].name, names[i]) == 0 &&
                  oct_f32_bits(c->entries[i].scale) == oct_f32_bits(e[i].scale);
        CHECK(ok, "round trip keeps every name and scale bit for bit");
        oct_trt_cache_free(c);
    }
    size_t len;
    char *txt = read_text(path, &len);
    CHECK(txt && strncmp(txt, "TRT-100700-MinMaxCalibration\nt:0: 00000000\n", 43) == 0,
          "written layout");
    free(txt);
    CHECK(oct_trt_cache_write(path, 0, NULL, e, 2, &err) == OCT_OK, "defaults");
    txt = read_text(path, &len);
    CHECK(txt && strncmp(txt, "TRT-8601-EntropyCalibration2\n", 29) == 0, "default header");
    free(txt);
    e[1].name = names[0];
    CHECK(oct_trt_cache_write(path, 0, NULL, e, 3, &err) != OCT_OK && strstr(err.message, "twice"),
          "duplicate names refused on write");
    e[1].name = "a\nb";
    CHECK(oct_trt_cache_write(path, 0, NULL, e, 3, &err) != OCT_OK, "line break refused");
    e[1].name = names[1];
    e[1].scale = -1;
    CHECK(oct_trt_cache_write(path, 0, NULL, e, 3, &err) != OCT_OK, "negative scale refused");
    CHECK(oct_trt_cache_write(path, 0, "Entropy-2", e, 1, &err) != OCT_OK, "bad algorithm refused");
    free(e);
    free(names);

    /* from a plan: only int8 tensors, symmetric only */
    oct_plan *p = oct_plan_new();
    int a = oct_plan_add_tensor(p, "a"), b = oct_plan_add_tensor(p, "b");
    p->tensors[a].precision = OCT_PREC_INT8;
    p->tensors[a].amax = 2;
    p->tensors[a].scale = oct_scale_s8(2);
    p->tensors[b].precision = OCT_PREC_FP16;
    p->tensors[b].amax = 3;
    p->tensors[b].scale = oct_scale_s8(3);
    CHECK(oct_trt_cache_write_plan(p, path, 0, NULL, &err) == OCT_OK, "write plan cache");
    c = NULL;
    CHECK(oct_trt_cache_read(path, &c, &err) == OCT_OK && c->n == 1 &&
              strcmp(c->entries[0].name, "a") == 0 && c->entries[0].scale == oct_scale_s8(2),
          "only the int8 tensor");
    oct_trt_cache_free(c);
    p->tensors[b].precision = OCT_PREC_INT8;
    p->tensors[b].is_unsigned = 1;
    CHECK(oct_trt_cache_write_plan(p, path, 0, NULL, &err) != OCT_OK && strstr(err.message, "'b'"),
          "asymmetric tensor refused: %s", err.message);
    oct_plan_free(p);

    expect_cache_error("empty", "", 0, "empty");
    expect_cache_error("no header", "images: 3c010a14\n", 17, "line 1");
    expect_cache_error("bad version", "TRT-x-EntropyCalibration2\n", 26, "line 1");
    expect_cache_error("no algorithm", "TRT-8601-\n", 10, "line 1");
    expect_cache_error("bad hex", "TRT-8601-E\na: 3c01zz14\n", 23, "line 2");
    expect_cache_error("too many digits", "TRT-8601-E\na: 3c010a140\n", 24, "line 2");
    expect_cache_error("no colon", "TRT-8601-E\na 3c010a14\n", 22, "line 2");
    expect_cache_error("no value", "TRT-8601-E\na:\n", 14, "line 2");
    expect_cache_error("empty name", "TRT-8601-E\nok: 1\n: 3c010a14\n", 28, "line 3");
    expect_cache_error("NaN", "TRT-8601-E\na: 7fc00000\n", 23, "line 2");
    expect_cache_error("negative", "TRT-8601-E\na: bf800000\n", 23, "line 2");
    expect_cache_error("duplicate", "TRT-8601-E\na: 1\nb: 2\n\na: 3\n", 27,
                       "line 5: tensor 'a' already appears on line 2");
    expect_cache_error("NUL", "TRT-8601-E\na\0: 1\n", 17, "NUL");
    tmp_path(path, sizeof path, "missing.cache");
    c = (oct_trt_cache *)&err;
    CHECK(oct_trt_cache_read(path, &c, &err) == OCT_E_IO && c == NULL, "missing file: %s",
          err.message);
}

/* ======================= plan ======================= */

static const char *SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static oct_plan *full_plan(void) {
    oct_plan *p = oct_plan_new();
    memcpy(p->model_sha256, SHA, 65);
    p->model_path = strdup("models/yolov10n.onnx");
    p->method = strdup("percentile:99.999");
    p->scheme = strdup("compute");
    p->count = 128;
    p->data = strdup("../shared/data/coco \"128\"\\train");
    p->preprocess = strdup("yolo 640x640\tletterbox\nRGB \x01 \xc3\xa9");
    p->asymmetric = 1;
    p->weights = OCT_WEIGHTS_PER_TENSOR;
    int i = oct_plan_add_tensor(p, "images");
    oct_plan_tensor *t = &p->tensors[i];
    t->precision = OCT_PREC_INT8;
    t->amax = 1.0002;
    t->scale = oct_scale_s8(1.0002);
    t->method = strdup("entropy");
    t->has_stats = 1;
    t->stats = (oct_tensor_stats){-0.1, 1.0002, 1.0002, 0.987654321, 52428800, 3};
    i = oct_plan_add_tensor(p, "/model.23/Concat_3_output_0");
    t = &p->tensors[i];
    t->precision = OCT_PREC_INT8;
    t->is_unsigned = 1;
    t->min = -154.25;
    t->max = 810.1;
    oct_asym_params_u8(t->min, t->max, &t->scale, &t->zero_point);
    t->amax = 810.1; /* what the loader derives: max(-min, max) */
    t->has_stats = 1;
    t->stats = (oct_tensor_stats){-154.25, 810.1, 810.1, NAN, 1000, 0};
    i = oct_plan_add_tensor(p, "sig\"moid");
    t = &p->tensors[i];
    t->precision = OCT_PREC_FP16;
    t->amax = 0.1 + 0.2; /* needs 17 digits */
    t->scale = oct_scale_s8(t->amax);
    i = oct_plan_add_tensor(p, "plain");
    p->tensors[i].precision = OCT_PREC_FP32;
    i = oct_plan_add_tensor(p, "b");
    p->tensors[i].precision = OCT_PREC_BF16;
    oct_plan_add_node(p, "/model.0/conv/Conv", "Conv");
    oct_plan_add_node(p, "/model.23/Concat_3", "Concat");
    oct_plan_add_node(p, "noop", NULL);
    p->nodes[0].precision = OCT_PREC_INT8;
    p->nodes[1].precision = OCT_PREC_FP16;
    return p;
}

static int same_str(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}
static int same_num(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static int same_plan(const oct_plan *a, const oct_plan *b) {
    int ok = !strcmp(a->model_sha256, b->model_sha256) && same_str(a->model_path, b->model_path) &&
             same_str(a->method, b->method) && same_str(a->scheme, b->scheme) &&
             a->count == b->count && same_str(a->data, b->data) &&
             same_str(a->preprocess, b->preprocess) && a->asymmetric == b->asymmetric &&
             a->weights == b->weights && a->weight_bits == b->weight_bits &&
             a->n_tensors == b->n_tensors && a->n_nodes == b->n_nodes && a->version == b->version;
    for (int i = 0; ok && i < a->n_tensors; i++) {
        const oct_plan_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        ok &= !strcmp(x->name, y->name) && x->precision == y->precision && x->amax == y->amax &&
              oct_f32_bits(x->scale) == oct_f32_bits(y->scale) && x->zero_point == y->zero_point &&
              x->is_unsigned == y->is_unsigned && x->min == y->min && x->max == y->max &&
              x->has_stats == y->has_stats && same_str(x->method, y->method);
        if (x->has_stats)
            ok &= same_num(x->stats.min, y->stats.min) && same_num(x->stats.max, y->stats.max) &&
                  same_num(x->stats.absmax, y->stats.absmax) &&
                  same_num(x->stats.p9999, y->stats.p9999) && x->stats.count == y->stats.count &&
                  x->stats.nan_count == y->stats.nan_count;
        if (!ok) printf("  tensor %d ('%s') differs\n", i, x->name);
    }
    for (int i = 0; ok && i < a->n_nodes; i++)
        ok &= !strcmp(a->nodes[i].name, b->nodes[i].name) &&
              same_str(a->nodes[i].op_type, b->nodes[i].op_type) &&
              a->nodes[i].precision == b->nodes[i].precision;
    return ok;
}

static oct_status load_text(const char *text, oct_plan **p, oct_error *err) {
    char path[600];
    tmp_path(path, sizeof path, "edit.json");
    write_text(path, text, strlen(text));
    return oct_plan_load(path, p, err);
}

static void expect_plan_error(const char *text, const char *want) {
    oct_plan *p = (oct_plan *)&p;
    oct_error err = {0};
    oct_status st = load_text(text, &p, &err);
    CHECK(st != OCT_OK && p == NULL && strstr(err.message, want), "plan error: '%s' (wanted '%s')",
          err.message, want);
}

#define HEAD                                                                                       \
    "{\"format\": \"octet-plan\", \"version\": 1, \"model\": {\"sha256\": \""                      \
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}, "                        \
    "\"calibration\": {}, "

static void test_plan(void) {
    char path[600], path2[600];
    oct_error err;
    CHECK(oct_precision_parse("int8") == OCT_PREC_INT8 &&
              oct_precision_parse("bf16") == OCT_PREC_BF16 && oct_precision_parse("int4") == -1 &&
              oct_precision_parse(NULL) == -1,
          "precision names");
    CHECK(!strcmp(oct_precision_name(OCT_PREC_FP16), "fp16"), "precision name");

    oct_plan *p = full_plan();
    CHECK(oct_plan_add_tensor(p, "images") == 0 && oct_plan_find_tensor(p, "b") == 4 &&
              oct_plan_find_tensor(p, "zz") == -1 && oct_plan_add_tensor(p, "") == -1,
          "add/find tensors");
    CHECK(oct_plan_find_node(p, "noop") == 2 && oct_plan_add_node(p, "noop", "Identity") == 2 &&
              !strcmp(p->nodes[2].op_type, "Identity"),
          "add/find nodes");
    free(p->nodes[2].op_type);
    p->nodes[2].op_type = NULL;
    for (int i = 0; i < 3000; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "extra_%d", i);
        int k = oct_plan_add_tensor(p, nm);
        if (k != 5 + i) {
            CHECK(0, "bulk add returned %d", k);
            break;
        }
        p->tensors[k].precision = OCT_PREC_INT8;
        p->tensors[k].amax = 0.5 + i;
        p->tensors[k].scale = oct_scale_s8(0.5 + i);
    }
    tmp_path(path, sizeof path, "plan.json");
    tmp_path(path2, sizeof path2, "plan2.json");
    CHECK(oct_plan_save(p, path, &err) == OCT_OK, "save: %s", err.message);
    oct_plan *q = NULL;
    CHECK(oct_plan_load(path, &q, &err) == OCT_OK, "load: %s", err.message);
    CHECK(q && same_plan(p, q), "every field survives save + load");
    CHECK(q && oct_plan_save(q, path2, &err) == OCT_OK, "save again");
    size_t l1, l2;
    char *t1 = read_text(path, &l1), *t2 = read_text(path2, &l2);
    CHECK(t1 && t2 && l1 == l2 && !memcmp(t1, t2, l1), "saving a loaded plan gives the same bytes");
    CHECK(t1 && strstr(t1, "\"scale\": 0.007875591,") && strstr(t1, "\"amax\": 1.0002,") &&
              strstr(t1, "\"amax\": 0.30000000000000004"),
          "numbers written shortest-exact");
    CHECK(t1 && !strstr(t1, "p99.99\": nan") &&
              strstr(t1, "\"nodes\": {\n    \"/model.0/conv/Conv\": "
                         "{\"op\": \"Conv\", \"precision\": \"int8\"}"),
          "layout");
    oct_plan_free(q);

    /* truncations of the big file */
    int ok = 1;
    for (size_t cut = 0; cut < l1 - 2; cut += l1 / 97 + 1) {
        write_text(path2, t1, cut);
        q = NULL;
        ok &= oct_plan_load(path2, &q, &err) != OCT_OK && q == NULL;
    }
    CHECK(ok, "truncated plans are refused");
    write_text(path2, t1, 2000);
    CHECK(oct_plan_load(path2, &q, &err) != OCT_OK && strstr(err.message, "truncated") &&
              strstr(err.message, path2),
          "truncation message: %s", err.message);
    /* every single-byte corruption of a small plan: error or valid, never a crash */
    oct_plan *small = full_plan();
    CHECK(oct_plan_save(small, path, &err) == OCT_OK, "save small");
    free(t1);
    t1 = read_text(path, &l1);
    ok = 1;
    for (size_t cut = 0; t1 && cut < l1 - 2; cut++) {
        write_text(path2, t1, cut);
        q = NULL;
        ok &= oct_plan_load(path2, &q, &err) != OCT_OK && q == NULL;
    }
    CHECK(ok, "every truncation of a small plan is refused");
    int loaded = 0, refused = 0;
    for (size_t i = 0; t1 && i < l1; i++) {
        const char subs[] = {'"', '}', '1', '-'};
        for (int k = 0; k < 4; k++) {
            char save = t1[i];
            t1[i] = subs[k];
            write_text(path2, t1, l1);
            t1[i] = save;
            q = NULL;
            if (oct_plan_load(path2, &q, &err) == OCT_OK)
                loaded++;
            else
                refused++;
            oct_plan_free(q);
        }
    }
    printf("  byte corruptions: %d loaded, %d refused\n", loaded, refused);
    CHECK(refused > 0, "corruptions refused");
    oct_plan_free(small);
    free(t1);
    free(t2);
    oct_plan_free(p);

    /* hand edits */
    q = NULL;
    CHECK(load_text(HEAD
                    "\"tensors\": {\"x\": {\"precision\": \"int8\", \"amax\": 2}}, \"nodes\": {}}",
                    &q, &err) == OCT_OK &&
              q->tensors[0].scale == oct_scale_s8(2),
          "amax alone: %s", err.message);
    oct_plan_free(q);
    q = NULL;
    CHECK(
        load_text(HEAD
                  "\"tensors\": {\"x\": {\"precision\": \"int8\", \"scale\": 0.5}}, \"nodes\": {}}",
                  &q, &err) == OCT_OK &&
            q->tensors[0].amax == 63.5,
        "scale alone");
    oct_plan_free(q);
    q = NULL;
    CHECK(
        load_text(HEAD
                  "\"tensors\": {\"x\": {\"precision\": \"int8\", \"unsigned\": true, \"min\": -1, "
                  "\"max\": 3}}, \"nodes\": {}}",
                  &q, &err) == OCT_OK &&
            q->tensors[0].zero_point == 64 && q->tensors[0].scale == (float)(4.0 / 255),
        "min/max alone");
    oct_plan_free(q);
    q = NULL;
    CHECK(load_text(
              HEAD
              "\"tensors\": {\"x\": {\"precision\": \"int8\", \"unsigned\": true, \"scale\": 0.5, "
              "\"zero_point\": 10}}, \"nodes\": {}}",
              &q, &err) == OCT_OK &&
              q->tensors[0].min == -5 && q->tensors[0].max == 122.5,
          "unsigned scale alone");
    oct_plan_free(q);
    q = NULL;
    CHECK(load_text(HEAD "\"tensors\": {\"x\": {\"precision\": \"fp16\", \"amax\": 2, \"scale\": "
                         "0.0157480314}}, "
                         "\"nodes\": {\"n\": {\"precision\": \"bf16\"}}}",
                    &q, &err) == OCT_OK &&
              q->tensors[0].precision == OCT_PREC_FP16 && q->nodes[0].precision == OCT_PREC_BF16 &&
              !q->nodes[0].op_type,
          "precision edits; node without op");
    oct_plan_free(q);
    q = NULL;
    CHECK(
        load_text(
            HEAD
            "\"tensors\": {\"x\": {\"precision\": \"int8\", \"amax\": 2, \"scale\": 0.01574803}}, "
            "\"nodes\": {}}",
            &q, &err) == OCT_OK &&
            q->tensors[0].scale == 0.01574803f,
        "scale within float rounding of amax/127 is kept as written");
    oct_plan_free(q);

    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"amax\": 2, \"scale\": 0.02}}, "
             "\"nodes\": {}}",
        "tensors['x']: amax 2 and scale 0.0199999996 disagree");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"scale\": -0.1}}, \"nodes\": {}}",
        "edit.json: tensors['x'].scale: expected a positive number");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"scale\": 0}}, \"nodes\": {}}",
        "tensors['x'].scale: expected a positive number");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"scale\": \"0.1\"}}, \"nodes\": {}}",
        "tensors['x'].scale: expected a number");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"scale\": 1e-50}}, \"nodes\": {}}",
        "tensors['x'].scale");
    expect_plan_error(HEAD "\"tensors\": {\"x\": {\"precision\": \"int4\"}}, \"nodes\": {}}",
                      "tensors['x'].precision: expected one of");
    expect_plan_error(HEAD "\"tensors\": {\"x\": {\"precision\": 8}}, \"nodes\": {}}",
                      "tensors['x'].precision");
    expect_plan_error(HEAD "\"tensors\": {\"x\": {\"amax\": 1}}, \"nodes\": {}}",
                      "tensors['x']: missing \"precision\"");
    expect_plan_error(HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\"}}, \"nodes\": {}}",
                      "precision int8 needs \"amax\" or \"scale\"");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"amax\": 1, \"zero_point\": 3}}, "
             "\"nodes\": {}}",
        "zero_point: must be 0");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"unsigned\": true, \"scale\": 1, "
             "\"zero_point\": 300}}, \"nodes\": {}}",
        "zero_point: expected an integer in 0..255");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"unsigned\": true, \"amax\": 1}}, "
             "\"nodes\": {}}",
        "\"amax\" is for symmetric tensors");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"unsigned\": 1, \"amax\": 1}}, "
             "\"nodes\": {}}",
        "tensors['x'].unsigned: expected true or false");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"int8\", \"unsigned\": true, \"min\": -1, "
             "\"max\": 3, \"scale\": 0.1}}, \"nodes\": {}}",
        "give scale");
    expect_plan_error(
        HEAD
        "\"tensors\": {\"x\": {\"precision\": \"int8\", \"amax\": 1, \"precison\": \"fp16\"}}, "
        "\"nodes\": {}}",
        "tensors['x']: unknown key \"precison\"");
    expect_plan_error(HEAD
                      "\"tensors\": {\"x\": {\"precision\": \"int8\", \"amax\": 1, \"amax\": 2}}, "
                      "\"nodes\": {}}",
                      "key \"amax\" appears twice");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"fp32\"}, \"x\": {\"precision\": \"fp32\"}}, "
             "\"nodes\": {}}",
        "tensors['x']: appears twice");
    expect_plan_error(HEAD "\"tensors\": {\"\": {\"precision\": \"fp32\"}}, \"nodes\": {}}",
                      "empty name");
    expect_plan_error(HEAD "\"tensors\": {\"x\": 3}, \"nodes\": {}}",
                      "tensors['x']: expected an object");
    expect_plan_error(
        HEAD "\"tensors\": {\"x\": {\"precision\": \"fp32\", \"stats\": {\"count\": -1}}}, "
             "\"nodes\": {}}",
        "tensors['x'].stats.count: expected an integer");
    expect_plan_error(HEAD
                      "\"tensors\": {\"x\": {\"precision\": \"fp32\", \"stats\": {\"mean\": 1}}}, "
                      "\"nodes\": {}}",
                      "unknown key \"mean\"");
    expect_plan_error(HEAD "\"tensors\": {}, \"nodes\": {\"n\": {\"precision\": \"int16\"}}}",
                      "nodes['n'].precision");
    expect_plan_error(HEAD
                      "\"tensors\": {}, \"nodes\": {\"n\": {\"precision\": \"fp32\", \"op\": 3}}}",
                      "nodes['n'].op: expected a string");
    expect_plan_error(HEAD "\"tensors\": []}", "tensors: expected an object");
    expect_plan_error(HEAD "\"tensors\": {}}", "missing \"nodes\"");
    expect_plan_error(HEAD "\"tensors\": {}, \"nodes\": {}, \"extra\": 1}",
                      "unknown key \"extra\"");
    expect_plan_error("{\"format\": \"octet-plan\", \"version\": 2}", "plan version 2 is newer");
    expect_plan_error("{\"format\": \"octet-plan\", \"version\": 1.5}",
                      "version: expected a positive integer");
    expect_plan_error("{\"format\": \"onnx\", \"version\": 1}", "not an octet plan");
    expect_plan_error("[1, 2]", "expected a JSON object");
    expect_plan_error("", "empty file");
    expect_plan_error("  \n", "empty file");
    expect_plan_error("{\"format\": \"octet-plan\",\n \"version\": 1,,}", "line 2, column");
    expect_plan_error("{} trailing", "not valid JSON");
    expect_plan_error(
        "{\"format\": \"octet-plan\", \"version\": 1, \"model\": {\"sha256\": \"abc\"}}",
        "model.sha256: expected 64 hex digits");
    expect_plan_error(HEAD "\"tensors\": {}, \"nodes\": {}, \"calibration\": {}}",
                      "key \"calibration\" appears twice");
    expect_plan_error(
        "{\"format\": \"octet-plan\", \"version\": 1, \"model\": {\"sha256\": \"0123456789abcdef"
        "0123456789abcdef0123456789abcdef0123456789abcdef\"}, \"calibration\": {\"weights\": "
        "\"per-row\"}, \"tensors\": {}, \"nodes\": {}}",
        "calibration.weights");
#define WITH_CALIB(c)                                                                              \
    "{\"format\": \"octet-plan\", \"version\": 1, \"model\": {\"sha256\": \"0123456789abcdef"      \
    "0123456789abcdef0123456789abcdef0123456789abcdef\"}, \"calibration\": {" c                    \
    "}, \"tensors\": {}, \"nodes\": {}}"
    expect_plan_error(WITH_CALIB("\"weight_bits\": 5"),
                      "calibration.weight_bits: 5 is not supported; expected 4, 6, 7 or 8");
    expect_plan_error(WITH_CALIB("\"weight_bits\": 16"),
                      "calibration.weight_bits: 16 is not supported");
    expect_plan_error(WITH_CALIB("\"weight_bits\": 4.5"),
                      "calibration.weight_bits: 4.5 is not supported");
    expect_plan_error(WITH_CALIB("\"weight_bits\": 1e300"),
                      "calibration.weight_bits: 1e+300 is not supported");
    expect_plan_error(WITH_CALIB("\"weight_bits\": \"4\""),
                      "calibration.weight_bits: expected 4, 6, 7 or 8");
#undef WITH_CALIB
    expect_plan_error(
        "{\"format\": \"octet-plan\", \"version\": 1, \"model\": {\"sha256\": \"0123456789abcdef"
        "0123456789abcdef0123456789abcdef0123456789abcdef\"}, \"calibration\": {\"count\": "
        "-3}, \"tensors\": {}, \"nodes\": {}}",
        "calibration.count");
    char deep[5000];
    memset(deep, '[', sizeof deep);
    deep[sizeof deep - 1] = 0;
    expect_plan_error(deep, "not valid JSON");
    char nul[] = "{\"format\": \"octet-plan\"\0}";
    tmp_path(path, sizeof path, "nul.json");
    write_text(path, nul, sizeof nul - 1);
    q = NULL;
    CHECK(oct_plan_load(path, &q, &err) != OCT_OK && strstr(err.message, "NUL"), "NUL byte: %s",
          err.message);
    tmp_path(path, sizeof path, "does-not-exist.json");
    CHECK(oct_plan_load(path, &q, &err) == OCT_E_IO && strstr(err.message, "does-not-exist"),
          "missing file");

    /* save refuses plans that would not load */
    p = oct_plan_new();
    tmp_path(path, sizeof path, "bad.json");
    CHECK(oct_plan_save(p, path, &err) != OCT_OK && strstr(err.message, "sha256"),
          "save without sha");
    memcpy(p->model_sha256, SHA, 65);
    int k = oct_plan_add_tensor(p, "x");
    p->tensors[k].precision = OCT_PREC_INT8;
    CHECK(oct_plan_save(p, path, &err) != OCT_OK && strstr(err.message, "tensors['x']"),
          "save int8 without scale");
    p->tensors[k].amax = 2;
    CHECK(oct_plan_save(p, path, &err) == OCT_OK, "amax alone is saved with its scale: %s",
          err.message);
    q = NULL;
    CHECK(oct_plan_load(path, &q, &err) == OCT_OK && q->tensors[0].scale == oct_scale_s8(2),
          "and loads");
    oct_plan_free(q);
    p->tensors[k].scale = 0.5f;
    CHECK(oct_plan_save(p, path, &err) != OCT_OK && strstr(err.message, "disagree"),
          "save inconsistent");
    p->tensors[k].scale = oct_scale_s8(2);
    CHECK(oct_plan_save(p, path, &err) == OCT_OK, "save consistent");
    struct stat sb;
    char tmpf[620];
    snprintf(tmpf, sizeof tmpf, "%s.tmp", path);
    CHECK(stat(tmpf, &sb) != 0, "no temporary file left behind");
    tmp_path(path, sizeof path, "no-such-dir/plan.json");
    CHECK(oct_plan_save(p, path, &err) == OCT_E_IO, "unwritable path: %s", err.message);
    oct_plan_free(p);
}

/* weight_bits in the plan file: 4 and 6 round-trip, save refuses others,
 * a plan without the key is 8 */
static void test_plan_weight_bits(void) {
    char path[600], path2[600];
    oct_error err = {0};
    tmp_path(path, sizeof path, "plan.json");
    tmp_path(path2, sizeof path2, "plan2.json");
    const int bits_list[2] = {4, 6};
    for (int b = 0; b < 2; b++) {
        oct_plan *p = full_plan();
        p->weight_bits = bits_list[b];
        p->weights = b ? OCT_WEIGHTS_PER_TENSOR : OCT_WEIGHTS_PER_CHANNEL;
        oct_plan *q = NULL;
        CHECK(oct_plan_save(p, path, &err) == OCT_OK, "save weight_bits %d: %s", bits_list[b],
              err.message);
        CHECK(oct_plan_load(path, &q, &err) == OCT_OK && q->weight_bits == bits_list[b] &&
                  same_plan(p, q),
              "weight_bits %d survives save + load: %s", bits_list[b], err.message);
        CHECK(q && oct_plan_save(q, path2, &err) == OCT_OK, "save again");
        size_t l1 = 0, l2 = 0;
        char *t1 = read_text(path, &l1), *t2 = read_text(path2, &l2);
        char want[64];
        snprintf(want, sizeof want, "\"weight_bits\": %d\n", bits_list[b]);
        CHECK(t1 && t2 && l1 == l2 && !memcmp(t1, t2, l1) && strstr(t1, want), "written as %s",
              want);
        oct_plan *c = q ? oct_plan_clone(q) : NULL;
        CHECK(c && c->weight_bits == bits_list[b], "clone keeps weight_bits");
        free(t1);
        free(t2);
        oct_plan_free(c);
        oct_plan_free(q);
        oct_plan_free(p);
    }
    oct_plan *p = full_plan();
    const int bad[3] = {5, 16, -4};
    for (int b = 0; b < 3; b++) {
        p->weight_bits = bad[b];
        CHECK(oct_plan_save(p, path, &err) == OCT_E_INVALID_ARG &&
                  strstr(err.message, "calibration.weight_bits") &&
                  strstr(err.message, "4, 6, 7 or 8"),
              "save refuses weight_bits %d: %s", bad[b], err.message);
    }
    oct_plan_free(p);
    oct_plan *q = NULL;
    CHECK(load_text(HEAD "\"tensors\": {}, \"nodes\": {}}", &q, &err) == OCT_OK &&
              q->weight_bits == 8,
          "no weight_bits: 8");
    oct_plan_free(q);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        snprintf(tmpdir, sizeof tmpdir, "%s", argv[1]);
        mkdir(tmpdir, 0755);
    } else {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/octet_quant_XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            printf("cannot create a temporary folder: %s\n", strerror(errno));
            return 2;
        }
    }
    test_rounding();
    test_per_channel();
    test_weight_bits();
    test_fp16();
    test_bf16();
    test_histogram();
    test_calibrators();
    test_trt_cache();
    test_plan();
    test_plan_weight_bits();
    const char *files[] = {"bad.cache",  "example.cache", "rt.cache", "plan.json",
                           "plan2.json", "edit.json",     "nul.json", "bad.json"};
    char path[600];
    for (int i = 0; i < 8; i++) {
        tmp_path(path, sizeof path, files[i]);
        remove(path);
    }
    if (argc <= 1) rmdir(tmpdir);
    return check_summary();
}
