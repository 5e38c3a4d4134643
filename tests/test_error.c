/* mmu/error.c: vm_fail fills a host error; VM_ASSERT, for broken internal invariants only,
 * reports the place and the condition as a vmiemu bug and aborts. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmu/error.h"
#include "support/suite_main.h"

START_TEST(test_vm_fail_fills_the_error_and_returns_false)
{
    vm_error err = {0};
    ck_assert(!vm_fail(&err, VM_EIO, "cannot read %s", "x.elf"));
    ck_assert_int_eq(err.code, VM_EIO);
    ck_assert_str_eq(err.msg, "cannot read x.elf");
    ck_assert(!vm_fail(NULL, VM_EIO, "nobody listens"));
}
END_TEST

START_TEST(test_a_true_assertion_does_nothing)
{
    int n = 1;
    VM_ASSERT(n == 1);
    ck_assert_int_eq(n, 1);
}
END_TEST

/* Run a failing VM_ASSERT in a child; its stderr and how it ended. */
static void failing_assertion(char *out, size_t len, int *status)
{
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        int n = 2;
        VM_ASSERT(n == 3);
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < len && (r = read(fd[0], out + got, len - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = 0;
    close(fd[0]);
    ck_assert_int_eq(waitpid(pid, status, 0), pid);
}

START_TEST(test_a_false_assertion_reports_a_vmiemu_bug_and_aborts)
{
    char out[1024];
    int status;
    failing_assertion(out, sizeof out, &status);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    ck_assert_msg(strstr(out, "test_error.c:"), "no file:line in: %s", out);
    ck_assert_msg(strstr(out, "n == 3"), "no condition in: %s", out);
    ck_assert_msg(strstr(out, "vmiemu internal error (a bug in vmiemu, please report it)"), "no bug notice in: %s", out);
}
END_TEST

static Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("classes");
    tcase_add_test(tc, test_vm_fail_fills_the_error_and_returns_false);
    tcase_add_test(tc, test_a_true_assertion_does_nothing);
    tcase_add_test(tc, test_a_false_assertion_reports_a_vmiemu_bug_and_aborts);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(error_suite)
