#include "check.h"

#include <stdarg.h>

#include "exit.h"
#include "kprintf.h"

static unsigned total, failed;

bool check(const char *name, bool ok, const char *why, ...)
{
    total++;
    if (ok) {
        kprintf("%s: PASS\n", name);
        return true;
    }
    failed++;
    va_list ap;
    va_start(ap, why);
    kprintf("%s: FAIL (", name);
    kvprintf(why, ap);
    kprintf(")\n");
    va_end(ap);
    return false;
}

void check_skip(const char *name, const char *why) { kprintf("%s: skipped (%s)\n", name, why); }

unsigned check_failures(void) { return failed; }

_Noreturn void check_finish(const char *kernel)
{
    if (failed)
        kprintf("%s: FAIL (%u of %u checks failed)\n", kernel, failed, total);
    else
        kprintf("%s: PASS\n", kernel);
    test_exit(failed ? TEST_FAIL : TEST_PASS);
}
