/* The CPU model: one table of features decides what CPUID reports, which CR4 bits a mov to CR4
 * may set and which MSRs rdmsr/wrmsr reach, so that what the guest is told is what it gets.
 *
 * Unicorn's Core Duo has more than vmiemu models (MTRRs, MONITOR/MWAIT, CLFLUSH, NX, VME) and
 * accepts more than any 32-bit CPU (FS/GS_BASE, LSTAR, every CR4 bit, any MSR number): cpu/
 * checks those accesses before Unicorn runs them and raises #GP(0) where the CPU CPUID
 * describes would. */
#ifndef VMIEMU_CPU_MODEL_H
#define VMIEMU_CPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID as the model reports it: regs in EAX (leaf), ECX; out EAX, EBX, ECX, EDX. */
void vcpu_model_cpuid(uint32_t regs[4]);

/* The CR4 bits a mov to CR4 may set (the others raise #GP(0)). */
uint32_t vcpu_model_cr4_allowed(void);

/* What rdmsr/wrmsr of `msr` does on the model (at CPL 0): Unicorn performs it, the model
 * answers it (a read of the time-stamp counter: *value is left for the caller), or #GP(0). */
typedef enum vcpu_model_msr_rule { MODEL_MSR_UNICORN, MODEL_MSR_TSC, MODEL_MSR_GP } vcpu_model_msr_rule;
vcpu_model_msr_rule vcpu_model_msr(uint32_t msr, bool write, uint64_t value);

#endif
