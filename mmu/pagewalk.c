#include "mmu/pagewalk.h"

#include <stdio.h>
#include <string.h>

#define PG_P 0x1u
#define PG_PS 0x80u

void pagewalk_walk(const physmem *pm, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint32_t linear, pagewalk *w)
{
    memset(w, 0, sizeof *w);
    w->paging = cr0 & 0x80000000u;
    w->pae = cr4 & 0x20u;
    if (!w->paging) {
        w->mapped = true;
        w->phys = linear;
        return;
    }
    if (w->pae)
        return;
    w->pde_addr = (cr3 & 0xFFFFF000u) + (linear >> 22) * 4;
    w->pde = phys_read32(pm, w->pde_addr);
    if (!(w->pde & PG_P))
        return;
    if ((w->pde & PG_PS) && (cr4 & 0x10u)) {
        w->large = true;
        w->mapped = true;
        w->phys = (w->pde & 0xFFC00000u) | (linear & 0x3FFFFFu);
        return;
    }
    w->has_pte = true;
    w->pte_addr = (w->pde & 0xFFFFF000u) + ((linear >> 12) & 0x3FF) * 4;
    w->pte = phys_read32(pm, w->pte_addr);
    if (!(w->pte & PG_P))
        return;
    w->mapped = true;
    w->phys = (w->pte & 0xFFFFF000u) | (linear & 0xFFFu);
}

void pagewalk_flags(uint32_t e, char *buf, unsigned len)
{
    static const char *const names[] = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PS", "G"};
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < 9 && n < len; i++)
        if (e >> i & 1)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", names[i]);
    if (!n)
        snprintf(buf, len, "-");
}
