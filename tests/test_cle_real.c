/* CLE on the shared real models: the FP32 outputs of the equalized model
 * against the original on a deterministic pseudo-random input in [0, 1),
 * relative L2 <= 1e-5; the pair counts, skip reasons, sweeps, mean range
 * ratios and time are printed. A missing model prints a SKIP line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cle_test.h"

static const oct_cle_skip *first_skip(const oct_cle_report *rep, int reason) {
    for (int i = 0; i < rep->n_skipped; i++)
        if ((int)rep->skipped[i].reason == reason) return &rep->skipped[i];
    return NULL;
}

static void real_model(const char *shared, const char *rel, int64_t side, int min_pairs) {
    char path[1024], out[1024];
    snprintf(path, sizeof path, "%s/%s", shared, rel);
    if (access(path, R_OK) != 0) {
        printf("SKIP %s: %s is missing (set OCTET_SHARED)\n", rel, path);
        return;
    }
    const char *base = strrchr(rel, '/');
    snprintf(out, sizeof out, "%s/cle_%s", tmpdir, base ? base + 1 : rel);
    oct_cle_report rep;
    oct_error err = {0};
    oct_status st = oct_cle_apply(path, out, &rep, &err);
    CHECK(!st, "%s: %s", rel, err.message);
    if (!st) {
        double before = 0, after = 0;
        for (int i = 0; i < rep.n_pairs; i++) {
            before += rep.pairs[i].ratio_before / rep.n_pairs;
            after += rep.pairs[i].ratio_after / rep.n_pairs;
        }
        printf("%s: %d pairs equalized (%d Clips rewritten), %d sweeps (last max |log s| %.2g), "
               "%.0f ms\n",
               rel, rep.n_pairs, rep.clips_rewritten, rep.sweeps, rep.last_max_log_scale, rep.ms);
        if (rep.n_pairs)
            printf(
                "  mean over pairs of the mean range ratio min(r1,r2)/max(r1,r2): %.4f -> %.4f\n",
                before, after);
        for (int r = 0; r < OCT_CLE_SKIP_COUNT; r++)
            if (rep.skipped_by_reason[r])
                printf("  skipped %d: %s (e.g. %s -> %s: %s)\n", rep.skipped_by_reason[r],
                       oct_cle_skip_reason_name((oct_cle_skip_reason)r), first_skip(&rep, r)->conv1,
                       first_skip(&rep, r)->conv2, first_skip(&rep, r)->detail);
        CHECK(rep.n_pairs >= min_pairs, "%s: %d pairs, expected at least %d", rel, rep.n_pairs,
              min_pairs);
        CHECK(rep.n_pairs == 0 || after > before, "%s: the mean ratio went %.4f -> %.4f", rel,
              before, after);
    }
    oct_cle_report_free(&rep);
    oct_model *a = NULL, *b = NULL;
    if (!st) st = oct_model_load_file(path, &a, &err);
    if (!st) st = oct_model_load_file(out, &b, &err);
    CHECK(!st, "%s: loading: %s", rel, err.message);
    if (!st) {
        int64_t dims[4] = {1, 3, side, side};
        size_t n = (size_t)(3 * side * side);
        float *x = malloc(n * sizeof *x);
        if (!x) exit(2);
        uint32_t s = 12345u; /* an LCG of its own: the same input whatever ran before */
        for (size_t i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = (float)((s >> 8) * (1.0 / 16777216.0));
        }
        double d = compare(rel, a, b, 4, dims, x);
        printf("%s: outputs relative L2 %.3g\n", rel, d);
        CHECK(d >= 0 && d <= 1e-5, "%s: outputs moved by relative L2 %g", rel, d);
        free(x);
    }
    oct_model_free(a);
    oct_model_free(b);
    remove(out);
}

void test_real_models(void) {
    const char *env = getenv("OCTET_SHARED");
    char shared[1024];
    if (env && *env)
        snprintf(shared, sizeof shared, "%s", env);
    else
        snprintf(shared, sizeof shared, "%s/../shared", OCT_SOURCE_DIR);
    real_model(shared, "models/mobilenetv2/mobilenetv2-12.onnx", 224, 21);
    real_model(shared, "models/yolov5n/yolov5n.onnx", 640, 0);
    real_model(shared, "models/yolov10n/yolov10n.onnx", 640, 0);
}
