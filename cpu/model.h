/* The CPU models: one table of features per model decides what CPUID reports, which CR4 bits a
 * mov to CR4 may set and which MSRs rdmsr/wrmsr reach, so that what the guest is told is what it
 * gets.
 *
 * coreduo (the default) runs on Unicorn's Core Duo; max runs on Unicorn's Skylake-Server and
 * reports, on top of coreduo's, the features vmiemu executes correctly there (docs/ARCHITECTURE.md
 * "The CPU model"). Unicorn's models have more than vmiemu reports (MTRRs, MONITOR/MWAIT, VME;
 * Skylake also SSSE3, SSE4, AES...) and accept more than any 32-bit CPU (FS/GS_BASE, LSTAR,
 * every CR4 bit, any MSR number): cpu/ checks those accesses before Unicorn runs them and raises
 * #GP(0) where the CPU CPUID describes would. */
#ifndef VMIEMU_CPU_MODEL_H
#define VMIEMU_CPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

typedef enum vcpu_model_id { VCPU_MODEL_COREDUO = 0, VCPU_MODEL_MAX = 1, VCPU_MODEL_COUNT } vcpu_model_id;

/* "coreduo", "max"; NULL past the last. */
const char *vcpu_model_name(vcpu_model_id id);
/* The model called `name`; false if there is none. */
bool vcpu_model_by_name(const char *name, vcpu_model_id *id);

/* CPUID as the model reports it: regs in EAX (leaf), ECX; out EAX, EBX, ECX, EDX. cr4: the CPU's
 * CR4 (OSPKE reflects CR4.PKE). */
void vcpu_model_cpuid(vcpu_model_id id, uint32_t cr4, uint32_t regs[4]);
/* Whether vcpu_model_cpuid's answer for `leaf` depends on cr4 (the caller reads CR4 only then:
 * an engine register read is most of a cpuid's cost once Unicorn's hook is skipped). */
bool vcpu_model_cpuid_reads_cr4(uint32_t leaf);

/* The CR4 bits a mov to CR4 may set (the others raise #GP(0)). */
uint32_t vcpu_model_cr4_allowed(vcpu_model_id id);

/* What rdmsr/wrmsr of `msr` does on the model (at CPL 0): Unicorn performs it, the model
 * answers it (the time-stamp counter, IA32_TSC_ADJUST: vcpu_run does), or #GP(0). */
typedef enum vcpu_model_msr_rule {
    MODEL_MSR_UNICORN,
    MODEL_MSR_TSC,
    MODEL_MSR_TSC_ADJUST,
    MODEL_MSR_GP
} vcpu_model_msr_rule;
vcpu_model_msr_rule vcpu_model_msr(vcpu_model_id id, uint32_t msr, bool write, uint64_t value);

#endif
