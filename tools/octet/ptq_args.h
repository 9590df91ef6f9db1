/* --ptq and its options, shared by `octet calibrate` and `octet tune`: CLE
 * before calibration, AdaRound and bias correction after it (octet/ptq.h). */
#ifndef OCT_CLI_PTQ_ARGS_H
#define OCT_CLI_PTQ_ARGS_H

#include "dataset.h"
#include "octet/ptq.h"

typedef struct cli_ptq {
    oct_ptq_options o;
    unsigned methods;
    char model_out[1024]; /* the optimised model, beside the plan */
    int cle_pairs;
    double cle_ms;
} cli_ptq;

void cli_ptq_init(cli_ptq *p);
/* 1: argv[*i] (and its value) consumed; 0: not a PTQ option; -1: bad value. */
int cli_ptq_parse(cli_ptq *p, int argc, char **argv, int *i);
/* The usage lines of the options. */
extern const char cli_ptq_usage[];
/* Before calibration: names the optimised model after the plan (PLAN.json
 * -> PLAN.onnx) and, with cle, writes the equalized model there and points
 * c->model_path at it. Returns 0, or 1 after printing the error. */
int cli_ptq_before(cli_ptq *p, cli_common *c, const char *plan_out, int quiet);
/* After calibration: AdaRound and/or bias correction of the plan's INT8
 * layers on the dataset; the plan then names the optimised model and holds
 * the per-layer log. Returns 0, or 1 after printing the error. */
int cli_ptq_after(cli_ptq *p, cli_common *c, cli_sample_ctx *sc, oct_plan *plan, int quiet);

#endif
