/* The two VMI calls that do not return, IRET and SYSEXIT, reached the way Linux's patched
 * call sites reach them: with the interrupt frame (IRET) or EDX/ECX (SYSEXIT) already in
 * place and no register free to hold the target. So the target lives in memory and we
 * `jmp *target`; vmi_entry_update() (vmi_calls.c) points it at
 *   JUMP_REL: the ROM itself (frame on top of the stack, as VMI.md says for a `jmp`);
 *   CALL_REL: a thunk that does `call *rom` (the ROM drops the return address);
 *   NONE/NOP: the native instruction below. */

    .data
    .align 4
    .globl vmi_iret_target, vmi_iret_rom, vmi_sysexit_target, vmi_sysexit_rom
vmi_iret_target:    .long vmi_native_iret
vmi_iret_rom:       .long 0
vmi_sysexit_target: .long vmi_native_sysexit
vmi_sysexit_rom:    .long 0

    .text
    .globl vmi_native_iret, vmi_iret_call_thunk, vmi_native_sysexit, vmi_sysexit_call_thunk
vmi_native_iret:
    iret
vmi_iret_call_thunk:
    call *vmi_iret_rom
    ud2                          /* IRET does not return */

vmi_native_sysexit:
    sti
    sysexit
vmi_sysexit_call_thunk:
    call *vmi_sysexit_rom
    ud2

/* _Noreturn void vmi_iret(const struct iret_frame *f) */
    .globl vmi_iret
    .type vmi_iret, @function
vmi_iret:
    movl 4(%esp), %esp
    jmp *vmi_iret_target
    .size vmi_iret, . - vmi_iret

/* _Noreturn void vmi_sysexit(uint32_t eip, uint32_t esp) */
    .globl vmi_sysexit
    .type vmi_sysexit, @function
vmi_sysexit:
    movl 4(%esp), %edx
    movl 8(%esp), %ecx
    jmp *vmi_sysexit_target
    .size vmi_sysexit, . - vmi_sysexit

    .section .note.GNU-stack, "", @progbits
