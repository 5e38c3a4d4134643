/* The i386 MMU as the CPU applies it to one access: 32-bit paging (4 KiB and, with CR4.PSE,
 * 4 MiB pages) and PAE paging (4 KiB and 2 MiB pages, NX with EFER.NXE), privilege and
 * write-protection checks, accessed and dirty bits, and the #PF error code of a refused access.
 * vmiemu fills Unicorn's TLB with it (cpu/mmu_fill.c) so that it alone decides which pages are
 * executable; the host's own accesses to guest memory use it without side effects. */
#ifndef VMIEMU_TRANSLATE_H
#define VMIEMU_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/physmem.h"

typedef enum mmu_access { MMU_READ, MMU_WRITE, MMU_FETCH } mmu_access;

typedef struct mmu_regs {
    uint32_t cr0, cr3, cr4;
    bool nxe; /* EFER.NXE: honoured under PAE only */
} mmu_regs;

typedef struct mmu_result {
    uint64_t page;      /* physical address of the 4 KiB page */
    bool write;         /* the TLB entry may allow writes (dirty bit already set, or set now) */
    bool exec;          /* not marked no-execute */
    uint32_t error;     /* #PF error code when the access is refused */
    uint32_t tlb_flags; /* the rights, dirty, global and large-page bits a TLB entry keeps (mmu/tlb.h) */
} mmu_result;

/* One walk: each paging-structure entry read (a not-present one ends it), the leaf page and
 * the rights the levels combine to. */
typedef struct mmu_walk {
    int nentries;          /* entries read: PDE (and PTE); PAE's PDPTE is not counted */
    uint64_t entry[3];     /* their physical addresses */
    uint64_t value[3];     /* and values */
    bool present;          /* every level present: `page` is valid */
    bool large;            /* the PDE maps the page itself (4 MiB, or 2 MiB under PAE) */
    uint64_t page;         /* physical address of the 4 KiB page */
    bool rw, us, nx;
} mmu_walk;

/* Walks `linear` through the tables, without side effects. Paging off: the identity. */
VM_MUST_CHECK bool mmu_walk_linear(const physmem *pm, const mmu_regs *r, uint32_t linear, mmu_walk *w);

/* #PF error-code bits. */
#define MMU_PF_PRESENT 0x01u
#define MMU_PF_WRITE 0x02u
#define MMU_PF_USER 0x04u
#define MMU_PF_FETCH 0x10u

/* Translates `linear` for an access by the CPU at user (CPL 3) or supervisor privilege, setting
 * accessed and dirty bits as the CPU does. False if the access faults (res->error set). */
VM_MUST_CHECK bool mmu_access_page(physmem *pm, const mmu_regs *r, uint32_t linear, mmu_access acc, bool user, mmu_result *res);

/* The physical address of `linear` for the host's own use (debugger, interrupt delivery, VMI
 * call arguments): supervisor view, no accessed/dirty updates. False if not mapped (or, with
 * `write`, not writable by the supervisor). */
VM_MUST_CHECK bool mmu_peek(const physmem *pm, const mmu_regs *r, uint32_t linear, bool write, uint64_t *phys);

#endif
