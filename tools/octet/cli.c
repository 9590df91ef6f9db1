#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "octet/quant.h"

void cli_common_init(cli_common *c) {
    memset(c, 0, sizeof *c);
    oct_preprocess_init(&c->pre);
}

int cli_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "octet: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

int cli_error(const oct_error *e) { return cli_fail("%s", e->message); }

const char *cli_shared_dir(void) {
    const char *s = getenv("OCTET_SHARED");
    return s && *s ? s : "../shared";
}

int cli_parse_shape(const char *s, oct_input_shape *out, char *name_buf, size_t n) {
    const char *eq = strrchr(s, '=');
    if (!eq || eq == s || (size_t)(eq - s) >= n) return -1;
    memcpy(name_buf, s, (size_t)(eq - s));
    name_buf[eq - s] = 0;
    out->name = name_buf;
    out->ndim = 0;
    const char *p = eq + 1;
    while (*p) {
        char *e;
        errno = 0;
        long long v = strtoll(p, &e, 10);
        if (e == p || v < 0 || errno || out->ndim >= OCT_MAX_DIMS) return -1;
        out->dims[out->ndim++] = v;
        if (*e == 'x' || *e == 'X' || *e == ',')
            e++;
        else if (*e)
            return -1;
        p = e;
    }
    return out->ndim > 0 ? 0 : -1;
}

static int parse_floats3(const char *s, float v[3]) {
    char *e;
    for (int i = 0; i < 3; i++) {
        v[i] = strtof(s, &e);
        if (e == s) return -1;
        if (i == 0 && !*e) { /* one value for all channels */
            v[1] = v[2] = v[0];
            return 0;
        }
        if (i < 2 && *e != ',') return -1;
        s = e + 1;
    }
    return *e ? -1 : 0;
}

/* Returns the option's value, advancing *i, or NULL (message printed). */
static const char *value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_fail("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_common(cli_common *c, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v;
    if (!strcmp(a, "--shape")) {
        if (!(v = value(argc, argv, i))) return -1;
        if (c->n_shapes >= CLI_MAX_SHAPES) return cli_fail("too many --shape options"), -1;
        if (cli_parse_shape(v, &c->shapes[c->n_shapes], c->shape_names[c->n_shapes],
                            sizeof c->shape_names[0]))
            return cli_fail("--shape '%s': expected NAME=DIMS, e.g. images=1x3x640x640", v), -1;
        c->n_shapes++;
        return 1;
    }
    if (!strcmp(a, "--threads")) {
        if (!(v = value(argc, argv, i))) return -1;
        c->threads = atoi(v);
        if (c->threads < 0) return cli_fail("--threads must be >= 0"), -1;
        return 1;
    }
    if (!strcmp(a, "--reference")) return c->reference = 1, 1;
    if (!strcmp(a, "--plan")) {
        if (!(v = value(argc, argv, i))) return -1;
        c->plan_path = v;
        return 1;
    }
    if (!strcmp(a, "--simulate")) return c->simulate = 1, 1;
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) return c->verbose = 1, 1;
    if (!strcmp(a, "--json")) return c->json = 1, 1;
    if (!strcmp(a, "--preset")) {
        if (!(v = value(argc, argv, i))) return -1;
        oct_error e = {0};
        if (oct_preprocess_preset(v, &c->pre, &e)) return cli_error(&e), -1;
        c->pre_set = 1;
        return 1;
    }
    if (!strcmp(a, "--size")) {
        if (!(v = value(argc, argv, i))) return -1;
        int w, h;
        char x;
        if (sscanf(v, "%d%c%d", &w, &x, &h) == 3 && (x == 'x' || x == 'X')) {
            c->pre.width = w;
            c->pre.height = h;
        } else if (sscanf(v, "%d", &w) == 1) {
            c->pre.width = c->pre.height = w;
        } else {
            return cli_fail("--size '%s': expected N or WxH", v), -1;
        }
        if (c->pre.width <= 0 || c->pre.height <= 0) return cli_fail("--size must be positive"), -1;
        c->size_given = c->pre_set = 1;
        return 1;
    }
    if (!strcmp(a, "--letterbox")) return c->pre.mode = OCT_FIT_LETTERBOX, c->pre_set = 1;
    if (!strcmp(a, "--letterbox-center"))
        return c->pre.mode = OCT_FIT_LETTERBOX, c->pre.center = 1, c->pre_set = 1;
    if (!strcmp(a, "--resize")) return c->pre.mode = OCT_FIT_STRETCH, c->pre_set = 1;
    if (!strcmp(a, "--crop")) {
        if (!(v = value(argc, argv, i))) return -1;
        c->pre.mode = OCT_FIT_CROP;
        c->pre.resize_short = atoi(v);
        if (c->pre.resize_short <= 0)
            return cli_fail("--crop takes the shorter side's size, e.g. 256"), -1;
        return c->pre_set = 1;
    }
    if (!strcmp(a, "--pad")) {
        if (!(v = value(argc, argv, i))) return -1;
        c->pre.pad_value = atoi(v);
        if (c->pre.pad_value < 0 || c->pre.pad_value > 255)
            return cli_fail("--pad must be 0..255"), -1;
        return c->pre_set = 1;
    }
    if (!strcmp(a, "--scale")) {
        if (!(v = value(argc, argv, i))) return -1;
        char *e;
        c->pre.scale = strtof(v, &e);
        if (e == v || *e) return cli_fail("--scale '%s' is not a number", v), -1;
        return c->pre_set = 1;
    }
    if (!strcmp(a, "--mean") || !strcmp(a, "--std")) {
        if (!(v = value(argc, argv, i))) return -1;
        float *dst = a[2] == 'm' ? c->pre.mean : c->pre.std;
        if (parse_floats3(v, dst))
            return cli_fail("%s '%s': expected 3 comma-separated numbers", a, v), -1;
        if (a[2] == 's' && (dst[0] == 0 || dst[1] == 0 || dst[2] == 0))
            return cli_fail("--std must be non-zero"), -1;
        return c->pre_set = 1;
    }
    if (!strcmp(a, "--bgr")) return c->pre.bgr = 1, c->pre_set = 1;
    if (!strcmp(a, "--rgb")) return c->pre.bgr = 0, c->pre_set = 1;
    if (!strcmp(a, "--nhwc")) return c->pre.nhwc = 1, c->pre_set = 1;
    if (!strcmp(a, "--nchw")) return c->pre.nhwc = 0, c->pre_set = 1;
    return 0;
}

oct_status cli_load_model(const cli_common *c, oct_model **m, oct_error *err) {
    if (!c->model_path) {
        if (err) {
            err->status = OCT_E_INVALID_ARG;
            snprintf(err->message, sizeof err->message, "no model file given");
        }
        return OCT_E_INVALID_ARG;
    }
    return oct_model_load_file(c->model_path, m, err);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

oct_status cli_read_input(const cli_common *c, const oct_model *m, int index, const char *path,
                          oct_tensor_view *out, oct_image_info *info, oct_error *err) {
    if (ends_with(path, ".npy")) return oct_tensor_read_npy(path, out, err);
    if (ends_with(path, ".pb")) return oct_tensor_read_pb(path, out, NULL, err);
    oct_preprocess p = c->pre;
    const char *name;
    int ndim = 0;
    int64_t dims[OCT_MAX_DIMS];
    oct_dtype dt;
    oct_status st = oct_model_input_info(m, index, &name, &dt, &ndim, dims, err);
    if (st) return st;
    /* A --shape for this input wins over the model's declaration. */
    for (int s = 0; s < c->n_shapes; s++)
        if (!strcmp(c->shapes[s].name, name)) {
            ndim = c->shapes[s].ndim;
            memcpy(dims, c->shapes[s].dims, sizeof dims);
        }
    /* A fixed size for a dynamic input (from --shape or the first sample of
     * a folder) wins over the per-image size of the ppocr preset: every
     * sample must then have that size, so it is resized to it. */
    if (ndim == 4 && !c->size_given && p.mode == OCT_FIT_MULTIPLE) {
        int64_t h = p.nhwc ? dims[1] : dims[2], w = p.nhwc ? dims[2] : dims[3];
        if (h > 0 && w > 0) p.mode = OCT_FIT_STRETCH;
    }
    if (ndim == 4 && !c->size_given && p.mode != OCT_FIT_MULTIPLE) {
        int64_t h = p.nhwc ? dims[1] : dims[2], w = p.nhwc ? dims[2] : dims[3];
        if (h > 0) p.height = (int)h;
        if (w > 0) p.width = (int)w;
    }
    if (p.mode != OCT_FIT_MULTIPLE && (p.width <= 0 || p.height <= 0)) {
        if (err) {
            err->status = OCT_E_INVALID_ARG;
            snprintf(
                err->message, sizeof err->message,
                "input '%s' has a dynamic size: give --size WxH, --shape %s=DIMS or a --preset",
                name, name);
        }
        return OCT_E_INVALID_ARG;
    }
    if (dt != OCT_FLOAT) {
        if (err) {
            err->status = OCT_E_INVALID_ARG;
            snprintf(err->message, sizeof err->message,
                     "input '%s' is %s; images can only feed float32 inputs", name,
                     oct_dtype_name(dt));
        }
        return OCT_E_INVALID_ARG;
    }
    return oct_image_load(path, &p, out, info, err);
}

void cli_shape_from_data(cli_common *c, const char *name, const oct_tensor_view *t) {
    for (int k = 0; k < c->n_shapes; k++)
        if (!strcmp(c->shapes[k].name, name)) return;
    if (c->n_shapes >= CLI_MAX_SHAPES) return;
    oct_input_shape *sh = &c->shapes[c->n_shapes];
    snprintf(c->shape_names[c->n_shapes], sizeof c->shape_names[0], "%s", name);
    sh->name = c->shape_names[c->n_shapes++];
    sh->ndim = t->ndim;
    memcpy(sh->dims, t->dims, sizeof sh->dims);
}

int cli_weight_bits(const char *v) {
    int b = v && v[0] >= '0' && v[0] <= '9' && !v[1] ? v[0] - '0' : 0;
    return b == 4 || b == 6 || b == 7 || b == 8 ? b : 0;
}

void cli_session_options(const cli_common *c, oct_session_options *o) {
    oct_session_options_init(o);
    o->threads = c->threads;
    o->force_reference = c->reference;
    o->verbose = c->verbose;
    o->n_shapes = c->n_shapes;
    o->shapes = c->shapes;
    /* --simulate without a plan: a Q/DQ model's float graph as defined */
    o->qdq_float = c->simulate && !c->plan_path;
}

oct_status cli_session_create(const cli_common *c, const oct_model *m, const oct_session_options *o,
                              oct_session **s, oct_error *err) {
    if (!c->plan_path) return oct_session_create(m, o, s, err);
    oct_plan *p = NULL;
    oct_status st = oct_plan_load(c->plan_path, &p, err);
    if (st) return st;
    st = c->simulate ? oct_session_create_simulated(m, o, p, s, err)
                     : oct_session_create_int8(m, o, p, s, err);
    /* the session keeps what it needs from the plan */
    oct_plan_free(p);
    return st;
}

int cli_write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return cli_fail("cannot write %s", path), 1;
    int bad = fputs(text, f) < 0 || fputc('\n', f) < 0;
    if (fclose(f) || bad) return cli_fail("cannot write %s", path), 1;
    return 0;
}
