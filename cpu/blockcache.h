/* Instruction counts of translated blocks, computed once per (start, size) and cached, so the
 * block hook that keeps the instruction count costs one hash lookup per block.
 *
 * Blocks are keyed by linear address, so there is one table per address space (page-table
 * root, CR3): switching CR3 back and forth keeps each space's counts, and one space's code is
 * never counted with another's. The current space's table is the one the lookup sees. */
#ifndef VMIEMU_BLOCKCACHE_H
#define VMIEMU_BLOCKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCKCACHE_SPACES 16 /* tables kept; the least recently used one is reused for a new root */

typedef struct blockcache_entry {
    uint32_t pc;
    uint16_t size;     /* 0 = empty slot */
    uint16_t count;
    uint16_t first_io; /* 1 + index of the first port I/O instruction, 0 = none */
    uint8_t slow;      /* the block hook must take its slow path here (I/O, a ROM entry) */
    uint8_t rom;       /* the block may be a VMI ROM entry */
} blockcache_entry;

typedef struct blockcache_space {
    uint32_t root;     /* CR3 (1 = paging off); odd but not 1 = unused */
    uint32_t mask;     /* capacity - 1; capacity is a power of two */
    uint32_t used;
    uint64_t last_use; /* for choosing which table a new root takes over */
    blockcache_entry *slots;
} blockcache_space;

typedef struct blockcache {
    blockcache_entry *slots; /* the current space's table, as in spaces[current] */
    uint32_t mask;
    uint32_t current;
    uint64_t switches;
    blockcache_space spaces[BLOCKCACHE_SPACES];
} blockcache;

bool blockcache_init(blockcache *bc);
void blockcache_free(blockcache *bc);
void blockcache_clear(blockcache *bc); /* after code changed: every space starts over */

/* The address space from now on, by its root: CR3, or 1 for paging off. Cheap when it is the
 * current one. */
void blockcache_set_space(blockcache *bc, uint32_t root);
/* The page holding these roots is no page table any more: if it becomes one again, its blocks
 * are counted afresh. */
void blockcache_forget_space(blockcache *bc, uint32_t page);

/* The cached entry for (pc, size) in the current space, or NULL. */
static inline const blockcache_entry *blockcache_get(const blockcache *bc, uint32_t pc, uint32_t size)
{
    uint32_t i = (pc * 2654435761u ^ size) & bc->mask;
    for (;;) {
        const blockcache_entry *e = &bc->slots[i];
        if (e->size == 0)
            return NULL;
        if (e->pc == pc && e->size == size)
            return e;
        i = (i + 1) & bc->mask;
    }
}

/* Insert; false only if the table could not grow (the caller then just doesn't cache). */
bool blockcache_put(blockcache *bc, uint32_t pc, uint32_t size, uint32_t count, uint32_t first_io, bool rom);

#endif
