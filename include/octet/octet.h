/*
 * octet: make neural networks work in INT8.
 *
 * The one public C API. The CLI (tools/octet) and the tests use nothing else.
 *
 * Conventions
 * - Every fallible call returns an oct_status; OCT_OK is 0.
 * - Every fallible call takes an optional `oct_error *err` as its last
 *   argument. When it is not NULL and the call fails, err->status and
 *   err->message say what went wrong (which node, which input, what was
 *   expected). The library keeps no error state of its own, so calls on
 *   different handles are safe from different threads.
 * - Handles are opaque. Whoever gets a handle from a *_load / *_create call
 *   owns it and releases it with the matching *_free (NULL is accepted).
 * - Bad input (a corrupt model, a wrong shape, a missing file) never aborts
 *   the process: it is reported through the status.
 */
#ifndef OCTET_OCTET_H
#define OCTET_OCTET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OCT_VERSION_MAJOR 0
#define OCT_VERSION_MINOR 1
#define OCT_VERSION_PATCH 0

/* Maximum tensor rank octet handles. */
#define OCT_MAX_DIMS 8

typedef enum oct_status {
    OCT_OK = 0,
    OCT_E_INVALID_ARG = 1, /* a caller-supplied argument is wrong */
    OCT_E_IO = 2,          /* a file could not be opened, read or written */
    OCT_E_PARSE = 3,       /* a file is not what it claims to be */
    OCT_E_UNSUPPORTED = 4, /* an op, attribute or data type octet does not implement */
    OCT_E_SHAPE = 5,       /* shapes or dtypes do not fit */
    OCT_E_NOMEM = 6,       /* an allocation failed */
    OCT_E_RUNTIME = 7,     /* a kernel failed while running */
    OCT_E_NOT_FOUND = 8,   /* a named input, output or tensor does not exist */
    OCT_E_DYNAMIC = 9      /* a shape depends on values not known yet (internal) */
} oct_status;

/* Data types; the values are ONNX's TensorProto.DataType codes. */
typedef enum oct_dtype {
    OCT_UNDEFINED = 0,
    OCT_FLOAT = 1,
    OCT_UINT8 = 2,
    OCT_INT8 = 3,
    OCT_UINT16 = 4,
    OCT_INT16 = 5,
    OCT_INT32 = 6,
    OCT_INT64 = 7,
    OCT_STRING = 8,
    OCT_BOOL = 9,
    OCT_FLOAT16 = 10,
    OCT_DOUBLE = 11,
    OCT_UINT32 = 12,
    OCT_UINT64 = 13,
    OCT_BFLOAT16 = 16
} oct_dtype;

#define OCT_ERROR_MAX 1024
typedef struct oct_error {
    oct_status status;
    char message[OCT_ERROR_MAX];
} oct_error;

/* A borrowed view of a tensor: dense, row-major. */
typedef struct oct_tensor_view {
    oct_dtype dtype;
    int ndim;
    int64_t dims[OCT_MAX_DIMS];
    void *data;
} oct_tensor_view;

typedef struct oct_model oct_model;
typedef struct oct_session oct_session;

/* ---- utilities --------------------------------------------------------- */
const char *oct_status_name(oct_status s);
const char *oct_dtype_name(oct_dtype t);
size_t oct_dtype_size(oct_dtype t); /* bytes per element, 0 when unknown */
const char *oct_version_string(void);

/* ---- models ------------------------------------------------------------ */
/* Loads an ONNX model. The file is memory-mapped while it is parsed; the
 * returned model owns copies of everything it needs. External-data files are
 * looked up relative to the model's folder and must stay inside it. */
oct_status oct_model_load_file(const char *path, oct_model **out, oct_error *err);
/* Same from bytes in memory (borrowed for the duration of the call).
 * External data is refused: there is no folder to resolve it against. */
oct_status oct_model_load_memory(const void *data, size_t size, oct_model **out,
                                 oct_error *err);
void oct_model_free(oct_model *m);

/* Graph inputs (initializers excluded) and outputs. Dimensions that are
 * symbolic or unknown are reported as -1; oct_model_input_dim_name gives the
 * symbol ("" when there is none). The returned strings belong to the model. */
int oct_model_num_inputs(const oct_model *m);
int oct_model_num_outputs(const oct_model *m);
oct_status oct_model_input_info(const oct_model *m, int index, const char **name,
                                oct_dtype *dtype, int *ndim, int64_t dims[OCT_MAX_DIMS],
                                oct_error *err);
const char *oct_model_input_dim_name(const oct_model *m, int index, int axis);
oct_status oct_model_output_info(const oct_model *m, int index, const char **name,
                                 oct_dtype *dtype, int *ndim, int64_t dims[OCT_MAX_DIMS],
                                 oct_error *err);
int64_t oct_model_opset(const oct_model *m); /* default-domain opset */
/* The sha256 of the model file's bytes, as 64 lowercase hex digits. */
const char *oct_model_sha256(const oct_model *m);

/* ---- sessions ---------------------------------------------------------- */
typedef struct oct_input_shape {
    const char *name; /* graph input name */
    int ndim;
    int64_t dims[OCT_MAX_DIMS];
} oct_input_shape;

typedef struct oct_session_options {
    int threads;          /* 0: all cores */
    int force_reference;  /* 1: run every node on the reference kernels
                             (also: environment OCTET_REFERENCE=1) */
    int verbose;          /* 1: log each node's implementation to stderr */
    int n_shapes;         /* input shapes that fix dynamic dimensions */
    const oct_input_shape *shapes;
    int no_optimize;      /* 1: skip folding/fusion passes (for debugging) */
    int qdq_float;        /* 1: a model with QuantizeLinear/DequantizeLinear
                             runs its float graph as defined; 0 (default):
                             Conv/MatMul/Gemm between int8 DequantizeLinear
                             nodes (symmetric, zero point 0) run on real INT8
                             kernels (oct_session_int8_kernels counts them) */
} oct_session_options;

void oct_session_options_init(oct_session_options *o);

/* Creates a session over a model. The model must outlive the session.
 * Every graph input needs a fully known shape, from the model or from
 * options->shapes; otherwise OCT_E_SHAPE names the input and the dimension. */
oct_status oct_session_create(const oct_model *m, const oct_session_options *opt,
                              oct_session **out, oct_error *err);
void oct_session_free(oct_session *s);

/* Copies `in` into the named input. dtype and dims must match the session's
 * input exactly. */
oct_status oct_session_set_input(oct_session *s, const char *name, const oct_tensor_view *in,
                                 oct_error *err);
oct_status oct_session_run(oct_session *s, oct_error *err);
/* After a successful run: a view of output `index`. The data belongs to the
 * session and stays valid until the next run or oct_session_free. */
oct_status oct_session_get_output(const oct_session *s, int index, oct_tensor_view *out,
                                  oct_error *err);
int oct_session_num_outputs(const oct_session *s);
/* Bytes of the activation arena the memory planner laid out. */
size_t oct_session_arena_bytes(const oct_session *s);
/* Online CPUs (the default thread count). */
int oct_cpu_count(void);
const char *oct_session_output_name(const oct_session *s, int index);
int oct_session_num_inputs(const oct_session *s);
oct_status oct_session_input_info(const oct_session *s, int index, const char **name,
                                  oct_tensor_view *shape, oct_error *err);

/* ---- model description (octet info) ------------------------------------ */
typedef struct oct_op_count {
    const char *op_type; /* belongs to the info object */
    int count;
    int supported;
} oct_op_count;

typedef struct oct_model_summary {
    int n_nodes;          /* after optimisation */
    int n_nodes_original; /* as in the file */
    int64_t n_params;     /* elements of floating-point initializers */
    double flops;         /* estimated, multiply-add = 2 */
    int n_ops;
    oct_op_count *ops;    /* histogram of the original graph, sorted by count */
    int n_unsupported;    /* distinct op types with no kernel */
} oct_model_summary;

/* Fills a summary of the model after shape inference with the given shapes
 * (shapes may be NULL when the model is static). Shape inference failures
 * are reported, not fatal: flops are then counted where shapes are known.
 * Free with oct_model_summary_free. */
oct_status oct_model_summarize(const oct_model *m, int n_shapes, const oct_input_shape *shapes,
                               oct_model_summary *out, oct_error *err);
void oct_model_summary_free(oct_model_summary *s);

/* ---- tensor files ------------------------------------------------------ */
/* Readers allocate out->data with malloc; the caller frees it with oct_free.
 * .pb: a serialized ONNX TensorProto (name, when asked, is malloc'ed too).
 * .npy: NumPy format 1.0-3.0, little-endian, C order; dtypes f4 f8 f2 i1 u1
 * i2 u2 i4 u4 i8 u8 b1. */
oct_status oct_tensor_read_pb(const char *path, oct_tensor_view *out, char **name, oct_error *err);
oct_status oct_tensor_read_npy(const char *path, oct_tensor_view *out, oct_error *err);
oct_status oct_tensor_write_npy(const char *path, const oct_tensor_view *t, oct_error *err);
void oct_free(void *p);

/* ---- images ------------------------------------------------------------ */
typedef enum oct_image_fit {
    OCT_FIT_STRETCH = 0,   /* resize to width x height, aspect not kept */
    OCT_FIT_LETTERBOX = 1, /* fit inside, keep aspect, pad with pad_value */
    OCT_FIT_CROP = 2,      /* shorter side to resize_short, centre crop */
    OCT_FIT_MULTIPLE = 3,  /* keep aspect, longer side <= limit, both
                                 sides rounded to a multiple of `multiple`;
                                 the tensor takes the image's size */
    OCT_FIT_HEIGHT = 4     /* height fixed, width by aspect (<= width),
                                 right side padded with pad_value */
} oct_image_fit;

typedef struct oct_preprocess {
    int width, height;     /* tensor size (0: from the model input) */
    oct_image_fit mode;
    int resize_short;      /* OCT_FIT_CROP */
    int limit, multiple;   /* OCT_FIT_MULTIPLE */
    int pad_value;         /* 0..255, letterbox / height padding */
    int center;            /* letterbox: 1 centres the image, 0 top-left */
    int bgr;               /* 1: channels B,G,R */
    int nhwc;              /* 1: NHWC layout, else NCHW */
    float scale;           /* value = (pixel * scale - mean[c]) / std[c] */
    float mean[3], std[3];
} oct_preprocess;

/* Where the image went: original size, resize factors and padding, to map
 * boxes back (x_orig = (x - pad_x) / scale_x). */
typedef struct oct_image_info {
    int orig_width, orig_height;
    int width, height; /* tensor size */
    float scale_x, scale_y;
    float pad_x, pad_y;
} oct_image_info;

/* Presets: "yolo" (letterbox 640 top-left, pad 114, RGB/255), "imagenet"
 * (resize 256, centre crop 224, ImageNet mean/std), "ppocr" (BGR, ImageNet
 * mean/std on /255; longer side <= 960, multiples of 32), "ppocr-rec"
 * (height 48, width <= 320, BGR, (x/255-0.5)/0.5). */
oct_status oct_preprocess_preset(const char *name, oct_preprocess *p, oct_error *err);
void oct_preprocess_init(oct_preprocess *p); /* stretch, RGB, scale 1/255 */
/* Decodes a JPEG/PNG/BMP file and preprocesses it into a float32 tensor of
 * shape 1x3xHxW (or 1xHxWx3); out->data is malloc'ed, free with oct_free. */
oct_status oct_image_load(const char *path, const oct_preprocess *p, oct_tensor_view *out,
                          oct_image_info *info, oct_error *err);

/* Whether octet has a kernel for an op type (default domain ""). */
int oct_op_supported(const char *domain, const char *op_type);

#ifdef __cplusplus
}
#endif
#endif
