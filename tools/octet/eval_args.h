/* The evaluation options shared by `octet eval` and `octet tune`: task,
 * decoder, images, labels (or label-free against FP32), thresholds. */
#ifndef OCT_CLI_EVAL_ARGS_H
#define OCT_CLI_EVAL_ARGS_H

#include "cli.h"
#include "octet/eval.h"

typedef struct eval_args {
    const char *images, *labels, *coco, *names, *plan, *dump, *decoder;
    int classify, fidelity, simulate, quiet, count;
    float conf, iou, ref_conf;
    int max_det;
} eval_args;

void eval_args_init(eval_args *a);
/* Consumes argv[*i] (and its value) when it is an evaluation option;
 * count_opt names the image-count option ("--count" for eval, "--eval-count"
 * for tune). Returns 1 when consumed, 0 when not, -1 on a bad value. */
int eval_args_parse(eval_args *a, cli_common *c, const char *count_opt, int argc, char **argv, int *i);
/* Checks the combination (message printed, -1) and picks the label-free
 * mode when no labels are given. */
int eval_args_check(eval_args *a, const char *cmd);
/* The evaluation options for the model (preset preprocessing unless flags
 * were given; dynamic input dimensions fixed from it). */
oct_status eval_args_options(const eval_args *a, cli_common *c, const oct_model *m, oct_eval_options *o,
                             oct_error *err);

#endif
