/* 256 interrupt entry stubs, 16 bytes apart, so the IDT is built by a loop in trap.c.
 * Each stub pushes a dummy error code where the CPU does not push one, then its vector.
 * trap_common saves the registers and the data segments, loads DS/ES from SS (the kernel's
 * data segment: unchanged from ring 0, TSS.ss0 from outer rings), calls trap_dispatch, and
 * returns through VMI IRET (vmi_entry.S) with the frame, possibly edited, on top. */

    .text
    .align 16
    .globl trap_stubs
trap_stubs:
    .set vec, 0
    .rept 256
    .align 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushl $0
    .endif
    pushl $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

trap_common:
    pushal
    pushl %ds
    pushl %es
    cld
    movw %ss, %ax
    movw %ax, %ds
    movw %ax, %es
    pushl %esp                   /* struct trap_frame * */
    call trap_dispatch
    addl $4, %esp
    popl %es
    popl %ds
    popal
    addl $8, %esp                /* vector and error code */
    jmp *vmi_iret_target

    .section .note.GNU-stack, "", @progbits
