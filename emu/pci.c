#include "emu/pci.h"

#include <string.h>

#define ADDRESS_MASK 0x80FFFFFCu /* enable, bus, device, function, dword register */
#define DATA_OFFSET 4u
#define RCR_OFFSET 1u

/* The 440FX's identity (Intel 82441FX datasheet, section 3.2; QEMU's i440fx): what differs
 * from zero at power-on. */
typedef struct cfg_byte {
    uint8_t reg, value;
} cfg_byte;

static const cfg_byte bridge_reset[] = {
    {0x00, 0x86}, {0x01, 0x80}, /* vendor 8086 (Intel) */
    {0x02, 0x37}, {0x03, 0x12}, /* device 1237 (82441FX PMC) */
    {0x04, 0x06},               /* command: memory space, bus master */
    {0x06, 0x80}, {0x07, 0x02}, /* status: fast back-to-back, medium DEVSEL */
    {0x08, 0x02},               /* revision */
    {0x0B, 0x06},               /* class 06 00 00: host bridge */
};

/* Bits a write changes, per register byte; everything else is read-only. */
static uint8_t write_mask(uint8_t reg)
{
    if (reg >= 0x40)
        return 0xFF;              /* device-specific: PAM, DRB, SMRAM, ... (kept, no effect) */
    switch (reg) {
    case 0x04: return 0x47;       /* I/O, memory, master, parity error response */
    case 0x05: return 0x05;       /* SERR#, interrupt disable */
    case 0x0D: return 0xFF;       /* latency timer */
    case 0x3C: return 0xFF;       /* interrupt line */
    default: return 0;
    }
}

void pci_init(pci_bus *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < sizeof bridge_reset / sizeof bridge_reset[0]; i++)
        p->bridge[bridge_reset[i].reg] = bridge_reset[i].value;
}

/* The configuration space the address register selects, or NULL for an absent device. */
static const uint8_t *selected(const pci_bus *p)
{
    if (!(p->address & PCI_ENABLE))
        return NULL;
    return (p->address & 0x00FFFF00u) == 0 ? p->bridge : NULL; /* bus 0, device 0, function 0 */
}

static uint32_t size_mask(int size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }

uint32_t pci_read(const pci_bus *p, uint16_t offset, int size)
{
    if (offset < DATA_OFFSET) {
        if (size == 4 && offset == 0)
            return p->address;
        if (size == 1 && offset == RCR_OFFSET)
            return p->rcr;
        return (p->address >> (8 * offset)) & size_mask(size);
    }
    const uint8_t *space = selected(p);
    uint32_t v = 0;
    for (int i = size - 1; i >= 0; i--) {
        unsigned reg = (p->address & 0xFCu) + (offset - DATA_OFFSET) + (unsigned)i;
        v = v << 8 | (space && reg < 256 ? space[reg] : 0xFFu);
    }
    return v;
}

bool pci_write(pci_bus *p, uint16_t offset, int size, uint32_t value)
{
    if (offset < DATA_OFFSET) {
        if (size == 4 && offset == 0) {
            p->address = value & ADDRESS_MASK;
        } else if (size == 1 && offset == RCR_OFFSET) {
            if (value & PCI_RCR_RESET)
                return true;
            p->rcr = value & PCI_RCR_HARD;
        }
        return false; /* other byte and word writes there go nowhere */
    }
    if (selected(p) != p->bridge)
        return false;
    for (int i = 0; i < size; i++) {
        unsigned reg = (p->address & 0xFCu) + (offset - DATA_OFFSET) + (unsigned)i;
        if (reg >= 256)
            break;
        uint8_t mask = write_mask((uint8_t)reg), byte = (uint8_t)(value >> (8 * i));
        p->bridge[reg] = (uint8_t)((p->bridge[reg] & ~mask) | (byte & mask));
    }
    return false;
}

void pci_serialise(const pci_bus *p, state_writer *w)
{
    state_put_u32(w, p->address);
    state_put_u8(w, p->rcr);
    state_put_bytes(w, p->bridge, sizeof p->bridge);
}
