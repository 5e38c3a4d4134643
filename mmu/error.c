#include "mmu/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool vm_fail(vm_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return false;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return false;
}

void vm_assert_fail(const char *file, int line, const char *cond)
{
    fprintf(stderr, "%s:%d: assertion `%s' failed\nvmiemu internal error (a bug in vmiemu, please report it)\n",
            file, line, cond);
    fflush(stderr);
    abort();
}
