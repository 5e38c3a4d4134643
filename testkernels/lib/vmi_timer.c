/* VMI alarm and local APIC calls, with the native stand-ins described in vmi.h: the PIT or
 * the local APIC timer, programmed from cycle counts converted with clock_frequency(). */
#include "clock.h"
#include "cpu.h"
#include "div64.h"
#include "pit.h"
#include "vmi.h"
#include "vmi_internal.h"

#define CPUID1_EDX_APIC (1u << 9)

uint32_t vmi_apic_mmio = APIC_DEFAULT_MMIO;

static bool native_apic(void)
{
    static int present = -1;
    if (present < 0)
        present = (vmi_cpuid(1, 0).edx & CPUID1_EDX_APIC) != 0;
    return present;
}

bool vmi_apic_present(void) { return vmi_has(VMI_CALL_APICRead) || native_apic(); }

void vmi_apic_write(uint32_t reg, uint32_t value)
{
    if (vmi_has(VMI_CALL_APICWrite))
        ((vmi_fn2)vmi_addr(VMI_CALL_APICWrite))(reg, value);
    else if (!vmi_is_nop(VMI_CALL_APICWrite) && native_apic())
        *(volatile uint32_t *)(uintptr_t)(vmi_apic_mmio + reg) = value;
}

uint32_t vmi_apic_read(uint32_t reg)
{
    if (vmi_has(VMI_CALL_APICRead))
        return (uint32_t)((vmi_fn1)vmi_addr(VMI_CALL_APICRead))(reg);
    if (!native_apic())
        return 0;
    return *(volatile uint32_t *)(uintptr_t)(vmi_apic_mmio + reg);
}

void vmi_set_initial_ap_state(const struct vmi_ap_state *s, uint32_t apic_id)
{
    if (vmi_has(VMI_CALL_SetInitialAPState))
        ((vmi_fn2)vmi_addr(VMI_CALL_SetInitialAPState))((uint32_t)(uintptr_t)s, apic_id);
}

/* --- the native stand-in ---------------------------------------------------------------- */

static struct {
    bool armed, periodic;
    uint32_t wiring;
    uint64_t expiry; /* TSC */
} native;

static void native_stop(void)
{
    if (!native.armed)
        return;
    if (native.wiring == VMI_ALARM_WIRED_LVTT)
        vmi_apic_write(APIC_REG_TIMER_INIT, 0);
    else
        pit_stop();
    native.armed = false;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void native_set_alarm(uint32_t flags, uint64_t expiry, uint64_t period)
{
    const uint64_t freq = clock_frequency();
    native_stop();
    if (!freq)
        return; /* no idea how long a cycle is: nothing sensible to program */
    const bool periodic = (flags & VMI_ALARM_IS_PERIODIC) && period != 0;
    const uint64_t now = native_rdtsc();
    /* at most 4 s, so that cycles * device Hz fits in 64 bits */
    const uint64_t cycles = clamp(periodic ? period : expiry > now ? expiry - now : 1, 1, 4 * freq);
    native.wiring = flags & VMI_ALARM_WIRED_LVTT;
    if (native.wiring == VMI_ALARM_WIRED_LVTT) {
        const uint32_t hz = clock_apic_timer_hz();
        if (!hz)
            return;
        const uint32_t lvt = vmi_apic_read(APIC_REG_LVTT) & ~APIC_LVT_PERIODIC;
        vmi_apic_write(APIC_REG_TIMER_DIV, 0xB); /* divide by 1 */
        vmi_apic_write(APIC_REG_LVTT, lvt | (periodic ? APIC_LVT_PERIODIC : 0));
        const uint64_t count = muldiv64(cycles, hz, freq);
        vmi_apic_write(APIC_REG_TIMER_INIT, (uint32_t)clamp(count, 1, 0xFFFFFFFF));
    } else if (periodic) {
        pit_periodic((uint32_t)clamp(muldiv64(cycles, PIT_HZ, freq), 1, 65536));
    } else {
        pit_oneshot((uint32_t)clamp(muldiv64(cycles, PIT_HZ, freq), 1, 65535));
    }
    native.armed = true;
    native.periodic = periodic;
    native.expiry = now + cycles;
}

void vmi_set_alarm(uint32_t flags, uint64_t expiry, uint64_t period)
{
    if (vmi_has(VMI_CALL_SetAlarm))
        ((vmi_fn_setalarm)vmi_addr(VMI_CALL_SetAlarm))(flags, expiry, period);
    else if (!vmi_is_nop(VMI_CALL_SetAlarm))
        native_set_alarm(flags, expiry, period);
}

uint32_t vmi_cancel_alarm(uint32_t flags)
{
    if (vmi_has(VMI_CALL_CancelAlarm))
        return (uint32_t)((vmi_fn1)vmi_addr(VMI_CALL_CancelAlarm))(flags);
    const bool pending = native.armed && (native.periodic || native_rdtsc() < native.expiry);
    native_stop();
    return pending;
}
