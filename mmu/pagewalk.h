/* The guest's 32-bit page-table walk (non-PAE, 4 KiB and 4 MiB pages) as the debugger shows it:
 * each level's entry and what it means (the walk itself is mmu/translate.c's). */
#ifndef VMIEMU_PAGEWALK_H
#define VMIEMU_PAGEWALK_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/physmem.h"

typedef struct pagewalk {
    bool paging;         /* CR0.PG */
    bool pae;            /* CR4.PAE: not walked here */
    uint32_t pde_addr, pde;
    bool has_pte;
    uint32_t pte_addr, pte;
    bool mapped;
    bool large;          /* a 4 MiB page */
    uint64_t phys;
} pagewalk;

void pagewalk_walk(const physmem *pm, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint32_t linear, pagewalk *w);

/* "P RW US A D G" style flags of an entry. */
void pagewalk_flags(uint32_t entry, char *buf, unsigned len);

#endif
