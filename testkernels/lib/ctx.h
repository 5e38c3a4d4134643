/* Saving a kernel context and coming back to it from elsewhere (setjmp/longjmp for the
 * callee-saved registers), and running a function on another stack. */
#ifndef TK_CTX_H
#define TK_CTX_H

#include <stdint.h>

struct ctx {
    uint32_t ebx, esi, edi, ebp, esp, eip;
};

/* Returns 0 when called, and `value` (non-zero) when ctx_resume() comes back here. */
int ctx_save(struct ctx *c) __attribute__((returns_twice));
_Noreturn void ctx_resume(const struct ctx *c, int value);

/* Switch ESP to `stack_top` and call fn(arg); fn must not return. */
_Noreturn void ctx_call_on_stack(void (*fn)(void *), void *arg, uint32_t stack_top);

#endif
