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

/* On every function that returns a success status (bool or an error code): a caller that drops
 * it does not compile (-Werror). Where ignoring is right, say why and branch on it: a (void)
 * cast does not silence this attribute in GCC. */
#define VM_MUST_CHECK __attribute__((warn_unused_result))

/* Fill *err (if not NULL) with code and a printf-style message; always returns false
 * so callers can write `return vm_fail(err, ...)`. */
bool vm_fail(vm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The three classes of error (docs/ARCHITECTURE.md, "Errors"): a host error (a file, memory,
 * Unicorn) is a vm_error value; a guest error is a fault delivered to the guest or an end of
 * the run; a broken internal invariant is a bug in vmiemu, and only that one stops the process:
 * VM_ASSERT prints where and what to stderr and aborts. Never use it on anything a guest, a
 * file or a user can make false. Always on (release builds too): keep it off the hot paths. */
#define VM_ASSERT(cond) ((cond) ? (void)0 : vm_assert_fail(__FILE__, __LINE__, #cond))

_Noreturn void vm_assert_fail(const char *file, int line, const char *cond);

#endif
