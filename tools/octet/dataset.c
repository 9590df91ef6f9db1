#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int usable(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return 0;
    return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png") ||
           !strcasecmp(dot, ".bmp") || !strcasecmp(dot, ".npy");
}

int cli_dataset_open(cli_dataset *d, const char *dir, int count, long seed) {
    memset(d, 0, sizeof *d);
    DIR *dp = opendir(dir);
    if (!dp) return cli_fail("cannot open the data folder '%s'", dir);
    struct dirent *e;
    int cap = 0;
    while ((e = readdir(dp))) {
        if (!usable(e->d_name)) continue;
        if (d->n == cap) {
            cap = cap ? cap * 2 : 256;
            char **np = realloc(d->paths, sizeof(char *) * (size_t)cap);
            if (!np) break;
            d->paths = np;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        d->paths[d->n] = malloc(len);
        if (!d->paths[d->n]) break;
        snprintf(d->paths[d->n], len, "%s/%s", dir, e->d_name);
        d->n++;
    }
    closedir(dp);
    if (!d->n) {
        cli_dataset_free(d);
        return cli_fail("the data folder '%s' holds no images (.jpg .jpeg .png .bmp) or .npy files", dir);
    }
    qsort(d->paths, (size_t)d->n, sizeof(char *), cmp_str);
    if (seed >= 0) { /* Fisher-Yates with a fixed LCG: the same seed, the same order */
        uint64_t s = (uint64_t)seed * 6364136223846793005ull + 1442695040888963407ull;
        for (int i = d->n - 1; i > 0; i--) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            int j = (int)((s >> 33) % (uint64_t)(i + 1));
            char *t = d->paths[i];
            d->paths[i] = d->paths[j];
            d->paths[j] = t;
        }
    }
    if (count > 0) {
        if (count > d->n) {
            int have = d->n;
            cli_dataset_free(d);
            return cli_fail("--count %d: the data folder '%s' has only %d usable files", count, dir, have);
        }
        for (int i = count; i < d->n; i++) free(d->paths[i]);
        d->n = count;
    }
    return 0;
}

void cli_dataset_free(cli_dataset *d) {
    for (int i = 0; i < d->n; i++) free(d->paths[i]);
    free(d->paths);
    memset(d, 0, sizeof *d);
}

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void cli_progress_start(cli_progress *p, const char *what, int quiet) {
    p->enabled = !quiet && isatty(2);
    p->start_ms = cli_now_ms();
    p->what = what;
}

void cli_progress_update(cli_progress *p, int done, int total) {
    if (!p->enabled || total <= 0) return;
    double el = (cli_now_ms() - p->start_ms) / 1000.0;
    double rate = el > 0 ? done / el : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\r%s %d/%d  %.1f/s  ETA %.0f s   ", p->what, done, total, rate, eta);
    fflush(stderr);
}

void cli_progress_end(cli_progress *p) {
    if (p->enabled) fprintf(stderr, "\r\033[K");
}

oct_status cli_dataset_sample(void *user, int index, oct_tensor_view *inputs, int n_inputs, oct_error *err) {
    cli_sample_ctx *sc = user;
    if (n_inputs != 1) {
        if (err) {
            err->status = OCT_E_UNSUPPORTED;
            snprintf(err->message, sizeof err->message, "samples from a folder need a model with one input");
        }
        return OCT_E_UNSUPPORTED;
    }
    const char *path = sc->d->paths[index];
    oct_status st = cli_read_input(sc->c, sc->m, 0, path, &inputs[0], NULL, err);
    if (st) {
        /* an unreadable file is skipped with a warning, not fatal */
        if (sc->warned < 2 * sc->d->n)
            fprintf(stderr, "\noctet: warning: skipping %s: %s\n", path, err ? err->message : "");
        sc->warned++;
        if (err) err->status = OCT_E_IO;
        return OCT_E_IO;
    }
    return OCT_OK;
}

void cli_dataset_fix_shape(cli_common *c, const oct_model *m, const cli_dataset *d) {
    if (oct_model_num_inputs(m) != 1) return;
    const char *name;
    oct_model_input_info(m, 0, &name, NULL, NULL, NULL, NULL);
    int n0 = c->n_shapes;
    for (int i = 0; i < d->n && c->n_shapes == n0; i++) {
        oct_tensor_view t;
        oct_error err = {0};
        if (cli_read_input(c, m, 0, d->paths[i], &t, NULL, &err)) continue;
        cli_shape_from_data(c, name, &t);
        oct_free(t.data);
        if (c->n_shapes == n0) break; /* a --shape names it already */
    }
}
