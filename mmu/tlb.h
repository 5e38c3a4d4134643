/* The architectural TLB: the translations the guest has used and may still see, as plain data.
 *
 * A TLB is guest-visible state: after a PTE changes without invlpg, a load may still go through
 * the old translation. Unicorn's own TLB is a host cache (flushed on snapshot restore, on its
 * resizes, evicted by its hashing), so vmiemu keeps this one, whose content depends only on the
 * guest's instruction stream: an entry is made when the guest uses a page this TLB does not
 * hold, and dropped only where the architecture drops it (invlpg, CR3 loads for non-global
 * entries, paging-mode changes for all) or when the table is full (then all of it goes: a
 * deterministic replacement that costs one flush per MMU_TLB_CAP new pages).
 *
 * Entries are kept in a dense array in the order they were made, indexed by an open-addressing
 * hash of the linear page; the dense array is the state (saved, restored and digested in that
 * order), the hash is rebuilt from it. */
#ifndef VMIEMU_TLB_H
#define VMIEMU_TLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

#define MMU_TLB_CAP 4096u   /* entries; at this many the next new page flushes all */
#define MMU_TLB_SLOTS 8192u /* hash slots: twice the entries */

enum {
    MMU_TLB_RW = 0x01,     /* writable at every level */
    MMU_TLB_US = 0x02,     /* user-accessible at every level */
    MMU_TLB_NX = 0x04,     /* no-execute (PAE with EFER.NXE) */
    MMU_TLB_DIRTY = 0x08,  /* the dirty bit was set when the entry was made: writes need no walk */
    MMU_TLB_GLOBAL = 0x10, /* G bit with CR4.PGE: survives CR3 loads */
    MMU_TLB_4M = 0x20,     /* part of a 4 MiB page (32-bit PSE) */
    MMU_TLB_2M = 0x40,     /* part of a 2 MiB page (PAE) */
};

typedef struct mmu_tlb_entry {
    uint32_t vpage; /* linear address >> 12 */
    uint32_t flags; /* MMU_TLB_* */
    uint64_t page;  /* physical address of the 4 KiB page */
} mmu_tlb_entry;

typedef struct mmu_tlb {
    uint32_t n;      /* entries in use: ent[0..n) */
    uint32_t nlarge; /* of which parts of large pages (invlpg drops the whole large page) */
    mmu_tlb_entry ent[MMU_TLB_CAP];
    uint16_t slot_of[MMU_TLB_CAP]; /* the hash slot of ent[i] */
    uint16_t slots[MMU_TLB_SLOTS]; /* 1 + index into ent, 0 = empty */
} mmu_tlb;

void mmu_tlb_clear(mmu_tlb *t);
/* The entry for a linear page, or NULL. */
mmu_tlb_entry *mmu_tlb_find(mmu_tlb *t, uint32_t vpage);
/* Makes or replaces the entry of e->vpage. True if the table was full and was emptied first. */
bool mmu_tlb_put(mmu_tlb *t, const mmu_tlb_entry *e);
void mmu_tlb_drop(mmu_tlb *t, uint32_t vpage);
/* A CR3 load: every entry but the global ones goes. */
void mmu_tlb_drop_nonglobal(mmu_tlb *t);
/* invlpg: drops the entries of the page holding `linear` (all of a large page). True if
 * entries of other 4 KiB pages went too. */
bool mmu_tlb_invlpg(mmu_tlb *t, uint32_t linear);

/* The entries in order: the state a snapshot keeps. */
static inline size_t mmu_tlb_bytes(const mmu_tlb *t) { return (size_t)t->n * sizeof(mmu_tlb_entry); }
/* Loads n entries saved from ent[], at any alignment (false if too many). */
VM_MUST_CHECK bool mmu_tlb_load(mmu_tlb *t, const void *entries, uint32_t n);

#endif
