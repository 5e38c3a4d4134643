/* VMI call wrappers. Each one calls the ROM when the call is CALL_REL; otherwise (no ROM,
 * NONE, or a JUMP_REL that a returning call cannot use) it runs the native instruction.
 * NOP makes the operations without a result do nothing; calls that return a value have
 * nothing to return for NOP, so they fall back to native too. */
#include "vmi.h"

#include "cpu.h"
#include "exit.h"
#include "io.h"
#include "rtc.h"

typedef uint64_t (__attribute__((regparm(3))) *vmi_fn3)(uint32_t, uint32_t, uint32_t);
typedef uint64_t (__attribute__((regparm(3))) *vmi_fn1)(uint32_t);
typedef uint64_t (__attribute__((regparm(3))) *vmi_fn0)(void);

static inline uintptr_t rom_fn(unsigned num) { return (uintptr_t)vmi_get_reloc(num).addr; }
static inline bool is_nop(unsigned num) { return vmi_get_reloc(num).type == VMI_RELOC_NOP; }

uint64_t vmi_call(unsigned num, uint32_t a, uint32_t b, uint32_t c)
{
    return vmi_has(num) ? ((vmi_fn3)rom_fn(num))(a, b, c) : 0;
}

struct cpuid_regs vmi_cpuid(uint32_t leaf, uint32_t subleaf)
{
    if (!vmi_has(VMI_CALL_CPUID))
        return native_cpuid(leaf, subleaf);
    /* Not a C function: it takes and returns registers the way the instruction does. */
    struct cpuid_regs r;
    __asm__ volatile("call *%4"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "r"(rom_fn(VMI_CALL_CPUID)), "0"(leaf), "2"(subleaf)
                     : "memory");
    return r;
}

uint64_t vmi_rdtsc(void)
{
    if (vmi_has(VMI_CALL_RDTSC))
        return ((vmi_fn0)rom_fn(VMI_CALL_RDTSC))();
    return native_rdtsc();
}

uint64_t vmi_get_cycle_frequency(void)
{
    if (vmi_has(VMI_CALL_GetCycleFrequency))
        return ((vmi_fn0)rom_fn(VMI_CALL_GetCycleFrequency))();
    return 0;
}

uint64_t vmi_get_cycle_counter(uint32_t counter)
{
    if (vmi_has(VMI_CALL_GetCycleCounter))
        return ((vmi_fn1)rom_fn(VMI_CALL_GetCycleCounter))(counter);
    return counter == VMI_CYCLES_STOLEN ? 0 : native_rdtsc();
}

uint64_t vmi_get_wallclock_time(void)
{
    if (vmi_has(VMI_CALL_GetWallclockTime))
        return ((vmi_fn0)rom_fn(VMI_CALL_GetWallclockTime))();
    return rtc_read_ns();
}

uint32_t vmi_wallclock_updated(void)
{
    if (vmi_has(VMI_CALL_WallclockUpdated))
        return (uint32_t)((vmi_fn0)rom_fn(VMI_CALL_WallclockUpdated))();
    return 0;
}

void vmi_io_delay(void)
{
    if (vmi_has(VMI_CALL_IODelay))
        ((vmi_fn0)rom_fn(VMI_CALL_IODelay))();
    else if (!is_nop(VMI_CALL_IODelay))
        outb(0x80, 0); /* the POST-code port: a write there takes about a microsecond */
}

void vmi_halt(void)
{
    if (vmi_has(VMI_CALL_Halt))
        ((vmi_fn0)rom_fn(VMI_CALL_Halt))();
    else if (!is_nop(VMI_CALL_Halt))
        native_safe_halt();
}

void vmi_reboot(void)
{
    if (vmi_has(VMI_CALL_Reboot)) {
        ((vmi_fn0)rom_fn(VMI_CALL_Reboot))();
        return;
    }
    outb(0x64, 0xFE); /* keyboard controller: pulse the CPU reset line */
    for (int i = 0; i < 1000; i++) /* give a slow controller a moment */
        outb(0x80, 0);
}

void vmi_shutdown(void)
{
    if (vmi_has(VMI_CALL_Shutdown)) {
        ((vmi_fn0)rom_fn(VMI_CALL_Shutdown))();
        return;
    }
    /* Bare PCs have no simple power-off port; under QEMU the debug-exit device is ours. */
    outl(TEST_EXIT_PORT, TEST_PASS);
}

void vmi_disable_interrupts(void)
{
    if (vmi_has(VMI_CALL_DisableInterrupts))
        ((vmi_fn0)rom_fn(VMI_CALL_DisableInterrupts))();
    else if (!is_nop(VMI_CALL_DisableInterrupts))
        native_cli();
}

void vmi_enable_interrupts(void)
{
    if (vmi_has(VMI_CALL_EnableInterrupts))
        ((vmi_fn0)rom_fn(VMI_CALL_EnableInterrupts))();
    else if (!is_nop(VMI_CALL_EnableInterrupts))
        native_sti();
}
