/* Instruction counts of translated blocks, computed once per (start, size) and cached, so the
 * block hook that keeps the instruction count costs one hash lookup per block. */
#ifndef VMIEMU_BLOCKCACHE_H
#define VMIEMU_BLOCKCACHE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct blockcache_entry {
    uint32_t pc;
    uint16_t size;  /* 0 = empty slot */
    uint16_t count;
} blockcache_entry;

typedef struct blockcache {
    blockcache_entry *slots;
    uint32_t mask; /* capacity - 1; capacity is a power of two */
    uint32_t used;
} blockcache;

bool blockcache_init(blockcache *bc);
void blockcache_free(blockcache *bc);
void blockcache_clear(blockcache *bc); /* after code or mappings changed */

/* The cached count, or -1 if (pc, size) is not cached. */
static inline int blockcache_get(const blockcache *bc, uint32_t pc, uint32_t size)
{
    uint32_t i = (pc * 2654435761u ^ size) & bc->mask;
    for (;;) {
        const blockcache_entry *e = &bc->slots[i];
        if (e->size == 0)
            return -1;
        if (e->pc == pc && e->size == size)
            return e->count;
        i = (i + 1) & bc->mask;
    }
}

/* Insert; false only if the table could not grow (the caller then just doesn't cache). */
bool blockcache_put(blockcache *bc, uint32_t pc, uint32_t size, uint32_t count);

#endif
