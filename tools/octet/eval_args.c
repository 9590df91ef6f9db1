/* The evaluation options shared by `octet eval` and `octet tune`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eval_args.h"

void eval_args_init(eval_args *a) {
    memset(a, 0, sizeof *a);
    a->decoder = "yolov10";
    a->conf = 0.001f;
    a->iou = 0.7f;
    a->ref_conf = 0.25f;
    a->max_det = 300;
}

static void fix_dynamic_input(cli_common *c, const oct_model *m, const oct_preprocess *p) {
    const char *name;
    int ndim = 0;
    int64_t dims[OCT_MAX_DIMS];
    if (oct_model_num_inputs(m) != 1 ||
        oct_model_input_info(m, 0, &name, NULL, &ndim, dims, NULL) || ndim != 4)
        return;
    for (int k = 0; k < c->n_shapes; k++)
        if (!strcmp(c->shapes[k].name, name)) return;
    int dynamic = 0;
    for (int i = 0; i < 4; i++)
        dynamic |= dims[i] < 0;
    if (!dynamic || c->n_shapes >= CLI_MAX_SHAPES) return;
    int64_t want[4] = {1, p->nhwc ? p->height : 3, p->nhwc ? p->width : p->height,
                       p->nhwc ? 3 : p->width};
    oct_input_shape *sh = &c->shapes[c->n_shapes];
    snprintf(c->shape_names[c->n_shapes], sizeof c->shape_names[0], "%s", name);
    sh->name = c->shape_names[c->n_shapes++];
    sh->ndim = 4;
    for (int i = 0; i < 4; i++)
        sh->dims[i] = dims[i] < 0 ? want[i] : dims[i];
}

static int parse_float(const char *opt, const char *v, float *out) {
    char *e;
    *out = strtof(v, &e);
    if (e == v || *e) return cli_fail("%s '%s' is not a number", opt, v), -1;
    return 0;
}

int eval_args_parse(eval_args *a, cli_common *c, const char *count_opt, int argc, char **argv, int *i) {
    (void)c;
    const char *o = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    /* '--reference fp32' picks the label-free mode; a bare --reference
     * stays the common "reference kernels" flag. */
    if (!strcmp(o, "--reference=fp32")) {
        a->fidelity = 1;
        return 1;
    }
    if (!strcmp(o, "--reference") && v && !strcmp(v, "fp32")) {
        a->fidelity = 1;
        (*i)++;
        return 1;
    }
    static const char *const with_value[] = {"--task", "--decoder", "--images", "--labels", "--coco", "--names",
                                             "--dump-detections", "--conf", "--iou", "--ref-conf", "--max-det", NULL};
    int known = !strcmp(o, count_opt);
    for (int k = 0; !known && with_value[k]; k++) known = !strcmp(o, with_value[k]);
    if (!known) return 0;
    if (!v) return cli_fail("%s needs a value", o), -1;
    (*i)++;
    if (!strcmp(o, "--task")) {
        if (!strcmp(v, "detect"))
            a->classify = 0;
        else if (!strcmp(v, "classify"))
            a->classify = 1;
        else
            return cli_fail("unknown task '%s' (detect, classify)", v), -1;
    } else if (!strcmp(o, "--decoder"))
        a->decoder = v;
    else if (!strcmp(o, "--images"))
        a->images = v;
    else if (!strcmp(o, "--labels"))
        a->labels = v;
    else if (!strcmp(o, "--coco"))
        a->coco = v;
    else if (!strcmp(o, "--names"))
        a->names = v;
    else if (!strcmp(o, "--dump-detections"))
        a->dump = v;
    else if (!strcmp(o, "--conf"))
        return parse_float(o, v, &a->conf) ? -1 : 1;
    else if (!strcmp(o, "--iou"))
        return parse_float(o, v, &a->iou) ? -1 : 1;
    else if (!strcmp(o, "--ref-conf"))
        return parse_float(o, v, &a->ref_conf) ? -1 : 1;
    else {
        char *e;
        long n = strtol(v, &e, 10);
        if (e == v || *e || n < 1 || n > 1000000) return cli_fail("%s must be a positive integer", o), -1;
        if (!strcmp(o, "--max-det"))
            a->max_det = (int)n;
        else
            a->count = (int)n;
    }
    return 1;
}

int eval_args_check(eval_args *a, const char *cmd) {
    if (!(a->conf >= 0 && a->conf <= 1) || !(a->iou >= 0 && a->iou <= 1) || !(a->ref_conf >= 0 && a->ref_conf <= 1))
        return cli_fail("%s: --conf, --iou and --ref-conf must be within 0..1", cmd), -1;
    if (a->classify && a->coco) return cli_fail("%s: --coco is for --task detect", cmd), -1;
    if (a->labels && a->coco) return cli_fail("%s: give --labels or --coco, not both", cmd), -1;
    if (!a->labels && !a->coco) a->fidelity = 1;
    return 0;
}

oct_status eval_args_options(const eval_args *a, cli_common *c, const oct_model *m, oct_eval_options *o,
                             oct_error *err) {
    oct_eval_options_init(o);
    o->task = a->classify ? OCT_TASK_CLASSIFY : OCT_TASK_DETECT;
    OCT_TRY(oct_decoder_parse(a->decoder, &o->decode.decoder, err));
    o->decode.conf = a->conf;
    o->decode.iou = a->iou;
    o->decode.max_det = a->max_det;
    if (c->pre_set)
        o->pre = c->pre;
    else
        OCT_TRY(oct_preprocess_preset(a->classify ? "imagenet" : "yolo", &o->pre, err));
    o->images_dir = a->images;
    o->count = a->count;
    if (a->classify)
        o->synsets_path = a->labels;
    else
        o->labels_dir = a->labels;
    o->coco_json = a->coco;
    o->names_path = a->names;
    o->ref_conf = a->ref_conf;
    o->dump_path = a->dump;
    fix_dynamic_input(c, m, &o->pre);
    return OCT_OK;
}
