/* ctx_save / ctx_resume / ctx_call_on_stack: see ctx.h. struct ctx: ebx esi edi ebp esp eip. */
    .text
    .globl ctx_save
    .type ctx_save, @function
ctx_save:
    movl 4(%esp), %eax
    movl %ebx, 0(%eax)
    movl %esi, 4(%eax)
    movl %edi, 8(%eax)
    movl %ebp, 12(%eax)
    leal 4(%esp), %ecx           /* ESP as the caller sees it after we return */
    movl %ecx, 16(%eax)
    movl (%esp), %ecx            /* return address */
    movl %ecx, 20(%eax)
    xorl %eax, %eax
    ret
    .size ctx_save, . - ctx_save

    .globl ctx_resume
    .type ctx_resume, @function
ctx_resume:
    movl 4(%esp), %edx
    movl 8(%esp), %eax
    movl 0(%edx), %ebx
    movl 4(%edx), %esi
    movl 8(%edx), %edi
    movl 12(%edx), %ebp
    movl 16(%edx), %esp
    jmp *20(%edx)
    .size ctx_resume, . - ctx_resume

    .globl ctx_call_on_stack
    .type ctx_call_on_stack, @function
ctx_call_on_stack:
    movl 4(%esp), %ecx           /* fn */
    movl 8(%esp), %edx           /* arg */
    movl 12(%esp), %esp
    xorl %ebp, %ebp
    pushl %edx
    call *%ecx
1:  ud2                          /* fn returned */
    jmp 1b
    .size ctx_call_on_stack, . - ctx_call_on_stack

    .section .note.GNU-stack, "", @progbits
