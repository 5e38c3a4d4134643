/* 256 interrupt entry stubs, 16 bytes apart, so the IDT is built by a loop in trap.c.
 * Each stub pushes a dummy error code where the CPU does not push one, then its vector. */

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
    pushl %esp                   /* struct trap_frame * */
    call trap_report             /* does not return */
1:  hlt
    jmp 1b

    .section .note.GNU-stack, "", @progbits
