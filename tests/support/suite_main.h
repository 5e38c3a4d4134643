/* The main() every Check suite shares: run one suite, exit non-zero on any failure. */
#ifndef VMIEMU_SUITE_MAIN_H
#define VMIEMU_SUITE_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Run one suite: EXIT_SUCCESS when every test passed (for mains that first check for guests). */
static inline int suite_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define SUITE_MAIN(make_suite) \
    int main(void) { return suite_run(make_suite()); }

#endif
