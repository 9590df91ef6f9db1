/* The HTML report's plumbing: output buffer, escaping, number formatting and
 * tolerant access to the analysis document. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/report_internal.h"

#define P oct_rep_puts
#define PF oct_rep_printf
#define E oct_rep_esc

static int reserve(oct_rep_buf *b, size_t extra) {
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    return 1;
}

static void put(oct_rep_buf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void oct_rep_puts(oct_rep_buf *b, const char *s) {
    if (s) put(b, s, strlen(s));
}

void oct_rep_printf(oct_rep_buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        put(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid. */
static size_t utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static const char *entity(unsigned c) {
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

static void esc_range(oct_rep_buf *b, const unsigned char *p, const unsigned char *end) {
    while (p < end && *p) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x7F && !strchr("&<>\"'", *p))
            p++;
        if (p > run) put(b, (const char *)run, (size_t)(p - run));
        if (p >= end || !*p) break;
        unsigned c = *p;
        const char *ent = entity(c);
        if (ent) {
            oct_rep_puts(b, ent);
            p++;
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r') {
            put(b, (const char *)p++, 1);
            continue;
        }
        if (c < 0x20 || c == 0x7F) {
            oct_rep_puts(b, "&#xFFFD;");
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (n == 0 || p + n > end) {
            oct_rep_puts(b, "&#xFFFD;");
            p++;
            continue;
        }
        put(b, (const char *)p, n);
        p += n;
    }
}

void oct_rep_esc(oct_rep_buf *b, const char *s) {
    if (!s) return;
    esc_range(b, (const unsigned char *)s, (const unsigned char *)s + strlen(s));
}

void oct_rep_esc_tail(oct_rep_buf *b, const char *s, size_t keep) {
    if (!s) return;
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t chars = 0;
    for (const unsigned char *q = p; q < end; q++)
        if ((*q & 0xC0) != 0x80) chars++;
    if (chars <= keep) {
        esc_range(b, p, end);
        return;
    }
    /* Skip characters from the front until `keep` - 1 remain (one for the
     * ellipsis). */
    size_t skip = chars - (keep ? keep - 1 : 0);
    while (p < end && skip) {
        p++;
        while (p < end && (*p & 0xC0) == 0x80)
            p++;
        skip--;
    }
    oct_rep_puts(b, "&hellip;");
    esc_range(b, p, end);
}

const cJSON *oct_rep_get(const cJSON *obj, const char *key) {
    if (!obj || !key || !cJSON_IsObject(obj)) return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *oct_rep_str(const cJSON *obj, const char *key) {
    const cJSON *it = oct_rep_get(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

oct_rep_kind oct_rep_num(const cJSON *item, double *v) {
    double dummy;
    if (!v) v = &dummy;
    *v = 0;
    if (cJSON_IsNumber(item)) {
        double x = item->valuedouble;
        if (isnan(x)) return OCT_REP_NONE;
        if (isinf(x)) {
            *v = x;
            return x > 0 ? OCT_REP_POSINF : OCT_REP_NEGINF;
        }
        *v = x;
        return OCT_REP_FINITE;
    }
    if (cJSON_IsString(item) && item->valuestring) {
        const char *s = item->valuestring;
        int neg = 0;
        if (*s == '+' || *s == '-') neg = *s++ == '-';
        if (!strcasecmp(s, "inf") || !strcasecmp(s, "infinity")) {
            *v = neg ? -INFINITY : INFINITY;
            return neg ? OCT_REP_NEGINF : OCT_REP_POSINF;
        }
    }
    return OCT_REP_NONE;
}

oct_rep_kind oct_rep_numk(const cJSON *obj, const char *key, double *v) {
    return oct_rep_num(oct_rep_get(obj, key), v);
}

const cJSON *oct_rep_arr(const cJSON *x) { return cJSON_IsArray(x) ? x : NULL; }

int oct_rep_len(const cJSON *arr) { return cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0; }

void oct_rep_val(oct_rep_buf *b, oct_rep_kind k, double v, oct_rep_style style) {
    if (k == OCT_REP_POSINF) {
        oct_rep_puts(b, "&infin;");
        return;
    }
    if (k == OCT_REP_NEGINF) {
        oct_rep_puts(b, "&minus;&infin;");
        return;
    }
    if (k != OCT_REP_FINITE) {
        oct_rep_puts(b, "&mdash;");
        return;
    }
    switch (style) {
    case OCT_FMT_DB: oct_rep_printf(b, "%.1f", v); break;
    case OCT_FMT_FIX4: oct_rep_printf(b, "%.4f", v); break;
    case OCT_FMT_PCT:
        if (!isfinite(v * 100)) /* a "share" near DBL_MAX */
            oct_rep_puts(b, v > 0 ? "&infin;" : "&minus;&infin;");
        else if (v != 0 && fabs(v) < 1e-4)
            oct_rep_printf(b, "%.2g%%", v * 100);
        else
            oct_rep_printf(b, "%.2f%%", v * 100);
        break;
    case OCT_FMT_INT:
        if (fabs(v) < 1e15)
            oct_rep_printf(b, "%.0f", v);
        else
            oct_rep_printf(b, "%.4g", v);
        break;
    case OCT_FMT_FLOPS: {
        static const char *unit[] = {"", " K", " M", " G", " T", " P"};
        int u = 0;
        double a = v;
        while (fabs(a) >= 1000 && u < 5)
            a /= 1000, u++;
        if (fabs(a) >= 1e6)
            oct_rep_printf(b, "%.3g", v);
        else
            oct_rep_printf(b, u ? "%.2f%s" : "%.0f%s", a, unit[u]);
        break;
    }
    case OCT_FMT_SEC: oct_rep_printf(b, "%.1f s", v); break;
    case OCT_FMT_G:
    default: oct_rep_printf(b, "%.4g", v); break;
    }
}

void oct_rep_item(oct_rep_buf *b, const cJSON *item, oct_rep_style style) {
    double v;
    oct_rep_kind k = oct_rep_num(item, &v);
    oct_rep_val(b, k, v, style);
}

void oct_rep_sortkey(oct_rep_buf *b, const cJSON *item) {
    double v;
    switch (oct_rep_num(item, &v)) {
    case OCT_REP_FINITE: oct_rep_printf(b, "%.17g", v); break;
    case OCT_REP_POSINF: oct_rep_puts(b, "inf"); break;
    case OCT_REP_NEGINF: oct_rep_puts(b, "-inf"); break;
    default: break;
    }
}

void oct_rep_any(oct_rep_buf *b, const cJSON *item, int max_items) {
    if (cJSON_IsString(item)) {
        double v;
        if (oct_rep_num(item, &v) != OCT_REP_NONE)
            oct_rep_item(b, item, OCT_FMT_G);
        else
            oct_rep_esc(b, item->valuestring);
    } else if (cJSON_IsBool(item)) {
        oct_rep_puts(b, cJSON_IsTrue(item) ? "yes" : "no");
    } else if (cJSON_IsArray(item)) {
        int n = 0, total = oct_rep_len(item);
        const cJSON *x;
        cJSON_ArrayForEach(x, item) {
            if (n == max_items) {
                oct_rep_printf(b, ", &hellip; (%d in all)", total);
                break;
            }
            if (n++) oct_rep_puts(b, ", ");
            oct_rep_any(b, x, max_items);
        }
        if (!total) oct_rep_puts(b, "[]");
    } else if (cJSON_IsObject(item)) {
        int n = 0;
        const cJSON *x;
        oct_rep_puts(b, "{");
        cJSON_ArrayForEach(x, item) {
            if (n++) oct_rep_puts(b, ", ");
            oct_rep_esc(b, x->string);
            oct_rep_puts(b, ": ");
            oct_rep_any(b, x, max_items);
        }
        oct_rep_puts(b, "}");
    } else {
        oct_rep_item(b, item, OCT_FMT_G);
    }
}

/* ---- pieces of the page ------------------------------------------------ */
/* A <td class="n"> with a sort key. */
void oct_rep_td_num(oct_rep_buf *b, const cJSON *item, oct_rep_style st, const char *extra) {
    P(b, "<td class=\"n");
    if (extra) PF(b, " %s", extra);
    P(b, "\" data-v=\"");
    oct_rep_sortkey(b, item);
    P(b, "\">");
    oct_rep_item(b, item, st);
    P(b, "</td>");
}

void oct_rep_td_text(oct_rep_buf *b, const char *s, const char *cls) {
    if (cls)
        PF(b, "<td class=\"%s\">", cls);
    else
        P(b, "<td>");
    if (s)
        E(b, s);
    else
        P(b, "&mdash;");
    P(b, "</td>");
}

/* A list of names (node or tensor names). */
void oct_rep_name_list(oct_rep_buf *b, const cJSON *arr) {
    if (!oct_rep_len(arr)) {
        P(b, "<p class=\"none\">none</p>\n");
        return;
    }
    P(b, "<ul class=\"names\">");
    const cJSON *x;
    OCT_REP_EACH(x, arr) {
        P(b, "<li class=\"mono\">");
        oct_rep_any(b, x, 16);
        P(b, "</li>");
    }
    P(b, "</ul>\n");
}

void oct_rep_section_open(oct_rep_buf *b, const char *id, const char *title) {
    PF(b, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}
