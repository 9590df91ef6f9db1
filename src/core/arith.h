/* The one home of octet's number conversions: rounding, saturation, half and
 * bfloat16 conversion, quantization. Kernels, calibrators and tests all use
 * these, so a quantized value means the same thing everywhere. */
#ifndef OCT_CORE_ARITH_H
#define OCT_CORE_ARITH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t oct_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float oct_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round half to even, as ONNX QuantizeLinear and IEEE default rounding do.
 * nearbyintf honours the current rounding mode, which octet never changes. */
static inline float oct_round_half_even(float x) { return nearbyintf(x); }

static inline int32_t oct_sat_i32(double v, int32_t lo, int32_t hi) {
    if (v != v) return 0;
    if (v < lo) return lo;
    if (v > hi) return hi;
    return (int32_t)v;
}

/* clamp(round_half_even(x / scale) + zp, lo, hi): ONNX QuantizeLinear. */
static inline int32_t oct_quantize(float x, float scale, int32_t zp, int32_t lo, int32_t hi) {
    float q = oct_round_half_even(x / scale);
    return oct_sat_i32((double)q + zp, lo, hi);
}
static inline int8_t oct_quantize_s8(float x, float scale) {
    return (int8_t)oct_quantize(x, scale, 0, -128, 127);
}
/* Round half to even for |x| <= 2^22: adding and removing 1.5 * 2^23 leaves
 * the nearest integer, ties to even, in the default rounding mode (octet
 * never builds with -ffast-math, which could fold it away). Unlike
 * nearbyintf this vectorizes: the simulation rounds every activation. */
static inline float oct_round_half_even_small(float x) {
    const float magic = 12582912.0f;
    return (x + magic) - magic;
}
/* clamp(round_half_even(q), lo, hi) == round_half_even(clamp(q, lo, hi)) for
 * integer bounds. q is x / scale before the zero point is added; NaN gets
 * code 0, i.e. q = -zero_point, as oct_sat_i32 does. */
static inline float oct_fake_quant_code(float q, float lo, float hi, float zero_point) {
    q = q == q ? q : -zero_point;
    q = q < lo ? lo : q;
    q = q > hi ? hi : q;
    return oct_round_half_even_small(q);
}
/* Fake quantization: the value an int8 engine represents x by; the same
 * numbers as oct_quantize_s8(x, scale) * scale (tested). */
static inline float oct_fake_quant_s8(float x, float scale) {
    return oct_fake_quant_code(x / scale, -128.0f, 127.0f, 0.0f) * scale;
}

/* IEEE binary16 -> binary32, exact for every input incl. subnormals/NaN. */
/* Branch-free float helpers that gcc vectorizes without -ffast-math (float
 * ?: and libm's expf stop it). sel: c ? a : b for c in {0, 1}. clamp maps
 * NaN to lo (a float-to-int conversion of NaN would be undefined). */
static inline float oct_sel_f32(int c, float a, float b) {
    uint32_t m = 0u - (uint32_t)c;
    return oct_bits_f32((oct_f32_bits(a) & m) | (oct_f32_bits(b) & ~m));
}
static inline float oct_clamp_f32(float x, float lo, float hi) {
    x = oct_sel_f32(x >= lo, x, lo);
    return oct_sel_f32(x <= hi, x, hi);
}
/* 2^x for x in [-126, 126] (clamped), relative error below 2e-7: the
 * Taylor series of e^(f ln 2) to f^6 on the fractional part f in
 * [-0.5, 0.5] (the next term is below 1.2e-7), times 2^round(x). */
static inline float oct_exp2f_poly(float x) {
    x = oct_clamp_f32(x, -126.0f, 126.0f);
    float r = oct_round_half_even_small(x);
    float f = x - r;
    float p = 1.0f + f * (0.69314718f +
                          f * (0.24022651f +
                               f * (0.055504109f + f * (0.0096181291f + f * (0.0013333558f + f * 1.5403530e-4f)))));
    return p * oct_bits_f32((uint32_t)((int32_t)r + 127) << 23);
}
/* The logistic sigmoid in float through oct_exp2f_poly (within 3e-7
 * relative of the double-precision value; NaN stays NaN): the fast
 * kernels' Sigmoid; the reference kernel keeps double. */
static inline float oct_sigmoidf(float x) {
    float y = 1.0f / (1.0f + oct_exp2f_poly(-1.44269504f * x));
    return oct_sel_f32(x == x, y, x);
}

static inline float oct_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400u)) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ffu;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return oct_bits_f32(bits);
}

/* binary32 -> binary16 with round-to-nearest-even, overflow to inf,
 * gradual underflow to subnormals, NaN kept quiet. */
static inline uint16_t oct_f32_to_f16(float f) {
    uint32_t x = oct_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) { /* below the smallest normal half: subnormal */
        if (absx < 0x33000000u) return (uint16_t)sign; /* < 2^-25: rounds to 0 */
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14 + (113 - e) */
        uint32_t r = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = absx - 0x38000000u; /* rebias exponent 127 -> 15 */
    uint32_t h = r >> 13;
    uint32_t rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}
/* Round a float to the nearest half and back (FP16 simulation). */
static inline float oct_round_f16(float f) { return oct_f16_to_f32(oct_f32_to_f16(f)); }

static inline float oct_bf16_to_f32(uint16_t b) { return oct_bits_f32((uint32_t)b << 16); }
static inline uint16_t oct_f32_to_bf16(float f) {
    uint32_t x = oct_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    uint32_t lsb = (x >> 16) & 1u;
    x += 0x7fffu + lsb;
    return (uint16_t)(x >> 16);
}
static inline float oct_round_bf16(float f) { return oct_bf16_to_f32(oct_f32_to_bf16(f)); }

/* ---- int8 quantization parameters and per-channel helpers ---- */

/* Symmetric step for the range [-amax, amax] over the codes -qmax..qmax:
 * amax / qmax, divided in double and rounded once to float (TensorRT's
 * dynamic range / 127 for int8). */
static inline float oct_scale_sym(double amax, int32_t qmax) {
    return (float)(amax / (double)qmax);
}
static inline float oct_scale_s8(double amax) { return oct_scale_sym(amax, 127); }

/* The amax given to a tensor or channel whose calibrated amax cannot give a
 * usable scale: always zero, NaN, infinite, or so small that amax / 127 is
 * not a normal float. Any positive scale represents 0 exactly; a normal one
 * keeps plans, Q/DQ exports and TensorRT caches valid. The test is on
 * amax / 127 for every weight width: a usable amax then also gives a normal
 * amax / 31 and amax / 7, and 8-bit weights keep the fallbacks they had. */
#define OCT_AMAX_FALLBACK 1.0
static inline double oct_amax_usable(double amax) {
    if (!(amax > 0) || !isfinite(amax)) return OCT_AMAX_FALLBACK;
    float s = oct_scale_s8(amax);
    if (!isnormal(s)) return OCT_AMAX_FALLBACK;
    return amax;
}

/* Asymmetric uint8 parameters for [lo, hi], ONNX Runtime's scheme: the range
 * is widened to include 0, scale = (hi - lo) / 255 rounded to float, and
 * zero_point = round_half_even(-lo / scale) clamped to 0..255, computed from
 * that float scale so 0 is represented exactly. A range whose scale is not
 * a normal float (e.g. lo == hi == 0) gets scale 1, zero point 0. */
static inline void oct_asym_params_u8(double lo, double hi, float *scale, int32_t *zero_point) {
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    float s = (float)((hi - lo) / 255.0);
    if (!isnormal(s)) {
        *scale = 1.0f;
        *zero_point = 0;
        return;
    }
    *scale = s;
    *zero_point = oct_sat_i32(nearbyint(-lo / (double)s), 0, 255);
}
static inline uint8_t oct_quantize_u8(float x, float scale, int32_t zero_point) {
    return (uint8_t)oct_quantize(x, scale, zero_point, 0, 255);
}
/* QuantizeLinear then DequantizeLinear with the same scale and zero point,
 * in one step; lo and hi are the codes' range minus the zero point. The
 * same numbers as the reference pair (kernels/ref/quantize_linear.c), which
 * stores c + zero_point for c = oct_fake_quant_code(x / scale, ...) and
 * reads back (float)(q - zero_point) * scale: c is an integer within 16
 * bits, so the round trip through the code is exact, and c is never -0
 * (the rounding adds and removes a constant), just as (float)(q - zp) is
 * not. */
static inline float oct_fake_quant_zp(float x, float scale, float lo, float hi, float zero_point) {
    return oct_fake_quant_code(x / scale, lo, hi, zero_point) * scale;
}
static inline float oct_fake_quant_u8(float x, float scale, int32_t zero_point) {
    return oct_fake_quant_zp(x, scale, (float)-zero_point, (float)(255 - zero_point),
                             (float)zero_point);
}

/* Views a dense row-major shape as [outer, channels, inner] around axis
 * (negative counts from the end), the layout per-channel scales index.
 * Returns 0, or -1 when axis is out of range or a dimension is negative. */
static inline int oct_axis_split(const int64_t *dims, int ndim, int axis, size_t *outer,
                                 size_t *channels, size_t *inner) {
    if (axis < 0) axis += ndim;
    if (ndim < 1 || axis < 0 || axis >= ndim) return -1;
    size_t o = 1, in = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 0) return -1;
        if (d < axis) o *= (size_t)dims[d];
        if (d > axis) in *= (size_t)dims[d];
    }
    *outer = o;
    *channels = (size_t)dims[axis];
    *inner = in;
    return 0;
}

/* amax[c] = max |x[o][c][i]| over o and i; NaN is ignored. */
static inline void oct_absmax_channels(const float *x, size_t outer, size_t channels,
                                       size_t inner, float *amax) {
    for (size_t c = 0; c < channels; c++) amax[c] = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            const float *p = x + (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++) {
                float a = fabsf(p[i]);
                if (a > amax[c]) amax[c] = a;
            }
        }
}

/* ---- symmetric weights of 4, 6, 7 or 8 bits (stored as int8 codes) ---- */

/* Weight widths a plan may ask for (calibration.weight_bits). */
/* 7: every code within +-63, which a CPU without VNNI multiplies in one
 * exact pass on a signed input (src/backends/dnnl/dnnl_conv_int8.c) */
static inline int oct_weight_bits_valid(int bits) { return bits == 4 || bits == 6 || bits == 7 || bits == 8; }
/* Largest code of a symmetric signed bits-wide weight, 2^(bits-1) - 1: 127,
 * 31 or 7. */
static inline int32_t oct_qmax_bits(int bits) { return (int32_t)((1u << (bits - 1)) - 1u); }

/* Narrow range, -qmax..qmax: clamp(round_half_even(x / scale), -qmax, qmax).
 * The range is symmetric so that negating a weight negates its code; for
 * finite x and scale = max|x| / qmax it is the same code as the full int8
 * range gives at qmax 127. */
static inline int8_t oct_quantize_sym(float x, float scale, int32_t qmax) {
    return (int8_t)oct_quantize(x, scale, 0, -qmax, qmax);
}
/* The same numbers as oct_quantize_sym(x, scale, qmax) * scale. */
static inline float oct_fake_quant_sym(float x, float scale, int32_t qmax) {
    return oct_fake_quant_code(x / scale, (float)-qmax, (float)qmax, 0.0f) * scale;
}
/* Per channel: q[o][c][i] = quantize_sym(x[o][c][i], scale[c], qmax). */
static inline void oct_quantize_sym_channels(const float *x, int8_t *q, size_t outer,
                                             size_t channels, size_t inner, const float *scale,
                                             int32_t qmax) {
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            size_t base = (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++)
                q[base + i] = oct_quantize_sym(x[base + i], scale[c], qmax);
        }
}
/* In place: x[o][c][i] = fake_quant_sym(x[o][c][i], scale[c], qmax). */
static inline void oct_fake_quant_sym_channels(float *x, size_t outer, size_t channels,
                                               size_t inner, const float *scale, int32_t qmax) {
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            float *p = x + (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++)
                p[i] = oct_fake_quant_sym(p[i], scale[c], qmax);
        }
}

/* Per-channel symmetric int8: q[o][c][i] = quantize_s8(x[o][c][i], scale[c]). */
static inline void oct_quantize_s8_channels(const float *x, int8_t *q, size_t outer,
                                            size_t channels, size_t inner, const float *scale) {
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            size_t base = (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++) q[base + i] = oct_quantize_s8(x[base + i], scale[c]);
        }
}
/* In place: x[o][c][i] = fake_quant_s8(x[o][c][i], scale[c]). */
static inline void oct_fake_quant_s8_channels(float *x, size_t outer, size_t channels,
                                              size_t inner, const float *scale) {
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < channels; c++) {
            float *p = x + (o * channels + c) * inner;
            for (size_t i = 0; i < inner; i++) p[i] = oct_fake_quant_s8(p[i], scale[c]);
        }
}

/* ---- int8 codes from one scale to another (backends/cpu/cpu_q8.c) ---- */

/* The code under s_out of the value that code q stands for under s_in, bit
 * for bit as the simulation gets it: it holds the float (float)q * s_in and
 * fake-quantizes that with s_out. With s_in == s_out it is q ((q * s) / s
 * is within two float roundings of q, |q| <= 128, so it rounds back). */
/* oct_fake_quant_code(q, -128, 127, 0), the same value for every q (NaN:
 * code 0), branch-free so that loops over it vectorize. */
static inline float oct_fake_quant_code_s8(float q) {
    q = oct_sel_f32(q == q, q, 0.0f);
    return oct_round_half_even_small(oct_clamp_f32(q, -128.0f, 127.0f));
}
static inline int8_t oct_requant_s8(int8_t q, float s_in, float s_out) {
    return (int8_t)oct_fake_quant_code_s8(((float)q * s_in) / s_out);
}

#endif
