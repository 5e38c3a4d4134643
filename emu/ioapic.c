#include "emu/ioapic.h"

#include "emu/acpi.h"

#include <string.h>

enum { REG_ID = 0x00, REG_VERSION = 0x01, REG_ARB = 0x02, REG_REDIR = 0x10 };
enum { OFF_SELECT = 0x00, OFF_WINDOW = 0x10 };

#define ID_BITS 0x0F000000u
#define RTE_LOW_BITS 0x0001AFFFu   /* vector, mode, dest mode, polarity, trigger, mask */
#define RTE_HIGH_BITS 0xFF000000u  /* destination */

enum { MODE_FIXED = 0, MODE_LOWEST = 1, MODE_NMI = 4 };

void ioapic_init(ioapic *io)
{
    memset(io, 0, sizeof *io);
    io->id = (uint32_t)ACPI_IOAPIC_ID << 24; /* as the firmware left it, and the MADT says */
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = IOAPIC_RTE_MASKED;
}

static uint32_t low(const ioapic *io, int pin) { return (uint32_t)io->redir[pin]; }

static bool pin_high(const ioapic *io, int pin) { return io->pins & (1u << pin); }

/* Send pin's interrupt message to the local APIC. True if a fixed or lowest-priority
 * interrupt was accepted by it (a level entry then waits for its EOI). */
static bool send(ioapic *io, apic *lapic, int pin)
{
    uint32_t lo = low(io, pin);
    uint8_t dest = (uint8_t)(io->redir[pin] >> 56);
    if (!apic_is_destination(lapic, lo & IOAPIC_RTE_LOGICAL, dest))
        return false;
    switch ((lo >> 8) & 7u) {
    case MODE_FIXED: case MODE_LOWEST:
        apic_accept_irq(lapic, (uint8_t)lo, lo & IOAPIC_RTE_LEVEL);
        return true;
    case MODE_NMI:
        apic_accept_nmi(lapic);
        return false;
    default:
        return false; /* SMI, INIT, ExtINT: not modelled */
    }
}

/* A level entry whose pin is high sends once per EOI: remote IRR holds it meanwhile. */
static void service_level(ioapic *io, apic *lapic, int pin)
{
    uint32_t lo = low(io, pin);
    if (!(lo & IOAPIC_RTE_LEVEL) || (lo & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) || !pin_high(io, pin))
        return;
    if (send(io, lapic, pin))
        io->redir[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

void ioapic_set_irq(ioapic *io, apic *lapic, int pin, int level)
{
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    bool rising = level && !pin_high(io, pin);
    io->pins = level ? io->pins | (1u << pin) : io->pins & ~(1u << pin);
    uint32_t lo = low(io, pin);
    if (lo & IOAPIC_RTE_LEVEL)
        service_level(io, lapic, pin);
    else if (rising && !(lo & IOAPIC_RTE_MASKED))
        send(io, lapic, pin); /* a masked edge is ignored */
}

void ioapic_eoi(ioapic *io, apic *lapic, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint32_t lo = low(io, pin);
        if ((lo & IOAPIC_RTE_LEVEL) && (uint8_t)lo == vector) {
            io->redir[pin] &= ~(uint64_t)IOAPIC_RTE_REMOTE_IRR;
            service_level(io, lapic, pin);
        }
    }
}

bool ioapic_pin_masked(const ioapic *io, int pin)
{
    return pin < 0 || pin >= IOAPIC_PINS || (low(io, pin) & IOAPIC_RTE_MASKED);
}

static uint32_t read_register(const ioapic *io, uint32_t reg)
{
    if (reg == REG_ID)
        return io->id;
    if (reg == REG_VERSION)
        return IOAPIC_VERSION;
    if (reg == REG_ARB)
        return io->id; /* the arbitration ID is loaded from the ID */
    if (reg >= REG_REDIR && reg < REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = io->redir[(reg - REG_REDIR) / 2];
        return (uint32_t)((reg & 1) ? e >> 32 : e);
    }
    return 0;
}

static void write_register(ioapic *io, apic *lapic, uint32_t reg, uint32_t value)
{
    if (reg == REG_ID) {
        io->id = value & ID_BITS;
        return;
    }
    if (reg < REG_REDIR || reg >= REG_REDIR + 2 * IOAPIC_PINS)
        return; /* version, arbitration: read-only */
    int pin = (int)(reg - REG_REDIR) / 2;
    uint64_t e = io->redir[pin];
    if (reg & 1) {
        e = (e & 0xFFFFFFFFull) | (uint64_t)(value & RTE_HIGH_BITS) << 32;
    } else {
        uint32_t keep = (uint32_t)e & IOAPIC_RTE_REMOTE_IRR;
        if (!(value & IOAPIC_RTE_LEVEL))
            keep = 0; /* an edge entry has no remote IRR */
        e = (e & 0xFFFFFFFF00000000ull) | (value & RTE_LOW_BITS) | keep;
    }
    io->redir[pin] = e;
    service_level(io, lapic, pin); /* unmasked (or made level) with the pin high */
}

uint32_t ioapic_read(const ioapic *io, uint32_t offset)
{
    if (offset == OFF_SELECT)
        return io->select;
    if (offset == OFF_WINDOW)
        return read_register(io, io->select);
    return 0;
}

void ioapic_write(ioapic *io, apic *lapic, uint32_t offset, uint32_t value)
{
    if (offset == OFF_SELECT)
        io->select = value & 0xFF;
    else if (offset == OFF_WINDOW)
        write_register(io, lapic, io->select, value);
}

void ioapic_serialise(const ioapic *io, state_writer *w)
{
    state_put_u32(w, io->id);
    state_put_u32(w, io->select);
    for (int i = 0; i < IOAPIC_PINS; i++)
        state_put_u64(w, io->redir[i]);
    state_put_u32(w, io->pins);
}
