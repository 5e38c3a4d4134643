#include "cpu/descriptor.h"

#include <stdio.h>

void desc_decode(uint64_t raw, seg_desc *d)
{
    uint32_t lo = (uint32_t)raw, hi = (uint32_t)(raw >> 32);
    d->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    uint32_t limit = (lo & 0xFFFF) | (hi & 0x000F0000u);
    d->limit = (hi & 0x00800000u) ? (limit << 12) | 0xFFF : limit;
    d->type = (hi >> 8) & 0xF;
    d->system = !(hi & 0x1000);
    d->dpl = (hi >> 13) & 3;
    d->present = hi & 0x8000;
    d->big = hi & 0x00400000u;
}

void gate_decode(uint64_t raw, gate_desc *g)
{
    uint32_t lo = (uint32_t)raw, hi = (uint32_t)(raw >> 32);
    g->selector = (uint16_t)(lo >> 16);
    g->offset = (lo & 0xFFFF) | (hi & 0xFFFF0000u);
    g->type = (hi >> 8) & 0x1F; /* includes S: a gate has S = 0 */
    g->dpl = (hi >> 13) & 3;
    g->present = hi & 0x8000;
}

void desc_format(const seg_desc *d, char *buf, unsigned len)
{
    snprintf(buf, len, "base=0x%08x limit=0x%08x type=0x%x dpl=%u %s%s%s", d->base, d->limit, d->type, d->dpl,
             d->system ? "system" : desc_is_code(d) ? "code" : "data", d->present ? " P" : " NP",
             d->big ? " 32" : " 16");
}
