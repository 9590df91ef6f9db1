/* The HTML report of an analysis document (docs/analysis-json.md,
 * docs/report.md). */
#ifndef OCT_IO_REPORT_HTML_H
#define OCT_IO_REPORT_HTML_H

#include <cjson/cJSON.h>

#include "octet/octet.h"

/* Writes one self-contained HTML page (inline CSS, inline SVG charts, a few
 * lines of inline JavaScript for sorting tables; nothing is loaded from
 * elsewhere) describing `analysis`. Every field is optional: what is missing
 * is reported as missing in the page. Fails with OCT_E_INVALID_ARG when
 * `analysis` is not a JSON object or `path` is NULL, OCT_E_IO when the file
 * cannot be written, OCT_E_NOMEM when memory runs out. */
oct_status oct_report_html_write(const cJSON *analysis, const char *path, oct_error *err);

#endif
