/* One line per check: "name: PASS", "name: FAIL (why)" or "name: skipped (why)", and a
 * verdict line "KERNEL: PASS" / "KERNEL: FAIL (N of M checks failed)" at the end, where
 * KERNEL is the kernel's name. */
#ifndef TK_CHECK_H
#define TK_CHECK_H

#include <stdbool.h>

/* Print the check's line; `why` (printf format) explains a failure. Returns ok. */
bool check(const char *name, bool ok, const char *why, ...) __attribute__((format(printf, 3, 4)));

/* A check that cannot run here (e.g. no ROM): neither passes nor fails. */
void check_skip(const char *name, const char *why);

/* Number of failed checks so far. */
unsigned check_failures(void);

/* Print the verdict for kernel `kernel` and exit (33 if nothing failed, else 35). */
_Noreturn void check_finish(const char *kernel);

#endif
