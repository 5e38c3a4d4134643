/* Replaying records as child processes of vmiemu, up to N at a time, and judging each. */
#ifndef VMIEMU_REGRESS_JOBS_H
#define VMIEMU_REGRESS_JOBS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum job_verdict {
    JOB_PASSED, /* the replay matched its record */
    JOB_FAILED, /* it diverged, or ended without saying it matched */
    JOB_ERROR,  /* it could not be judged: bad record, kernel not found, emulator error, killed */
} job_verdict;

typedef struct replay_job {
    char *record;        /* path of the record */
    char *name;          /* the record's path relative to the suite's folder */
    char *kernel;        /* the file the record's kernel hash names, or NULL */
    char *initrd;        /* likewise for its initrd; NULL when it had none */
    char *setup_error;   /* why it was not started, or NULL */
    int status;          /* exit status; 128 + N when killed by signal N */
    double seconds;      /* wall time of the replay */
    char *output;        /* what vmiemu wrote on stderr (capped) */
    job_verdict verdict;
    char *message;       /* one line: why it failed, or vmiemu's verdict line */
} replay_job;

typedef struct job_options {
    const char *vmiemu;  /* the vmiemu binary */
    int parallel;        /* replays at once, at least 1 */
    double timeout;      /* seconds per replay, 0: none (then SIGTERM, vmiemu stops cleanly) */
    bool progress;       /* a progress line on stderr */
} job_options;

/* Runs every job without a setup_error and judges all of them. False only if a child could not
 * be started at all (err says why); the jobs run so far keep their results. */
bool jobs_run(replay_job *jobs, size_t n, const job_options *o, char *err, size_t errlen);
void job_free(replay_job *j);

#endif
