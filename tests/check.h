/* Shared by the C test runners: the pass/fail counters, CHECK (one
 * "FAIL file:line: ..." line per failed check) and the closing
 * "N passed, N failed" line.
 *
 * The counters are static (one copy per test program). A runner whose
 * checks are spread over several files (test_cle) defines OCT_CHECK_EXTERN
 * before including this header and defines `int n_pass, n_fail;` in one of
 * them. */
#ifndef OCT_TESTS_CHECK_H
#define OCT_TESTS_CHECK_H

#include <stdio.h>

#ifdef OCT_CHECK_EXTERN
extern int n_pass, n_fail;
#else
static int n_pass, n_fail;
#endif

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            n_pass++;                                                                              \
        } else {                                                                                   \
            n_fail++;                                                                              \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* Prints the closing "N passed, N failed" line; returns the exit code (1
 * after a failed check). */
static inline int check_summary(void) {
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}

#endif
