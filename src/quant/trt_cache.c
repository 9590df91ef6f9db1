#include "quant/trt_cache.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arith.h"

void oct_trt_scale_hex(float scale, char out[9]) {
    snprintf(out, 9, "%08x", (unsigned)oct_f32_bits(scale));
}

static int valid_algorithm(const char *a, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)a[i]) && a[i] != '_') return 0;
    return 1;
}

static int cmp_entry(const void *a, const void *b) {
    const oct_trt_entry *x = *(const oct_trt_entry *const *)a, *y = *(const oct_trt_entry *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorting finds repeated names in n log n; returns the later of a pair. */
static const oct_trt_entry *find_duplicate(const oct_trt_entry *e, int n, const oct_trt_entry **first,
                                           int *nomem) {
    const oct_trt_entry **v = malloc((n > 0 ? (size_t)n : 1) * sizeof *v);
    const oct_trt_entry *dup = NULL;
    *nomem = !v;
    if (!v) return NULL;
    for (int i = 0; i < n; i++) v[i] = &e[i];
    qsort(v, (size_t)n, sizeof *v, cmp_entry);
    for (int i = 0; i + 1 < n && !dup; i++)
        if (strcmp(v[i]->name, v[i + 1]->name) == 0) {
            *first = v[i];
            dup = v[i + 1];
        }
    free(v);
    return dup;
}

oct_status oct_trt_cache_write(const char *path, int64_t version, const char *algorithm,
                               const oct_trt_entry *entries, int n, oct_error *err) {
    if (version <= 0) version = OCT_TRT_CACHE_VERSION;
    if (!algorithm) algorithm = OCT_TRT_CACHE_ALGORITHM;
    if (!valid_algorithm(algorithm, strlen(algorithm)))
        return oct_fail(err, OCT_E_INVALID_ARG,
                        "%s: calibration algorithm '%s': expected letters, digits and '_' "
                        "(e.g. EntropyCalibration2)", path, algorithm);
    for (int i = 0; i < n; i++) {
        const oct_trt_entry *e = &entries[i];
        if (!e->name || !*e->name || strpbrk(e->name, "\r\n"))
            return oct_fail(err, OCT_E_INVALID_ARG,
                            "%s: tensor name '%s' cannot be written (empty or with a line break)",
                            path, e->name ? e->name : "");
        if (!isfinite(e->scale) || signbit(e->scale))
            return oct_fail(err, OCT_E_INVALID_ARG, "%s: tensor '%s': scale %g is not a valid "
                            "scale", path, e->name, (double)e->scale);
    }
    const oct_trt_entry *first = NULL;
    int nomem;
    const oct_trt_entry *dup = find_duplicate(entries, n, &first, &nomem);
    if (nomem) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    if (dup) return oct_fail(err, OCT_E_INVALID_ARG, "%s: tensor '%s' given twice", path, dup->name);
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(tmp);
        return oct_fail(err, OCT_E_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    fprintf(f, "TRT-%lld-%s\n", (long long)version, algorithm);
    for (int i = 0; i < n; i++) {
        char hex[9];
        oct_trt_scale_hex(entries[i].scale, hex);
        fprintf(f, "%s: %s\n", entries[i].name, hex);
    }
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

oct_status oct_trt_cache_write_plan(const oct_plan *p, const char *path, int64_t version,
                                    const char *algorithm, oct_error *err) {
    oct_trt_entry *e = malloc((p->n_tensors > 0 ? (size_t)p->n_tensors : 1) * sizeof *e);
    if (!e) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    int n = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const oct_plan_tensor *t = &p->tensors[i];
        if (t->precision != OCT_PREC_INT8) continue;
        if (t->is_unsigned) {
            free(e);
            return oct_fail(err, OCT_E_UNSUPPORTED,
                            "%s: tensor '%s' is asymmetric uint8; TensorRT calibration caches "
                            "hold symmetric int8 scales only", path, t->name);
        }
        e[n].name = t->name;
        e[n].scale = t->scale;
        e[n].line = 0;
        n++;
    }
    oct_status st = oct_trt_cache_write(path, version, algorithm, e, n, err);
    free(e);
    return st;
}

void oct_trt_cache_free(oct_trt_cache *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) free(c->entries[i].name);
    free(c->entries);
    free(c->algorithm);
    free(c);
}

static oct_status parse_header(const char *path, char *s, oct_trt_cache *c, oct_error *err) {
    char *p = s + 4, *end = NULL;
    if (strncmp(s, "TRT-", 4) != 0 || !isdigit((unsigned char)*p)) goto bad;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || v <= 0 || *end != '-' || !valid_algorithm(end + 1, strlen(end + 1))) goto bad;
    c->version = v;
    if (!(c->algorithm = strdup(end + 1)))
        return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    return OCT_OK;
bad:
    return oct_fail(err, OCT_E_PARSE,
                    "%s: line 1: expected a header like TRT-8601-EntropyCalibration2, got '%.80s'",
                    path, s);
}

/* `name: hhhhhhhh`, split at the last ':'. */
static oct_status parse_entry(const char *path, int line, char *s, oct_trt_entry *e,
                              oct_error *err) {
    char *colon = strrchr(s, ':');
    if (!colon)
        return oct_fail(err, OCT_E_PARSE, "%s: line %d: expected 'tensor_name: hhhhhhhh', got "
                        "'%.80s'", path, line, s);
    if (colon == s) return oct_fail(err, OCT_E_PARSE, "%s: line %d: empty tensor name", path, line);
    const char *h = colon + 1;
    while (*h == ' ' || *h == '\t') h++;
    size_t nd = strspn(h, "0123456789abcdefABCDEF");
    if (nd < 1 || nd > 8 || h[nd] != 0)
        return oct_fail(err, OCT_E_PARSE, "%s: line %d: '%.40s' is not a scale in hex (1 to 8 "
                        "hex digits, e.g. 3c010a14)", path, line, colon + 1);
    float scale = oct_bits_f32((uint32_t)strtoul(h, NULL, 16));
    *colon = 0;
    if (!isfinite(scale) || signbit(scale))
        return oct_fail(err, OCT_E_PARSE, "%s: line %d: tensor '%s': %s is not a valid scale "
                        "(%g)", path, line, s, h, (double)scale);
    if (!(e->name = strdup(s))) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    e->scale = scale;
    e->line = line;
    return OCT_OK;
}

static oct_status parse_cache(const char *path, char *buf, oct_trt_cache *c, oct_error *err) {
    int line = 0, cap = 0, have_header = 0;
    for (char *s = buf; *s;) {
        char *nl = strchr(s, '\n');
        char *next = nl ? nl + 1 : s + strlen(s);
        if (nl) *nl = 0;
        line++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
        if (!have_header) {
            OCT_TRY(parse_header(path, s, c, err));
            have_header = 1;
        } else if (n > 0) {
            if (c->n == cap) {
                if (cap > (1 << 28)) return oct_fail(err, OCT_E_PARSE, "%s: too many lines", path);
                cap = cap ? cap * 2 : 64;
                oct_trt_entry *e = realloc(c->entries, (size_t)cap * sizeof *e);
                if (!e) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
                c->entries = e;
            }
            OCT_TRY(parse_entry(path, line, s, &c->entries[c->n], err));
            c->n++;
        }
        s = next;
    }
    if (!have_header) return oct_fail(err, OCT_E_PARSE, "%s: empty file (no TRT- header)", path);
    const oct_trt_entry *first = NULL;
    int nomem;
    const oct_trt_entry *dup = find_duplicate(c->entries, c->n, &first, &nomem);
    if (nomem) return oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    if (dup)
        return oct_fail(err, OCT_E_PARSE, "%s: line %d: tensor '%s' already appears on line %d",
                        path, dup->line, dup->name, first->line);
    return OCT_OK;
}

oct_status oct_trt_cache_read(const char *path, oct_trt_cache **out, oct_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return oct_fail(err, OCT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *b = cap < ((size_t)1 << 31) ? realloc(buf, cap * 2 + 1) : NULL;
        if (!b) free(buf);
        buf = b;
        cap *= 2;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!buf) return oct_fail(err, OCT_E_NOMEM, "%s: too large or out of memory", path);
    oct_status st = OCT_OK;
    buf[n] = 0;
    if (rerr)
        st = oct_fail(err, OCT_E_IO, "%s: read error", path);
    else if (memchr(buf, 0, n))
        st = oct_fail(err, OCT_E_PARSE, "%s: contains a NUL byte (not a calibration cache)", path);
    oct_trt_cache *c = NULL;
    if (st == OCT_OK && !(c = calloc(1, sizeof *c)))
        st = oct_fail(err, OCT_E_NOMEM, "%s: out of memory", path);
    if (st == OCT_OK) st = parse_cache(path, buf, c, err);
    free(buf);
    if (st != OCT_OK) {
        oct_trt_cache_free(c);
        return st;
    }
    *out = c;
    return OCT_OK;
}

oct_status oct_trt_cache_to_plan(const oct_trt_cache *c, oct_plan *p, oct_error *err) {
    size_t mlen = strlen(c->algorithm) + 11;
    for (int i = 0; i < c->n; i++) {
        int k = oct_plan_add_tensor(p, c->entries[i].name);
        char *method = malloc(mlen);
        if (k < 0 || !method) {
            free(method);
            return oct_fail(err, OCT_E_NOMEM, "out of memory");
        }
        snprintf(method, mlen, "trt-cache:%s", c->algorithm);
        oct_plan_tensor *t = &p->tensors[k];
        free(t->method);
        t->method = method;
        t->precision = OCT_PREC_INT8;
        t->is_unsigned = 0;
        t->zero_point = 0;
        /* scale * 127 is exact in double, so oct_scale_s8(amax) gives the
         * cached scale back bit for bit */
        double amax = (double)c->entries[i].scale * 127.0;
        if (oct_amax_usable(amax) == amax) {
            t->amax = amax;
            t->scale = c->entries[i].scale;
        } else {
            t->amax = OCT_AMAX_FALLBACK;
            t->scale = oct_scale_s8(OCT_AMAX_FALLBACK);
        }
    }
    return OCT_OK;
}
