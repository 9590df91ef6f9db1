/* --ptq for calibrate and tune (ptq_args.h). */
#include "ptq_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "octet/quant.h"

const char cli_ptq_usage[] =
    "  [--ptq cle,bias-correction,adaround] [--ptq-images N] [--ptq-columns N]\n"
    "  [--adaround-iters N] [--adaround-batch N] [--adaround-reg L]";

void cli_ptq_init(cli_ptq *p) {
    memset(p, 0, sizeof *p);
    oct_ptq_options_init(&p->o);
}

static int pos_int(const char *opt, const char *v, int *out) {
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < 1 || x > 100000000)
        return cli_fail("%s: expected a positive integer, got '%s'", opt, v), -1;
    *out = (int)x;
    return 1;
}

int cli_ptq_parse(cli_ptq *p, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (*i + 1 >= argc) return 0;
    const char *v = argv[*i + 1];
    int r = 0;
    if (!strcmp(a, "--ptq")) {
        oct_error err = {0};
        if (oct_ptq_parse(v, &p->methods, &err)) return cli_error(&err), -1;
        r = 1;
    } else if (!strcmp(a, "--ptq-images"))
        r = pos_int(a, v, &p->o.images);
    else if (!strcmp(a, "--ptq-columns"))
        r = pos_int(a, v, &p->o.columns);
    else if (!strcmp(a, "--adaround-iters"))
        r = pos_int(a, v, &p->o.iters);
    else if (!strcmp(a, "--adaround-batch"))
        r = pos_int(a, v, &p->o.batch);
    else if (!strcmp(a, "--adaround-reg")) {
        char *end;
        p->o.reg_weight = strtof(v, &end);
        if (*end || !(p->o.reg_weight >= 0))
            return cli_fail("--adaround-reg: expected a number >= 0, got '%s'", v), -1;
        r = 1;
    }
    if (r == 1) (*i)++;
    return r;
}

int cli_ptq_before(cli_ptq *p, cli_common *c, const char *plan_out, int quiet) {
    if (!p->methods) return 0;
    size_t n = strlen(plan_out);
    if (n > 5 && !strcmp(plan_out + n - 5, ".json")) n -= 5;
    if (n + 6 > sizeof p->model_out) return cli_fail("-o: path too long"), 1;
    memcpy(p->model_out, plan_out, n);
    memcpy(p->model_out + n, ".onnx", 6);
    if (!strcmp(p->model_out, c->model_path))
        return cli_fail("--ptq would overwrite the model %s: choose another -o", c->model_path), 1;
    if (!(p->methods & OCT_PTQ_CLE)) return 0;
    oct_error err = {0};
    if (oct_ptq_equalize(c->model_path, p->model_out, &p->cle_pairs, &p->cle_ms, &err))
        return cli_error(&err), 1;
    if (!quiet)
        printf("cross-layer equalization: %d Conv pairs equalized in %.1f s -> %s\n", p->cle_pairs,
               p->cle_ms / 1e3, p->model_out);
    c->model_path = p->model_out;
    return 0;
}

typedef struct {
    cli_progress prog;
} ptq_progress;

static void progress(void *user, const char *layer, int done, int total) {
    (void)layer;
    cli_progress_update(&((ptq_progress *)user)->prog, done, total);
}

int cli_ptq_after(cli_ptq *p, cli_common *c, cli_sample_ctx *sc, oct_plan *plan, int quiet) {
    if (!(p->methods & (OCT_PTQ_ADAROUND | OCT_PTQ_BIAS_CORRECTION))) {
        if (p->methods & OCT_PTQ_CLE) {
            oct_error err = {0};
            if (oct_plan_set_ptq(plan, p->methods, NULL, p->cle_pairs, p->cle_ms, &err))
                return cli_error(&err), 1;
        }
        return 0;
    }
    ptq_progress pp;
    char what[96];
    snprintf(what, sizeof what, "%s",
             p->methods & OCT_PTQ_ADAROUND ? "AdaRound, layer" : "bias correction, layer");
    cli_progress_start(&pp.prog, what, quiet);
    p->o.methods = p->methods & (OCT_PTQ_ADAROUND | OCT_PTQ_BIAS_CORRECTION);
    p->o.progress = progress;
    p->o.progress_user = &pp;
    oct_session_options so;
    cli_session_options(c, &so);
    oct_ptq_report *rep = NULL;
    oct_error err = {0};
    oct_status st = oct_ptq_optimize(c->model_path, &so, plan, &p->o, sc->d->n, cli_dataset_sample,
                                     sc, p->model_out, &rep, &err);
    cli_progress_end(&pp.prog);
    if (st) return cli_error(&err), 1;
    if (!quiet) {
        int ada = 0, bc = 0, skipped = 0;
        double rtn = 0, after = 0;
        for (int i = 0; i < rep->n_layers; i++) {
            const oct_ptq_layer *L = &rep->layers[i];
            ada += L->adarounded;
            bc += L->bias_corrected;
            skipped += L->skipped != NULL;
            if (L->adarounded) rtn += L->mse_rtn, after += L->mse_ada;
        }
        char names[64];
        printf("%s on %d layers (%d-bit weights): AdaRound %d (reconstruction MSE %.4g -> %.4g, "
               "summed), bias "
               "corrected %d, %d notes; %.1f s (collect %.1f, AdaRound %.1f) -> %s\n",
               oct_ptq_name(p->o.methods, names, sizeof names), rep->n_layers, rep->weight_bits,
               ada, rtn, after, bc, skipped, rep->total_ms / 1e3, rep->collect_ms / 1e3,
               rep->adaround_ms / 1e3, p->model_out);
    }
    st = oct_plan_set_ptq(plan, p->methods, rep, p->cle_pairs, p->cle_ms, &err);
    oct_ptq_report_free(rep);
    if (st) return cli_error(&err), 1;
    c->model_path = p->model_out;
    return 0;
}
