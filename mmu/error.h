/* Errors are values: a failing function fills a vm_error and returns false.
 * Only main() decides to exit. This header is the base of the layering: it lives in mmu/,
 * the bottom layer, includes nothing of the project, and every layer (mmu/, cpu/, emu/,
 * frontend/, tests) may include it. rom/ keeps its own interface (rom/rom.h) and needs none. */
#ifndef VMIEMU_ERROR_H
#define VMIEMU_ERROR_H

#include <stdbool.h>

typedef struct vm_error {
    int code;       /* 0 = no error; otherwise a VM_E* value */
    char msg[512];  /* one line, no trailing newline */
} vm_error;

enum {
    VM_EOK = 0,
    VM_EINVAL = 1,  /* bad argument or option */
    VM_EFORMAT = 2, /* malformed input file */
    VM_EIO = 3,     /* host I/O failed */
    VM_ENOMEM = 4,  /* host allocation failed */
    VM_EENGINE = 5, /* Unicorn refused or misbehaved */
};

/* Fill *err (if not NULL) with code and a printf-style message; always returns false
 * so callers can write `return vm_fail(err, ...)`. */
bool vm_fail(vm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
