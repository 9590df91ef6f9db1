/* Shared by report_html.c (the page and its tables), report_svg.c (the
 * charts), report_summary.c (the summary section), report_assets.c (CSS and
 * script) and report_util.c (the output buffer, HTML escaping, number
 * formatting, tolerant access to the JSON document, table cells). */
#ifndef OCT_IO_REPORT_INTERNAL_H
#define OCT_IO_REPORT_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/error.h"

/* A growing output buffer; after an allocation failure `oom` is set and
 * further output is dropped. */
typedef struct oct_rep_buf {
    char *data;
    size_t len, cap;
    int oom;
} oct_rep_buf;

void oct_rep_puts(oct_rep_buf *b, const char *s);
void oct_rep_printf(oct_rep_buf *b, const char *fmt, ...) OCT_PRINTF(2, 3);
/* Appends s escaped for HTML text and attribute values: & < > " ' become
 * entities, control characters and invalid UTF-8 become U+FFFD. NULL
 * appends nothing. */
void oct_rep_esc(oct_rep_buf *b, const char *s);
/* Same, keeping at most `keep` characters: the end of the string, which is
 * where tensor names differ, after an ellipsis. */
void oct_rep_esc_tail(oct_rep_buf *b, const char *s, size_t keep);

/* ---- the JSON document: every accessor tolerates NULL and wrong types -- */
typedef enum oct_rep_kind {
    OCT_REP_NONE = 0, /* absent, null, NaN, or not a number */
    OCT_REP_FINITE = 1,
    OCT_REP_POSINF = 2, /* a number overflowing to +inf, or "inf" */
    OCT_REP_NEGINF = 3
} oct_rep_kind;

/* obj[key] when obj is an object, else NULL. */
const cJSON *oct_rep_get(const cJSON *obj, const char *key);
/* obj[key] when it is a string, else NULL. */
const char *oct_rep_str(const cJSON *obj, const char *key);
/* Classifies a value; *v receives it (+-INFINITY for the infinite kinds,
 * 0 for none). */
oct_rep_kind oct_rep_num(const cJSON *item, double *v);
oct_rep_kind oct_rep_numk(const cJSON *obj, const char *key, double *v);
/* x when it is an array, else NULL; OCT_REP_EACH iterates over an array and
 * over nothing when the value is anything else. */
const cJSON *oct_rep_arr(const cJSON *x);
#define OCT_REP_EACH(el, arr) cJSON_ArrayForEach(el, oct_rep_arr(arr))
/* The array's size when it is an array, else 0. */
int oct_rep_len(const cJSON *arr);

/* ---- formatting -------------------------------------------------------- */
typedef enum oct_rep_style {
    OCT_FMT_G,     /* %.4g */
    OCT_FMT_DB,    /* %.1f */
    OCT_FMT_FIX4,  /* %.4f */
    OCT_FMT_PCT,   /* a share as a percentage, %.2f%% */
    OCT_FMT_INT,   /* %.0f */
    OCT_FMT_FLOPS, /* 8.40 G */
    OCT_FMT_SEC    /* 12.5 s */
} oct_rep_style;

/* Appends a number in the given style; "&infin;" / "&minus;&infin;" for the
 * infinite kinds, an em dash for none. */
void oct_rep_val(oct_rep_buf *b, oct_rep_kind k, double v, oct_rep_style style);
/* Same for an item of the document. */
void oct_rep_item(oct_rep_buf *b, const cJSON *item, oct_rep_style style);
/* A data-v attribute value for sorting: the number, "inf", "-inf" or "". */
void oct_rep_sortkey(oct_rep_buf *b, const cJSON *item);
/* Appends any JSON value compactly (numbers %.4g, strings escaped, arrays
 * joined with ", " up to `max_items`). */
void oct_rep_any(oct_rep_buf *b, const cJSON *item, int max_items);

/* ---- pieces of the page ------------------------------------------------ */
/* <section id="id"><h2>title</h2> (id and title are literals). */
void oct_rep_section_open(oct_rep_buf *b, const char *id, const char *title);
/* A numeric cell: class "n" (plus `extra`), a data-v sort key, the value in
 * `st`. */
void oct_rep_td_num(oct_rep_buf *b, const cJSON *item, oct_rep_style st, const char *extra);
/* A text cell, escaped; a dash for NULL. */
void oct_rep_td_text(oct_rep_buf *b, const char *s, const char *cls);
/* A list of names (nodes, tensors); "none" when empty. */
void oct_rep_name_list(oct_rep_buf *b, const cJSON *arr);
/* The stylesheet and the table-sorting script (report_assets.c). */
extern const char oct_rep_css[];
extern const char oct_rep_js[];
/* The summary section (report_summary.c). */
void oct_rep_section_summary(oct_rep_buf *b, const cJSON *doc);
/* The plan's weight optimisation log (doc "ptq"), per layer: AdaRound's
 * reconstruction MSE before and after, bias corrections (report_ptq.c). */
void oct_rep_ptq_table(oct_rep_buf *b, const cJSON *doc);

/* ---- charts (report_svg.c) --------------------------------------------- */
/* SQNR of every tensor against its topological position. */
void oct_rep_svg_sqnr(oct_rep_buf *b, const cJSON *tensors);
/* A horizontal bar chart of the first `top` entries of a sensitivity
 * ranking ({tensor, nodes, score}). */
void oct_rep_svg_ranking(oct_rep_buf *b, const cJSON *ranking, int top, const char *score_name);
/* One histograms[] entry: log-scaled counts, calibrator thresholds. */
void oct_rep_svg_histogram(oct_rep_buf *b, const cJSON *hist);

/* Colours shared by the charts and the HTML legends. */
#define OCT_REP_C_INT8 "#1f6fb4"
#define OCT_REP_C_FLOAT "#e8731a"

#endif
