#include "mmu/error.h"

#include <stdarg.h>
#include <stdio.h>

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
