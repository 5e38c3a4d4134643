/* I/O permission for IN/OUT/INS/OUTS at CPL > IOPL: the TSS I/O bitmap decides (Intel SDM
 * vol. 1, 19.5). Unicorn skips this check entirely, so cpu/ does it before such an
 * instruction runs (see io_step in cpu.c). */
#include "cpu/cpu_internal.h"

#define EFLAGS_IOPL(f) (((f) >> 12) & 3)
#define TSS_IOMAP_BASE 0x66u

/* CS first: kernel code (RPL 0) needs no check whatever IOPL and CR0 say, and every block with
 * port I/O asks this (Linux's timer waits: millions), so it costs one register read there. */
bool vcpu_io_needs_check(cpu *c)
{
    uint32_t rpl = vcpu_get(c, CPU_CS) & 3;
    return rpl && rpl > EFLAGS_IOPL(vcpu_get(c, CPU_EFLAGS)) && (vcpu_get(c, CPU_CR0) & 1);
}

bool vcpu_io_decode(cpu *c, uint32_t eip, uint16_t *port, int *size)
{
    uint8_t b[16];
    if (!vcpu_read_linear(c, eip, b, sizeof b))
        return false;
    bool opsize16 = false;
    int i = 0;
    for (; i < 15; i++) { /* prefixes */
        if (b[i] == 0x66)
            opsize16 = true;
        else if (b[i] != 0xF3 && b[i] != 0xF2 && b[i] != 0x67 && b[i] != 0x26 && b[i] != 0x2E &&
                 b[i] != 0x36 && b[i] != 0x3E && b[i] != 0x64 && b[i] != 0x65)
            break;
    }
    uint8_t op = b[i];
    int wide = opsize16 ? 2 : 4;
    switch (op) {
    case 0xE4: case 0xE6: *size = 1; *port = b[i + 1]; return true;
    case 0xE5: case 0xE7: *size = wide; *port = b[i + 1]; return true;
    case 0xEC: case 0xEE: case 0x6C: case 0x6E: *size = 1; break;
    case 0xED: case 0xEF: case 0x6D: case 0x6F: *size = wide; break;
    default: return false;
    }
    *port = (uint16_t)vcpu_get(c, CPU_EDX);
    return true;
}

bool vcpu_io_allowed(cpu *c, uint16_t port, int size)
{
    return !vcpu_io_needs_check(c) || vcpu_io_permitted(c, port, size);
}

bool vcpu_io_permitted(cpu *c, uint16_t port, int size)
{
    vcpu_table_reg tr;
    uint16_t iomap;
    if (!vcpu_get_table(c, CPU_TR, &tr) || tr.limit < TSS_IOMAP_BASE + 1 ||
        !vcpu_read_linear(c, tr.base + TSS_IOMAP_BASE, &iomap, sizeof iomap))
        return false;
    /* The CPU reads two bytes of the bitmap: both must lie inside the TSS limit. */
    uint32_t at = iomap + port / 8u;
    uint16_t bits;
    if (at + 1 > tr.limit || !vcpu_read_linear(c, tr.base + at, &bits, sizeof bits))
        return false;
    uint32_t mask = ((1u << size) - 1) << (port % 8);
    return (bits & mask) == 0;
}
