/* The diagnosis rules (docs/analysis-json.md, "diagnoses"). Each rule is a
 * small function over the parsed tensor table; they run in the order of
 * `rules` below (output-collapse last: it uses what the others found) and add
 * findings to a list that is sorted at the end: severity first, then impact
 * (a per-rule score in [0, 1], 1 the worst), then topological order. */
#include "quant/diagnose.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- thresholds ---------------------------------------------------------- */

/* A part of a tensor that spans fewer than 8 int8 steps keeps 3 bits or less:
 * sigmoid scores, offsets or small channels are reduced to a few values. */
#define SHARED_SCALE_MIN_LEVELS 8.0
/* Below one step, most of the part (everything under half a step) is 0. */
#define SHARED_SCALE_ERROR_LEVELS 1.0
/* The parts of a Concat must differ at least 4x in range for the loss to be
 * the sharing's fault; similar parts with few levels are a threshold problem
 * (saturation, outliers, input-mismatch), not a shared-scale one. */
#define SHARED_SCALE_MIN_RATIO 4.0
/* Channel variant: the widest channel must use half of the 127 levels or
 * more ("the others use the full range"), ... */
#define SHARED_SCALE_FULL_LEVELS 64.0
/* ... and the starved channels must be a group, 5% of the channels or more:
 * a few stray small channels are normal in per-tensor activations. */
#define SHARED_SCALE_MIN_GROUP_SHARE 0.05
/* Channel variant: between 4 and 8 levels is only "info". Activations are
 * quantized per tensor by every int8 engine (TensorRT requires it), and in
 * real CNNs some channels routinely span 1/16 of the range (YOLOv10n's SiLU
 * outputs: 7.4 to 7.9 levels); below 4 (1/32 of the range) it is a mix of
 * different quantities, like boxes and scores. */
#define SHARED_SCALE_CHANNEL_WARN_LEVELS 4.0
/* ... and an error (under one level) only when the starved group is a
 * quarter of the channels or more: a few near-dead channels of a ReLU network
 * (MobileNetV2: 3 of 32 within 0.014 of a range of 6) carry little, while
 * YOLO-like mixes starve most of them (80 score channels of 84). */
#define SHARED_SCALE_CHANNEL_ERROR_SHARE 0.25
/* A consumer inherits the scale when its output threshold is within 10% of
 * the tensor's: the same step, give or take calibration noise. */
#define INHERIT_AMAX_TOLERANCE 0.10

/* output-collapse: half of the non-zero values becoming 0 is no longer noise. */
#define COLLAPSE_ZEROED_RATE 0.5
/* 3 dB: the error has half the energy of the signal. */
#define COLLAPSE_SQNR_DB 3.0
/* cosine 0.5: the output points 60 degrees away from FP32. */
#define COLLAPSE_COSINE 0.5
/* An accuracy metric (mAP, top-1) below half of FP32's: the model is broken. */
#define COLLAPSE_METRIC_RATIO 0.5
/* Where the collapse starts: a tensor whose values are mostly zeroed and
 * whose error is significant (10 dB: noise a tenth of the signal; cosine
 * 0.9: 26 degrees off). A tensor of tiny values (most sigmoid outputs) can
 * have many zeroed values and still be accurate. */
#define ORIGIN_SQNR_DB 10.0
#define ORIGIN_COSINE 0.9

/* outliers: the largest value 10x the 99.99th percentile is a handful of
 * rare values owning 90% of the range. */
#define OUTLIER_RATIO 10.0
/* The threshold "clips" the outliers when it is within 2x the 99.99th
 * percentile; above that, most of the range is spent on them. */
#define OUTLIER_CLIP_FACTOR 2.0

/* saturation: 1% of the values clipped is no longer a few outliers. */
#define SATURATION_RATE 0.01
/* Quantizing the tensor alone leaves under 20 dB (error above 10% in
 * amplitude): the clipping hurts. */
#define SATURATION_OWN_SQNR_DB 20.0
/* ... and only "info" when quantizing it alone still leaves 35 dB or more
 * (error under 2% in amplitude): YOLOv10n's input in [0, 1] with an entropy
 * threshold of 0.96 clips 1.7% of the pixels by at most 4% and keeps 42 dB. */
#define SATURATION_HARMLESS_SQNR_DB 35.0
/* The sensitivity ranking's worst 10 tensors. */
#define SATURATION_SENSITIVITY_TOP 10

/* weight-spread: per-tensor weights where the smallest channel gets under 8
 * levels (channel spread above 127/8 = 16x; a spread of 100x leaves it 1.3
 * levels). Error when the median channel is starved too. */
#define WEIGHT_MIN_LEVELS 8.0

/* input-mismatch: calibration and analysed inputs 4x apart in range lose 2
 * bits (or clip 75% of the range); 16x leaves 8 levels or clips 94%. */
#define INPUT_MISMATCH_RATIO 4.0
#define INPUT_MISMATCH_ERROR_RATIO 16.0

/* calibration-data: a threshold that moves 10% when a quarter of the images
 * is added is not settled; 10% of the int8 tensors moving is systematic. */
#define CALIB_MOVE 0.10
#define CALIB_MOVING_SHARE 0.10

/* 127 int8 steps on each side of 0 (symmetric int8). */
#define QMAX 127.0

/* ---- small helpers ------------------------------------------------------- */

enum { SEV_ERROR = 0, SEV_WARNING = 1, SEV_INFO = 2 };
static const char *const sev_name[] = {"error", "warning", "info"};

static const cJSON *jget(const cJSON *o, const char *key) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* A number: JSON numbers as they are, "inf"/"-inf" as infinities, anything
 * else (absent, null, other strings) as NaN. */
static double jval(const cJSON *v) {
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (cJSON_IsString(v) && v->valuestring) {
        const char *s = v->valuestring;
        if (!strcmp(s, "inf") || !strcmp(s, "+inf") || !strcmp(s, "Infinity") ||
            !strcmp(s, "infinity"))
            return INFINITY;
        if (!strcmp(s, "-inf") || !strcmp(s, "-Infinity") || !strcmp(s, "-infinity"))
            return -INFINITY;
    }
    return NAN;
}
static double jnum(const cJSON *o, const char *key) { return jval(jget(o, key)); }
static double jnum2(const cJSON *o, const char *k1, const char *k2) {
    return jnum(jget(o, k1), k2);
}
static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = jget(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static int pos(double x) { return isfinite(x) && x > 0; }

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) OCT_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}
static const char *sb_str(const sbuf *b) { return b->s && !b->oom ? b->s : ""; }
static void sb_free(sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* 'a', 'b' and 'c' / 'a', 'b', 'c' and 4 more */
static void sb_names(sbuf *b, const cJSON *arr, int max) {
    int n = cJSON_GetArraySize(arr), shown = n <= max ? n : max;
    for (int i = 0; i < shown; i++) {
        const cJSON *v = cJSON_GetArrayItem(arr, i);
        const char *sep = i == 0 ? "" : (i == n - 1 && shown == n) ? " and " : ", ";
        sb_printf(b, "%s'%s'", sep, cJSON_IsString(v) ? v->valuestring : "?");
    }
    if (shown < n) sb_printf(b, " and %d more", n - shown);
}

/* "-154..810" when min and max are known, else "±810". */
static void sb_range(sbuf *b, const cJSON *stats) {
    double mn = jnum(stats, "min"), mx = jnum(stats, "max"), am = jnum(stats, "absmax");
    if (isfinite(mn) && isfinite(mx))
        sb_printf(b, "%.3g..%.3g", mn, mx);
    else
        sb_printf(b, "±%.3g", am);
}

static int arr_has(const cJSON *arr, const char *s) {
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) if (cJSON_IsString(v) && !strcmp(v->valuestring, s)) return 1;
    return 0;
}
/* Appends s unless present; 0 when out of memory. */
static int arr_add(cJSON *arr, const char *s) {
    if (!s || arr_has(arr, s)) return 1;
    cJSON *v = cJSON_CreateString(s);
    if (!v) return 0;
    cJSON_AddItemToArray(arr, v);
    return 1;
}

/* ---- the tensor table ---------------------------------------------------- */

typedef struct {
    const cJSON *j;
    const char *name, *producer, *producer_op;
    double order;
    int is_input, is_output, int8;
    double scale, amax; /* usable int8 step and threshold (NaN when none) */
} tinfo;

typedef struct {
    cJSON *item;
    int sev;
    double impact, order;
    int seq;
} finding;

typedef struct {
    cJSON *doc;
    const cJSON *tensors_json;
    tinfo *t;
    int nt;
    struct byname {
        const char *name;
        int idx;
    } * by_name;           /* the table sorted by name */
    unsigned char *shared; /* per tensor: shared-scale found an error there */
    finding *f;
    int nf, capf;
    const char *plan_method; /* "entropy", "percentile", ... (no ":P") */
    char plan_method_buf[32];
    oct_error *err;
} dctx;

static const tinfo *ctx_tensor(const dctx *c, const char *name);

static int cmp_name(const void *a, const void *b) {
    const struct byname *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    return r ? r : x->idx - y->idx;
}

static int find_index(const dctx *c, const char *name) {
    if (!name) return -1;
    int lo = 0, hi = c->nt - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int r = strcmp(c->by_name[mid].name, name);
        if (!r) { /* duplicated names: the first in the document */
            while (mid > 0 && !strcmp(c->by_name[mid - 1].name, name))
                mid--;
            return c->by_name[mid].idx;
        }
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}
static const tinfo *ctx_tensor(const dctx *c, const char *name) {
    int i = find_index(c, name);
    return i < 0 ? NULL : &c->t[i];
}

static oct_status build_table(dctx *c) {
    const cJSON *arr = jget(c->doc, "tensors");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    c->t = calloc((size_t)n + 1, sizeof *c->t);
    c->by_name = calloc((size_t)n + 1, sizeof *c->by_name);
    c->shared = calloc((size_t)n + 1, 1);
    if (!c->t || !c->by_name || !c->shared)
        return oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
    const cJSON *j;
    int k = 0;
    cJSON_ArrayForEach(j, arr) {
        const char *name = jstr(j, "name");
        if (!name) continue;
        tinfo *t = &c->t[k];
        t->j = j;
        t->name = name;
        t->producer = jstr(j, "producer");
        t->producer_op = jstr(j, "producer_op");
        double o = jnum(j, "order");
        t->order = isfinite(o) ? o : k;
        t->is_input = cJSON_IsTrue(jget(j, "is_input"));
        t->is_output = cJSON_IsTrue(jget(j, "is_output"));
        const char *prec = jstr(j, "precision");
        t->int8 = prec && !strcmp(prec, "int8");
        double s = jnum(j, "scale"), a = jnum(j, "amax");
        t->scale = pos(s) ? s : pos(a) ? a / QMAX : NAN;
        t->amax = pos(a) ? a : pos(s) ? s * QMAX : NAN;
        c->by_name[k] = (struct byname){name, k};
        k++;
    }
    c->nt = k;
    qsort(c->by_name, (size_t)k, sizeof *c->by_name, cmp_name);
    const char *pm = jstr(c->doc, "plan_method");
    if (pm) {
        size_t l = strcspn(pm, ":");
        if (l >= sizeof c->plan_method_buf) l = sizeof c->plan_method_buf - 1;
        memcpy(c->plan_method_buf, pm, l);
        c->plan_method_buf[l] = 0;
        c->plan_method = c->plan_method_buf;
    }
    return OCT_OK;
}

/* Tensors written by node `node` (the ones in the table). */
static int node_outputs(const dctx *c, const char *node, int *out, int max) {
    int n = 0;
    if (!node) return 0;
    for (int i = 0; i < c->nt && n < max; i++)
        if (c->t[i].producer && !strcmp(c->t[i].producer, node)) out[n++] = i;
    return n;
}

/* Marks (mark[i] = 1) every tensor `from` depends on, itself included. An
 * input the table does not list (a value fused away, e.g. a Conv output
 * before its Clip) breaks the chain: then every tensor earlier in the order
 * counts as an ancestor. */
static void mark_ancestors(const dctx *c, int from, unsigned char *mark, int *stack) {
    int sp = 0;
    mark[from] = 1;
    stack[sp++] = from;
    while (sp) {
        const tinfo *t = &c->t[stack[--sp]];
        const cJSON *v;
        cJSON_ArrayForEach(v, jget(t->j, "producer_inputs")) {
            if (!cJSON_IsString(v)) continue;
            int i = find_index(c, v->valuestring);
            if (i < 0) {
                for (int k = 0; k < c->nt; k++)
                    if (c->t[k].order < t->order) mark[k] = 1;
            } else if (!mark[i]) {
                mark[i] = 1;
                stack[sp++] = i;
            }
        }
    }
}

/* Marks every tensor that depends on `from`, itself included. */
static void mark_descendants(const dctx *c, int from, unsigned char *mark, int *stack, int *outs) {
    int sp = 0;
    mark[from] = 1;
    stack[sp++] = from;
    while (sp) {
        const tinfo *t = &c->t[stack[--sp]];
        const cJSON *v;
        cJSON_ArrayForEach(v, jget(t->j, "consumers")) {
            if (!cJSON_IsString(v)) continue;
            int no = node_outputs(c, v->valuestring, outs, c->nt);
            for (int k = 0; k < no; k++)
                if (!mark[outs[k]]) {
                    mark[outs[k]] = 1;
                    stack[sp++] = outs[k];
                }
        }
    }
}

/* Ops that move or select values without computing new ones: an int8
 * engine runs them on the codes and their output keeps the input's scale. */
static int is_shape_op(const char *op) {
    static const char *const ops[] = {
        "Reshape",  "Transpose",      "Split",  "Slice",   "Gather",       "GatherND",
        "TopK",     "GatherElements", "Concat", "Squeeze", "Unsqueeze",    "Flatten",
        "Identity", "Expand",         "Tile",   "Pad",     "DepthToSpace", "SpaceToDepth"};
    if (!op) return 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(op, ops[i])) return 1;
    return 0;
}

/* The nodes downstream of tensor `from` that inherit its scale: shape-only
 * consumers whose int8 output has (nearly) the same threshold, transitively.
 * Appended to `arr` in visiting order. 0 when out of memory. */
static int add_inheritors(const dctx *c, int from, cJSON *arr) {
    int *stack = malloc(sizeof(int) * ((size_t)c->nt + 1));
    int *outs = malloc(sizeof(int) * ((size_t)c->nt + 1));
    unsigned char *seen = calloc((size_t)c->nt + 1, 1);
    int ok = stack && outs && seen;
    double ref = c->t[from].amax;
    int sp = 0;
    if (ok) {
        seen[from] = 1;
        stack[sp++] = from;
    }
    while (ok && sp) {
        const tinfo *t = &c->t[stack[--sp]];
        const cJSON *v;
        cJSON_ArrayForEach(v, jget(t->j, "consumers")) {
            if (!cJSON_IsString(v)) continue;
            int no = node_outputs(c, v->valuestring, outs, c->nt);
            int inherits = 0;
            for (int k = 0; k < no; k++) {
                const tinfo *o = &c->t[outs[k]];
                if (o->int8 && is_shape_op(o->producer_op) && pos(o->amax) &&
                    fabs(o->amax - ref) <= INHERIT_AMAX_TOLERANCE * ref) {
                    inherits = 1;
                    if (!seen[outs[k]]) {
                        seen[outs[k]] = 1;
                        stack[sp++] = outs[k];
                    }
                }
            }
            if (inherits && !arr_add(arr, v->valuestring)) ok = 0;
        }
    }
    free(stack);
    free(outs);
    free(seen);
    return ok;
}

/* ---- findings ------------------------------------------------------------ */

/* Adds a finding; takes ownership of nodes, numbers and fallback (NULL:
 * empty). */
static oct_status add_finding(dctx *c, const char *rule, int sev, double impact, double order,
                              const char *tensor, cJSON *nodes, const char *message, cJSON *numbers,
                              const char *fix, cJSON *fallback) {
    cJSON *d = cJSON_CreateObject();
    if (!nodes) nodes = cJSON_CreateArray();
    if (!numbers) numbers = cJSON_CreateObject();
    if (!fallback) fallback = cJSON_CreateArray();
    int ok = d && nodes && numbers && fallback;
    if (ok && c->nf == c->capf) {
        int cap = c->capf ? c->capf * 2 : 16;
        finding *p = realloc(c->f, sizeof *p * (size_t)cap);
        if (p) {
            c->f = p;
            c->capf = cap;
        } else {
            ok = 0;
        }
    }
    if (ok) {
        ok = cJSON_AddStringToObject(d, "rule", rule) &&
             cJSON_AddStringToObject(d, "severity", sev_name[sev]) &&
             (tensor ? cJSON_AddStringToObject(d, "tensor", tensor) != NULL
                     : cJSON_AddNullToObject(d, "tensor") != NULL);
        if (ok) {
            cJSON_AddItemToObject(d, "nodes", nodes);
            nodes = NULL;
            ok = cJSON_AddStringToObject(d, "message", message) != NULL;
        }
        if (ok) {
            cJSON_AddItemToObject(d, "numbers", numbers);
            numbers = NULL;
            ok = cJSON_AddStringToObject(d, "fix", fix) != NULL;
        }
        if (ok) {
            cJSON_AddItemToObject(d, "fallback", fallback);
            fallback = NULL;
        }
    }
    cJSON_Delete(nodes);
    cJSON_Delete(numbers);
    cJSON_Delete(fallback);
    if (!ok) {
        cJSON_Delete(d);
        return oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
    }
    if (!isfinite(impact)) impact = impact > 0 ? 1 : 0;
    c->f[c->nf] = (finding){d, sev, impact, order, c->nf};
    c->nf++;
    return OCT_OK;
}

/* Adds a finite number to `numbers` (NaN and infinities are left out). */
static void num(cJSON *numbers, const char *key, double v) {
    if (numbers && isfinite(v)) cJSON_AddNumberToObject(numbers, key, v);
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* %.3g writes 1000..999999 as "1e+03".."1e+05"; plain digits read better
 * ("threshold 1000", "3200x"). Rewrites such numbers in place (the result is
 * never longer). */
static void plain_thousands(sbuf *b) {
    if (!b->s || b->oom) return;
    char *p = b->s;
    while ((p = strstr(p, "e+0")) != NULL) {
        /* the mantissa: digits, at most one '.' between digits */
        char *start = p;
        int dot = 0;
        while (start > b->s) {
            char ch = start[-1];
            if (isdigit((unsigned char)ch))
                start--;
            else if (ch == '.' && !dot && start - 1 > b->s && isdigit((unsigned char)start[-2]) &&
                     start < p) {
                dot = 1;
                start--;
            } else {
                break;
            }
        }
        int in_name = start > b->s &&
                      (isalnum((unsigned char)start[-1]) || start[-1] == '_' || start[-1] == '/');
        if (p[3] >= '3' && p[3] <= '5' && !isdigit((unsigned char)p[4]) && start < p &&
            isdigit((unsigned char)*start) && !in_name) {
            char num[32];
            char *end = NULL;
            double v = strtod(start, &end);
            int n = snprintf(num, sizeof num, "%.0f", v);
            if (end == p + 4 && n > 0 && (size_t)n <= (size_t)(end - start)) {
                size_t old = (size_t)(end - start);
                memcpy(start, num, (size_t)n);
                memmove(start + n, end, strlen(end) + 1);
                b->len -= old - (size_t)n;
                p = start + n;
                continue;
            }
        }
        p += 3;
    }
}

/* Builds a finding from message/fix buffers, checking them for OOM. */
static oct_status emit(dctx *c, const char *rule, int sev, double impact, double order,
                       const char *tensor, cJSON *nodes, sbuf *msg, cJSON *numbers, sbuf *fix,
                       cJSON *fallback) {
    oct_status st;
    if (msg->oom || fix->oom) {
        cJSON_Delete(nodes);
        cJSON_Delete(numbers);
        cJSON_Delete(fallback);
        st = oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
    } else {
        plain_thousands(msg);
        plain_thousands(fix);
        st = add_finding(c, rule, sev, impact, order, tensor, nodes, sb_str(msg), numbers,
                         sb_str(fix), fallback);
    }
    sb_free(msg);
    sb_free(fix);
    return st;
}

static cJSON *one_name(const char *s) {
    cJSON *a = cJSON_CreateArray();
    if (a && s && !arr_add(a, s)) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* The nodes to keep out of INT8 for a tensor: its producer and the nodes
 * that inherit its scale. NULL when out of memory. */
static cJSON *producer_and_inheritors(const dctx *c, int ti) {
    cJSON *fb = one_name(c->t[ti].producer);
    if (fb && !add_inheritors(c, ti, fb)) {
        cJSON_Delete(fb);
        fb = NULL;
    }
    return fb;
}

/* "; the N nodes after it that inherit its scale: 'a', 'b'" */
static void sb_inheritors(sbuf *b, const cJSON *fallback, int skip_first) {
    int n = cJSON_GetArraySize(fallback) - skip_first;
    if (n <= 0) return;
    cJSON *rest = cJSON_CreateArray();
    if (!rest) {
        b->oom = 1;
        return;
    }
    for (int i = skip_first; i < cJSON_GetArraySize(fallback); i++) {
        const cJSON *v = cJSON_GetArrayItem(fallback, i);
        if (cJSON_IsString(v) && !arr_add(rest, v->valuestring)) b->oom = 1;
    }
    sb_printf(b, " The %d node%s after it inherit%s the same scale: ", n, n == 1 ? "" : "s",
              n == 1 ? "s" : "");
    sb_names(b, rest, 6);
    sb_printf(b, ".");
    cJSON_Delete(rest);
}

/* ---- shared-scale --------------------------------------------------------- */

typedef struct {
    const tinfo *t;
    double absmax;
} part;

static oct_status shared_concat(dctx *c, int ti, int *fired) {
    const tinfo *t = &c->t[ti];
    *fired = 0;
    const cJSON *ins = jget(t->j, "producer_inputs");
    int n = cJSON_GetArraySize(ins);
    if (!t->producer_op || strcmp(t->producer_op, "Concat") || n < 2) return OCT_OK;
    part big = {NULL, 0}, small = {NULL, INFINITY};
    int nparts = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, ins) {
        const tinfo *p = cJSON_IsString(v) ? ctx_tensor(c, v->valuestring) : NULL;
        double a = p ? jnum2(p->j, "observed", "absmax") : NAN;
        if (!pos(a)) continue; /* unknown, or all zeros: nothing to lose */
        nparts++;
        if (a > big.absmax) big = (part){p, a};
        if (a < small.absmax) small = (part){p, a};
    }
    if (nparts < 2 || big.t == small.t) return OCT_OK;
    double s = t->scale, levels = small.absmax / s, ratio = big.absmax / small.absmax;
    if (!(ratio >= SHARED_SCALE_MIN_RATIO && levels < SHARED_SCALE_MIN_LEVELS)) return OCT_OK;
    *fired = 1;
    int sev = levels < SHARED_SCALE_ERROR_LEVELS ? SEV_ERROR : SEV_WARNING;
    if (sev == SEV_ERROR) c->shared[ti] = 1;
    cJSON *fb = producer_and_inheritors(c, ti);
    cJSON *nodes = one_name(t->producer), *numbers = cJSON_CreateObject();
    sbuf msg = {0}, fix = {0};
    if (!fb) msg.oom = 1;
    sb_printf(&msg,
              "Concat '%s' joins inputs of very different ranges into one int8 tensor '%s' with a "
              "single scale: '%s' spans ",
              t->producer ? t->producer : "?", t->name, big.t->name);
    sb_range(&msg, jget(big.t->j, "observed"));
    sb_printf(&msg, " but '%s' only ", small.t->name);
    sb_range(&msg, jget(small.t->j, "observed"));
    sb_printf(&msg, " (%.4gx smaller). One int8 step is %.3g, so '%s' gets %.3g levels: ", ratio, s,
              small.t->name, levels);
    if (small.absmax < s / 2)
        sb_printf(&msg, "every one of its values is below half a step (%.3g) and rounds to 0.",
                  s / 2);
    else
        sb_printf(&msg,
                  "every value of it below %.3g (half a step) rounds to 0 and the rest keeps %d or "
                  "fewer distinct values.",
                  s / 2, 2 * (int)ceil(levels) + 1);
    sb_inheritors(&msg, fb, 1);
    sb_printf(&fix, "Keep '%s'", t->producer ? t->producer : t->name);
    if (cJSON_GetArraySize(fb) > 1)
        sb_printf(&fix, " and the %d node%s that inherit%s its scale", cJSON_GetArraySize(fb) - 1,
                  cJSON_GetArraySize(fb) > 2 ? "s" : "", cJSON_GetArraySize(fb) > 2 ? "" : "s");
    sb_printf(
        &fix,
        " out of INT8 (FP16/FP32), or split the Concat: bring '%s' to the range of '%s' before it "
        "(e.g. divide box coordinates by the image size) and undo that after the int8 part.",
        big.t->name, small.t->name);
    num(numbers, "levels_small_part", levels);
    num(numbers, "scale", s);
    num(numbers, "amax", t->amax);
    num(numbers, "absmax_large_part", big.absmax);
    num(numbers, "absmax_small_part", small.absmax);
    num(numbers, "range_ratio", ratio);
    num(numbers, "zero_below", s / 2);
    return emit(c, "shared-scale", sev, clamp01(1 - levels / SHARED_SCALE_MIN_LEVELS), t->order,
                t->name, nodes, &msg, numbers, &fix, fb);
}

/* "4-83" style list of channel indices, at most a few runs. */
static void sb_channels(sbuf *b, const int *idx, int n) {
    int runs = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1)
            j++;
        if (runs == 4) {
            sb_printf(b, ", ...");
            return;
        }
        sb_printf(b, "%s%d", runs ? ", " : "", idx[i]);
        if (j > i) sb_printf(b, "-%d", idx[j]);
        runs++;
        i = j + 1;
    }
}

static oct_status shared_channels(dctx *c, int ti) {
    const tinfo *t = &c->t[ti];
    const cJSON *ch = jget(t->j, "channels");
    const cJSON *abs_arr = jget(ch, "absmax");
    int n = cJSON_GetArraySize(abs_arr);
    if (!cJSON_IsArray(abs_arr) || n < 2) return OCT_OK;
    double s = t->scale, top = 0, low_max = 0;
    int top_i = -1, nonzero = 0, nlow = 0;
    int *low = malloc(sizeof(int) * (size_t)n);
    if (!low) return oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
    for (int i = 0; i < n; i++) {
        double a = jval(cJSON_GetArrayItem(abs_arr, i));
        if (!pos(a)) continue;
        nonzero++;
        if (a > top) top = a, top_i = i;
        if (a / s < SHARED_SCALE_MIN_LEVELS) {
            low[nlow++] = i;
            if (a > low_max) low_max = a;
        }
    }
    double need = ceil(SHARED_SCALE_MIN_GROUP_SHARE * nonzero);
    if (need < 1) need = 1;
    if (top_i < 0 || top / s < SHARED_SCALE_FULL_LEVELS || nlow < need) {
        free(low);
        return OCT_OK;
    }
    double levels = low_max / s;
    int most = nlow >= SHARED_SCALE_CHANNEL_ERROR_SHARE * nonzero;
    int sev = levels < SHARED_SCALE_ERROR_LEVELS && most  ? SEV_ERROR
              : levels < SHARED_SCALE_CHANNEL_WARN_LEVELS ? SEV_WARNING
                                                          : SEV_INFO;
    if (sev == SEV_ERROR) c->shared[ti] = 1;
    double axis = jnum(ch, "axis");
    cJSON *fb = producer_and_inheritors(c, ti);
    cJSON *nodes = one_name(t->producer), *numbers = cJSON_CreateObject();
    sbuf msg = {0}, fix = {0};
    if (!fb) msg.oom = 1;
    sb_printf(&msg, "'%s'", t->name);
    if (t->producer) sb_printf(&msg, " (output of '%s')", t->producer);
    sb_printf(&msg, " mixes channels of very different ranges under one int8 scale: channel %d",
              top_i);
    if (isfinite(axis)) sb_printf(&msg, " (axis %d)", (int)axis);
    sb_printf(&msg, " reaches ±%.3g while %d of %d channels (", top, nlow, n);
    sb_channels(&msg, low, nlow);
    sb_printf(
        &msg,
        ") stay within ±%.3g. One int8 step is %.3g, so those channels get at most %.3g levels: ",
        low_max, s, levels);
    if (low_max < s / 2)
        sb_printf(&msg, "all of their values are below half a step (%.3g) and round to 0.", s / 2);
    else
        sb_printf(&msg, "every value of theirs below %.3g (half a step) rounds to 0.", s / 2);
    sb_inheritors(&msg, fb, 1);
    sb_printf(&fix, "Keep '%s'", t->producer ? t->producer : t->name);
    if (cJSON_GetArraySize(fb) > 1)
        sb_printf(&fix, " and the %d node%s that inherit%s its scale", cJSON_GetArraySize(fb) - 1,
                  cJSON_GetArraySize(fb) > 2 ? "s" : "", cJSON_GetArraySize(fb) > 2 ? "" : "s");
    sb_printf(&fix, " out of INT8 (FP16/FP32), or give the small channels their own tensor (split "
                    "before the node) "
                    "or rescale them to the range of the others.");
    num(numbers, "levels_small_part", levels);
    num(numbers, "scale", s);
    num(numbers, "amax", t->amax);
    num(numbers, "absmax_large_part", top);
    num(numbers, "absmax_small_part", low_max);
    num(numbers, "channels_starved", nlow);
    num(numbers, "channels", n);
    num(numbers, "zero_below", s / 2);
    free(low);
    return emit(c, "shared-scale", sev, clamp01(1 - levels / SHARED_SCALE_MIN_LEVELS), t->order,
                t->name, nodes, &msg, numbers, &fix, fb);
}

static oct_status rule_shared_scale(dctx *c) {
    for (int i = 0; i < c->nt; i++) {
        if (!c->t[i].int8 || !pos(c->t[i].scale)) continue;
        int fired = 0;
        OCT_TRY(shared_concat(c, i, &fired));
        if (!fired) OCT_TRY(shared_channels(c, i));
    }
    return OCT_OK;
}

/* ---- output-collapse ---------------------------------------------------- */

static const cJSON *summary_output(const dctx *c, const char *name) {
    const cJSON *v;
    cJSON_ArrayForEach(v, jget(jget(c->doc, "summary"), "outputs")) {
        const char *n = jstr(v, "name");
        if (n && name && !strcmp(n, name)) return v;
    }
    return NULL;
}

/* The tensor's value, or the summary's for an output when the tensor has none. */
static double out_metric(const tinfo *t, const cJSON *so, const char *key) {
    double v = t ? jnum(t->j, key) : NAN;
    return isnan(v) ? jnum(so, key) : v;
}

/* Where the collapse of output `oi` starts (index into c->t). */
static int collapse_origin(const dctx *c, int oi, unsigned char *anc, int *stack) {
    memset(anc, 0, (size_t)c->nt);
    if (jget(c->t[oi].j, "producer_inputs"))
        mark_ancestors(c, oi, anc, stack);
    else
        for (int i = 0; i < c->nt; i++)
            anc[i] = c->t[i].order <= c->t[oi].order; /* no edges: order */
    int best = -1;
    /* a cause found already (a shared scale with less than one level) wins
     * over symptoms: in YOLOv10n the Sigmoid before the box/score Concat has
     * 99.99% of its (tiny) values zeroed and 6 dB, yet the Concat is what
     * wipes the scores out */
    for (int i = 0; i < c->nt; i++)
        if (anc[i] && c->shared[i] && (best < 0 || c->t[i].order < c->t[best].order)) best = i;
    if (best >= 0) return best;
    for (int i = 0; i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        if (!anc[i] || !t->int8) continue;
        double zr = jnum(t->j, "zeroed_rate"), sq = jnum(t->j, "sqnr_db"),
               cs = jnum(t->j, "cosine");
        int significant = sq < ORIGIN_SQNR_DB || cs < ORIGIN_COSINE;
        if (zr >= COLLAPSE_ZEROED_RATE && significant && (best < 0 || t->order < c->t[best].order))
            best = i;
    }
    if (best >= 0) return best;
    for (int i = 0; i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        if (anc[i] && t->int8 && jnum(t->j, "sqnr_db") < COLLAPSE_SQNR_DB &&
            (best < 0 || t->order < c->t[best].order))
            best = i;
    }
    return best >= 0 ? best : oi;
}

static int metric_is_accuracy(const char *m) {
    return m && (!strcmp(m, "map50_95") || !strcmp(m, "map50") || !strcmp(m, "top1") ||
                 !strcmp(m, "top5"));
}

static oct_status collapse_finding(dctx *c, int oi, const cJSON *so, const char *oname,
                                   const char *why_metric, unsigned char *anc, unsigned char *desc,
                                   int *stack, int *outs) {
    const tinfo *t = oi >= 0 ? &c->t[oi] : NULL;
    double zr = out_metric(t, so, "zeroed_rate"), sq = out_metric(t, so, "sqnr_db"),
           cs = out_metric(t, so, "cosine");
    const char *metric = jstr(jget(c->doc, "summary"), "metric");
    sbuf msg = {0}, fix = {0};
    cJSON *numbers = cJSON_CreateObject();
    if (metric && !strncmp(metric, "map", 3))
        sb_printf(&msg, "The INT8 model detects nothing: ");
    else if (metric && !strncmp(metric, "top", 3))
        sb_printf(&msg, "The INT8 model's class scores are lost: ");
    else
        sb_printf(&msg, "The INT8 model's output is mostly lost: ");
    if (why_metric) sb_printf(&msg, "%s; ", why_metric);
    sb_printf(&msg, "output '%s'", oname);
    int any = 0;
    if (isfinite(zr))
        sb_printf(&msg, "%s has %.3g%% of its non-zero values rounded to 0", any++ ? "," : "",
                  100 * zr);
    if (!isnan(sq)) {
        if (isinf(sq))
            sb_printf(&msg, "%s SQNR inf dB", any++ ? "," : " has");
        else
            sb_printf(&msg, "%s SQNR %.3g dB", any++ ? "," : " has", sq);
    }
    if (isfinite(cs)) sb_printf(&msg, "%s cosine %.3g", any++ ? "," : " has", cs);
    if (any)
        sb_printf(&msg, " against FP32.");
    else
        sb_printf(&msg, ".");
    num(numbers, "zeroed_rate", zr);
    num(numbers, "sqnr_db", sq);
    num(numbers, "cosine", cs);
    double impact = 1;
    cJSON *nodes = cJSON_CreateArray(), *fb = cJSON_CreateArray();
    if (!nodes || !fb) msg.oom = 1;
    if (t && nodes && fb) {
        int org = collapse_origin(c, oi, anc, stack);
        const tinfo *o = &c->t[org];
        if (org != oi) {
            double ozr = jnum(o->j, "zeroed_rate"), osq = jnum(o->j, "sqnr_db");
            sb_printf(&msg, " The collapse starts at '%s'", o->name);
            if (o->producer)
                sb_printf(&msg, " (output of %s '%s')", o->producer_op ? o->producer_op : "node",
                          o->producer);
            if (isfinite(ozr) && ozr >= COLLAPSE_ZEROED_RATE)
                sb_printf(&msg, ", where %.3g%% of the values already round to 0", 100 * ozr);
            else if (isfinite(osq))
                sb_printf(&msg, ", where the SQNR already falls to %.3g dB", osq);
            sb_printf(&msg, ".");
            num(numbers, "origin_zeroed_rate", ozr);
            num(numbers, "origin_sqnr_db", osq);
        }
        if (!arr_add(nodes, o->producer)) msg.oom = 1;
        /* the path from the origin to the output; when the consumers do not
         * lead to the output (values fused away), everything after the origin */
        memset(desc, 0, (size_t)c->nt);
        mark_descendants(c, org, desc, stack, outs);
        if (!desc[oi])
            for (int i = 0; i < c->nt; i++)
                desc[i] = c->t[i].order >= o->order;
        memset(anc, 0, (size_t)c->nt);
        mark_ancestors(c, oi, anc, stack);
        /* the findings on the way (the rules before this one have run) */
        int own = c->shared[org], upstream = 0;
        char rules_seen[128] = "";
        for (int k = 0; k < c->nf; k++) {
            const char *tn = jstr(c->f[k].item, "tensor"), *rn = jstr(c->f[k].item, "rule");
            int ti = find_index(c, tn);
            if (ti < 0 || !anc[ti] || c->t[ti].order > o->order || !rn) continue;
            if (ti == org) {
                own = 1;
                continue;
            }
            upstream++;
            if (!strstr(rules_seen, rn) && strlen(rules_seen) + strlen(rn) + 3 < sizeof rules_seen)
                snprintf(rules_seen + strlen(rules_seen), sizeof rules_seen - strlen(rules_seen),
                         "%s%s", rules_seen[0] ? ", " : "", rn);
        }
        if (org != oi && !own) {
            double oown = jnum(o->j, "own_sqnr_db");
            if (isfinite(oown) && oown >= SATURATION_OWN_SQNR_DB)
                sb_printf(&msg,
                          " Quantizing that tensor alone keeps %.3g dB: the error comes from the "
                          "tensors before it.",
                          oown);
        }
        if (upstream)
            sb_printf(&msg, " %d other finding%s (%s) concern%s tensors on the way.", upstream,
                      upstream == 1 ? "" : "s", rules_seen, upstream == 1 ? "s" : "");
        num(numbers, "findings_upstream", upstream);
        int *path = outs, np = 0;
        for (int i = 0; i < c->nt; i++)
            if (desc[i] && anc[i] && c->t[i].producer) path[np++] = i;
        for (int a = 1; a < np; a++) /* by order; insertion sort, the path is short */
            for (int b = a; b > 0 && c->t[path[b]].order < c->t[path[b - 1]].order; b--) {
                int x = path[b];
                path[b] = path[b - 1];
                path[b - 1] = x;
            }
        for (int i = 0; i < np; i++)
            if (!arr_add(fb, c->t[path[i]].producer)) msg.oom = 1;
        if (org != oi && own)
            sb_printf(&fix,
                      "Fix the cause at '%s' (see its diagnosis), or keep the %d nodes from '%s' "
                      "to the output out of INT8.",
                      o->name, cJSON_GetArraySize(fb), o->producer ? o->producer : o->name);
        else if (org != oi && upstream)
            sb_printf(&fix,
                      "Fix the findings on the tensors up to '%s' first (%s), or keep the %d nodes "
                      "from '%s' to the output out of INT8.",
                      o->name, rules_seen, cJSON_GetArraySize(fb),
                      o->producer ? o->producer : o->name);
        else if (org != oi)
            sb_printf(&fix, "Keep the %d nodes from '%s' to the output out of INT8.",
                      cJSON_GetArraySize(fb), o->producer ? o->producer : o->name);
        else
            sb_printf(&fix,
                      "Keep '%s' out of INT8 and look at the diagnoses of the tensors before it.",
                      o->producer ? o->producer : o->name);
    } else {
        sb_printf(&fix,
                  "The analysis lists no tensor '%s': analyze the full model to locate where the "
                  "collapse "
                  "starts, and look at the diagnoses of the tensors before the output.",
                  oname);
    }
    return emit(c, "output-collapse", SEV_ERROR, impact, t ? t->order : -1, oname, nodes, &msg,
                numbers, &fix, fb);
}

static oct_status rule_output_collapse(dctx *c) {
    unsigned char *anc = calloc((size_t)c->nt + 1, 1), *desc = calloc((size_t)c->nt + 1, 1),
                  *done = calloc((size_t)c->nt + 1, 1);
    int *stack = malloc(sizeof(int) * ((size_t)c->nt + 1)),
        *outs = malloc(sizeof(int) * ((size_t)c->nt + 1));
    oct_status st = OCT_OK;
    if (!anc || !desc || !done || !stack || !outs)
        st = oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
    int fired = 0, first_out = -1;
    const cJSON *first_so = NULL;
    /* outputs marked in the table */
    for (int i = 0; !st && i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        if (!t->is_output) continue;
        if (first_out < 0 || t->order < c->t[first_out].order) first_out = i;
        done[i] = 1;
        const cJSON *so = summary_output(c, t->name);
        double zr = out_metric(t, so, "zeroed_rate"), sq = out_metric(t, so, "sqnr_db"),
               cs = out_metric(t, so, "cosine");
        if (zr >= COLLAPSE_ZEROED_RATE || sq < COLLAPSE_SQNR_DB || cs < COLLAPSE_COSINE) {
            st = collapse_finding(c, i, so, t->name, NULL, anc, desc, stack, outs);
            fired = 1;
        }
    }
    /* outputs only the summary lists */
    const cJSON *so;
    cJSON_ArrayForEach(so, jget(jget(c->doc, "summary"), "outputs")) {
        if (st) break;
        const char *name = jstr(so, "name");
        int ti = find_index(c, name);
        if (!name || (ti >= 0 && done[ti])) continue;
        if (!first_so) first_so = so;
        double zr = jnum(so, "zeroed_rate"), sq = jnum(so, "sqnr_db"), cs = jnum(so, "cosine");
        if (zr >= COLLAPSE_ZEROED_RATE || sq < COLLAPSE_SQNR_DB || cs < COLLAPSE_COSINE) {
            st = collapse_finding(c, ti, so, name, NULL, anc, desc, stack, outs);
            fired = 1;
        }
    }
    /* an accuracy metric that collapsed although no single output did */
    const cJSON *sum = jget(c->doc, "summary");
    const char *metric = jstr(sum, "metric");
    double fp = jnum(sum, "fp32"), pl = jnum(sum, "plan");
    if (!st && !fired && metric_is_accuracy(metric) && pos(fp) && isfinite(pl) &&
        pl < COLLAPSE_METRIC_RATIO * fp && (first_out >= 0 || first_so)) {
        char why[160];
        snprintf(why, sizeof why, "%s falls from %.3g (FP32) to %.3g", metric, fp, pl);
        const char *name = first_out >= 0 ? c->t[first_out].name : jstr(first_so, "name");
        st = collapse_finding(c, first_out, first_out >= 0 ? summary_output(c, name) : first_so,
                              name, why, anc, desc, stack, outs);
        if (!st) {
            cJSON *numbers = cJSON_GetObjectItemCaseSensitive(c->f[c->nf - 1].item, "numbers");
            num(numbers, "metric_fp32", fp);
            num(numbers, "metric_plan", pl);
        }
    }
    free(anc);
    free(desc);
    free(done);
    free(stack);
    free(outs);
    return st;
}

/* ---- threshold helpers (outliers, saturation) -------------------------- */

static const cJSON *histogram_of(const dctx *c, const char *tensor) {
    const cJSON *h;
    cJSON_ArrayForEach(h, jget(c->doc, "histograms")) {
        const char *n = jstr(h, "tensor");
        if (n && !strcmp(n, tensor)) return h;
    }
    return NULL;
}

/* Estimated SQNR (dB) of quantizing the histogram's |x| with threshold T:
 * values under half a step become 0, values over T clip to T, the rest carry
 * the uniform rounding noise step^2/12. NaN when the histogram is unusable. */
static double hist_sqnr(const cJSON *h, double T) {
    double bw = jnum(h, "bin_width");
    const cJSON *counts = jget(h, "counts");
    if (!pos(bw) || !pos(T) || !cJSON_IsArray(counts)) return NAN;
    double s = T / QMAX, sig = 0, noise = 0;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, counts) {
        double n = jval(v), x = (i++ + 0.5) * bw;
        if (!pos(n)) continue;
        sig += n * x * x;
        if (x < s / 2)
            noise += n * x * x;
        else if (x <= T)
            noise += n * s * s / 12;
        else
            noise += n * (x - T) * (x - T);
    }
    if (!(sig > 0)) return NAN;
    if (!(noise > 0)) return INFINITY;
    return 10 * log10(sig / noise);
}

typedef struct {
    const char *method;
    double threshold, est_sqnr; /* est_sqnr NaN without a histogram */
} pick;

/* The calibrator to recommend among `thresholds`: with a histogram, the best
 * estimated SQNR among those above `min_threshold`; without one, mse (it
 * minimizes the quantization error by construction), then percentile, then
 * entropy; for a wider threshold (min_threshold > 0) the smallest candidate
 * that covers `cover`, else the widest. */
static pick best_threshold(const cJSON *thr, const cJSON *hist, double min_threshold,
                           double cover) {
    pick best = {NULL, NAN, NAN};
    const cJSON *v;
    if (hist) {
        cJSON_ArrayForEach(v, thr) {
            double T = jval(v);
            if (!pos(T) || T <= min_threshold || !v->string) continue;
            double e = hist_sqnr(hist, T);
            if (!isnan(e) && (isnan(best.est_sqnr) || e > best.est_sqnr))
                best = (pick){v->string, T, e};
        }
        if (best.method) return best;
    }
    if (min_threshold <= 0) {
        static const char *const pref[] = {"mse", "percentile", "entropy"};
        for (int i = 0; i < 3; i++) {
            double T = jnum(thr, pref[i]);
            if (pos(T)) return (pick){pref[i], T, NAN};
        }
        return best;
    }
    cJSON_ArrayForEach(v, thr) {
        double T = jval(v);
        if (!pos(T) || T <= min_threshold || !v->string) continue;
        int covers = T >= cover, bcovers = best.method && best.threshold >= cover;
        if (!best.method || (covers && (!bcovers || T < best.threshold)) ||
            (!covers && !bcovers && T > best.threshold))
            best = (pick){v->string, T, NAN};
    }
    return best;
}

/* ---- outliers --------------------------------------------------------------- */

static oct_status rule_outliers(dctx *c) {
    for (int i = 0; i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        if (!t->int8 || !pos(t->amax)) continue;
        const cJSON *obs = jget(t->j, "observed");
        double mx = jnum(obs, "absmax"), p = jnum(obs, "p9999");
        if (!pos(mx) || !pos(p) || mx / p < OUTLIER_RATIO) continue;
        double s = t->scale, ratio = mx / p, levels = p / s;
        int clips = t->amax <= OUTLIER_CLIP_FACTOR * p;
        const cJSON *thr = jget(t->j, "thresholds"), *hist = histogram_of(c, t->name);
        pick b = best_threshold(thr, hist, 0, 0);
        double plan_est = hist ? hist_sqnr(hist, t->amax) : NAN;
        int plan_is_best = b.method && ((c->plan_method && !strcmp(b.method, c->plan_method)) ||
                                        fabs(b.threshold - t->amax) <= 0.1 * t->amax);
        int sev = clips || plan_is_best ? SEV_INFO : SEV_WARNING;
        sbuf msg = {0}, fix = {0};
        cJSON *numbers = cJSON_CreateObject();
        sb_printf(&msg, "'%s'", t->name);
        if (t->producer) sb_printf(&msg, " (output of '%s')", t->producer);
        sb_printf(&msg,
                  " has rare outliers: 99.99%% of its values lie within ±%.3g but the largest "
                  "reach ±%.3g (%.4gx). ",
                  p, mx, ratio);
        if (clips)
            sb_printf(&msg,
                      "The plan's threshold %.3g clips them: 99.99%% of the values keep %.3g "
                      "levels (good resolution) "
                      "and the outliers saturate at ±%.3g.",
                      t->amax, levels, t->amax);
        else
            sb_printf(&msg,
                      "The plan's threshold %.3g covers them: one int8 step is %.3g, so 99.99%% of "
                      "the values get only "
                      "%.3g of the 127 levels; the resolution goes to the outliers.",
                      t->amax, s, levels);
        int estimated = !isnan(b.est_sqnr) && !isnan(plan_est);
        if (b.method && estimated && !plan_is_best) {
            sb_printf(&fix,
                      "Calibrate with --method %s: its threshold %.3g gives an estimated SQNR of "
                      "%.3g dB on this "
                      "tensor against %.3g dB with the plan's %.3g.",
                      b.method, b.threshold, b.est_sqnr, plan_est, t->amax);
        } else if (b.method && estimated) {
            sb_printf(&fix,
                      "Keep the plan's threshold: it has the lowest estimated error of the "
                      "calibrators (SQNR %.3g dB)",
                      plan_est);
            if (!clips)
                sb_printf(&fix, "; a threshold near the 99.99th percentile would saturate the rare "
                                "large values, which "
                                "carry most of the signal here");
            sb_printf(&fix, ".");
        } else if (b.method && !plan_is_best) {
            sb_printf(&fix,
                      "Try --method %s (threshold %.3g for this tensor)%s; check with `octet "
                      "analyze` that the rare "
                      "large values it saturates do not matter (confident class scores, for "
                      "instance, do).",
                      b.method, b.threshold,
                      clips ? "" : ", which gives the bulk of the values more levels");
        } else if (b.method) {
            sb_printf(&fix,
                      "The plan's threshold (%s) already has the lowest squared error here; if the "
                      "bulk of small "
                      "values matters more than the rare large ones, try --method percentile.",
                      b.method);
        } else {
            sb_printf(&fix, "Calibrate with --method mse or percentile so that the threshold clips "
                            "the outliers, if the "
                            "rare large values do not matter.");
        }
        num(numbers, "absmax", mx);
        num(numbers, "p9999", p);
        num(numbers, "outlier_ratio", ratio);
        num(numbers, "amax", t->amax);
        num(numbers, "scale", s);
        num(numbers, "levels_p9999", levels);
        if (b.method) num(numbers, "recommended_threshold", b.threshold);
        num(numbers, "recommended_est_sqnr_db", b.est_sqnr);
        num(numbers, "plan_est_sqnr_db", plan_est);
        if (b.method && numbers) cJSON_AddStringToObject(numbers, "recommended_method", b.method);
        OCT_TRY(emit(c, "outliers", sev, clamp01(1 - levels / QMAX), t->order, t->name,
                     one_name(t->producer), &msg, numbers, &fix, NULL));
    }
    return OCT_OK;
}

/* ---- saturation ----------------------------------------------------------- */

/* 1-based rank of tensor in sensitivity.only (worst first), 0 when absent. */
static int sensitivity_rank(const dctx *c, const char *tensor) {
    int r = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, jget(jget(c->doc, "sensitivity"), "only")) {
        r++;
        const char *n = jstr(v, "tensor");
        if (n && !strcmp(n, tensor)) return r;
    }
    return 0;
}

static oct_status rule_saturation(dctx *c) {
    for (int i = 0; i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        double rate = jnum(t->j, "saturation_rate");
        if (!t->int8 || !pos(t->amax) || !(rate >= SATURATION_RATE)) continue;
        double own = jnum(t->j, "own_sqnr_db"), mx = jnum2(t->j, "observed", "absmax"),
               p = jnum2(t->j, "observed", "p9999");
        int rank = sensitivity_rank(c, t->name);
        int bad_own =
            own<SATURATION_OWN_SQNR_DB, top = rank> 0 && rank <= SATURATION_SENSITIVITY_TOP;
        int sev = bad_own || top                       ? SEV_ERROR
                  : own >= SATURATION_HARMLESS_SQNR_DB ? SEV_INFO
                                                       : SEV_WARNING;
        const cJSON *hist = histogram_of(c, t->name);
        pick b = best_threshold(jget(t->j, "thresholds"), hist, t->amax * 1.05, pos(p) ? p : mx);
        sbuf msg = {0}, fix = {0};
        cJSON *numbers = cJSON_CreateObject();
        sb_printf(&msg, "%.3g%% of the values of '%s'", 100 * rate, t->name);
        if (t->producer) sb_printf(&msg, " (output of '%s')", t->producer);
        sb_printf(&msg, " exceed the plan's threshold ±%.3g and saturate at it", t->amax);
        if (pos(mx)) sb_printf(&msg, "; the largest reach ±%.3g", mx);
        sb_printf(&msg, ".");
        if (isfinite(own))
            sb_printf(&msg, " Quantizing this tensor alone leaves %.3g dB SQNR.", own);
        if (top)
            sb_printf(
                &msg,
                " It ranks %d among the tensors that hurt the output most when quantized alone.",
                rank);
        if (b.method) {
            sb_printf(&fix, "Widen the threshold: --method %s gives %.3g for this tensor", b.method,
                      b.threshold);
            if (isfinite(b.est_sqnr)) sb_printf(&fix, " (estimated SQNR %.3g dB)", b.est_sqnr);
            sb_printf(&fix, "; or keep '%s' out of INT8.", t->producer ? t->producer : t->name);
        } else if (pos(p) && p > t->amax) {
            sb_printf(&fix,
                      "Widen the threshold to at least the 99.99th percentile, %.3g (--method "
                      "percentile), "
                      "or keep '%s' out of INT8.",
                      p, t->producer ? t->producer : t->name);
        } else {
            sb_printf(&fix,
                      "Calibrate with a wider threshold (another --method or more representative "
                      "images), "
                      "or keep '%s' out of INT8.",
                      t->producer ? t->producer : t->name);
        }
        num(numbers, "saturation_rate", rate);
        num(numbers, "amax", t->amax);
        num(numbers, "absmax", mx);
        num(numbers, "own_sqnr_db", own);
        if (rank) num(numbers, "sensitivity_rank", rank);
        if (b.method) {
            num(numbers, "recommended_threshold", b.threshold);
            if (numbers) cJSON_AddStringToObject(numbers, "recommended_method", b.method);
        }
        OCT_TRY(emit(c, "saturation", sev, clamp01(rate * 10), t->order, t->name,
                     one_name(t->producer), &msg, numbers, &fix, one_name(t->producer)));
    }
    return OCT_OK;
}

/* ---- weight-spread --------------------------------------------------------- */

static oct_status rule_weight_spread(dctx *c) {
    const char *wdoc = jstr(c->doc, "weights");
    int doc_per_tensor = wdoc && !strcmp(wdoc, "per-tensor");
    const cJSON *w;
    int k = 0;
    cJSON_ArrayForEach(w, jget(c->doc, "weights_info")) {
        k++;
        const char *node = jstr(w, "node"), *op = jstr(w, "op"), *prec = jstr(w, "precision");
        const cJSON *pt = jget(w, "per_tensor");
        int per_tensor = cJSON_IsBool(pt) ? cJSON_IsTrue(pt) : doc_per_tensor;
        if (!node || !per_tensor || (prec && strcmp(prec, "int8"))) continue;
        double lo = jnum(w, "absmax_min"), med = jnum(w, "absmax_median"),
               hi = jnum(w, "absmax_max");
        double nch = jnum(w, "channels");
        if (!pos(hi) || !(lo >= 0) || hi < lo) continue;
        /* all-zero channels lose nothing: with one, judge by the median */
        int dead = lo == 0;
        double s = hi / QMAX, lv = dead ? NAN : lo / s, lv_med = pos(med) ? med / s : NAN;
        double ratio = dead ? NAN : hi / lo;
        if (dead ? !(lv_med < WEIGHT_MIN_LEVELS) : !(lv < WEIGHT_MIN_LEVELS)) continue;
        int sev = lv_med < WEIGHT_MIN_LEVELS ? SEV_ERROR : SEV_WARNING;
        sbuf msg = {0}, fix = {0};
        cJSON *numbers = cJSON_CreateObject();
        sb_printf(&msg, "%s '%s' quantizes its weights with one scale", op ? op : "Node", node);
        if (isfinite(nch)) sb_printf(&msg, " for all %d output channels", (int)nch);
        if (dead) {
            sb_printf(&msg,
                      " (per-tensor), but half of its channels stay within ±%.3g while the widest "
                      "reaches ±%.3g "
                      "(some channels are all zero). With one step of %.3g the median channel gets "
                      "%.3g levels.",
                      med, hi, s, lv_med);
        } else {
            sb_printf(&msg,
                      " (per-tensor), but the channels' ranges differ %.4gx (absmax %.3g to %.3g",
                      ratio, lo, hi);
            if (pos(med)) sb_printf(&msg, ", median %.3g", med);
            sb_printf(&msg, "). With one step of %.3g the smallest channel gets %.3g levels", s,
                      lv);
            if (isfinite(lv_med)) sb_printf(&msg, " and the median channel %.3g", lv_med);
            sb_printf(&msg, "%s",
                      lv < 0.5 ? "; the smallest channel's weights all round to 0." : ".");
        }
        sb_printf(&fix,
                  "Quantize the weights per channel (calibrate without --per-tensor-weights), or "
                  "equalize the "
                  "channel ranges first (cross-layer equalization); else keep '%s' out of INT8.",
                  node);
        num(numbers, "absmax_min", lo);
        num(numbers, "absmax_median", med);
        num(numbers, "absmax_max", hi);
        num(numbers, "spread", ratio);
        num(numbers, "scale", s);
        num(numbers, "levels_min", lv);
        num(numbers, "levels_median", lv_med);
        num(numbers, "flops", jnum(w, "flops"));
        OCT_TRY(emit(c, "weight-spread", sev, clamp01(1 - (dead ? lv_med : lv) / WEIGHT_MIN_LEVELS),
                     1e12 + k, NULL, one_name(node), &msg, numbers, &fix, one_name(node)));
    }
    return OCT_OK;
}

/* ---- input-mismatch -------------------------------------------------------- */

static oct_status rule_input_mismatch(dctx *c) {
    for (int i = 0; i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        if (!t->is_input) continue;
        const cJSON *cal = jget(t->j, "calib"), *obs = jget(t->j, "observed");
        double ca = jnum(cal, "absmax"), oa = jnum(obs, "absmax");
        if (!pos(ca) || !pos(oa)) continue;
        double ratio = ca > oa ? ca / oa : oa / ca;
        if (ratio < INPUT_MISMATCH_RATIO) continue;
        int sev = ratio >= INPUT_MISMATCH_ERROR_RATIO ? SEV_ERROR : SEV_WARNING;
        double hi = ca > oa ? ca : oa, lo = ca > oa ? oa : ca;
        sbuf msg = {0}, fix = {0};
        cJSON *numbers = cJSON_CreateObject();
        sb_printf(&msg, "Input '%s' was calibrated on values spanning ", t->name);
        sb_range(&msg, cal);
        sb_printf(&msg, " but the analysed inputs span ");
        sb_range(&msg, obs);
        sb_printf(&msg, " (%.4gx %s). ", ratio, ca > oa ? "smaller" : "larger");
        if (hi >= 128 && hi <= 256 * 1.01 && lo <= 4)
            sb_printf(&msg, "One set looks like raw 0..255 pixels and the other like scaled ones: "
                            "images not divided "
                            "by 255 in one of the pipelines? ");
        else
            sb_printf(&msg, "The calibration images were preprocessed differently (scaling, "
                            "mean/std, channel order) or "
                            "come from another distribution. ");
        if (ca > oa)
            sb_printf(&msg,
                      "With the plan's scale the real inputs use about %.3g of the 127 levels, and "
                      "every threshold "
                      "after it was calibrated on other data.",
                      QMAX / ratio);
        else
            sb_printf(&msg, "With the plan's scale most of the real inputs saturate, and every "
                            "threshold after it was "
                            "calibrated on other data.");
        sb_printf(&fix, "Recalibrate with the same preprocessing as deployment (the same "
                        "--scale/--mean/--std or "
                        "preset as the images fed to the model).");
        num(numbers, "calib_absmax", ca);
        num(numbers, "observed_absmax", oa);
        num(numbers, "ratio", ratio);
        num(numbers, "amax", t->amax);
        OCT_TRY(emit(c, "input-mismatch", sev, clamp01(log2(ratio) / 8), t->order, t->name,
                     cJSON_Duplicate(jget(t->j, "consumers"), 1), &msg, numbers, &fix, NULL));
    }
    return OCT_OK;
}

/* ---- calibration-data ------------------------------------------------------- */

/* The tensor is an output or feeds a node that writes one. */
static int output_adjacent(const dctx *c, const tinfo *t, int *outs) {
    if (t->is_output) return 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, jget(t->j, "consumers")) {
        if (!cJSON_IsString(v)) continue;
        int no = node_outputs(c, v->valuestring, outs, c->nt);
        for (int k = 0; k < no; k++)
            if (c->t[outs[k]].is_output) return 1;
    }
    return 0;
}

static oct_status rule_calibration_data(dctx *c) {
    if (!c->plan_method) return OCT_OK;
    int *outs = malloc(sizeof(int) * ((size_t)c->nt + 1));
    cJSON *nodes = cJSON_CreateArray();
    if (!outs || !nodes) {
        free(outs);
        cJSON_Delete(nodes);
        return oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
    }
    int total = 0, moving = 0, adjacent = 0, worst = -1, adj_i = -1;
    double worst_move = 0, worst_order = 0;
    for (int i = 0; i < c->nt; i++) {
        const tinfo *t = &c->t[i];
        if (!t->int8) continue;
        double partial = jnum(t->j, "threshold_partial"),
               fin = jnum2(t->j, "thresholds", c->plan_method);
        if (!pos(partial) || !pos(fin)) continue;
        total++;
        double move = fabs(fin - partial) / fin;
        if (move < CALIB_MOVE) continue;
        moving++;
        if (output_adjacent(c, t, outs)) {
            adjacent++;
            if (adj_i < 0) adj_i = i;
        }
        if (move > worst_move) worst_move = move, worst = i, worst_order = t->order;
        if (t->producer && !arr_add(nodes, t->producer)) {
            free(outs);
            cJSON_Delete(nodes);
            return oct_fail(c->err, OCT_E_NOMEM, "diagnose: out of memory");
        }
    }
    free(outs);
    double share = total ? (double)moving / total : 0;
    if (!moving || (share < CALIB_MOVING_SHARE && !adjacent)) {
        cJSON_Delete(nodes);
        return OCT_OK;
    }
    const tinfo *w = &c->t[worst];
    double wp = jnum(w->j, "threshold_partial"), wf = jnum2(w->j, "thresholds", c->plan_method);
    double images = jnum(c->doc, "images");
    sbuf msg = {0}, fix = {0};
    cJSON *numbers = cJSON_CreateObject();
    sb_printf(&msg,
              "The thresholds are still moving: for %d of %d int8 tensors (%.3g%%) the %s "
              "threshold computed on "
              "the first 3/4 of the ",
              moving, total, 100 * share, c->plan_method);
    if (pos(images)) sb_printf(&msg, "%d ", (int)images);
    sb_printf(&msg,
              "images differs by %.3g%% or more from the one on all of them (worst '%s': %.3g -> "
              "%.3g, %+.3g%%).",
              100 * CALIB_MOVE, w->name, wp, wf, 100 * (wf - wp) / wp);
    if (adjacent)
        sb_printf(&msg, " %d of them %s next to an output ('%s'), where it shows directly.",
                  adjacent, adjacent == 1 ? "is" : "are", c->t[adj_i].name);
    if (pos(images))
        sb_printf(&msg,
                  " The thresholds have not settled on %d images: a calibration set of that size "
                  "is too small "
                  "or not representative.",
                  (int)images);
    else
        sb_printf(&msg, " The thresholds have not settled: the calibration set is too small or not "
                        "representative.");
    sb_printf(&fix, "Calibrate on more images (several times as many, drawn like the deployment "
                    "data), and analyze "
                    "with as many to check that the thresholds stop moving.");
    num(numbers, "tensors_moving", moving);
    num(numbers, "tensors_checked", total);
    num(numbers, "share_moving", share);
    num(numbers, "output_adjacent_moving", adjacent);
    num(numbers, "worst_move", worst_move);
    num(numbers, "worst_threshold_partial", wp);
    num(numbers, "worst_threshold_final", wf);
    num(numbers, "images", images);
    return emit(c, "calibration-data", SEV_WARNING, clamp01(share), worst_order, w->name, nodes,
                &msg, numbers, &fix, NULL);
}

/* ---- driver ---------------------------------------------------------------- */

typedef oct_status (*rule_fn)(dctx *c);
static const struct {
    const char *name;
    rule_fn fn;
} rules[] = {
    /* clang-format off */
    {"shared-scale", rule_shared_scale},
    {"outliers", rule_outliers},
    {"saturation", rule_saturation},
    {"weight-spread", rule_weight_spread},
    {"input-mismatch", rule_input_mismatch},
    {"calibration-data", rule_calibration_data},
    /* last: it names the findings on the way to the output */
    {"output-collapse", rule_output_collapse},
    /* clang-format on */
};

static int cmp_finding(const void *a, const void *b) {
    const finding *x = a, *y = b;
    if (x->sev != y->sev) return x->sev - y->sev;
    if (x->impact != y->impact) return x->impact > y->impact ? -1 : 1;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    return x->seq - y->seq;
}

oct_status oct_diagnose(cJSON *analysis, oct_error *err) {
    if (!cJSON_IsObject(analysis))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "diagnose: the analysis document is not a JSON object");
    cJSON_DeleteItemFromObjectCaseSensitive(analysis, "diagnoses");
    dctx c;
    memset(&c, 0, sizeof c);
    c.doc = analysis;
    c.err = err;
    oct_status st = build_table(&c);
    for (size_t r = 0; !st && r < sizeof rules / sizeof rules[0]; r++) {
        st = rules[r].fn(&c);
        if (st) oct_error_prefix(err, "rule %s: ", rules[r].name);
    }
    cJSON *arr = st ? NULL : cJSON_CreateArray();
    if (!st && !arr) st = oct_fail(err, OCT_E_NOMEM, "diagnose: out of memory");
    if (!st) {
        if (c.nf > 1) qsort(c.f, (size_t)c.nf, sizeof *c.f, cmp_finding);
        for (int i = 0; i < c.nf; i++) {
            cJSON_AddItemToArray(arr, c.f[i].item);
            c.f[i].item = NULL;
        }
        cJSON_AddItemToObject(analysis, "diagnoses", arr);
    }
    for (int i = 0; i < c.nf; i++)
        cJSON_Delete(c.f[i].item);
    free(c.f);
    free(c.t);
    free(c.by_name);
    free(c.shared);
    return st;
}

void oct_diagnose_print(const cJSON *analysis, FILE *f) {
    const cJSON *arr = jget(analysis, "diagnoses");
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n == 0) {
        fprintf(f, "diagnosis: no problem found\n");
        return;
    }
    int count[3] = {0, 0, 0};
    const cJSON *d;
    cJSON_ArrayForEach(d, arr) {
        const char *s = jstr(d, "severity");
        for (int k = 0; k < 3; k++)
            if (s && !strcmp(s, sev_name[k])) count[k]++;
    }
    fprintf(f, "diagnosis: %d finding%s (%d error%s, %d warning%s, %d info)\n", n,
            n == 1 ? "" : "s", count[0], count[0] == 1 ? "" : "s", count[1],
            count[1] == 1 ? "" : "s", count[2]);
    /* the array is sorted already; print by severity anyway in case it was edited */
    int shown = 0;
    for (int k = 0; k < 4 && shown < OCT_DIAGNOSE_PRINT_MAX; k++) {
        cJSON_ArrayForEach(d, arr) {
            if (shown >= OCT_DIAGNOSE_PRINT_MAX) break;
            const char *s = jstr(d, "severity");
            int sk = 3;
            for (int q = 0; q < 3; q++)
                if (s && !strcmp(s, sev_name[q])) sk = q;
            if (sk != k) continue;
            const char *rule = jstr(d, "rule"), *msg = jstr(d, "message"), *fix = jstr(d, "fix");
            fprintf(f, "  %-7s %s: %s\n", k < 3 ? sev_name[k] : "?", rule ? rule : "?",
                    msg ? msg : "");
            if (fix && *fix) fprintf(f, "          fix: %s\n", fix);
            shown++;
        }
    }
    if (n > shown) fprintf(f, "  ... and %d more\n", n - shown);
}
