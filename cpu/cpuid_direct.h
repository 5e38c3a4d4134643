/* CPUID answered inside Unicorn's own cpuid helper, without its instruction hook (cpuid_direct.c).
 *
 * vmiemu links with `--wrap=helper_cpuid_x86_64`: every guest cpuid first reaches
 * __wrap_helper_cpuid_x86_64 here. Until an engine is bound it calls Unicorn's helper, which
 * rebuilds EIP and calls vmiemu's CPUID hook (cpu.c on_cpuid); the hook lets this file bind
 * the engine (vcpu_cpuid_direct_learn), and from then on its cpuid is answered here, from the
 * same machine callback, writing the four registers straight into Unicorn's CPU state. */
#ifndef VMIEMU_CPUID_DIRECT_H
#define VMIEMU_CPUID_DIRECT_H

#include <stdbool.h>
#include <unicorn/unicorn.h>

typedef struct cpu cpu;

/* At vcpu_open: whether c's engine may be bound (Unicorn 2.1.4, the layout the probe test checks). */
void vcpu_cpuid_direct_open(cpu *c);
/* At vcpu_close: forget c's binding. */
void vcpu_cpuid_direct_close(cpu *c);
/* From the CPUID hook, after it answered: c's engine is the one Unicorn's helper runs on now. */
void vcpu_cpuid_direct_learn(cpu *c);
/* c's cpuid is answered without the hook now. */
bool vcpu_cpuid_direct_bound(const cpu *c);

/* The CPU state Unicorn's cpuid helper was called with, while it calls the CPUID hook; NULL
 * outside the hook (or if the helper is not wrapped). */
void *vcpu_cpuid_helper_state(void);
/* Whether `state` holds uc's EAX, ECX, EDX, EBX as its first four 64-bit words (QEMU's
 * CPUX86State.regs[]): the current values are there, and values written through uc_reg_write
 * appear there (the registers are put back as they were). */
bool vcpu_cpuid_state_layout_ok(uc_engine *uc, void *state);

#endif
