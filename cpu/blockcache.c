#include "cpu/blockcache.h"

#include <stdlib.h>
#include <string.h>

#define BLOCKCACHE_INITIAL (1u << 14)

bool blockcache_init(blockcache *bc)
{
    bc->slots = calloc(BLOCKCACHE_INITIAL, sizeof *bc->slots);
    bc->mask = BLOCKCACHE_INITIAL - 1;
    bc->used = 0;
    return bc->slots != NULL;
}

void blockcache_free(blockcache *bc)
{
    free(bc->slots);
    bc->slots = NULL;
}

void blockcache_clear(blockcache *bc)
{
    memset(bc->slots, 0, ((size_t)bc->mask + 1) * sizeof *bc->slots);
    bc->used = 0;
}

static void insert(blockcache_entry *slots, uint32_t mask, blockcache_entry e)
{
    uint32_t i = (e.pc * 2654435761u ^ e.size) & mask;
    while (slots[i].size != 0 && !(slots[i].pc == e.pc && slots[i].size == e.size))
        i = (i + 1) & mask;
    slots[i] = e;
}

static bool grow(blockcache *bc)
{
    uint32_t cap = (bc->mask + 1) * 2;
    blockcache_entry *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    for (uint32_t i = 0; i <= bc->mask; i++)
        if (bc->slots[i].size)
            insert(n, cap - 1, bc->slots[i]);
    free(bc->slots);
    bc->slots = n;
    bc->mask = cap - 1;
    return true;
}

bool blockcache_put(blockcache *bc, uint32_t pc, uint32_t size, uint32_t count, uint32_t first_io, bool rom)
{
    if (size == 0 || size > 0xFFFF || count > 0xFFFF || first_io > 0xFFFF)
        return false;
    if ((bc->used + 1) * 2 > bc->mask + 1 && !grow(bc))
        return false;
    insert(bc->slots, bc->mask, (blockcache_entry){pc, (uint16_t)size, (uint16_t)count, (uint16_t)first_io,
                                                   first_io != 0 || rom, rom});
    bc->used++;
    return true;
}
