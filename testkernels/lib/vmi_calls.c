/* VMI call wrappers. Each one calls the ROM when the call is CALL_REL; otherwise (no ROM,
 * NONE, or a JUMP_REL that a returning call cannot use) it runs the native instruction.
 * NOP makes the operations without a result do nothing; calls that return a value have
 * nothing to return for NOP, so they fall back to native too. */
#include "vmi.h"

#include "cpu.h"
#include "exit.h"
#include "io.h"
#include "rtc.h"
#include "vmi_internal.h"

uint64_t vmi_call(unsigned num, uint32_t a, uint32_t b, uint32_t c)
{
    return vmi_has(num) ? ((vmi_fn3)vmi_addr(num))(a, b, c) : 0;
}

struct cpuid_regs vmi_cpuid(uint32_t leaf, uint32_t subleaf)
{
    if (!vmi_has(VMI_CALL_CPUID))
        return native_cpuid(leaf, subleaf);
    /* Not a C function: it takes and returns registers the way the instruction does. */
    struct cpuid_regs r;
    __asm__ volatile("call *%4"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "r"(vmi_addr(VMI_CALL_CPUID)), "0"(leaf), "2"(subleaf)
                     : "memory");
    return r;
}

uint64_t vmi_rdtsc(void)
{
    if (vmi_has(VMI_CALL_RDTSC))
        return ((vmi_fn0)vmi_addr(VMI_CALL_RDTSC))();
    return native_rdtsc();
}

uint64_t vmi_get_cycle_frequency(void)
{
    if (vmi_has(VMI_CALL_GetCycleFrequency))
        return ((vmi_fn0)vmi_addr(VMI_CALL_GetCycleFrequency))();
    return 0;
}

uint64_t vmi_get_cycle_counter(uint32_t counter)
{
    if (vmi_has(VMI_CALL_GetCycleCounter))
        return ((vmi_fn1)vmi_addr(VMI_CALL_GetCycleCounter))(counter);
    return counter == VMI_CYCLES_STOLEN ? 0 : native_rdtsc();
}

uint64_t vmi_get_wallclock_time(void)
{
    if (vmi_has(VMI_CALL_GetWallclockTime))
        return ((vmi_fn0)vmi_addr(VMI_CALL_GetWallclockTime))();
    return rtc_read_ns();
}

uint32_t vmi_wallclock_updated(void)
{
    if (vmi_has(VMI_CALL_WallclockUpdated))
        return (uint32_t)((vmi_fn0)vmi_addr(VMI_CALL_WallclockUpdated))();
    return 0;
}

const char *vmi_io_delay(void)
{
    if (vmi_has(VMI_CALL_IODelay)) {
        ((vmi_fn0)vmi_addr(VMI_CALL_IODelay))();
        return "call";
    }
    if (vmi_is_nop(VMI_CALL_IODelay))
        return "nop"; /* the ROM says the delay is not needed (vmiemu's does: time is instructions) */
    outb(0x80, 0); /* the POST-code port: a write there takes about a microsecond */
    return "native";
}

void vmi_halt(void)
{
    if (vmi_has(VMI_CALL_Halt))
        ((vmi_fn0)vmi_addr(VMI_CALL_Halt))();
    else if (!vmi_is_nop(VMI_CALL_Halt))
        native_safe_halt();
}

void vmi_reboot(void)
{
    if (vmi_has(VMI_CALL_Reboot)) {
        ((vmi_fn0)vmi_addr(VMI_CALL_Reboot))();
        return;
    }
    outb(0x64, 0xFE); /* keyboard controller: pulse the CPU reset line */
    for (int i = 0; i < 1000; i++) /* give a slow controller a moment */
        outb(0x80, 0);
}

void vmi_shutdown(void)
{
    if (vmi_has(VMI_CALL_Shutdown)) {
        ((vmi_fn0)vmi_addr(VMI_CALL_Shutdown))();
        return;
    }
    /* Bare PCs have no simple power-off port; under QEMU the debug-exit device is ours. */
    outl(TEST_EXIT_PORT, TEST_PASS);
}

void vmi_disable_interrupts(void)
{
    if (vmi_has(VMI_CALL_DisableInterrupts))
        ((vmi_fn0)vmi_addr(VMI_CALL_DisableInterrupts))();
    else if (!vmi_is_nop(VMI_CALL_DisableInterrupts))
        native_cli();
}

void vmi_enable_interrupts(void)
{
    if (vmi_has(VMI_CALL_EnableInterrupts))
        ((vmi_fn0)vmi_addr(VMI_CALL_EnableInterrupts))();
    else if (!vmi_is_nop(VMI_CALL_EnableInterrupts))
        native_sti();
}

void vmi_entry_update(void)
{
    const struct vmi_reloc iret = vmi_get_reloc(VMI_CALL_IRET);
    const struct vmi_reloc sysexit = vmi_get_reloc(VMI_CALL_SYSEXIT);
    vmi_iret_rom = iret.addr;
    vmi_sysexit_rom = sysexit.addr;
    switch (iret.type) {
    case VMI_RELOC_JUMP_REL: vmi_iret_target = iret.addr; break;
    case VMI_RELOC_CALL_REL: vmi_iret_target = (uint32_t)(uintptr_t)vmi_iret_call_thunk; break;
    default: vmi_iret_target = (uint32_t)(uintptr_t)vmi_native_iret; break;
    }
    switch (sysexit.type) {
    case VMI_RELOC_JUMP_REL: vmi_sysexit_target = sysexit.addr; break;
    case VMI_RELOC_CALL_REL:
        vmi_sysexit_target = (uint32_t)(uintptr_t)vmi_sysexit_call_thunk;
        break;
    default: vmi_sysexit_target = (uint32_t)(uintptr_t)vmi_native_sysexit; break;
    }
}

uint32_t vmi_get_interrupt_mask(void)
{
    if (vmi_has(VMI_CALL_GetInterruptMask))
        return (uint32_t)((vmi_fn0)vmi_addr(VMI_CALL_GetInterruptMask))();
    return read_eflags();
}

void vmi_set_interrupt_mask(uint32_t flags)
{
    if (vmi_has(VMI_CALL_SetInterruptMask))
        ((vmi_fn1)vmi_addr(VMI_CALL_SetInterruptMask))(flags);
    else if (!vmi_is_nop(VMI_CALL_SetInterruptMask))
        __asm__ volatile("pushl %0; popfl" : : "g"(flags) : "memory", "cc");
}

/* --- control registers: one setter and one getter per register, generated ------------- */

#define CR_ACCESSORS(n)                                                                        \
    void vmi_set_cr##n(uint32_t v)                                                             \
    {                                                                                          \
        if (vmi_has(VMI_CALL_SetCR##n))                                                        \
            ((vmi_fn1)vmi_addr(VMI_CALL_SetCR##n))(v);                                          \
        else if (!vmi_is_nop(VMI_CALL_SetCR##n))                                                \
            __asm__ volatile("movl %0, %%cr" #n : : "r"(v) : "memory");                        \
    }                                                                                          \
    uint32_t vmi_get_cr##n(void)                                                               \
    {                                                                                          \
        if (vmi_has(VMI_CALL_GetCR##n))                                                        \
            return (uint32_t)((vmi_fn0)vmi_addr(VMI_CALL_GetCR##n))();                          \
        uint32_t v;                                                                            \
        __asm__ volatile("movl %%cr" #n ", %0" : "=r"(v) : : "memory");                        \
        return v;                                                                              \
    }

CR_ACCESSORS(0)
CR_ACCESSORS(2)
CR_ACCESSORS(3)
CR_ACCESSORS(4)

void vmi_clts(void)
{
    if (vmi_has(VMI_CALL_CLTS))
        ((vmi_fn0)vmi_addr(VMI_CALL_CLTS))();
    else if (!vmi_is_nop(VMI_CALL_CLTS))
        __asm__ volatile("clts" : : : "memory");
}

void vmi_wbinvd(void)
{
    if (vmi_has(VMI_CALL_WBINVD))
        ((vmi_fn0)vmi_addr(VMI_CALL_WBINVD))();
    else if (!vmi_is_nop(VMI_CALL_WBINVD))
        __asm__ volatile("wbinvd" : : : "memory");
}

/* --- debug registers: the register number is part of the instruction ------------------- */

#define DR_CASE_SET(n)                                                                         \
    case n: __asm__ volatile("movl %0, %%db" #n : : "r"(value)); break;
#define DR_CASE_GET(n)                                                                         \
    case n: __asm__ volatile("movl %%db" #n ", %0" : "=r"(v)); break;

void vmi_set_dr(uint32_t regno, uint32_t value)
{
    if (vmi_has(VMI_CALL_SetDR)) {
        ((vmi_fn2)vmi_addr(VMI_CALL_SetDR))(regno, value);
        return;
    }
    if (vmi_is_nop(VMI_CALL_SetDR))
        return;
    switch (regno) {
        DR_CASE_SET(0)
        DR_CASE_SET(1)
        DR_CASE_SET(2)
        DR_CASE_SET(3)
        DR_CASE_SET(6)
        DR_CASE_SET(7)
    default: break;
    }
}

uint32_t vmi_get_dr(uint32_t regno)
{
    if (vmi_has(VMI_CALL_GetDR))
        return (uint32_t)((vmi_fn1)vmi_addr(VMI_CALL_GetDR))(regno);
    uint32_t v = 0;
    switch (regno) {
        DR_CASE_GET(0)
        DR_CASE_GET(1)
        DR_CASE_GET(2)
        DR_CASE_GET(3)
        DR_CASE_GET(6)
        DR_CASE_GET(7)
    default: break;
    }
    return v;
}

#define CR4_PCE 0x100u

uint64_t vmi_rdpmc(uint32_t counter)
{
    if (vmi_has(VMI_CALL_RDPMC))
        return ((vmi_fn_q_w)vmi_addr(VMI_CALL_RDPMC))(counter, counter);
    if (!(vmi_get_cr4() & CR4_PCE))
        return 0;
    uint32_t lo, hi;
    __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(counter));
    return ((uint64_t)hi << 32) | lo;
}

void vmi_wrmsr(uint32_t msr, uint64_t value)
{
    if (vmi_has(VMI_CALL_WRMSR))
        /* VMI.md: WRMSR(msr, lo, hi) in EAX, EDX, ECX -- not the instruction's ECX, EDX:EAX. */
        ((vmi_fn3)vmi_addr(VMI_CALL_WRMSR))(msr, (uint32_t)value, (uint32_t)(value >> 32));
    else if (!vmi_is_nop(VMI_CALL_WRMSR))
        __asm__ volatile("wrmsr"
                         :
                         : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                         : "memory");
}

uint64_t vmi_rdmsr(uint32_t msr)
{
    if (vmi_has(VMI_CALL_RDMSR))
        return ((vmi_fn_q_w)vmi_addr(VMI_CALL_RDMSR))(msr, msr);
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

void vmi_set_iopl_mask(uint32_t mask)
{
    if (vmi_has(VMI_CALL_SetIOPLMask)) {
        ((vmi_fn1)vmi_addr(VMI_CALL_SetIOPLMask))(mask);
    } else if (!vmi_is_nop(VMI_CALL_SetIOPLMask)) {
        const uint32_t f = (read_eflags() & ~VMI_IOPL_MASK) | (mask & VMI_IOPL_MASK);
        __asm__ volatile("pushl %0; popfl" : : "g"(f) : "memory", "cc");
    }
}

void vmi_set_lazy_mode(uint32_t mode)
{
    if (vmi_has(VMI_CALL_SetLazyMode))
        ((vmi_fn1)vmi_addr(VMI_CALL_SetLazyMode))(mode);
}

uint32_t vmi_machine_to_physical(uint32_t v)
{
    if (vmi_has(VMI_CALL_MachineToPhysical))
        return (uint32_t)((vmi_fn1)vmi_addr(VMI_CALL_MachineToPhysical))(v);
    return v;
}

uint32_t vmi_physical_to_machine(uint32_t v)
{
    if (vmi_has(VMI_CALL_PhysicalToMachine))
        return (uint32_t)((vmi_fn1)vmi_addr(VMI_CALL_PhysicalToMachine))(v);
    return v;
}
