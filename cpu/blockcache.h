/* Instruction counts of translated blocks, computed once per (start, size) and cached, so the
 * block hook that keeps the instruction count costs one hash lookup per block. */
#ifndef VMIEMU_BLOCKCACHE_H
#define VMIEMU_BLOCKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct blockcache_entry {
    uint32_t pc;
    uint16_t size;  /* 0 = empty slot */
    uint16_t count;
    uint16_t first_io; /* 1 + index of the first port I/O instruction, 0 = none */
    uint8_t slow;      /* the block hook must take its slow path here (I/O, a ROM entry) */
    uint8_t rom;       /* the block may be a VMI ROM entry */
} blockcache_entry;

typedef struct blockcache {
    blockcache_entry *slots;
    uint32_t mask; /* capacity - 1; capacity is a power of two */
    uint32_t used;
} blockcache;

bool blockcache_init(blockcache *bc);
void blockcache_free(blockcache *bc);
void blockcache_clear(blockcache *bc); /* after code or mappings changed */

/* The cached entry for (pc, size), or NULL. */
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
