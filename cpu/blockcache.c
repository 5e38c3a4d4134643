#include "cpu/blockcache.h"

#include <stdlib.h>
#include <string.h>

#include "mmu/error.h"

#define BLOCKCACHE_INITIAL (1u << 14)
#define UNUSED_ROOT 3u /* no CR3 value names a space this way: roots are page-aligned, or 1 */

static bool is_page_root(uint32_t root) { return (root & 1u) == 0; }

static void empty(blockcache_space *s)
{
    if (s->used)
        memset(s->slots, 0, ((size_t)s->mask + 1) * sizeof *s->slots);
    s->used = 0;
    if (s->pages_used)
        memset(s->pages, 0, ((size_t)s->pages_mask + 1) * sizeof *s->pages);
    s->pages_used = 0;
}

/* A fresh, empty table of the initial size; false if out of memory. */
static bool alloc_table(blockcache_space *s)
{
    s->slots = calloc(BLOCKCACHE_INITIAL, sizeof *s->slots);
    s->mask = BLOCKCACHE_INITIAL - 1;
    s->used = 0;
    return s->slots != NULL;
}

static void make_current(blockcache *bc, uint32_t i)
{
    VM_ASSERT(i < BLOCKCACHE_SPACES);
    bc->current = i;
    bc->changes++;
    bc->slots = bc->spaces[i].slots;
    bc->mask = bc->spaces[i].mask;
    bc->spaces[i].last_use = ++bc->switches;
}

bool blockcache_init(blockcache *bc)
{
    memset(bc, 0, sizeof *bc);
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++)
        bc->spaces[i].root = UNUSED_ROOT;
    bool ok = alloc_table(&bc->spaces[0]);
    bc->spaces[0].root = 1; /* paging off */
    make_current(bc, 0);
    return ok;
}

void blockcache_free(blockcache *bc)
{
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++) {
        free(bc->spaces[i].slots);
        free(bc->spaces[i].pages);
        bc->spaces[i].slots = NULL;
        bc->spaces[i].pages = NULL;
    }
    bc->slots = NULL;
}

void blockcache_clear(blockcache *bc)
{
    bc->changes++;
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++) {
        empty(&bc->spaces[i]);
        if (i != bc->current)
            bc->spaces[i].root = UNUSED_ROOT;
    }
}

/* The table a new root takes over: an unused one, else the least recently used. */
static uint32_t pick_table(const blockcache *bc)
{
    uint32_t best = bc->current == 0 ? 1 : 0;
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++) {
        const blockcache_space *s = &bc->spaces[i];
        if (i == bc->current)
            continue;
        if (s->root == UNUSED_ROOT)
            return i;
        if (s->last_use < bc->spaces[best].last_use)
            best = i;
    }
    return best;
}

void blockcache_set_space(blockcache *bc, uint32_t root)
{
    if (root == bc->spaces[bc->current].root)
        return;
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++) {
        if (bc->spaces[i].root == root) {
            make_current(bc, i);
            return;
        }
    }
    uint32_t i = pick_table(bc);
    blockcache_space *s = &bc->spaces[i];
    if (!s->slots && !alloc_table(s)) { /* no memory for another table: the current one starts over */
        i = bc->current;
        s = &bc->spaces[i];
    }
    empty(s);
    s->root = root;
    make_current(bc, i);
}

void blockcache_clear_current(blockcache *bc)
{
    bc->changes++;
    empty(&bc->spaces[bc->current]);
}

static uint32_t page_home(uint32_t key, uint32_t mask) { return (key * 2654435761u) & mask; }

/* The slot holding key, or the empty slot where it would go. */
static blockcache_page *page_slot(blockcache_page *pages, uint32_t mask, uint32_t key)
{
    uint32_t i = page_home(key, mask);
    while (pages[i].key != 0 && pages[i].key != key)
        i = (i + 1) & mask;
    return &pages[i];
}

static bool grow_pages(blockcache_space *s)
{
    uint32_t cap = s->pages ? (s->pages_mask + 1) * 2 : 64;
    blockcache_page *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    for (uint32_t i = 0; s->pages && i <= s->pages_mask; i++)
        if (s->pages[i].key)
            *page_slot(n, cap - 1, s->pages[i].key) = s->pages[i];
    free(s->pages);
    s->pages = n;
    s->pages_mask = cap - 1;
    return true;
}

bool blockcache_note_page(blockcache *bc, uint32_t linear, uint64_t phys)
{
    blockcache_space *s = &bc->spaces[bc->current];
    uint32_t key = (linear >> 12) + 1;
    if ((!s->pages || (s->pages_used + 1) * 2 > s->pages_mask + 1) && !grow_pages(s))
        return false;
    blockcache_page *p = page_slot(s->pages, s->pages_mask, key);
    if (p->key == 0)
        s->pages_used++;
    *p = (blockcache_page){key, (uint32_t)(phys >> 12)};
    return true;
}

bool blockcache_page_moved(const blockcache *bc, uint32_t linear, uint64_t phys)
{
    const blockcache_space *s = &bc->spaces[bc->current];
    if (!s->pages_used)
        return false;
    const blockcache_page *p = page_slot(s->pages, s->pages_mask, (linear >> 12) + 1);
    return p->key != 0 && p->phys != (uint32_t)(phys >> 12);
}

void blockcache_forget_space(blockcache *bc, uint32_t page)
{
    bc->changes++;
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++) {
        blockcache_space *s = &bc->spaces[i];
        if (!is_page_root(s->root) || (s->root & ~0xFFFu) != (page & ~0xFFFu))
            continue;
        empty(s);
        if (i != bc->current) /* the current one stays loaded: its code is counted afresh */
            s->root = UNUSED_ROOT;
    }
}

const blockcache_entry *blockcache_get(blockcache *bc, uint32_t pc, uint32_t size)
{
    uint32_t home = blockcache_home_slot(bc, pc, size);
    for (uint32_t i = home;; i = (i + 1) & bc->mask) {
        blockcache_entry *e = &bc->slots[i];
        if (e->size == 0)
            return NULL;
        if (e->pc == pc && e->size == size) {
            /* Every slot from home to here is taken, so the entry displaced from home, whose
             * own home is at or before it, is still found on its way to slot i. */
            blockcache_entry found = *e;
            *e = bc->slots[home];
            bc->slots[home] = found;
            return &bc->slots[home];
        }
    }
}

static void insert(blockcache_entry *slots, uint32_t mask, blockcache_entry e)
{
    uint32_t i = (e.pc * 2654435761u ^ e.size) & mask;
    while (slots[i].size != 0 && !(slots[i].pc == e.pc && slots[i].size == e.size))
        i = (i + 1) & mask;
    slots[i] = e;
}

static bool grow(blockcache *bc, blockcache_space *s)
{
    uint32_t cap = (s->mask + 1) * 2;
    blockcache_entry *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    for (uint32_t i = 0; i <= s->mask; i++)
        if (s->slots[i].size)
            insert(n, cap - 1, s->slots[i]);
    free(s->slots);
    s->slots = n;
    s->mask = cap - 1;
    bc->slots = n;
    bc->mask = s->mask;
    return true;
}

bool blockcache_put(blockcache *bc, uint32_t pc, uint32_t size, uint32_t count, uint32_t first_io, uint32_t flags)
{
    blockcache_space *s = &bc->spaces[bc->current];
    if (size == 0 || size > 0xFFFF || count > 0xFFFF || first_io > 0xFFFF)
        return false;
    if ((s->used + 1) * 2 > s->mask + 1 && !grow(bc, s))
        return false;
    /* The hook's view of the current table must be that table (grow and make_current keep it). */
    VM_ASSERT(bc->slots == s->slots && bc->mask == s->mask);
    insert(s->slots, s->mask, blockcache_make(pc, size, count, first_io, flags));
    s->used++;
    return true;
}
