/* uint32_t user_sysexit_call(void): from ring 3, make the SYS_SYSEXIT call, which comes back
 * through SYSEXIT (EDX = EIP after the int, ECX = ESP): only the callee-saved registers we
 * push ourselves survive. Returns CS as seen after the return. */
#include "syscall.h"

    .text
    .globl user_sysexit_call
    .type user_sysexit_call, @function
user_sysexit_call:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    movl $SYS_SYSEXIT, %eax
    int $SYSCALL_VECTOR
    xorl %eax, %eax
    movw %cs, %ax
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret
    .size user_sysexit_call, . - user_sysexit_call

    .section .note.GNU-stack, "", @progbits
