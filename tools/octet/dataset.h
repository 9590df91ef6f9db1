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
