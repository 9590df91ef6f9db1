/* A small editor of ONNX files for passes that change a model's weights
 * (cross-layer equalization, bias correction): open a model, replace float
 * constants, add biases, split a Clip into per-channel bounds, write it.
 *
 * Nodes are named as octet's importer names them (an unnamed node is
 * "<op_type>_<index in the file>"), so names taken from an imported oct_graph
 * find their node here. Values are written as raw_data, little-endian.
 * Every edit is done in the unpacked ModelProto through proto_edit, so close
 * frees exactly what was allocated; a failed edit leaves the model
 * writable but possibly half-edited. */
#ifndef OCT_ONNX_MODEL_EDIT_H
#define OCT_ONNX_MODEL_EDIT_H

#include <stddef.h>

#include "core/error.h"

typedef struct oct_model_edit oct_model_edit;

oct_status oct_model_edit_open(const char *path, oct_model_edit **out, oct_error *err);
/* Same from bytes (borrowed for the duration of the call). */
oct_status oct_model_edit_open_memory(const void *data, size_t size, oct_model_edit **out,
                                      oct_error *err);
void oct_model_edit_close(oct_model_edit *e); /* NULL is accepted */

/* Replaces the values of the float32 initializer `name`, or of the `value`
 * tensor of the Constant node producing `name`. n must be its element count;
 * the shape stays. A tensor stored as external data is stored inline after. */
oct_status oct_model_edit_set_tensor(oct_model_edit *e, const char *name, const float *data,
                                     size_t n, oct_error *err);

/* The bias of a Conv, ConvTranspose or Gemm node: its bias tensor's values
 * are replaced (a Gemm's C must be 1-D [N]), or, when the node has none, a
 * new initializer "<node>_bias" (made unique) of shape [n] becomes its third
 * input. n must be the node's output channel count when its weights say it.
 * A bias tensor read by other nodes changes for them too. */
oct_status oct_model_edit_set_bias(oct_model_edit *e, const char *node_name, const float *bias,
                                   size_t n, oct_error *err);

/* Replaces the Clip node `node_name` by Max(x, LO) -> Min(., HI) with LO and
 * HI new [1, channels, 1, 1] initializers holding lo and hi (use -INFINITY /
 * INFINITY for no bound), named "<clip>_max" / "<clip>_min", the
 * intermediate "<clip>_max_out". The Min writes the Clip's output tensor, so
 * readers and graph outputs are unaffected. The caller guarantees the
 * Clip's input is NCHW with `channels` channels. Needs opset >= 8 (Max and
 * Min broadcast from there). The Clip's bound initializers are dropped when
 * nothing else reads them. */
oct_status oct_model_edit_clip_per_channel(oct_model_edit *e, const char *node_name,
                                           const float *lo, const float *hi, int channels,
                                           oct_error *err);

oct_status oct_model_edit_write(oct_model_edit *e, const char *path, oct_error *err);
/* *bytes is malloc'ed; the caller frees it. */
oct_status oct_model_edit_write_memory(oct_model_edit *e, void **bytes, size_t *len,
                                       oct_error *err);

#endif
