/* JUnit XML, the test-report format CI systems (GitLab, Jenkins, GitHub Actions) read: one
 * <testcase> per replayed record, written and merged with libxml2. */
#ifndef VMIEMU_REGRESS_JUNIT_H
#define VMIEMU_REGRESS_JUNIT_H

#include <stdbool.h>
#include <stddef.h>

#include "frontend/regress/jobs.h"

/* Writes the report of these jobs to path. False with a message in err. */
bool junit_write(const char *path, const char *suite, const replay_job *jobs, size_t n, char *err, size_t errlen);

/* Merges the <testcase>s of several reports (shards) into one report at out, with the counts
 * summed. False with a message naming the bad input. */
bool junit_merge(const char *out, const char *const *in, size_t n, char *err, size_t errlen);

#endif
