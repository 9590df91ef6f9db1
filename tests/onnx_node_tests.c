/* Runs the ONNX backend test suite (Debian's libonnx-testdata): each case is
 * a model.onnx plus test_data_set_N/{input,output}_K.pb. Outputs are compared
 * as the ONNX backend runner does (rtol 1e-3, atol 1e-7, NaN equals NaN).
 * A case whose ops octet lacks must end in a clean "unsupported" error; the
 * runner never crashes. Cases listed in the expected-failures file (name and
 * a one-line reason) are reported as XFAIL. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "octet/octet.h"

#define MAX_IO 64

typedef struct {
    char **names;
    int n;
} name_list;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static name_list list_dir(const char *dir, const char *prefix) {
    name_list l = {NULL, 0};
    DIR *d = opendir(dir);
    if (!d) return l;
    struct dirent *e;
    int cap = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix))) continue;
        if (l.n == cap) {
            cap = cap ? cap * 2 : 64;
            l.names = realloc(l.names, sizeof(char *) * (size_t)cap);
        }
        l.names[l.n++] = strdup(e->d_name);
    }
    closedir(d);
    if (l.n) qsort(l.names, (size_t)l.n, sizeof(char *), cmp_str);
    return l;
}

static void free_list(name_list *l) {
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
}

static double elem(const oct_tensor_view *t, int64_t i);

static int64_t numel(const oct_tensor_view *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->dims[i];
    return n;
}

static uint16_t u16(const void *p, int64_t i) { return ((const uint16_t *)p)[i]; }
static float h2f(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 31, m = h & 0x3ff;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m | 0x400), (int)e - 25);
    return s ? -v : v;
}

static double elem(const oct_tensor_view *t, int64_t i) {
    switch (t->dtype) {
    case OCT_FLOAT: return ((const float *)t->data)[i];
    case OCT_DOUBLE: return ((const double *)t->data)[i];
    case OCT_FLOAT16: return h2f(u16(t->data, i));
    case OCT_BFLOAT16: {
        uint32_t b = (uint32_t)u16(t->data, i) << 16;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case OCT_INT8: return ((const int8_t *)t->data)[i];
    case OCT_UINT8: case OCT_BOOL: return ((const uint8_t *)t->data)[i];
    case OCT_INT16: return ((const int16_t *)t->data)[i];
    case OCT_UINT16: return u16(t->data, i);
    case OCT_INT32: return ((const int32_t *)t->data)[i];
    case OCT_UINT32: return ((const uint32_t *)t->data)[i];
    case OCT_INT64: return (double)((const int64_t *)t->data)[i];
    case OCT_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return 0;
    }
}

/* 0 when equal within tolerance, else writes why into msg. */
static int compare(const oct_tensor_view *want, const oct_tensor_view *got, char *msg, size_t n) {
    if (want->dtype != got->dtype) {
        snprintf(msg, n, "dtype %s, expected %s", oct_dtype_name(got->dtype), oct_dtype_name(want->dtype));
        return 1;
    }
    int same = want->ndim == got->ndim;
    for (int i = 0; same && i < want->ndim; i++) same = want->dims[i] == got->dims[i];
    if (!same) {
        snprintf(msg, n, "shape mismatch (rank %d vs expected %d)", got->ndim, want->ndim);
        return 1;
    }
    int exact = !(want->dtype == OCT_FLOAT || want->dtype == OCT_DOUBLE || want->dtype == OCT_FLOAT16 ||
                  want->dtype == OCT_BFLOAT16);
    int64_t k = numel(want), bad = 0, first = -1;
    for (int64_t i = 0; i < k; i++) {
        double a = elem(want, i), b = elem(got, i);
        if (isnan(a) && isnan(b)) continue;
        int ok = exact ? a == b : (a == b || fabs(a - b) <= 1e-7 + 1e-3 * fabs(a));
        if (!ok) {
            if (first < 0) first = i;
            bad++;
        }
    }
    if (bad) {
        snprintf(msg, n, "%lld of %lld elements differ; first at %lld: got %.9g, expected %.9g", (long long)bad,
                 (long long)k, (long long)first, elem(got, first), elem(want, first));
        return 1;
    }
    return 0;
}

enum { R_PASS, R_FAIL, R_UNSUP };

static int run_case(const char *dir, char *msg, size_t msgn) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    oct_error err = {0};
    oct_model *m = NULL;
    if (oct_model_load_file(path, &m, &err)) {
        snprintf(msg, msgn, "load: %s", err.message);
        return err.status == OCT_E_UNSUPPORTED ? R_UNSUP : R_FAIL;
    }
    name_list sets = list_dir(dir, "test_data_set_");
    int result = sets.n ? R_PASS : R_FAIL;
    if (!sets.n) snprintf(msg, msgn, "no test data sets");
    for (int s = 0; s < sets.n && result == R_PASS; s++) {
        char sd[4096];
        snprintf(sd, sizeof sd, "%s/%s", dir, sets.names[s]);
        name_list inl = list_dir(sd, "input_"), outl = list_dir(sd, "output_");
        oct_tensor_view in[MAX_IO], want[MAX_IO];
        char *in_names[MAX_IO];
        int nin = 0, nout = 0;
        oct_input_shape shapes[MAX_IO];
        memset(in, 0, sizeof in);
        memset(want, 0, sizeof want);
        for (int i = 0; i < inl.n && i < MAX_IO && result == R_PASS; i++) {
            snprintf(path, sizeof path, "%s/input_%d.pb", sd, i);
            in_names[i] = NULL;
            if (oct_tensor_read_pb(path, &in[i], &in_names[i], &err)) {
                snprintf(msg, msgn, "input: %s", err.message);
                result = err.status == OCT_E_PARSE || err.status == OCT_E_UNSUPPORTED ? R_UNSUP : R_FAIL; /* sequences, optionals */
                break;
            }
            nin++;
        }
        for (int i = 0; i < outl.n && i < MAX_IO && result == R_PASS; i++) {
            snprintf(path, sizeof path, "%s/output_%d.pb", sd, i);
            if (oct_tensor_read_pb(path, &want[i], NULL, &err)) {
                snprintf(msg, msgn, "output: %s", err.message);
                result = err.status == OCT_E_PARSE || err.status == OCT_E_UNSUPPORTED ? R_UNSUP : R_FAIL;
                break;
            }
            nout++;
        }
        oct_session *sess = NULL;
        if (result == R_PASS && nin != oct_model_num_inputs(m)) {
            snprintf(msg, msgn, "%d input files for %d model inputs", nin, oct_model_num_inputs(m));
            result = R_FAIL;
        }
        const char *names[MAX_IO];
        for (int i = 0; i < nin && result == R_PASS; i++) {
            oct_model_input_info(m, i, &names[i], NULL, NULL, NULL, NULL);
            shapes[i].name = names[i];
            shapes[i].ndim = in[i].ndim;
            memcpy(shapes[i].dims, in[i].dims, sizeof shapes[i].dims);
        }
        if (result == R_PASS) {
            oct_session_options o;
            oct_session_options_init(&o);
            o.threads = 1;
            o.n_shapes = nin;
            o.shapes = shapes;
            if (oct_session_create(m, &o, &sess, &err)) {
                snprintf(msg, msgn, "session: %s", err.message);
                result = err.status == OCT_E_UNSUPPORTED && strstr(err.message, "unsupported op") ? R_UNSUP : R_FAIL;
            }
        }
        for (int i = 0; i < nin && result == R_PASS; i++)
            if (oct_session_set_input(sess, names[i], &in[i], &err)) {
                snprintf(msg, msgn, "set_input: %s", err.message);
                result = R_FAIL;
            }
        if (result == R_PASS && oct_session_run(sess, &err)) {
            snprintf(msg, msgn, "run: %s", err.message);
            result = R_FAIL;
        }
        if (result == R_PASS && nout != oct_session_num_outputs(sess)) {
            snprintf(msg, msgn, "%d expected outputs for %d model outputs", nout, oct_session_num_outputs(sess));
            result = R_FAIL;
        }
        for (int i = 0; i < nout && result == R_PASS; i++) {
            oct_tensor_view got;
            char why[512];
            if (oct_session_get_output(sess, i, &got, &err)) {
                snprintf(msg, msgn, "output %d: %s", i, err.message);
                result = R_FAIL;
            } else if (compare(&want[i], &got, why, sizeof why)) {
                snprintf(msg, msgn, "%s output %d '%s': %s", sets.names[s], i, oct_session_output_name(sess, i), why);
                result = R_FAIL;
            }
        }
        oct_session_free(sess);
        for (int i = 0; i < nin; i++) {
            oct_free(in[i].data);
            oct_free(in_names[i]);
        }
        for (int i = 0; i < nout; i++) oct_free(want[i].data);
        free_list(&inl);
        free_list(&outl);
    }
    free_list(&sets);
    oct_model_free(m);
    return result;
}

typedef struct {
    char name[256];
    char reason[512];
    int seen;
} xfail;

static xfail *load_xfail(const char *path, int *n) {
    *n = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return NULL;
    xfail *x = NULL;
    int cap = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            x = realloc(x, sizeof *x * (size_t)cap);
        }
        char *sp = strpbrk(line, " \t");
        if (sp) *sp++ = 0;
        snprintf(x[*n].name, sizeof x[*n].name, "%s", line);
        x[*n].name[strcspn(x[*n].name, "\n")] = 0;
        snprintf(x[*n].reason, sizeof x[*n].reason, "%s", sp ? sp + strspn(sp, " \t") : "");
        x[*n].reason[strcspn(x[*n].reason, "\n")] = 0;
        x[*n].seen = 0;
        (*n)++;
    }
    fclose(f);
    return x;
}

int main(int argc, char **argv) {
    const char *filter = NULL, *xfail_path = NULL;
    int verbose = 0;
    const char *dirs[16];
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--xfail") && i + 1 < argc) xfail_path = argv[++i];
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (ndirs < 16) dirs[ndirs++] = argv[i];
    }
    if (!ndirs) {
        fprintf(stderr, "usage: onnx_node_tests [--filter SUBSTR] [--xfail FILE] [-v] DIR...\n");
        return 2;
    }
    int nx = 0;
    xfail *xf = load_xfail(xfail_path, &nx);
    int pass = 0, fail = 0, unsup = 0, xfailed = 0, total = 0, found = 0;
    for (int d = 0; d < ndirs; d++) {
        name_list cases = list_dir(dirs[d], "test_");
        if (cases.n) found = 1;
        for (int c = 0; c < cases.n; c++) {
            if (filter && !strstr(cases.names[c], filter)) continue;
            char cd[4096], msg[2048] = "";
            snprintf(cd, sizeof cd, "%s/%s", dirs[d], cases.names[c]);
            int r = run_case(cd, msg, sizeof msg);
            total++;
            xfail *x = NULL;
            for (int k = 0; k < nx; k++)
                if (!strcmp(xf[k].name, cases.names[c])) x = &xf[k];
            if (x) x->seen = 1;
            if (r == R_PASS) {
                pass++;
                if (x) printf("XPASS %s (listed as expected failure: %s)\n", cases.names[c], x->reason);
                else if (verbose) printf("PASS  %s\n", cases.names[c]);
            } else if (r == R_UNSUP) {
                unsup++;
                if (verbose) printf("UNSUP %s: %s\n", cases.names[c], msg);
            } else if (x) {
                xfailed++;
                if (verbose) printf("XFAIL %s: %s [%s]\n", cases.names[c], msg, x->reason);
            } else {
                fail++;
                printf("FAIL  %s: %s\n", cases.names[c], msg);
            }
            fflush(stdout);
        }
        free_list(&cases);
    }
    free(xf);
    if (!found) {
        printf("no test cases found in the given folders (is libonnx-testdata installed?)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    printf("cases: %d; passed %d, failed %d, expected failures %d, unsupported (clean error) %d\n", total, pass,
           fail, xfailed, unsup);
    printf("%d passed, %d failed, %d skipped\n", pass, fail, unsup + xfailed);
    return fail ? 1 : 0;
}
