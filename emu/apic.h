/* The local APIC of one CPU, reached by register offset (VMI APICRead/APICWrite pass offsets
 * within the APIC page): enough for Linux's VMI timer, EOI and the APIC's own timer.
 *
 * Modelled: the register file with its writable bits (read-only registers ignore writes),
 * IRR/ISR with priority classes against TPR, EOI, software enable in SVR (disabling masks
 * every LVT entry and holds them masked), ESR with the write-to-update protocol and the LVT
 * error interrupt, and the APIC timer (one-shot and periodic, every divide value) in virtual
 * time. The timer's bus clock is the CPU clock (cpu_hz): one count every `divide` cycles,
 * from the cycle the initial count is written.
 * IPIs through the ICR on a machine of one CPU: every shorthand (self, all, all but self) and
 * physical or logical (flat, cluster) destinations decide whether the IPI reaches this APIC
 * or nobody; fixed and lowest-priority IPIs set the vector's IRR bit (a vector below 16 is a
 * send and receive error), an NMI IPI makes an NMI pending for the CPU (apic_nmi_pending;
 * the CPU's NMI blocking is the machine's), INIT and start-up IPIs are accepted and ignored
 * (an INIT reset of the only CPU is not modelled). Global disable through IA32_APICBASE: the
 * APIC is gone (its page open bus, nothing delivered, CPUID's APIC bit clear: the machine
 * asks apic_hw_enabled) and comes back in its reset state.
 * Level-triggered interrupts from the IO-APIC set their TMR bit when accepted (edge ones clear
 * it); the EOI of a vector whose TMR bit is set is broadcast to the IO-APIC by the machine
 * (apic_eoi_broadcast_vector).
 * Not modelled: SMI and ExtINT IPIs (APIC_IPI_UNSUPPORTED), LINT0/LINT1, thermal and
 * performance interrupts (the LVT entries are stored only), the arbitration priority (APR
 * reads 0: it only matters for lowest-priority delivery between CPUs), remote read (0xC0
 * reads 0). The TSC-deadline mode (LVT timer mode 10b, IA32_TSC_DEADLINE) exists
 * when the CPU model has it (deadline_ok: max): the timer fires once at the cycle the TSC
 * reaches the deadline, which is fixed when the MSR is written (a later TSC write or TSC_ADJUST
 * does not move it).
 * x2APIC mode (x2apic_ok: the max model, CPUID.1:ECX bit 21), entered through IA32_APICBASE's
 * EXTD bit: the registers become the MSRs 0x800-0x8FF (apic_x2apic_msr_read/_write), the page
 * and the offset interface (apic_read/apic_write, VMI's APICRead/APICWrite) go away as when
 * globally disabled. The ID is the 32-bit initial x2APIC ID and read-only, the LDR read-only and
 * derived from it (cluster in bits 31:16, one bit of 15:0), there is no DFR, the ICR is one
 * 64-bit MSR (destination in bits 63:32) and SELF IPI (0x83F) sends a fixed IPI to this APIC.
 * An access to a register that is absent, reserved or of the wrong direction, or a write
 * setting a reserved bit (bits 63:32 but in the ICR, a non-zero EOI or ESR) is refused: #GP(0).
 *
 * Plain data without pointers: a snapshot copies the struct. The caller passes the current
 * CPU cycle to the accesses that need it (the timer registers). */
#ifndef VMIEMU_APIC_H
#define VMIEMU_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/state_ser.h"

#define APIC_VERSION 0x00050014u /* xAPIC, six LVT entries (max LVT index 5) */

/* Register offsets within the APIC page. */
enum {
    APIC_ID = 0x20, APIC_LVR = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xA0,
    APIC_EOI = 0xB0, APIC_RRD = 0xC0, APIC_LDR = 0xD0, APIC_DFR = 0xE0, APIC_SVR = 0xF0,
    APIC_ISR = 0x100, APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280,
    APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310, APIC_LVT_TIMER = 0x320, APIC_LVT_THERMAL = 0x330,
    APIC_LVT_PERF = 0x340, APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370,
    APIC_TIMER_INITIAL = 0x380, APIC_TIMER_CURRENT = 0x390, APIC_TIMER_DIVIDE = 0x3E0,
};

#define APIC_SVR_ENABLE 0x100u
#define APIC_LVT_MASKED 0x10000u
#define APIC_TIMER_PERIODIC 0x20000u
#define APIC_ESR_RECEIVE_ILLEGAL_VECTOR 0x40u
#define APIC_ESR_ILLEGAL_REGISTER 0x80u

enum { APIC_LVT_COUNT = 6 }; /* timer, thermal, performance, LINT0, LINT1, error */

/* What a register write did. APIC_BAD_REGISTER is 0, so `if (!apic_write(...))` reads as
 * "the guest wrote to something that is not a register". */
typedef enum apic_status {
    APIC_BAD_REGISTER = 0,    /* not a register, or not 16-byte aligned: a guest error */
    APIC_OK = 1,              /* written (or a read-only register left as it was) */
    APIC_IPI_UNSUPPORTED = 2, /* ICR low written: stored, but an SMI or ExtINT IPI was not sent */
} apic_status;

typedef struct apic {
    uint32_t id;         /* xAPIC ID, bits 24-31 as the register holds it */
    uint32_t initial_id; /* the hardware's: the ID after a reset, the x2APIC ID */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;        /* errors as last made visible by an ESR write */
    uint32_t esr_pending;/* errors since then */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[APIC_LVT_COUNT];
    uint32_t irr[8], isr[8]; /* bit v%32 of word v/32 for vector v */
    uint32_t tmr[8];     /* level-triggered when last accepted (the IO-APIC's level entries) */
    uint32_t timer_initial, timer_divide;
    /* The timer counted `timer_base_count` at cycle `timer_base`, one count every divide
     * cycles; `timer_next` is the cycle of the next expiry (UINT64_MAX: none). */
    uint64_t timer_base, timer_next;
    uint32_t timer_base_count;
    bool timer_running;
    uint64_t cpu_hz;     /* also the timer's bus clock */
    bool nmi_pending;    /* an NMI IPI arrived and the CPU has not taken it yet */
    bool hw_disabled;    /* IA32_APICBASE's global enable is clear: no APIC */
    bool deadline_ok;    /* the CPU model has the TSC-deadline mode (max; set after apic_init) */
    uint64_t deadline;   /* IA32_TSC_DEADLINE in TSC units; 0: disarmed (and after it fired) */
    bool x2apic_ok;      /* the CPU model has x2APIC mode (max; set after apic_init) */
    bool x2apic;         /* in x2APIC mode (IA32_APICBASE.EXTD) */
} apic;

/* Reset state: ID `id`, every LVT entry masked, software-disabled (SVR 0xFF), DFR all ones,
 * timer stopped. */
void apic_init(apic *a, uint32_t id, uint64_t cpu_hz);

/* Read the register at `offset` at CPU cycle `now`; false (and ESR "illegal register address")
 * if there is none, or if the xAPIC interface is absent (globally disabled, x2APIC mode). */
bool apic_read(apic *a, uint64_t now, uint32_t offset, uint32_t *value);

/* Write the register at `offset` at CPU cycle `now` (only its writable bits change); see
 * apic_status. */
apic_status apic_write(apic *a, uint64_t now, uint32_t offset, uint32_t value);

/* apic_accept for an interrupt from the IO-APIC: `level` sets the vector's TMR bit, edge
 * clears it. */
void apic_accept_irq(apic *a, uint8_t vector, bool level);

/* Is this APIC a destination of an interrupt message (the IO-APIC's) to `dest`? Physical: its
 * ID or the broadcast 0xFF. Logical: flat model (DFR 0xF...), any bit shared with the LDR;
 * cluster model, the same cluster (or 0xF, all) and a shared bit of the low nibble. In x2APIC
 * mode 0xFF stays the broadcast and any other `dest` is an x2APIC destination (cluster 0). */
bool apic_is_destination(const apic *a, bool logical, uint8_t dest);

/* The vector an EOI written now would retire, if it was accepted level-triggered (the EOI is
 * then broadcast to the IO-APIC); else -1. */
int apic_eoi_broadcast_vector(const apic *a);

/* An interrupt arrives: set its IRR bit. Vectors 0-15 are illegal: they set ESR "receive
 * illegal vector" (and raise the LVT error interrupt if unmasked) instead. Dropped while the
 * APIC is software-disabled. */
void apic_accept(apic *a, uint8_t vector);

/* The highest IRR vector whose priority class (vector >> 4) is above the processor
 * priority class (max of TPR's and the highest in-service vector's), or -1. Always -1 while
 * software-disabled. */
int apic_pending_vector(const apic *a);

/* Deliver apic_pending_vector(): move it from IRR to ISR and return it; -1 if none. */
int apic_acknowledge(apic *a);

/* An NMI waits for the CPU (the machine delivers it through IDT vector 2 when its NMI
 * blocking allows, IF or not); apic_take_nmi when delivered. */
bool apic_nmi_pending(const apic *a);
/* An NMI message arrives (an NMI IPI, an IO-APIC entry in NMI mode). */
void apic_accept_nmi(apic *a);
void apic_take_nmi(apic *a);

/* The LVT timer entry's vector and whether it is masked (or the APIC software-disabled):
 * VMI alarms wired to the APIC timer deliver through these. */
uint8_t apic_timer_vector(const apic *a);
bool apic_timer_masked(const apic *a);

/* Absolute cycle of the next timer expiry, or UINT64_MAX. */
uint64_t apic_next_event(const apic *a);

/* Expire the timer up to now_cycles: each expiry accepts the LVT timer vector unless masked
 * (several expiries collapse into the one IRR bit they would set). */
void apic_advance(apic *a, uint64_t now_cycles);

/* IA32_APICBASE (MSR 0x1B), read and written with native rdmsr/wrmsr: this APIC's page at
 * 0xFEE00000, globally enabled, on the bootstrap processor; EXTD (bit 10) in x2APIC mode. */
#define APIC_MSR_BASE 0x1Bu
#define APIC_BASE_MSR_BSP 0x100u
#define APIC_BASE_MSR_EXTD 0x400u
#define APIC_BASE_MSR_ENABLE 0x800u
#define APIC_BASE_MSR_VALUE (0xFEE00000u | APIC_BASE_MSR_ENABLE | APIC_BASE_MSR_BSP)

uint64_t apic_base_msr(const apic *a);

/* wrmsr IA32_APICBASE: false, which the CPU refuses with #GP(0), if it sets a reserved bit
 * (bits 0-7, 9, 36-63; EXTD, bit 10, without x2apic_ok) or asks for a transition the SDM
 * forbids (10.12.5: EXTD without the global enable; x2APIC back to xAPIC mode; disabled
 * straight to x2APIC). Otherwise: clearing the global enable (bit 11) resets the APIC and hides
 * it (apic_hw_enabled false), setting it brings it back in xAPIC mode; setting EXTD in xAPIC
 * mode enters x2APIC mode (the ID becomes the initial x2APIC ID, the rest stays). The BSP bit
 * is read-only and the base cannot move (the page stays at 0xFEE00000, mapped once by the
 * machine). */
bool apic_base_msr_write(apic *a, uint64_t value);

/* IA32_TSC_DEADLINE (MSR 0x6E0, with deadline_ok): reads 0 outside TSC-deadline mode and once
 * the deadline has fired; a write outside that mode is ignored, 0 disarms, any other value
 * arms the timer for the cycle at which the TSC (`tsc` now, at cycle `now`) reaches it, `now`
 * itself if it has. */
#define APIC_MSR_TSC_DEADLINE 0x6E0u
uint64_t apic_deadline_msr(const apic *a);
void apic_deadline_msr_write(apic *a, uint64_t now, uint64_t tsc, uint64_t value);

/* False while globally disabled: the machine then clears CPUID.1:EDX bit 9. */
bool apic_hw_enabled(const apic *a);

/* In x2APIC mode: the page at 0xFEE00000 is not decoded (reads all ones, writes go nowhere). */
bool apic_x2apic_mode(const apic *a);

/* The x2APIC registers: MSR 0x800 + offset / 16. */
#define APIC_MSR_X2APIC_FIRST 0x800u
#define APIC_MSR_X2APIC_LAST 0x8FFu
#define APIC_MSR_X2APIC_EOI 0x80Bu

/* rdmsr of an x2APIC register at cycle `now`: false (#GP(0)) outside x2APIC mode or if the
 * register is absent, reserved or write-only. */
bool apic_x2apic_msr_read(apic *a, uint64_t now, uint32_t msr, uint64_t *value);

/* wrmsr of an x2APIC register at cycle `now`: APIC_BAD_REGISTER (#GP(0)) outside x2APIC mode,
 * for an absent, reserved or read-only register, or a value with a reserved bit set; otherwise
 * as apic_write (APIC_IPI_UNSUPPORTED: an SMI or ExtINT IPI was not sent). */
apic_status apic_x2apic_msr_write(apic *a, uint64_t now, uint32_t msr, uint64_t value);

/* Write the state field by field (emu/state_ser.h). */
void apic_serialise(const apic *a, state_writer *w);

#endif
