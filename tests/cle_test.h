/* Shared by the CLE test files (test_cle.c, test_cle_edit.c,
 * test_cle_real.c): the counters, the scratch folder, running models. */
#ifndef OCT_TESTS_CLE_TEST_H
#define OCT_TESTS_CLE_TEST_H

#include <stdio.h>

/* the counters are defined in test_cle.c */
#define OCT_CHECK_EXTERN
#include "check.h"
#include "cle_build.h"
#include "onnx/model_edit.h"
#include "quant/cle.h"
#include "runtime/runtime.h"

extern char tmpdir[512];

typedef struct outputs {
    int n;
    float *v[8];
    size_t len[8];
} outputs;

void outputs_free(outputs *o);
/* Runs m with its first input of shape dims filled from x (float32); copies
 * the float outputs. */
oct_status run_model(const oct_model *m, int nd, const int64_t *dims, const float *x, outputs *out,
                     oct_error *err);
double rel_l2(const float *ref, const float *got, size_t n);
/* Largest relative L2 over the outputs of a and b on x; -1 after a failure
 * (reported as a failed check). */
double compare(const char *what, const oct_model *a, const oct_model *b, int nd,
               const int64_t *dims, const float *x);
float *random_input(size_t n, float lo, float hi);
/* An initializer of a loaded model, or NULL. */
const oct_tensor *weight(const oct_model *m, const char *name);

void test_model_edit(void);
void test_real_models(void);

#endif
