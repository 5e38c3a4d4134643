#include "emu/apic.h"

#include <string.h>

#include "emu/apic_regs.h"

/* Writable bits of the registers that simply store what is written. */
#define ID_BITS 0xFF000000u
#define TPR_BITS 0x000000FFu
#define LDR_BITS 0xFF000000u
#define DFR_MODEL_BITS 0xF0000000u /* bits 0-27 read as ones */
#define SVR_BITS 0x000003FFu       /* vector, software enable, focus checking */
#define ICR_LO_BITS 0x000CCFFFu    /* vector, mode, dest mode, level, trigger, shorthand */
#define ICR_HI_BITS 0xFF000000u
#define DIVIDE_BITS 0x0000000Bu

/* ICR fields: delivery mode (bits 8-10), logical destination (11), shorthand (18-19). */
enum { ICR_FIXED = 0, ICR_LOWEST = 1, ICR_SMI = 2, ICR_NMI = 4, ICR_INIT = 5, ICR_STARTUP = 6, ICR_EXTINT = 7 };
enum { SHORT_NONE = 0, SHORT_SELF = 1, SHORT_ALL = 2, SHORT_OTHERS = 3 };
#define ICR_LOGICAL 0x800u
#define ESR_SEND_ILLEGAL_VECTOR 0x20u

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* Writable bits of each LVT entry (delivery status and remote IRR are read-only). */
static const uint32_t lvt_bits[APIC_LVT_COUNT] = {
    [LVT_TIMER] = 0x000300FFu,   /* vector, mask, periodic */
    [LVT_THERMAL] = 0x000107FFu, /* vector, delivery mode, mask */
    [LVT_PERF] = 0x000107FFu,
    [LVT_LINT0] = 0x0001A7FFu,   /* vector, delivery mode, polarity, trigger, mask */
    [LVT_LINT1] = 0x0001A7FFu,
    [LVT_ERROR] = 0x000100FFu,   /* vector, mask */
};

static bool enabled(const apic *a) { return a->svr & APIC_SVR_ENABLE; }


/* Highest vector set in a 256-bit register, or -1. */
static int highest_vector(const uint32_t bits[8])
{
    for (int w = 7; w >= 0; w--)
        if (bits[w])
            return w * 32 + 31 - __builtin_clz(bits[w]);
    return -1;
}

static void set_bit(uint32_t bits[8], int v) { bits[v >> 5] |= 1u << (v & 31); }

static void clear_bit(uint32_t bits[8], int v) { bits[v >> 5] &= ~(1u << (v & 31)); }

/* Processor priority: TPR, unless the highest in-service vector's class is above it. */
static uint32_t ppr(const apic *a)
{
    int isrv = highest_vector(a->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

/* Record an error for the next ESR update and raise the LVT error interrupt if unmasked.
 * An illegal error vector is itself an error but does not recurse. */
static void signal_error(apic *a, uint32_t bit)
{
    a->esr_pending |= bit;
    uint32_t lvt = a->lvt[LVT_ERROR];
    if (!enabled(a) || (lvt & APIC_LVT_MASKED))
        return;
    if ((lvt & 0xFF) >= 16)
        set_bit(a->irr, (int)(lvt & 0xFF));
    else
        a->esr_pending |= APIC_ESR_RECEIVE_ILLEGAL_VECTOR;
}

void apic_init(apic *a, uint32_t id, uint64_t cpu_hz)
{
    memset(a, 0, sizeof *a);
    a->initial_id = id;
    a->id = id << 24;
    a->dfr = 0xFFFFFFFFu;
    a->svr = 0xFF;
    for (int i = 0; i < APIC_LVT_COUNT; i++)
        a->lvt[i] = APIC_LVT_MASKED;
    a->timer_next = UINT64_MAX;
    a->cpu_hz = cpu_hz;
}

void apic_accept_irq(apic *a, uint8_t vector, bool level)
{
    if (!enabled(a) || a->hw_disabled)
        return;
    if (vector < 16) {
        signal_error(a, APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
        return;
    }
    set_bit(a->irr, vector);
    if (level)
        set_bit(a->tmr, vector);
    else
        clear_bit(a->tmr, vector);
}

void apic_accept(apic *a, uint8_t vector) { apic_accept_irq(a, vector, false); }

int apic_eoi_broadcast_vector(const apic *a)
{
    if (a->hw_disabled)
        return -1;
    int v = highest_vector(a->isr);
    return v >= 0 && (a->tmr[v >> 5] & (1u << (v & 31))) ? v : -1;
}

int apic_pending_vector(const apic *a)
{
    if (!enabled(a) || a->hw_disabled)
        return -1;
    int irrv = highest_vector(a->irr);
    if (irrv < 0 || ((uint32_t)irrv >> 4) <= (ppr(a) >> 4))
        return -1;
    return irrv;
}

int apic_acknowledge(apic *a)
{
    int v = apic_pending_vector(a);
    if (v >= 0) {
        clear_bit(a->irr, v);
        set_bit(a->isr, v);
    }
    return v;
}

static void eoi(apic *a)
{
    int v = highest_vector(a->isr);
    if (v >= 0)
        clear_bit(a->isr, v);
}

uint8_t apic_timer_vector(const apic *a) { return (uint8_t)(a->lvt[LVT_TIMER] & 0xFF); }

bool apic_timer_masked(const apic *a) { return !enabled(a) || (a->lvt[LVT_TIMER] & APIC_LVT_MASKED); }

/* --- The timer: counts down once every `divide` cycles from the initial count. --- */

/* Divide configuration bits 3,1,0: 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
static uint64_t timer_divisor(const apic *a)
{
    uint32_t code = ((a->timer_divide >> 1) & 4u) | (a->timer_divide & 3u);
    return code == 7 ? 1 : 2u << code;
}

#define TIMER_MODE (3u << 17)
#define TIMER_DEADLINE (2u << 17)

static bool periodic(const apic *a) { return (a->lvt[LVT_TIMER] & TIMER_MODE) == APIC_TIMER_PERIODIC; }
static bool deadline_mode(const apic *a) { return (a->lvt[LVT_TIMER] & TIMER_MODE) == TIMER_DEADLINE; }

static uint32_t timer_count(const apic *a, uint64_t now)
{
    if (deadline_mode(a))
        return 0; /* the current count reads 0 in TSC-deadline mode */
    if (!a->timer_running || now < a->timer_base)
        return a->timer_running ? a->timer_base_count : 0;
    uint64_t e = (now - a->timer_base) / timer_divisor(a);
    if (e < a->timer_base_count)
        return (uint32_t)(a->timer_base_count - e);
    if (!periodic(a))
        return 0;
    return (uint32_t)(a->timer_initial - (e - a->timer_base_count) % a->timer_initial);
}

/* Count from (base, base_count) with the current divisor and mode. */
static void timer_schedule(apic *a)
{
    if (!a->timer_running || a->timer_base_count == 0)
        a->timer_running = false;
    a->timer_next = a->timer_running ? a->timer_base + a->timer_base_count * timer_divisor(a) : UINT64_MAX;
}

/* Move the base to the last count boundary before `now`, so the divisor or mode can change
 * without losing the counts already made. */
static void timer_rebase(apic *a, uint64_t now)
{
    if (!a->timer_running || now < a->timer_base)
        return;
    uint64_t div = timer_divisor(a), e = (now - a->timer_base) / div;
    a->timer_base_count = timer_count(a, now);
    a->timer_base += e * div;
}

void apic_advance(apic *a, uint64_t now)
{
    if (a->timer_next > now)
        return;
    if (!apic_timer_masked(a))
        apic_accept(a, apic_timer_vector(a));
    if (deadline_mode(a)) {
        a->deadline = 0; /* fired: the MSR reads 0 */
        a->timer_next = UINT64_MAX;
    } else if (periodic(a)) {
        uint64_t period = (uint64_t)a->timer_initial * timer_divisor(a);
        a->timer_next += ((now - a->timer_next) / period + 1) * period;
    } else {
        a->timer_next = UINT64_MAX;
    }
}

uint64_t apic_next_event(const apic *a) { return a->timer_next; }

/* A write that changes how the timer counts: expire what is due, then count on from now. */
static void timer_write(apic *a, uint64_t now, uint32_t offset, uint32_t value)
{
    apic_advance(a, now);
    if (offset == APIC_TIMER_INITIAL && deadline_mode(a))
        return; /* ignored in TSC-deadline mode */
    if (offset == APIC_LVT_TIMER) {
        uint32_t bits = lvt_bits[LVT_TIMER] | (a->deadline_ok ? TIMER_DEADLINE : 0);
        if ((value & bits & TIMER_MODE) == TIMER_MODE)
            value &= ~TIMER_MODE; /* 11b is reserved: one-shot */
        if (((value & bits) ^ a->lvt[LVT_TIMER]) & TIMER_DEADLINE) { /* into or out of deadline
                                                                         * mode: the timer stops */
            a->timer_running = false;
            a->timer_initial = 0;
            a->deadline = 0;
            a->timer_next = UINT64_MAX;
        }
        if (deadline_mode(a) || ((value & bits & TIMER_MODE) == TIMER_DEADLINE)) {
            a->lvt[LVT_TIMER] = (value & bits) | (enabled(a) ? 0 : APIC_LVT_MASKED);
            return; /* the deadline, not the count, schedules it */
        }
    }
    if (offset == APIC_TIMER_INITIAL) {
        a->timer_initial = value;
        a->timer_base = now;
        a->timer_base_count = value;
        a->timer_running = value != 0;
    } else {
        timer_rebase(a, now);
        if (offset == APIC_TIMER_DIVIDE)
            a->timer_divide = value & DIVIDE_BITS;
        else
            a->lvt[LVT_TIMER] = (value & lvt_bits[LVT_TIMER]) | (enabled(a) ? 0 : APIC_LVT_MASKED);
    }
    timer_schedule(a);
}

/* --- Register access --- */

static bool is_lvt(uint32_t offset) { return offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR; }

static bool is_vector_bank(uint32_t offset) { return offset >= APIC_ISR && offset < APIC_ESR; }

/* x2APIC mode's logical ID: cluster (ID bits 31:4) in bits 31:16, bit (ID & 15) of 15:0. */
static uint32_t x2apic_ldr(const apic *a) { return (a->initial_id >> 4) << 16 | 1u << (a->initial_id & 15); }

bool apic_reg_read(apic *a, uint64_t now, uint32_t offset, uint32_t *value)
{
    uint32_t v = 0;
    if (offset & 0xF) {
        signal_error(a, APIC_ESR_ILLEGAL_REGISTER);
        return false;
    }
    if (is_lvt(offset)) {
        v = a->lvt[(offset - APIC_LVT_TIMER) >> 4];
    } else if (is_vector_bank(offset)) {
        uint32_t w = (offset >> 4) & 7;
        v = offset < APIC_TMR ? a->isr[w] : offset < APIC_IRR ? a->tmr[w] : a->irr[w];
    } else {
        switch (offset) {
        case APIC_ID: v = a->x2apic ? a->initial_id : a->id; break;
        case APIC_LVR: v = APIC_VERSION; break;
        case APIC_TPR: v = a->tpr; break;
        case APIC_APR: case APIC_EOI: case APIC_RRD: v = 0; break;
        case APIC_PPR: v = ppr(a); break;
        case APIC_LDR: v = a->x2apic ? x2apic_ldr(a) : a->ldr; break;
        case APIC_DFR: v = a->dfr; break;
        case APIC_SVR: v = a->svr; break;
        case APIC_ESR: v = a->esr; break;
        case APIC_ICR_LO: v = a->icr_lo; break; /* delivery status: always idle */
        case APIC_ICR_HI: v = a->icr_hi; break;
        case APIC_TIMER_INITIAL: v = a->timer_initial; break;
        case APIC_TIMER_CURRENT: v = timer_count(a, now); break;
        case APIC_TIMER_DIVIDE: v = a->timer_divide; break;
        default:
            signal_error(a, APIC_ESR_ILLEGAL_REGISTER);
            return false;
        }
    }
    *value = v;
    return true;
}

bool apic_read(apic *a, uint64_t now, uint32_t offset, uint32_t *value)
{
    if (a->hw_disabled || a->x2apic)
        return false; /* no APIC, or only its MSRs: the page is open bus */
    return apic_reg_read(a, now, offset, value);
}

/* Disabling masks every LVT entry; enabling leaves them masked for the guest to unmask. */
static void write_svr(apic *a, uint32_t value)
{
    a->svr = value & SVR_BITS;
    if (!enabled(a))
        for (int i = 0; i < APIC_LVT_COUNT; i++)
            a->lvt[i] |= APIC_LVT_MASKED;
}

/* x2APIC destinations are 32 bits: physical, the x2APIC ID; logical, the same cluster
 * (bits 31:16) and a shared bit of 15:0; all ones, everyone. */
static bool is_x2apic_destination(const apic *a, bool logical, uint32_t dest)
{
    if (dest == 0xFFFFFFFFu)
        return true;
    if (!logical)
        return dest == a->initial_id;
    uint32_t ldr = x2apic_ldr(a);
    return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xFFFFu) != 0;
}

bool apic_is_destination(const apic *a, bool logical, uint8_t dest)
{
    if (a->x2apic) /* an 8-bit message: 0xFF is still everyone */
        return dest == 0xFF || is_x2apic_destination(a, logical, dest);
    if (!logical)
        return dest == 0xFF || dest == (uint8_t)(a->id >> 24);
    uint8_t ldr = (uint8_t)(a->ldr >> 24);
    if ((a->dfr >> 28) == 0xF)
        return (dest & ldr) != 0;
    return ((dest >> 4) == 0xF || (dest >> 4) == (ldr >> 4)) && (dest & ldr & 0xF) != 0;
}

/* Send the IPI an ICR low half `value` describes, to the destination in the ICR's high half
 * (unless a shorthand names it). This machine has one CPU, so an IPI either reaches this APIC
 * (self, all, or a destination matching it) or no one. What reaches it: fixed and lowest
 * priority set the vector's IRR bit, NMI makes an NMI pending (apic_take_nmi); INIT and
 * start-up are ignored (the only CPU is the bootstrap processor: a start-up IPI does nothing to
 * it, and an INIT reset of it is not modelled); SMI and ExtINT are reported unsupported. */
static apic_status send_ipi(apic *a, uint32_t value)
{
    unsigned mode = (value >> 8) & 7u, shorthand = (value >> 18) & 3u;
    bool logical = value & ICR_LOGICAL;
    bool to_self = shorthand == SHORT_SELF || shorthand == SHORT_ALL ||
                   (shorthand == SHORT_NONE && (a->x2apic ? is_x2apic_destination(a, logical, a->icr_hi)
                                                          : apic_is_destination(a, logical, (uint8_t)(a->icr_hi >> 24))));
    if ((mode == ICR_FIXED || mode == ICR_LOWEST) && (value & 0xFF) < 16) {
        signal_error(a, ESR_SEND_ILLEGAL_VECTOR);
        if (!to_self)
            return APIC_OK;
    }
    if (!to_self)
        return APIC_OK; /* no other CPU: nobody receives it */
    switch (mode) {
    case ICR_FIXED: case ICR_LOWEST: apic_accept(a, (uint8_t)value); return APIC_OK;
    case ICR_NMI: apic_accept_nmi(a); return APIC_OK;
    case ICR_INIT: case ICR_STARTUP: return APIC_OK;
    default: return APIC_IPI_UNSUPPORTED;
    }
}

static apic_status write_icr(apic *a, uint32_t value)
{
    a->icr_lo = value & ICR_LO_BITS;
    return send_ipi(a, value);
}

apic_status apic_self_ipi(apic *a, uint8_t vector) { return send_ipi(a, (uint32_t)SHORT_SELF << 18 | vector); }

#define LVT_DELIVERY_STATUS 0x1000u /* read-only */
#define LVT_REMOTE_IRR 0x4000u      /* read-only, LINT0 and LINT1 */

uint32_t apic_reserved_bits(const apic *a, uint32_t offset)
{
    if (is_lvt(offset)) {
        unsigned i = (offset - APIC_LVT_TIMER) >> 4;
        uint32_t ok = lvt_bits[i] | LVT_DELIVERY_STATUS;
        if (i == LVT_LINT0 || i == LVT_LINT1)
            ok |= LVT_REMOTE_IRR;
        if (i == LVT_TIMER && a->deadline_ok)
            ok |= TIMER_DEADLINE;
        return ~ok;
    }
    switch (offset) {
    case APIC_TPR: return ~TPR_BITS;
    case APIC_SVR: return ~SVR_BITS;
    case APIC_ICR_LO: return ~ICR_LO_BITS;
    case APIC_TIMER_DIVIDE: return ~DIVIDE_BITS;
    case APIC_EOI: case APIC_ESR: return ~0u; /* only zero may be written */
    default: return 0;
    }
}

void apic_accept_nmi(apic *a)
{
    if (!a->hw_disabled)
        a->nmi_pending = true;
}

bool apic_nmi_pending(const apic *a) { return a->nmi_pending && !a->hw_disabled; }

void apic_take_nmi(apic *a) { a->nmi_pending = false; }

apic_status apic_reg_write(apic *a, uint64_t now, uint32_t offset, uint32_t value)
{
    if (offset & 0xF) {
        signal_error(a, APIC_ESR_ILLEGAL_REGISTER);
        return APIC_BAD_REGISTER;
    }
    if (offset == APIC_LVT_TIMER || offset == APIC_TIMER_INITIAL || offset == APIC_TIMER_DIVIDE) {
        timer_write(a, now, offset, value);
        return APIC_OK;
    }
    if (is_lvt(offset)) {
        unsigned i = (offset - APIC_LVT_TIMER) >> 4;
        a->lvt[i] = (value & lvt_bits[i]) | (enabled(a) ? 0 : APIC_LVT_MASKED);
        return APIC_OK;
    }
    if (is_vector_bank(offset))
        return APIC_OK; /* ISR, TMR and IRR are read-only */
    switch (offset) {
    case APIC_ID: a->id = value & ID_BITS; break;
    case APIC_TPR: a->tpr = value & TPR_BITS; break;
    case APIC_EOI: eoi(a); break;
    case APIC_LDR: a->ldr = value & LDR_BITS; break;
    case APIC_DFR: a->dfr = (value & DFR_MODEL_BITS) | ~DFR_MODEL_BITS; break;
    case APIC_SVR: write_svr(a, value); break;
    case APIC_ESR: /* a write makes the errors seen since the last one visible */
        a->esr = a->esr_pending;
        a->esr_pending = 0;
        break;
    case APIC_ICR_LO: return write_icr(a, value);
    case APIC_ICR_HI: a->icr_hi = value & (a->x2apic ? 0xFFFFFFFFu : ICR_HI_BITS); break;
    case APIC_LVR: case APIC_APR: case APIC_PPR: case APIC_RRD: case APIC_TIMER_CURRENT:
        break; /* read-only */
    default:
        signal_error(a, APIC_ESR_ILLEGAL_REGISTER);
        return APIC_BAD_REGISTER;
    }
    return APIC_OK;
}

apic_status apic_write(apic *a, uint64_t now, uint32_t offset, uint32_t value)
{
    if (a->hw_disabled || a->x2apic)
        return APIC_BAD_REGISTER; /* no APIC, or only its MSRs: the write goes nowhere */
    return apic_reg_write(a, now, offset, value);
}

uint64_t apic_base_msr(const apic *a)
{
    if (a->hw_disabled)
        return APIC_BASE_MSR_VALUE & ~(uint64_t)APIC_BASE_MSR_ENABLE;
    return APIC_BASE_MSR_VALUE | (a->x2apic ? APIC_BASE_MSR_EXTD : 0);
}

#define BASE_MSR_RESERVED (0xFFFFFFF000000000ull | 0x6FFull)

/* The states are (EN, EXTD): disabled 00, xAPIC 10, x2APIC 11; 01 is invalid. SDM 10.12.5:
 * from disabled only to xAPIC, from xAPIC to either, from x2APIC only to disabled. */
bool apic_base_msr_write(apic *a, uint64_t value)
{
    uint64_t reserved = BASE_MSR_RESERVED & ~(a->x2apic_ok ? (uint64_t)APIC_BASE_MSR_EXTD : 0);
    bool enable = value & APIC_BASE_MSR_ENABLE, extd = value & APIC_BASE_MSR_EXTD;
    if ((value & reserved) || (extd && !enable) || (extd && a->hw_disabled) || (!extd && enable && a->x2apic))
        return false;
    if (!enable && !a->hw_disabled) { /* the APIC goes away; it comes back in its reset state */
        bool deadline_ok = a->deadline_ok, x2apic_ok = a->x2apic_ok;
        apic_init(a, a->initial_id, a->cpu_hz);
        a->deadline_ok = deadline_ok;
        a->x2apic_ok = x2apic_ok;
        a->hw_disabled = true;
    } else if (enable) {
        a->hw_disabled = false;
        if (extd && !a->x2apic) { /* xAPIC to x2APIC: an ID written to the page is not kept */
            a->x2apic = true;
            a->id = a->initial_id << 24;
        }
    }
    return true;
}

bool apic_x2apic_mode(const apic *a) { return a->x2apic; }

bool apic_hw_enabled(const apic *a) { return !a->hw_disabled; }

uint64_t apic_deadline_msr(const apic *a) { return deadline_mode(a) ? a->deadline : 0; }

void apic_deadline_msr_write(apic *a, uint64_t now, uint64_t tsc, uint64_t value)
{
    if (!deadline_mode(a) || a->hw_disabled)
        return;
    a->deadline = value;
    a->timer_next = value == 0 ? UINT64_MAX : value <= tsc ? now : now + (value - tsc);
}

void apic_serialise(const apic *a, state_writer *w)
{
    const uint32_t regs[] = {a->id, a->tpr, a->ldr, a->dfr, a->svr, a->esr, a->esr_pending,
                             a->icr_lo, a->icr_hi};
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        state_put_u32(w, regs[i]);
    for (int i = 0; i < APIC_LVT_COUNT; i++)
        state_put_u32(w, a->lvt[i]);
    for (int i = 0; i < 8; i++)
        state_put_u32(w, a->irr[i]);
    for (int i = 0; i < 8; i++)
        state_put_u32(w, a->isr[i]);
    for (int i = 0; i < 8; i++)
        state_put_u32(w, a->tmr[i]);
    state_put_u32(w, a->timer_initial);
    state_put_u32(w, a->timer_divide);
    state_put_u64(w, a->timer_base);
    state_put_u64(w, a->timer_next);
    state_put_u32(w, a->timer_base_count);
    state_put_bool(w, a->timer_running);
    state_put_u64(w, a->cpu_hz);
    state_put_bool(w, a->nmi_pending);
    state_put_bool(w, a->hw_disabled);
    state_put_bool(w, a->deadline_ok);
    state_put_u64(w, a->deadline);
    state_put_u32(w, a->initial_id);
    state_put_bool(w, a->x2apic_ok);
    state_put_bool(w, a->x2apic);
}
