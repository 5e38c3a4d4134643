/* ACPI power-management registers (emu/acpi_pm.h): a byte-addressed view of a 16-port block. */
#include "emu/acpi_pm.h"

#include <stdbool.h>

void acpi_pm_init(acpi_pm *p)
{
    p->sts = 0;
    p->en = 0;
    p->cnt = ACPI_PM1_SCI_EN;
}

/* Split so that cycles * 3579545 cannot overflow (as machine_wall_ns splits nanoseconds). */
uint32_t acpi_pm_timer(uint64_t cycles, uint64_t cycle_hz)
{
    uint64_t ticks = cycles / cycle_hz * ACPI_PM_TMR_HZ + cycles % cycle_hz * ACPI_PM_TMR_HZ / cycle_hz;
    return (uint32_t)(ticks & 0xFFFFFFu);
}

static uint8_t read_byte(const acpi_pm *p, unsigned off, uint32_t timer)
{
    switch (off) {
    case 0x0: case 0x1: return (uint8_t)(p->sts >> (8 * (off & 1)));
    case 0x2: case 0x3: return (uint8_t)(p->en >> (8 * (off & 1)));
    case 0x4: case 0x5: return (uint8_t)((p->cnt | ACPI_PM1_SCI_EN) >> (8 * (off & 1)));
    case 0x8: case 0x9: case 0xA: case 0xB: return (uint8_t)(timer >> (8 * (off - 0x8)));
    default: return 0;
    }
}

uint32_t acpi_pm_read(const acpi_pm *p, uint16_t offset, int size, uint64_t cycles, uint64_t cycle_hz)
{
    uint32_t timer = acpi_pm_timer(cycles, cycle_hz), v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)read_byte(p, (unsigned)(offset + i), timer) << (8 * i);
    return v;
}

/* One byte of a write; true if it was the reset value into the reset register. */
static bool write_byte(acpi_pm *p, unsigned off, uint8_t b)
{
    unsigned shift = 8 * (off & 1);
    switch (off) {
    case 0x0: case 0x1: p->sts = (uint16_t)(p->sts & ~(b << shift)); break; /* write 1 to clear */
    case 0x2: case 0x3: p->en = (uint16_t)((p->en & ~(0xFF << shift)) | b << shift); break;
    case 0x4: case 0x5: p->cnt = (uint16_t)((p->cnt & ~(0xFF << shift)) | b << shift); break;
    case ACPI_RESET_OFF: return b == ACPI_RESET_VALUE;
    default: break;
    }
    return false;
}

acpi_pm_action acpi_pm_write(acpi_pm *p, uint16_t offset, int size, uint32_t value)
{
    bool reset = false;
    for (int i = 0; i < size; i++)
        reset |= write_byte(p, (unsigned)(offset + i), (uint8_t)(value >> (8 * i)));
    if (reset)
        return ACPI_PM_RESET;
    if (!(p->cnt & ACPI_PM1_SLP_EN))
        return ACPI_PM_NONE;
    p->cnt = (uint16_t)((p->cnt & ~ACPI_PM1_SLP_EN) | ACPI_PM1_SCI_EN); /* SLP_EN is write-only */
    return acpi_pm_sleep_type(p) == ACPI_S5_SLP_TYP ? ACPI_PM_POWER_OFF : ACPI_PM_SLEEP;
}

void acpi_pm_serialise(const acpi_pm *p, state_writer *w)
{
    state_put_u16(w, p->sts);
    state_put_u16(w, p->en);
    state_put_u16(w, p->cnt);
}
