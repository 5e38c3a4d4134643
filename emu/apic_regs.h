/* Inside the local APIC model (emu/apic.c, emu/apic_x2apic.c): its register file by offset,
 * whichever interface reaches it (the page and VMI in xAPIC mode, the MSRs in x2APIC mode). */
#ifndef VMIEMU_APIC_REGS_H
#define VMIEMU_APIC_REGS_H

#include "emu/apic.h"

/* apic_read/apic_write without the check that the xAPIC interface is there. */
bool apic_reg_read(apic *a, uint64_t now, uint32_t offset, uint32_t *value);
apic_status apic_reg_write(apic *a, uint64_t now, uint32_t offset, uint32_t value);

/* The bits of a 32-bit value written to `offset` that are reserved (neither writable nor
 * read-only status): x2APIC mode refuses a write that sets one (SDM 10.12.1.3). */
uint32_t apic_reserved_bits(const apic *a, uint32_t offset);

/* A fixed IPI of `vector` to this APIC alone (x2APIC's SELF IPI); the ICR keeps its value. */
apic_status apic_self_ipi(apic *a, uint8_t vector);

#endif
