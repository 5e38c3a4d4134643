/* fw_cfg (emu/fwcfg.h) as the machine's device: selector at 0x510, data at 0x511. As in QEMU,
 * the selector takes a 16-bit write and the data port 8-bit reads; other accesses do nothing
 * (reads all ones), writes to the data port are ignored (QEMU dropped that interface). */
#include "emu/fwcfg.h"

#include "emu/machine.h"

#define FWCFG_ITEM_MAX 16 /* the longest item: the UUID */

/* QEMU's key numbers (its include/standard-headers/linux/qemu_fw_cfg.h). */
enum {
    KEY_SIGNATURE = 0x00,
    KEY_ID = 0x01,
    KEY_UUID = 0x02,
    KEY_RAM_SIZE = 0x03,
    KEY_NOGRAPHIC = 0x04,
    KEY_NB_CPUS = 0x05,
    KEY_BOOT_MENU = 0x0e,
    KEY_MAX_CPUS = 0x0f,
};

#define ID_TRADITIONAL 1u /* the I/O interface; no DMA */

typedef struct fwcfg_item {
    uint16_t key;
    uint8_t len;
    uint64_t (*value)(const machine *m); /* little-endian; NULL: the item is its `text` */
    const char *text;
} fwcfg_item;

static uint64_t ram_size(const machine *m) { return (uint64_t)m->cfg.ram_mib << 20; }
static uint64_t one(const machine *m) { (void)m; return 1; }
static uint64_t zero(const machine *m) { (void)m; return 0; }
static uint64_t id(const machine *m) { (void)m; return ID_TRADITIONAL; }

static const fwcfg_item items[] = {
    {KEY_SIGNATURE, 4, NULL, "QEMU"},
    {KEY_ID, 4, id, NULL},
    {KEY_UUID, 16, zero, NULL},
    {KEY_RAM_SIZE, 8, ram_size, NULL},
    {KEY_NOGRAPHIC, 2, zero, NULL},
    {KEY_NB_CPUS, 2, one, NULL},
    {KEY_BOOT_MENU, 2, zero, NULL},
    {KEY_MAX_CPUS, 2, one, NULL},
};

/* Byte `offset` of the selected item; 0 past its end or for an item there is not. */
static uint8_t item_byte(const machine *m, uint16_t key, uint32_t offset)
{
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        const fwcfg_item *it = &items[i];
        if (it->key != key)
            continue;
        if (offset >= it->len)
            return 0;
        if (!it->value)
            return (uint8_t)it->text[offset];
        return offset < 8 ? (uint8_t)(it->value(m) >> (8 * offset)) : 0;
    }
    return 0;
}

static uint32_t port_read(machine *m, uint16_t port, int size)
{
    if (port != FWCFG_PORT + 1 || size != 1)
        return 0xFFFFFFFFu;
    uint8_t b = item_byte(m, m->fwcfg.selector, m->fwcfg.offset);
    if (m->fwcfg.offset < FWCFG_ITEM_MAX)
        m->fwcfg.offset++; /* every item ends before here: the count need not grow further */
    return b;
}

static void port_write(machine *m, uint16_t port, int size, uint32_t value)
{
    if (port != FWCFG_PORT || size != 2)
        return;
    m->fwcfg.selector = (uint16_t)value;
    m->fwcfg.offset = 0;
}

static void reset(machine *m) { m->fwcfg = (fwcfg){0}; }

void fwcfg_serialise(const fwcfg *f, state_writer *w)
{
    state_put_u16(w, f->selector);
    state_put_u32(w, f->offset);
}

static void serialise(const machine *m, state_writer *w) { fwcfg_serialise(&m->fwcfg, w); }

const device dev_fwcfg = {
    .name = "fw_cfg",
    .reset = reset,
    .ports = {{FWCFG_PORT, 2, port_read, port_write, false}},
    .serialise = serialise,
};
