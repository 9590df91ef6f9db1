/* The quantization plan: in-memory form and its JSON file (docs/plan-format.md).
 * Writing is done by hand for a stable, readable layout; reading goes through
 * cJSON and checks every field, so a plan that loads is one the rest of
 * octet can use as it is. */
#include "quant/plan.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"

static const char *const prec_names[] = {"fp32", "int8", "fp16", "bf16"};

const char *oct_precision_name(oct_precision p) {
    return (unsigned)p < 4 ? prec_names[p] : "unknown";
}

int oct_precision_parse(const char *s) {
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, prec_names[i]) == 0) return i;
    return -1;
}

/* ---- in-memory plan ---- */

oct_plan *oct_plan_new(void) {
    oct_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->version = OCT_PLAN_VERSION;
    p->weights = OCT_WEIGHTS_PER_CHANNEL;
    p->weight_bits = 8;
    return p;
}

void oct_plan_free(oct_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->n_tensors; i++) {
        free(p->tensors[i].name);
        free(p->tensors[i].method);
    }
    for (int i = 0; i < p->n_nodes; i++) {
        free(p->nodes[i].name);
        free(p->nodes[i].op_type);
    }
    free(p->tensors);
    free(p->nodes);
    free(p->model_path);
    free(p->method);
    free(p->scheme);
    free(p->data);
    free(p->preprocess);
    free(p->ptq_json);
    free(p);
}

static char *dupstr(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* A deep copy (analysis and tuning edit precisions on copies). */
oct_plan *oct_plan_clone(const oct_plan *p) {
    oct_plan *c = oct_plan_new();
    if (!c || !p) return c;
    c->version = p->version;
    memcpy(c->model_sha256, p->model_sha256, sizeof c->model_sha256);
    c->model_path = dupstr(p->model_path);
    c->method = dupstr(p->method);
    c->scheme = dupstr(p->scheme);
    c->count = p->count;
    c->data = dupstr(p->data);
    c->preprocess = dupstr(p->preprocess);
    c->asymmetric = p->asymmetric;
    c->weights = p->weights;
    c->weight_bits = p->weight_bits;
    c->ptq_json = dupstr(p->ptq_json);
    int ok = 1;
    for (int i = 0; ok && i < p->n_tensors; i++) {
        int k = oct_plan_add_tensor(c, p->tensors[i].name);
        if (k < 0) {
            ok = 0;
            break;
        }
        char *name = c->tensors[k].name;
        c->tensors[k] = p->tensors[i];
        c->tensors[k].name = name;
        c->tensors[k].method = dupstr(p->tensors[i].method);
    }
    for (int i = 0; ok && i < p->n_nodes; i++) {
        int k = oct_plan_add_node(c, p->nodes[i].name, p->nodes[i].op_type);
        if (k < 0) ok = 0;
        else c->nodes[k].precision = p->nodes[i].precision;
    }
    if (!ok) {
        oct_plan_free(c);
        return NULL;
    }
    return c;
}

/* The arrays have no capacity field: they hold max(8, next power of two)
 * entries, so they grow when the count reaches such a size. */
static int grow_array(void **arr, int n, size_t elem) {
    if (n == INT_MAX) return -1;
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0)) return 0;
    size_t cap = n == 0 ? 8 : (size_t)n * 2;
    void *a = realloc(*arr, cap * elem);
    if (!a) return -1;
    *arr = a;
    return 0;
}

static int append_tensor(oct_plan *p, const char *name) {
    if (grow_array((void **)&p->tensors, p->n_tensors, sizeof *p->tensors) != 0) return -1;
    oct_plan_tensor *t = &p->tensors[p->n_tensors];
    memset(t, 0, sizeof *t);
    t->precision = OCT_PREC_FP32;
    if (!(t->name = dupstr(name))) return -1;
    return p->n_tensors++;
}

static int append_node(oct_plan *p, const char *name, const char *op_type) {
    if (grow_array((void **)&p->nodes, p->n_nodes, sizeof *p->nodes) != 0) return -1;
    oct_plan_node *n = &p->nodes[p->n_nodes];
    memset(n, 0, sizeof *n);
    n->precision = OCT_PREC_FP32;
    n->name = dupstr(name);
    n->op_type = dupstr(op_type);
    if (!n->name || (op_type && !n->op_type)) {
        free(n->name);
        free(n->op_type);
        return -1;
    }
    return p->n_nodes++;
}

int oct_plan_find_tensor(const oct_plan *p, const char *name) {
    for (int i = 0; name && i < p->n_tensors; i++)
        if (strcmp(p->tensors[i].name, name) == 0) return i;
    return -1;
}

int oct_plan_find_node(const oct_plan *p, const char *name) {
    for (int i = 0; name && i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].name, name) == 0) return i;
    return -1;
}

int oct_plan_add_tensor(oct_plan *p, const char *name) {
    if (!name || !*name) return -1;
    int i = oct_plan_find_tensor(p, name);
    return i >= 0 ? i : append_tensor(p, name);
}

int oct_plan_add_node(oct_plan *p, const char *name, const char *op_type) {
    if (!name || !*name) return -1;
    int i = oct_plan_find_node(p, name);
    if (i >= 0) {
        if (op_type && !p->nodes[i].op_type) p->nodes[i].op_type = dupstr(op_type);
        return i;
    }
    return append_node(p, name, op_type);
}

/* ---- the rules both save and load enforce ---- */

/* Within float rounding: a scale written by another tool may come from
 * float(amax) / 127 rather than octet's double division. */
static int scales_agree(double a, double b) {
    return fabs(a - b) <= 1e-6 * fmax(fabs(a), fabs(b));
}

static int usable_scale(double s) { return isfinite(s) && s <= FLT_MAX && isnormal((float)s) && s > 0; }

/* Checks a tensor's quantization fields; the message follows "tensors['x']". */
static const char *tensor_problem(const oct_plan_tensor *t, char *buf, size_t n) {
    if ((unsigned)t->precision > OCT_PREC_BF16) return "precision: unknown value";
    if (t->precision == OCT_PREC_INT8 && t->scale == 0)
        return t->is_unsigned ? "precision int8 needs \"min\" and \"max\" or \"scale\""
                              : "precision int8 needs \"amax\" or \"scale\"";
    if (t->scale != 0 && !usable_scale(t->scale))
        return "scale: expected a positive number representable as a float32 (normal)";
    if (t->amax != 0 && !(t->amax > 0 && isfinite(t->amax))) return "amax: expected a positive number";
    if (!t->is_unsigned) {
        if (t->zero_point != 0) return "zero_point: must be 0 for symmetric int8";
        if (t->amax != 0 && t->scale != 0 && !scales_agree(t->scale, oct_scale_s8(t->amax))) {
            snprintf(buf, n,
                     "amax %.9g and scale %.9g disagree (amax / 127 = %.9g); edit one of them "
                     "and delete the other",
                     t->amax, (double)t->scale, (double)oct_scale_s8(t->amax));
            return buf;
        }
        return NULL;
    }
    if (t->zero_point < 0 || t->zero_point > 255) return "zero_point: expected an integer in 0..255";
    if (!isfinite(t->min) || !isfinite(t->max) || t->min > t->max)
        return "min, max: expected finite numbers with min <= max";
    if (t->scale != 0 && t->min < t->max) {
        float s;
        int32_t zp;
        oct_asym_params_u8(t->min, t->max, &s, &zp);
        if (!scales_agree(s, t->scale) || zp != t->zero_point) {
            snprintf(buf, n,
                     "min %.9g, max %.9g give scale %.9g and zero_point %d, but the plan has "
                     "scale %.9g and zero_point %d; edit one and delete the other",
                     t->min, t->max, (double)s, (int)zp, (double)t->scale, (int)t->zero_point);
            return buf;
        }
    }
    return NULL;
}

static int valid_sha256(const char *s) {
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return s[64] == 0;
}

/* ---- writing ---- */

static void put_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*c < 0x20)
                fprintf(f, "\\u%04x", *c);
            else
                fputc(*c, f);
        }
    }
    fputc('"', f);
}

/* The shortest %g form that reads back (as the loader reads it: strtod, then
 * a cast for floats) to the same value. */
static void put_double(FILE *f, double v) {
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, f);
}

static void put_float(FILE *f, float v) {
    char buf[40];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if ((float)strtod(buf, NULL) == v) {
            fputs(buf, f);
            return;
        }
    }
    put_double(f, (double)v);
}

/* Writes `, "key": value` pieces of an object on one line. */
static void put_key(FILE *f, int *first, const char *key) {
    fputs(*first ? "" : ", ", f);
    *first = 0;
    put_str(f, key);
    fputs(": ", f);
}

static void write_stats(FILE *f, const oct_tensor_stats *st) {
    int first = 1;
    fputs("{", f);
    const char *keys[] = {"min", "max", "absmax", "p99.99"};
    const double vals[] = {st->min, st->max, st->absmax, st->p9999};
    for (int i = 0; i < 4; i++)
        if (isfinite(vals[i])) {
            put_key(f, &first, keys[i]);
            put_double(f, vals[i]);
        }
    put_key(f, &first, "count");
    fprintf(f, "%lld", (long long)st->count);
    put_key(f, &first, "nonfinite");
    fprintf(f, "%lld", (long long)st->nan_count);
    fputs("}", f);
}

/* A symmetric tensor given only its amax is written with the scale it
 * implies, as the loader would derive it. */
static oct_plan_tensor completed(const oct_plan_tensor *t) {
    oct_plan_tensor c = *t;
    if (!c.is_unsigned && c.scale == 0 && c.amax > 0 && isfinite(c.amax)) c.scale = oct_scale_s8(c.amax);
    return c;
}

static void write_tensor(FILE *f, const oct_plan_tensor *t) {
    fputs("    ", f);
    put_str(f, t->name);
    fputs(": {\n      \"precision\": ", f);
    put_str(f, oct_precision_name(t->precision));
    if (t->is_unsigned) {
        fputs(",\n      \"unsigned\": true,\n      \"min\": ", f);
        put_double(f, t->min);
        fputs(",\n      \"max\": ", f);
        put_double(f, t->max);
    } else if (t->amax > 0) {
        fputs(",\n      \"amax\": ", f);
        put_double(f, t->amax);
    }
    if (t->scale > 0) {
        fputs(",\n      \"scale\": ", f);
        put_float(f, t->scale);
        fprintf(f, ",\n      \"zero_point\": %d", (int)t->zero_point);
    }
    if (t->method) {
        fputs(",\n      \"method\": ", f);
        put_str(f, t->method);
    }
    if (t->has_stats) {
        fputs(",\n      \"stats\": ", f);
        write_stats(f, &t->stats);
    }
    fputs("\n    }", f);
}

static void write_opt_str(FILE *f, const char *key, const char *v) {
    if (!v) return;
    fprintf(f, "\n    \"%s\": ", key);
    put_str(f, v);
    fputc(',', f);
}

static void write_plan(FILE *f, const oct_plan *p) {
    fprintf(f, "{\n  \"format\": \"octet-plan\",\n  \"version\": %d,\n  \"model\": {\"sha256\": ",
            OCT_PLAN_VERSION);
    char sha[65];
    for (int i = 0; i < 65; i++) sha[i] = (char)tolower((unsigned char)p->model_sha256[i]);
    put_str(f, sha);
    if (p->model_path) {
        fputs(", \"path\": ", f);
        put_str(f, p->model_path);
    }
    fputs("},\n  \"calibration\": {", f);
    write_opt_str(f, "method", p->method);
    write_opt_str(f, "scheme", p->scheme);
    fprintf(f, "\n    \"count\": %d,", p->count);
    write_opt_str(f, "data", p->data);
    write_opt_str(f, "preprocess", p->preprocess);
    fprintf(f, "\n    \"activations\": \"%s\",\n    \"weights\": \"%s\",\n    \"weight_bits\": %d\n  },\n",
            p->asymmetric ? "asymmetric" : "symmetric",
            p->weights == OCT_WEIGHTS_PER_TENSOR ? "per-tensor" : "per-channel", oct_plan_weight_bits(p));
    fputs("  \"tensors\": {", f);
    for (int i = 0; i < p->n_tensors; i++) {
        fputs(i ? ",\n" : "\n", f);
        oct_plan_tensor t = completed(&p->tensors[i]);
        write_tensor(f, &t);
    }
    fputs(p->n_tensors ? "\n  },\n  \"nodes\": {" : "},\n  \"nodes\": {", f);
    for (int i = 0; i < p->n_nodes; i++) {
        const oct_plan_node *n = &p->nodes[i];
        fputs(i ? ",\n    " : "\n    ", f);
        put_str(f, n->name);
        fputs(": {", f);
        if (n->op_type) {
            fputs("\"op\": ", f);
            put_str(f, n->op_type);
            fputs(", ", f);
        }
        fputs("\"precision\": ", f);
        put_str(f, oct_precision_name(n->precision));
        fputs("}", f);
    }
    fputs(p->n_nodes ? "\n  }" : "}", f);
    if (p->ptq_json) fprintf(f, ",\n  \"ptq\": %s", p->ptq_json);
    fputs("\n}\n", f);
}

oct_status oct_plan_save(const oct_plan *p, const char *path, oct_error *err) {
    char buf[OCT_ERROR_MAX];
    if (!valid_sha256(p->model_sha256))
        return oct_fail(err, OCT_E_INVALID_ARG, "%s: model.sha256: expected 64 hex digits", path);
    if (p->weights != OCT_WEIGHTS_PER_CHANNEL && p->weights != OCT_WEIGHTS_PER_TENSOR)
        return oct_fail(err, OCT_E_INVALID_ARG, "%s: calibration.weights: unknown value", path);
    if (!oct_weight_bits_valid(oct_plan_weight_bits(p)))
        return oct_fail(err, OCT_E_INVALID_ARG, "%s: calibration.weight_bits: %d; expected 4, 6, 7 or 8",
                        path, p->weight_bits);
    if (p->count < 0)
        return oct_fail(err, OCT_E_INVALID_ARG, "%s: calibration.count: negative", path);
    for (int i = 0; i < p->n_tensors; i++) {
        oct_plan_tensor t = completed(&p->tensors[i]);
        const char *why = tensor_problem(&t, buf, sizeof buf);
        if (why)
            return oct_fail(err, OCT_E_INVALID_ARG, "%s: tensors['%s']: %s", path,
                            p->tensors[i].name, why);
    }
    for (int i = 0; i < p->n_nodes; i++)
        if ((unsigned)p->nodes[i].precision > OCT_PREC_BF16)
            return oct_fail(err, OCT_E_INVALID_ARG, "%s: nodes['%s'].precision: unknown value",
                            path, p->nodes[i].name);
    /* Written beside the target and renamed, so a failed write never leaves
     * a half plan under the real name. */
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(tmp);
        return oct_fail(err, OCT_E_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    write_plan(f, p);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        free(tmp);
        return oct_fail(err, OCT_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    free(tmp);
    return OCT_OK;
}

/* ---- reading ---- */

typedef struct loader {
    const char *path;
    oct_error *err;
} loader;

static oct_status bad(const loader *ld, const char *fmt, ...) OCT_PRINTF(2, 3);
static oct_status bad(const loader *ld, const char *fmt, ...) {
    char msg[OCT_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return oct_fail(ld->err, OCT_E_PARSE, "%s: %s", ld->path, msg);
}

/* Every key known, none twice (cJSON keeps duplicates). */
static oct_status check_keys(const loader *ld, const cJSON *obj, const char *where,
                             const char *const *allowed) {
    for (const cJSON *c = obj->child; c; c = c->next) {
        int known = 0;
        for (int i = 0; allowed[i] && !known; i++) known = strcmp(c->string, allowed[i]) == 0;
        if (!known) return bad(ld, "%s: unknown key \"%s\"", where, c->string);
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return bad(ld, "%s: key \"%s\" appears twice", where, c->string);
    }
    return OCT_OK;
}

static const cJSON *get(const cJSON *obj, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static oct_status get_str(const loader *ld, const cJSON *obj, const char *where, const char *key,
                          int required, char **out) {
    const cJSON *v = get(obj, key);
    if (!v) return required ? bad(ld, "%s: missing \"%s\"", where, key) : OCT_OK;
    if (!cJSON_IsString(v)) return bad(ld, "%s.%s: expected a string", where, key);
    free(*out);
    if (!(*out = dupstr(v->valuestring)))
        return oct_fail(ld->err, OCT_E_NOMEM, "%s: out of memory", ld->path);
    return OCT_OK;
}

/* *have = 1 and *out set when key is present and a finite number. */
static oct_status get_num(const loader *ld, const cJSON *obj, const char *where, const char *key,
                          int *have, double *out) {
    const cJSON *v = get(obj, key);
    *have = 0;
    if (!v) return OCT_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bad(ld, "%s.%s: expected a number", where, key);
    *have = 1;
    *out = v->valuedouble;
    return OCT_OK;
}

static oct_status get_int(const loader *ld, const cJSON *obj, const char *where, const char *key,
                          double lo, double hi, int *have, int64_t *out) {
    double d = 0;
    OCT_TRY(get_num(ld, obj, where, key, have, &d));
    if (*have && (d != floor(d) || d < lo || d > hi))
        return bad(ld, "%s.%s: expected an integer in %.0f..%.0f", where, key, lo, hi);
    if (*have) *out = (int64_t)d;
    return OCT_OK;
}

static oct_status get_precision(const loader *ld, const cJSON *obj, const char *where,
                                oct_precision *out) {
    const cJSON *v = get(obj, "precision");
    if (!v) return bad(ld, "%s: missing \"precision\"", where);
    int pr = cJSON_IsString(v) ? oct_precision_parse(v->valuestring) : -1;
    if (pr < 0)
        return bad(ld, "%s.precision: expected one of \"fp32\", \"int8\", \"fp16\", \"bf16\"", where);
    *out = (oct_precision)pr;
    return OCT_OK;
}

static const cJSON *need_object(const loader *ld, const cJSON *parent, const char *key,
                                oct_status *st) {
    const cJSON *v = get(parent, key);
    *st = OCT_OK;
    if (!v)
        *st = bad(ld, "missing \"%s\"", key);
    else if (!cJSON_IsObject(v))
        *st = bad(ld, "%s: expected an object", key);
    return *st == OCT_OK ? v : NULL;
}

static int cmp_members(const void *a, const void *b) {
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* The tensor and node maps can be large: duplicates are found by sorting. */
static oct_status check_map(const loader *ld, const cJSON *map, const char *what) {
    size_t n = 0, i = 0;
    for (const cJSON *c = map->child; c; c = c->next) n++;
    if (n > INT_MAX / 2) return bad(ld, "%s: too many entries", what);
    const cJSON **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return oct_fail(ld->err, OCT_E_NOMEM, "%s: out of memory", ld->path);
    for (const cJSON *c = map->child; c; c = c->next) v[i++] = c;
    qsort(v, n, sizeof *v, cmp_members);
    oct_status st = OCT_OK;
    for (i = 0; i < n && st == OCT_OK; i++) {
        if (!v[i]->string[0]) st = bad(ld, "%s: an entry has an empty name", what);
        else if (i + 1 < n && strcmp(v[i]->string, v[i + 1]->string) == 0)
            st = bad(ld, "%s['%s']: appears twice", what, v[i]->string);
        else if (!cJSON_IsObject(v[i]))
            st = bad(ld, "%s['%s']: expected an object", what, v[i]->string);
    }
    free(v);
    return st;
}

static oct_status parse_stats(const loader *ld, const cJSON *s, const char *where,
                              oct_tensor_stats *st) {
    static const char *const keys[] = {"min", "max", "absmax", "p99.99", "count", "nonfinite", NULL};
    char w[OCT_ERROR_MAX + 8];
    snprintf(w, sizeof w, "%s.stats", where);
    if (!cJSON_IsObject(s)) return bad(ld, "%s: expected an object", w);
    OCT_TRY(check_keys(ld, s, w, keys));
    double *dst[] = {&st->min, &st->max, &st->absmax, &st->p9999};
    for (int i = 0; i < 4; i++) {
        int have;
        *dst[i] = NAN;
        OCT_TRY(get_num(ld, s, w, keys[i], &have, dst[i]));
    }
    int have;
    OCT_TRY(get_int(ld, s, w, "count", 0, 9007199254740992.0, &have, &st->count));
    OCT_TRY(get_int(ld, s, w, "nonfinite", 0, 9007199254740992.0, &have, &st->nan_count));
    return OCT_OK;
}

static oct_status parse_tensor(const loader *ld, const cJSON *j, oct_plan *p) {
    static const char *const keys[] = {"precision", "unsigned", "amax", "scale", "zero_point",
                                       "min", "max", "method", "stats", NULL};
    char where[OCT_ERROR_MAX], buf[OCT_ERROR_MAX];
    snprintf(where, sizeof where, "tensors['%s']", j->string);
    OCT_TRY(check_keys(ld, j, where, keys));
    int i = append_tensor(p, j->string);
    if (i < 0) return oct_fail(ld->err, OCT_E_NOMEM, "%s: out of memory", ld->path);
    oct_plan_tensor *t = &p->tensors[i];
    OCT_TRY(get_precision(ld, j, where, &t->precision));
    const cJSON *u = get(j, "unsigned");
    if (u && !cJSON_IsBool(u)) return bad(ld, "%s.unsigned: expected true or false", where);
    t->is_unsigned = u && cJSON_IsTrue(u);
    int have_amax, have_scale, have_zp, have_min, have_max;
    double amax = 0, scale = 0, lo = 0, hi = 0;
    int64_t zp = 0;
    OCT_TRY(get_num(ld, j, where, "amax", &have_amax, &amax));
    OCT_TRY(get_num(ld, j, where, "scale", &have_scale, &scale));
    OCT_TRY(get_int(ld, j, where, "zero_point", -2147483648.0, 2147483647.0, &have_zp, &zp));
    OCT_TRY(get_num(ld, j, where, "min", &have_min, &lo));
    OCT_TRY(get_num(ld, j, where, "max", &have_max, &hi));
    if (have_amax && !(amax > 0)) return bad(ld, "%s.amax: expected a positive number", where);
    if (have_scale && !usable_scale(scale))
        return bad(ld, "%s.scale: expected a positive number (a normal float32)", where);
    if (t->is_unsigned && have_amax)
        return bad(ld, "%s: \"amax\" is for symmetric tensors; an unsigned one uses \"min\" and \"max\"",
                   where);
    if (!t->is_unsigned && (have_min || have_max))
        return bad(ld, "%s: \"min\" and \"max\" are for unsigned tensors (\"unsigned\": true); a "
                   "symmetric one uses \"amax\"", where);
    if (have_min != have_max) return bad(ld, "%s: \"min\" and \"max\" go together", where);
    t->zero_point = (int32_t)zp;
    if (!t->is_unsigned) {
        if (have_amax) t->amax = amax;
        if (have_scale) t->scale = (float)scale;
        if (have_amax && !have_scale) {
            if (!usable_scale(oct_scale_s8(amax)))
                return bad(ld, "%s.amax: too small or too large for a float32 scale", where);
            t->scale = oct_scale_s8(amax);
        }
        if (have_scale && !have_amax) t->amax = (double)t->scale * 127.0;
    } else {
        t->min = lo;
        t->max = hi;
        if (have_scale) t->scale = (float)scale;
        if (have_min && !have_scale) {
            if (have_zp) return bad(ld, "%s: \"zero_point\" without \"scale\"", where);
            oct_asym_params_u8(lo, hi, &t->scale, &t->zero_point);
        }
        if (have_scale && !have_min && t->zero_point >= 0 && t->zero_point <= 255) {
            t->min = -(double)t->zero_point * t->scale;
            t->max = (double)(255 - t->zero_point) * t->scale;
        }
        /* not stored for unsigned tensors; in memory the larger magnitude */
        t->amax = t->max > -t->min ? t->max : -t->min;
    }
    const char *why = tensor_problem(t, buf, sizeof buf);
    if (why) return bad(ld, "%s: %s", where, why);
    OCT_TRY(get_str(ld, j, where, "method", 0, &t->method));
    const cJSON *s = get(j, "stats");
    if (s) {
        OCT_TRY(parse_stats(ld, s, where, &t->stats));
        t->has_stats = 1;
    }
    return OCT_OK;
}

static oct_status parse_node(const loader *ld, const cJSON *j, oct_plan *p) {
    static const char *const keys[] = {"op", "precision", NULL};
    char where[OCT_ERROR_MAX];
    snprintf(where, sizeof where, "nodes['%s']", j->string);
    OCT_TRY(check_keys(ld, j, where, keys));
    int i = append_node(p, j->string, NULL);
    if (i < 0) return oct_fail(ld->err, OCT_E_NOMEM, "%s: out of memory", ld->path);
    OCT_TRY(get_precision(ld, j, where, &p->nodes[i].precision));
    return get_str(ld, j, where, "op", 0, &p->nodes[i].op_type);
}

static oct_status parse_calibration(const loader *ld, const cJSON *c, oct_plan *p) {
    static const char *const keys[] = {"method", "scheme", "count", "data", "preprocess",
                                       "activations", "weights", "weight_bits", NULL};
    const char *w = "calibration";
    OCT_TRY(check_keys(ld, c, w, keys));
    OCT_TRY(get_str(ld, c, w, "method", 0, &p->method));
    OCT_TRY(get_str(ld, c, w, "scheme", 0, &p->scheme));
    OCT_TRY(get_str(ld, c, w, "data", 0, &p->data));
    OCT_TRY(get_str(ld, c, w, "preprocess", 0, &p->preprocess));
    int have;
    int64_t v = 0;
    OCT_TRY(get_int(ld, c, w, "count", 0, INT_MAX, &have, &v));
    p->count = (int)v;
    /* compared as a double: casting an out-of-range number to int is
     * undefined */
    const cJSON *wb = get(c, "weight_bits");
    if (wb && !cJSON_IsNumber(wb)) return bad(ld, "calibration.weight_bits: expected 4, 6, 7 or 8");
    double bits = wb ? wb->valuedouble : 8;
    if (!(bits == 4 || bits == 6 || bits == 7 || bits == 8))
        return bad(ld, "calibration.weight_bits: %g is not supported; expected 4, 6, 7 or 8", bits);
    p->weight_bits = (int)bits;
    const cJSON *a = get(c, "activations");
    if (a) {
        if (cJSON_IsString(a) && strcmp(a->valuestring, "symmetric") == 0) p->asymmetric = 0;
        else if (cJSON_IsString(a) && strcmp(a->valuestring, "asymmetric") == 0) p->asymmetric = 1;
        else return bad(ld, "calibration.activations: expected \"symmetric\" or \"asymmetric\"");
    }
    const cJSON *wt = get(c, "weights");
    if (wt) {
        if (cJSON_IsString(wt) && strcmp(wt->valuestring, "per-channel") == 0)
            p->weights = OCT_WEIGHTS_PER_CHANNEL;
        else if (cJSON_IsString(wt) && strcmp(wt->valuestring, "per-tensor") == 0)
            p->weights = OCT_WEIGHTS_PER_TENSOR;
        else return bad(ld, "calibration.weights: expected \"per-channel\" or \"per-tensor\"");
    }
    return OCT_OK;
}

static oct_status parse_plan(const loader *ld, const cJSON *root, oct_plan *p) {
    static const char *const keys[] = {"format", "version", "model", "calibration", "tensors",
                                       "nodes", "ptq", NULL};
    static const char *const model_keys[] = {"sha256", "path", NULL};
    oct_status st;
    if (!cJSON_IsObject(root)) return bad(ld, "expected a JSON object at the top level");
    const cJSON *f = get(root, "format");
    if (!cJSON_IsString(f) || strcmp(f->valuestring, "octet-plan") != 0)
        return bad(ld, "format: expected \"octet-plan\" (not an octet plan)");
    const cJSON *v = get(root, "version");
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1)
        return bad(ld, "version: expected a positive integer");
    if (v->valuedouble > OCT_PLAN_VERSION)
        return bad(ld, "plan version %.0f is newer than this octet reads (%d)", v->valuedouble,
                   OCT_PLAN_VERSION);
    OCT_TRY(check_keys(ld, root, "plan", keys));
    const cJSON *m = need_object(ld, root, "model", &st);
    if (!m) return st;
    OCT_TRY(check_keys(ld, m, "model", model_keys));
    const cJSON *sha = get(m, "sha256");
    if (!cJSON_IsString(sha) || !valid_sha256(sha->valuestring))
        return bad(ld, "model.sha256: expected 64 hex digits");
    for (int i = 0; i < 64; i++) p->model_sha256[i] = (char)tolower((unsigned char)sha->valuestring[i]);
    p->model_sha256[64] = 0;
    OCT_TRY(get_str(ld, m, "model", "path", 0, &p->model_path));
    const cJSON *c = need_object(ld, root, "calibration", &st);
    if (!c) return st;
    OCT_TRY(parse_calibration(ld, c, p));
    const cJSON *ts = need_object(ld, root, "tensors", &st);
    if (!ts) return st;
    const cJSON *ns = need_object(ld, root, "nodes", &st);
    if (!ns) return st;
    OCT_TRY(check_map(ld, ts, "tensors"));
    OCT_TRY(check_map(ld, ns, "nodes"));
    for (const cJSON *t = ts->child; t; t = t->next) OCT_TRY(parse_tensor(ld, t, p));
    for (const cJSON *n = ns->child; n; n = n->next) OCT_TRY(parse_node(ld, n, p));
    /* kept as written: a record of how the weights were made, read by the
     * analysis report */
    const cJSON *q = get(root, "ptq");
    if (q) {
        if (!cJSON_IsObject(q)) return bad(ld, "ptq: expected an object");
        char *text = cJSON_PrintUnformatted(q);
        p->ptq_json = text ? dupstr(text) : NULL;
        cJSON_free(text);
        if (!p->ptq_json) return oct_fail(ld->err, OCT_E_NOMEM, "out of memory");
    }
    return OCT_OK;
}

static oct_status read_file(const char *path, char **out, size_t *len, oct_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return oct_fail(err, OCT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *b = cap < ((size_t)1 << 31) ? realloc(buf, cap * 2 + 1) : NULL;
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf) return oct_fail(err, OCT_E_NOMEM, "%s: too large or out of memory", path);
    if (rerr) {
        free(buf);
        return oct_fail(err, OCT_E_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return OCT_OK;
}

oct_status oct_plan_load(const char *path, oct_plan **out, oct_error *err) {
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    OCT_TRY(read_file(path, &buf, &len, err));
    loader ld = {path, err};
    oct_status st = OCT_OK;
    const char *end = NULL;
    cJSON *root = NULL;
    size_t skip = strspn(buf, " \t\r\n");
    if (skip == len)
        st = bad(&ld, "empty file");
    else if (memchr(buf, 0, len))
        st = bad(&ld, "contains a NUL byte (not a text file)");
    else if (!(root = cJSON_ParseWithOpts(buf, &end, 1))) {
        int line = 1, col = 1;
        for (const char *c = buf; end && c < end && *c; c++) {
            col = *c == '\n' ? 1 : col + 1;
            line += *c == '\n';
        }
        st = bad(&ld, "line %d, column %d: not valid JSON%s", line, col,
                 end && *end == 0 ? " (the file ends too early: truncated?)" : "");
    }
    oct_plan *p = NULL;
    if (st == OCT_OK && !(p = oct_plan_new()))
        st = oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    if (st == OCT_OK) st = parse_plan(&ld, root, p);
    cJSON_Delete(root);
    free(buf);
    if (st != OCT_OK) {
        oct_plan_free(p);
        return st;
    }
    *out = p;
    return OCT_OK;
}
