#include "mmu/pagewalk.h"

#include <stdio.h>
#include <string.h>

#include "mmu/translate.h"

void pagewalk_walk(const physmem *pm, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint32_t linear, pagewalk *w)
{
    memset(w, 0, sizeof *w);
    w->paging = cr0 & 0x80000000u;
    w->pae = cr4 & 0x20u;
    if (w->pae)
        return;
    mmu_regs r = {.cr0 = cr0, .cr3 = cr3, .cr4 = cr4};
    mmu_walk t;
    w->mapped = mmu_walk_linear(pm, &r, linear, &t);
    w->phys = t.page | (linear & 0xFFFu);
    if (t.nentries > 0) {
        w->pde_addr = (uint32_t)t.entry[0];
        w->pde = (uint32_t)t.value[0];
    }
    w->large = t.large;
    w->has_pte = t.nentries > 1;
    if (w->has_pte) {
        w->pte_addr = (uint32_t)t.entry[1];
        w->pte = (uint32_t)t.value[1];
    }
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
