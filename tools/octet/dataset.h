/* A folder of samples (images or .npy tensors) for calibration and eval. */
#ifndef OCT_CLI_DATASET_H
#define OCT_CLI_DATASET_H

#include "cli.h"

typedef struct cli_dataset {
    char **paths;
    int n;
} cli_dataset;

/* Lists images (jpg, jpeg, png, bmp) and .npy files of dir, sorted by name;
 * seed >= 0 shuffles them (deterministically); count > 0 keeps the first
 * count (an error when fewer exist). */
int cli_dataset_open(cli_dataset *d, const char *dir, int count, long seed);
void cli_dataset_free(cli_dataset *d);

/* The oct_sample_fn over a dataset: sample i is file i, read and
 * preprocessed for the model's single input; an unreadable file is skipped
 * with a warning (OCT_E_IO). */
typedef struct cli_sample_ctx {
    cli_common *c;
    const oct_model *m;
    cli_dataset *d;
    int warned;
} cli_sample_ctx;
oct_status cli_dataset_sample(void *user, int index, oct_tensor_view *inputs, int n_inputs, oct_error *err);
/* The first readable sample fixes the model's dynamic input dimensions
 * (unless a --shape names them). */
void cli_dataset_fix_shape(cli_common *c, const oct_model *m, const cli_dataset *d);

/* Progress on stderr, only when it is a terminal (and not quiet). */
typedef struct cli_progress {
    int enabled;
    double start_ms;
    const char *what;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, int quiet);
void cli_progress_update(cli_progress *p, int done, int total);
void cli_progress_end(cli_progress *p);
double cli_now_ms(void);

#endif
