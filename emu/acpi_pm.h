/* The ACPI fixed-hardware power-management registers the FADT (emu/acpi.h) points at, in one
 * block of I/O ports at ACPI_PM_BASE (0x600, as ICH-family chipsets and QEMU's q35 put theirs):
 *
 *   0x600  PM1a_STS  16 bits  status: write 1 to clear; nothing sets a bit (no events modelled)
 *   0x602  PM1a_EN   16 bits  enables: stored and read back (ACPICA checks that they stick)
 *   0x604  PM1a_CNT  16 bits  control: SCI_EN (bit 0) always reads 1 (SMI_CMD is 0: ACPI mode
 *                             is always on); SLP_TYP (bits 10-12) stored; SLP_EN (bit 13) is
 *                             write-only and acts: with SLP_TYP = ACPI_S5_SLP_TYP the machine
 *                             powers off, any other sleep type is ignored (and reported)
 *   0x608  PM_TMR    32 bits  read-only: the 24-bit ACPI timer, 3.579545 MHz of virtual time:
 *                             floor(cycles * 3579545 / cycle_hz) mod 2^24, so it is
 *                             deterministic and agrees with the 8254 (Linux times one against
 *                             the other in verify_pmtmr_rate)
 *   0x60C  RESET     8 bits   the FADT's RESET_REG: writing ACPI_RESET_VALUE resets the machine
 *
 * The reset register is here rather than at the PIIX's 0xCF9, which shares the dword of the PCI
 * configuration address port 0xCF8. Bytes of a register may be accessed alone or together;
 * offsets not listed read as 0 and ignore writes.
 *
 * Not modelled: PM1b, PM2, GPE blocks, any event (power button, timer overflow TMR_STS, global
 * lock release): the SCI is never raised. Plain data without pointers: a snapshot copies it. */
#ifndef VMIEMU_ACPI_PM_H
#define VMIEMU_ACPI_PM_H

#include <stdint.h>

#include "emu/state_ser.h"

#define ACPI_PM_BASE 0x0600u
#define ACPI_PM_LEN 16u
#define ACPI_PM1_EVT_OFF 0x0u
#define ACPI_PM1_CNT_OFF 0x4u
#define ACPI_PM_TMR_OFF 0x8u
#define ACPI_RESET_OFF 0xCu
#define ACPI_RESET_VALUE 0x06u /* the value a PIIX's 0xCF9 resets with, for familiarity */
#define ACPI_PM_TMR_HZ 3579545u
#define ACPI_S5_SLP_TYP 5u /* \_S5's first two package elements (emu/acpi.c): PM1a's and PM1b's SLP_TYP */

#define ACPI_PM1_SCI_EN 0x0001u
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK 0x1C00u
#define ACPI_PM1_SLP_EN 0x2000u

typedef struct acpi_pm {
    uint16_t sts;
    uint16_t en;
    uint16_t cnt; /* as written, without SLP_EN */
} acpi_pm;

/* What a write asks the machine to do. */
typedef enum acpi_pm_action {
    ACPI_PM_NONE,
    ACPI_PM_POWER_OFF, /* SLP_EN with the \_S5 sleep type */
    ACPI_PM_SLEEP,     /* SLP_EN with another sleep type: not modelled, ignored */
    ACPI_PM_RESET,     /* the reset value written to the reset register */
} acpi_pm_action;

void acpi_pm_init(acpi_pm *p);
/* Read `size` bytes (1, 2 or 4) at `offset` in the block; the timer reads `cycles`, the cycle
 * count of virtual time at the access, at `cycle_hz`. */
uint32_t acpi_pm_read(const acpi_pm *p, uint16_t offset, int size, uint64_t cycles, uint64_t cycle_hz);
/* Write `size` bytes at `offset`; says what the machine must do. */
acpi_pm_action acpi_pm_write(acpi_pm *p, uint16_t offset, int size, uint32_t value);
/* The sleep type a write acted on (SLP_TYP of the control register). */
static inline unsigned acpi_pm_sleep_type(const acpi_pm *p)
{
    return (p->cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
}
/* The ACPI timer's 24-bit count at `cycles`. */
uint32_t acpi_pm_timer(uint64_t cycles, uint64_t cycle_hz);

/* Write the state field by field (emu/state_ser.h). */
void acpi_pm_serialise(const acpi_pm *p, state_writer *w);

#endif
