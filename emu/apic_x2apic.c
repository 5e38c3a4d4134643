/* x2APIC mode's interface to the local APIC: the registers as MSRs 0x800-0x8FF (SDM 10.12.1.2,
 * table 10-6). Which registers exist here and in which direction differs from the page; the
 * values are the register file's (emu/apic.c). */
#include "emu/apic_regs.h"

#define SELF_IPI 0x3F0u /* offset of MSR 0x83F, x2APIC mode only */

static uint32_t offset_of(uint32_t msr) { return (msr - APIC_MSR_X2APIC_FIRST) << 4; }

static bool in_bank(uint32_t offset) { return offset >= APIC_ISR && offset < APIC_ESR; } /* ISR, TMR, IRR */

static bool is_lvt(uint32_t offset) { return offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR; }

/* Readable: everything the page has but EOI (write-only), APR, the remote read register and
 * the DFR (absent), the ICR's high half (part of MSR 0x830); not SELF IPI (write-only). */
static bool readable(uint32_t offset)
{
    switch (offset) {
    case APIC_ID: case APIC_LVR: case APIC_TPR: case APIC_PPR: case APIC_LDR: case APIC_SVR:
    case APIC_ESR: case APIC_ICR_LO: case APIC_TIMER_INITIAL: case APIC_TIMER_CURRENT: case APIC_TIMER_DIVIDE:
        return true;
    default:
        return in_bank(offset) || is_lvt(offset);
    }
}

/* Writable: TPR, EOI, SVR, ESR, the ICR, the LVT entries, the timer's initial count and divide
 * configuration, SELF IPI. The ID and LDR are read-only in this mode. */
static bool writable(uint32_t offset)
{
    switch (offset) {
    case APIC_TPR: case APIC_EOI: case APIC_SVR: case APIC_ESR: case APIC_ICR_LO:
    case APIC_TIMER_INITIAL: case APIC_TIMER_DIVIDE: case SELF_IPI:
        return true;
    default:
        return is_lvt(offset);
    }
}

static bool is_x2apic_msr(uint32_t msr) { return msr >= APIC_MSR_X2APIC_FIRST && msr <= APIC_MSR_X2APIC_LAST; }

bool apic_x2apic_msr_read(apic *a, uint64_t now, uint32_t msr, uint64_t *value)
{
    uint32_t offset = offset_of(msr), v;
    if (!a->x2apic || a->hw_disabled || !is_x2apic_msr(msr) || !readable(offset) || !apic_reg_read(a, now, offset, &v))
        return false;
    *value = offset == APIC_ICR_LO ? (uint64_t)a->icr_hi << 32 | v : v;
    return true;
}

apic_status apic_x2apic_msr_write(apic *a, uint64_t now, uint32_t msr, uint64_t value)
{
    uint32_t offset = offset_of(msr), low = (uint32_t)value;
    if (!a->x2apic || a->hw_disabled || !is_x2apic_msr(msr) || !writable(offset))
        return APIC_BAD_REGISTER;
    if (offset == SELF_IPI)
        return value & ~0xFFull ? APIC_BAD_REGISTER : apic_self_ipi(a, (uint8_t)value);
    if (offset != APIC_ICR_LO && value >> 32)
        return APIC_BAD_REGISTER; /* bits 63:32 are the destination in the ICR, else reserved */
    if (low & apic_reserved_bits(a, offset))
        return APIC_BAD_REGISTER;
    if (offset == APIC_ICR_LO) /* the destination first: the low half sends */
        a->icr_hi = (uint32_t)(value >> 32);
    return apic_reg_write(a, now, offset, low);
}
