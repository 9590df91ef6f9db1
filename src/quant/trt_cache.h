/* TensorRT calibration cache (the text file `trtexec --calib` and
 * IInt8Calibrator::readCalibrationCache use):
 *   TRT-<version>-<algorithm>
 *   <tensor name>: <hhhhhhhh>
 * where hhhhhhhh is the float32 bit pattern of the scale in hex, most
 * significant digit first (the dynamic range is scale * 127). TensorRT
 * ignores a cache whose version or algorithm differs from its calibrator's,
 * hence the options. */
#ifndef OCT_QUANT_TRT_CACHE_H
#define OCT_QUANT_TRT_CACHE_H

#include <stdint.h>

#include "core/error.h"
#include "quant/plan.h"

#define OCT_TRT_CACHE_VERSION 8601 /* TensorRT 8.6.1 */
#define OCT_TRT_CACHE_ALGORITHM "EntropyCalibration2"

typedef struct oct_trt_entry {
    char *name;
    float scale;
    int line; /* where it was read (0 when not read from a file) */
} oct_trt_entry;

typedef struct oct_trt_cache {
    int64_t version;
    char *algorithm;
    int n;
    oct_trt_entry *entries;
} oct_trt_cache;

/* "3c010a14" for 0.0078759f: 8 lowercase hex digits and a NUL. */
void oct_trt_scale_hex(float scale, char out[9]);

/* Writes the header and one line per entry, in order. version <= 0 and
 * algorithm NULL mean the defaults above. Refuses names that are empty or
 * hold a line break, duplicate names, and scales that are negative, NaN or
 * infinite. */
oct_status oct_trt_cache_write(const char *path, int64_t version, const char *algorithm,
                               const oct_trt_entry *entries, int n, oct_error *err);
/* Writes every int8 tensor of the plan (its scale), in plan order. An
 * asymmetric (uint8) int8 tensor is an error: TensorRT's INT8 is symmetric. */
oct_status oct_trt_cache_write_plan(const oct_plan *p, const char *path, int64_t version,
                                    const char *algorithm, oct_error *err);

/* Reads a cache strictly: a bad header, a line that is not `name: hex` with
 * 1 to 8 hex digits, an empty name, a negative/NaN/infinite scale or a
 * repeated name is an error naming the line. Blank lines are skipped; CRLF
 * is accepted. The name is everything before the line's last ':' (ONNX
 * names such as "x:0" keep their colon). */
oct_status oct_trt_cache_read(const char *path, oct_trt_cache **out, oct_error *err);
void oct_trt_cache_free(oct_trt_cache *c);

/* Makes each cached tensor int8 in the plan (added when absent) with the
 * cached scale bit for bit and amax = scale * 127 (exact in double); a zero
 * scale gets the OCT_AMAX_FALLBACK range like any always-zero tensor. The
 * method is set to "trt-cache:<algorithm>". Name checks against the model
 * are the caller's. */
oct_status oct_trt_cache_to_plan(const oct_trt_cache *c, oct_plan *p, oct_error *err);

#endif
