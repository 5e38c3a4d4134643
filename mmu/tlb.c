#include "mmu/tlb.h"

#include <string.h>

#define SLOT_MASK (MMU_TLB_SLOTS - 1u)

_Static_assert(MMU_TLB_CAP < 0xFFFFu && MMU_TLB_SLOTS <= 0x10000u, "slots hold 1 + an entry index in 16 bits");

static uint32_t home_of(uint32_t vpage) { return (vpage * 2654435761u) >> 19 & SLOT_MASK; }

static bool is_large(const mmu_tlb_entry *e) { return (e->flags & (MMU_TLB_4M | MMU_TLB_2M)) != 0; }

/* Gives ent[i] a hash slot. */
static void link(mmu_tlb *t, uint32_t i)
{
    uint32_t s = home_of(t->ent[i].vpage);
    while (t->slots[s])
        s = (s + 1) & SLOT_MASK;
    t->slots[s] = (uint16_t)(i + 1);
    t->slot_of[i] = (uint16_t)s;
    t->nlarge += is_large(&t->ent[i]);
}

static uint32_t find_slot(const mmu_tlb *t, uint32_t vpage, bool *found)
{
    uint32_t s = home_of(vpage);
    for (; t->slots[s]; s = (s + 1) & SLOT_MASK)
        if (t->ent[t->slots[s] - 1u].vpage == vpage) {
            *found = true;
            return s;
        }
    *found = false;
    return s;
}

void mmu_tlb_clear(mmu_tlb *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        t->slots[t->slot_of[i]] = 0;
    t->n = 0;
    t->nlarge = 0;
}

mmu_tlb_entry *mmu_tlb_find(mmu_tlb *t, uint32_t vpage)
{
    bool found;
    uint32_t s = find_slot(t, vpage, &found);
    return found ? &t->ent[t->slots[s] - 1u] : NULL;
}

bool mmu_tlb_put(mmu_tlb *t, const mmu_tlb_entry *e)
{
    mmu_tlb_entry *old = mmu_tlb_find(t, e->vpage);
    if (old) {
        t->nlarge += is_large(e);
        t->nlarge -= is_large(old);
        *old = *e;
        return false;
    }
    bool full = t->n == MMU_TLB_CAP;
    if (full)
        mmu_tlb_clear(t);
    t->ent[t->n] = *e;
    link(t, t->n++);
    return full;
}

/* Empties slot s, moving later entries of its probe run back so that every one stays
 * reachable from its home slot (deletion without tombstones). */
static void unlink_slot(mmu_tlb *t, uint32_t s)
{
    t->slots[s] = 0;
    for (uint32_t j = (s + 1) & SLOT_MASK; t->slots[j]; j = (j + 1) & SLOT_MASK) {
        uint32_t i = t->slots[j] - 1u;
        uint32_t home = home_of(t->ent[i].vpage);
        /* The entry may move to s unless its home lies cyclically in (s, j]. */
        bool stays = s <= j ? (home > s && home <= j) : (home > s || home <= j);
        if (stays)
            continue;
        t->slots[s] = t->slots[j];
        t->slot_of[i] = (uint16_t)s;
        t->slots[j] = 0;
        s = j;
    }
}

/* Removes ent[i]; the last entry takes its place. */
static void remove_at(mmu_tlb *t, uint32_t i)
{
    t->nlarge -= is_large(&t->ent[i]);
    unlink_slot(t, t->slot_of[i]);
    uint32_t last = --t->n;
    if (i != last) {
        t->ent[i] = t->ent[last];
        t->slot_of[i] = t->slot_of[last];
        t->slots[t->slot_of[i]] = (uint16_t)(i + 1);
    }
}

void mmu_tlb_drop(mmu_tlb *t, uint32_t vpage)
{
    bool found;
    uint32_t s = find_slot(t, vpage, &found);
    if (found)
        remove_at(t, t->slots[s] - 1u);
}

/* Keeps the entries `keep` accepts, in their order, and rebuilds the hash. */
static void filter(mmu_tlb *t, bool (*keep)(const mmu_tlb_entry *e, uint32_t arg), uint32_t arg)
{
    uint32_t n = t->n, k = 0;
    mmu_tlb_clear(t);
    for (uint32_t i = 0; i < n; i++)
        if (keep(&t->ent[i], arg)) {
            t->ent[k] = t->ent[i];
            link(t, k++);
        }
    t->n = k;
}

static bool is_global(const mmu_tlb_entry *e, uint32_t arg)
{
    (void)arg;
    return (e->flags & MMU_TLB_GLOBAL) != 0;
}

void mmu_tlb_drop_nonglobal(mmu_tlb *t) { filter(t, is_global, 0); }

static bool outside_large_page(const mmu_tlb_entry *e, uint32_t linear)
{
    uint32_t shift = e->flags & MMU_TLB_4M ? 22 : e->flags & MMU_TLB_2M ? 21 : 12;
    return (e->vpage << 12) >> shift != linear >> shift;
}

bool mmu_tlb_invlpg(mmu_tlb *t, uint32_t linear)
{
    mmu_tlb_drop(t, linear >> 12);
    if (!t->nlarge)
        return false;
    uint32_t before = t->n;
    filter(t, outside_large_page, linear);
    return t->n != before;
}

bool mmu_tlb_load(mmu_tlb *t, const void *entries, uint32_t n)
{
    mmu_tlb_clear(t);
    if (n > MMU_TLB_CAP)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(&t->ent[i], (const uint8_t *)entries + (size_t)i * sizeof t->ent[i], sizeof t->ent[i]);
        link(t, i);
    }
    t->n = n;
    return true;
}
