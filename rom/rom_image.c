/* Builds the VMI option ROM image byte by byte (layout in rom.h, fields in VMI.md). */
#include <string.h>

#include "rom/rom.h"

static void put16(uint8_t *p, uint32_t off, uint16_t v)
{
    p[off] = (uint8_t)v;
    p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t off, uint32_t v)
{
    put16(p, off, (uint16_t)v);
    put16(p, off + 2, (uint16_t)(v >> 16));
}

static uint32_t put_string(uint8_t *p, uint32_t off, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(p + off, s, n);
    return off + (uint32_t)n;
}

static const uint8_t trap_slot[] = {0xC3}; /* ret: runs once the host has performed the call */

static void put_slot(uint8_t *p, uint32_t off, const uint8_t *code, size_t len, size_t room)
{
    memset(p + off, 0xCC, room); /* int3 padding: running off a slot traps */
    memcpy(p + off, code, len);
}

static void build_header(uint8_t *p)
{
    p[0] = 0x55;
    p[1] = 0xAA;
    p[2] = ROM_IMAGE_SIZE / 512;
    p[3] = 0xCB; /* 16-bit BIOS init entry: retf */
    put32(p, 0x08, ROM_SIGNATURE);
    p[0x0C] = ROM_API_MINOR;
    p[0x0D] = ROM_API_MAJOR;
    p[0x0E] = (uint8_t)ROM_NUM_CALLS;
    put32(p, 0x10, 0); /* virtual_top: reserve nothing */
    put16(p, 0x16, ROM_LICENSE_OFFSET);
    put16(p, 0x18, ROM_PCI_OFFSET);
    put16(p, 0x1A, ROM_PNP_OFFSET);
}

static void build_pci(uint8_t *p)
{
    uint8_t *d = p + ROM_PCI_OFFSET;
    memcpy(d, "PCIR", 4);
    put16(d, 0x04, ROM_PCI_VENDOR);
    put16(d, 0x06, ROM_PCI_DEVICE);
    put16(d, 0x0A, 24);                 /* structure length */
    d[0x0C] = 0;                        /* structure revision */
    d[0x0D] = 0x00;                     /* class: other system peripheral */
    d[0x0E] = 0x80;
    d[0x0F] = 0x08;
    put16(d, 0x10, ROM_IMAGE_SIZE / 512); /* image length */
    d[0x12] = ROM_API_MINOR;            /* ROM version minor, major */
    d[0x13] = ROM_API_MAJOR;
    d[0x14] = 0;                        /* code type: x86 */
    d[0x15] = 0x80;                     /* last image */
}

static void build_pnp(uint8_t *p)
{
    uint8_t *d = p + ROM_PNP_OFFSET;
    memcpy(d, "$PnP", 4);
    d[0x04] = 1;  /* structure revision */
    d[0x05] = 2;  /* length in 16-byte units */
    uint32_t strings = ROM_PNP_OFFSET + 0x20;
    put16(d, 0x0E, (uint16_t)strings);
    uint32_t product = put_string(p, strings, "vmiemu");
    put16(d, 0x10, (uint16_t)product);
    put_string(p, product, "vmiemu VMI ROM " VMIEMU_VERSION);
    uint8_t sum = 0;
    for (int i = 0; i < 0x20; i++)
        sum = (uint8_t)(sum + d[i]);
    d[0x09] = (uint8_t)(0x100 - sum); /* the PnP header checksums to 0 on its own */
}

void rom_build_image(uint8_t *p)
{
    memset(p, 0, ROM_IMAGE_SIZE);
    build_header(p);
    put_slot(p, ROM_INIT_OFFSET, trap_slot, sizeof trap_slot, 8);
    put_slot(p, ROM_RELOC_OFFSET, trap_slot, sizeof trap_slot, 8);
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++) {
        const rom_call *c = rom_call_find(n);
        if (c && c->native_code)
            put_slot(p, ROM_SLOT_BASE + n * ROM_SLOT_SIZE, c->native_code, c->native_len, ROM_SLOT_SIZE);
        else
            put_slot(p, ROM_SLOT_BASE + n * ROM_SLOT_SIZE, trap_slot, sizeof trap_slot, ROM_SLOT_SIZE);
    }
    put_string(p, ROM_LICENSE_OFFSET, "GPL v2");
    build_pci(p);
    build_pnp(p);
    uint8_t sum = 0;
    for (uint32_t i = 0; i < ROM_IMAGE_SIZE - 1; i++)
        sum = (uint8_t)(sum + p[i]);
    p[ROM_IMAGE_SIZE - 1] = (uint8_t)(0x100 - sum);
}

bool rom_inside_native_code(uint32_t offset)
{
    if (offset < ROM_SLOT_BASE)
        return false;
    uint32_t rel = offset - ROM_SLOT_BASE;
    const rom_call *c = rom_call_find(rel / ROM_SLOT_SIZE);
    return c && c->native_code && rel % ROM_SLOT_SIZE < c->native_len;
}

const rom_call *rom_entry_at(uint32_t offset)
{
    if (offset == ROM_INIT_OFFSET)
        return &rom_entry_init;
    if (offset == ROM_RELOC_OFFSET)
        return &rom_entry_reloc;
    if (offset < ROM_SLOT_BASE || (offset - ROM_SLOT_BASE) % ROM_SLOT_SIZE != 0)
        return NULL;
    return rom_call_find((offset - ROM_SLOT_BASE) / ROM_SLOT_SIZE);
}
