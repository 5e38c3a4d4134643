/* Native privileged and timing instructions: what the VMI wrappers fall back to. */
#ifndef TK_CPU_H
#define TK_CPU_H

#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs native_cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "0"(leaf), "2"(subleaf));
    return r;
}

static inline uint64_t native_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void native_cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void native_sti(void) { __asm__ volatile("sti" : : : "memory"); }

/* `sti; hlt` back to back: the sti shadow makes the pair atomic, so an interrupt that is
 * already pending wakes the hlt instead of being taken before it. */
static inline void native_safe_halt(void) { __asm__ volatile("sti; hlt" : : : "memory"); }

static inline uint16_t read_cs(void)
{
    uint16_t cs;
    __asm__ volatile("movw %%cs, %0" : "=r"(cs));
    return cs;
}

static inline uint32_t read_eflags(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f) : : "memory");
    return f;
}

/* Native wrmsr: Linux never sends MSR writes through VMI (trap and emulate), nor do we. */
static inline void native_wrmsr(uint32_t msr, uint32_t lo, uint32_t hi)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi) : "memory");
}

static inline uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr2, %0" : "=r"(v));
    return v;
}

#endif
