/* Wrapping a Unicorn helper so that a function of ours runs first (the link's --wrap,
 * CMakeLists.txt).
 *
 * Why not a C wrapper: QEMU's helpers find the guest instruction they run for by their return
 * address (GETPC()): a helper that raises an exception (iret's, a far call's #GP or #TS) or
 * calls a hook restores the guest's EIP from the translated code it returns into. A C wrapper
 * that calls the real helper returns there only where the compiler makes the call a jump;
 * at -O0 (the sanitizer build) it is a call, the helper sees the wrapper's address, and a
 * fault raised inside it lands at the wrong EIP. The trampoline below keeps the argument
 * registers, calls `before` (no arguments, no result) and jumps to the real helper: its
 * return address is the translated code's, whatever the optimisation level. x86-64 hosts
 * (System V calling convention: the helpers take at most six integer arguments). */
#ifndef VMIEMU_HELPER_WRAP_H
#define VMIEMU_HELPER_WRAP_H

#if !defined(__x86_64__)
#error "helper_wrap.h: the trampolines are written for x86-64 hosts"
#endif

#define VCPU_HELPER_WRAP_BEFORE(helper, before)                                                                     \
    __asm__(".text\n"                                                                                                \
            ".p2align 4\n"                                                                                           \
            ".globl __wrap_" #helper "\n"                                                                            \
            ".type __wrap_" #helper ", @function\n"                                                                  \
            "__wrap_" #helper ":\n"                                                                                  \
            ".cfi_startproc\n"                                                                                       \
            "push %rdi\n.cfi_adjust_cfa_offset 8\n"                                                                  \
            "push %rsi\n.cfi_adjust_cfa_offset 8\n"                                                                  \
            "push %rdx\n.cfi_adjust_cfa_offset 8\n"                                                                  \
            "push %rcx\n.cfi_adjust_cfa_offset 8\n"                                                                  \
            "push %r8\n.cfi_adjust_cfa_offset 8\n"                                                                   \
            "push %r9\n.cfi_adjust_cfa_offset 8\n"                                                                   \
            "sub $8, %rsp\n.cfi_adjust_cfa_offset 8\n" /* 16-byte aligned at the call */                           \
            "call " #before "@PLT\n"                                                                                 \
            "add $8, %rsp\n.cfi_adjust_cfa_offset -8\n"                                                              \
            "pop %r9\n.cfi_adjust_cfa_offset -8\n"                                                                   \
            "pop %r8\n.cfi_adjust_cfa_offset -8\n"                                                                   \
            "pop %rcx\n.cfi_adjust_cfa_offset -8\n"                                                                  \
            "pop %rdx\n.cfi_adjust_cfa_offset -8\n"                                                                  \
            "pop %rsi\n.cfi_adjust_cfa_offset -8\n"                                                                  \
            "pop %rdi\n.cfi_adjust_cfa_offset -8\n"                                                                  \
            "jmp __real_" #helper "@PLT\n"                                                                           \
            ".cfi_endproc\n"                                                                                         \
            ".size __wrap_" #helper ", . - __wrap_" #helper "\n")

#endif
