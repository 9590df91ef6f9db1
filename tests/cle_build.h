/* Small ONNX models for the CLE and model_edit tests, written with the
 * protobuf-c structs (tests/cle_build.c). Allocation failures end the test
 * program: they are not what is tested. */
#ifndef OCT_TESTS_CLE_BUILD_H
#define OCT_TESTS_CLE_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct tb tb;

tb *tb_new(int64_t opset);
/* A float32 graph input of a fixed shape, or an output (shape left to
 * inference). */
void tb_input(tb *b, const char *name, int nd, const int64_t *dims);
void tb_output(tb *b, const char *name);
/* A float32 initializer, in raw_data or (float_data = 1) in float_data. */
void tb_tensor(tb *b, const char *name, int nd, const int64_t *dims, const float *v,
               int float_data);
Onnx__NodeProto *tb_node(tb *b, const char *op, const char *name, int n_in, const char *const *in,
                         const char *out);
void tb_attr_int(tb *b, Onnx__NodeProto *n, const char *name, int64_t v);
void tb_attr_float(tb *b, Onnx__NodeProto *n, const char *name, float v);
void tb_attr_ints(tb *b, Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v);
/* A Constant node `out` holding a float32 tensor stored in float_data. */
void tb_constant(tb *b, const char *name, const char *out, int nd, const int64_t *dims,
                 const float *v);
/* Conv `name` reading `in`, weights "<name>_w" (cout x cin/group x k x k)
 * with per-row and per-column magnitudes spread over e^-3..e^3 so CLE has
 * something to equalize, bias "<name>_b" when `bias`, "same" padding. */
void tb_conv(tb *b, const char *name, const char *in, const char *out, int cin, int cout, int k,
             int group, int bias);
/* Packs the model (malloc'ed bytes) and frees the builder. */
unsigned char *tb_finish(tb *b, size_t *len);

/* Deterministic xorshift numbers: uniform in [0, 1). */
float tb_rand(void);

#endif
