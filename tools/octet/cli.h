/* Shared pieces of the octet CLI: argument parsing, model loading, inputs. */
#ifndef OCT_CLI_H
#define OCT_CLI_H

#include "octet/octet.h"

#define CLI_MAX_SHAPES 16
#define CLI_MAX_INPUTS 16

typedef struct cli_common {
    const char *model_path;
    oct_input_shape shapes[CLI_MAX_SHAPES];
    int n_shapes;
    char shape_names[CLI_MAX_SHAPES][256];
    int threads;
    int reference;
    int verbose;
    int json;
    oct_preprocess pre;
    const char *plan_path; /* --plan */
    int simulate;          /* --simulate */
    int pre_set;       /* any preprocessing flag given */
    int size_given;
} cli_common;

void cli_common_init(cli_common *c);
/* Consumes argv[*i] (and its value) when it is a common option; returns 1
 * when consumed, 0 when not, -1 on a bad value (message printed). */
int cli_parse_common(cli_common *c, int argc, char **argv, int *i);
/* "name=1x3x640x640" */
int cli_parse_shape(const char *s, oct_input_shape *out, char *name_buf, size_t n);
int cli_fail(const char *fmt, ...);
int cli_error(const oct_error *e);
oct_status cli_load_model(const cli_common *c, oct_model **m, oct_error *err);
/* Reads an input file (.npy, .pb or an image) for model input `index`;
 * images are preprocessed to fit the input's declared size. */
oct_status cli_read_input(const cli_common *c, const oct_model *m, int index, const char *path,
                          oct_tensor_view *out, oct_image_info *info, oct_error *err);
/* --weight-bits: 4, 6, 7 or 8; 0 for anything else ("4x" included). */
int cli_weight_bits(const char *v);
void cli_session_options(const cli_common *c, oct_session_options *o);
/* Fixes input `name`'s shape from data the user gave (an image or a .npy)
 * unless a --shape already names it. */
void cli_shape_from_data(cli_common *c, const char *name, const oct_tensor_view *t);
/* A session for the model: FP32, or the --plan with real INT8 kernels where
 * they apply (--simulate: fake quantization throughout). The plan is loaded
 * and checked. */
oct_status cli_session_create(const cli_common *c, const oct_model *m, const oct_session_options *o,
                              oct_session **s, oct_error *err);
const char *cli_shared_dir(void);
/* Writes text and a newline to path; 1 (message printed) when it cannot. */
int cli_write_text(const char *path, const char *text);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_preprocess(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import_cache(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_detect(int argc, char **argv);

#endif
