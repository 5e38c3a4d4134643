/* Instruction counts of translated blocks, computed once per (start, size) and cached, so the
 * block hook that keeps the instruction count costs one hash lookup per block.
 *
 * Blocks are keyed by linear address, so there is one table per address space (page-table
 * root, CR3): switching CR3 back and forth keeps each space's counts, and one space's code is
 * never counted with another's. The current space's table is the one the lookup sees.
 *
 * Each space also remembers which physical page each linear page its counts were taken from
 * mapped to (blockcache_note_page): when a linear page is found mapping another physical page
 * (blockcache_page_moved, from the TLB fill, off the hot path), the space's counts are dropped.
 * Counts of code written in place are dropped by the CPU (cpu/mmu_fill.c). */
#ifndef VMIEMU_BLOCKCACHE_H
#define VMIEMU_BLOCKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

#define BLOCKCACHE_SPACES 16 /* tables kept; the least recently used one is reused for a new root */

/* A block's cost is its instruction count, plus BLOCKCACHE_SLOW where the block hook must look
 * closer (port I/O, an MSR access, a possible ROM entry): larger than the most a run may retire
 * before its next stop (TLB_RESIZE_INSNS), so one compare against the deadline catches both. */
#define BLOCKCACHE_SLOW (1u << 24)
#define BLOCKCACHE_ROM (1u << 25) /* the block may be a VMI ROM entry (always with SLOW) */
#define BLOCKCACHE_MSR (1u << 26) /* first_io is a rdmsr/wrmsr: always stop before it (with SLOW) */
#define BLOCKCACHE_TASK (1u << 27) /* ends in lcall/ljmp/iret, which may switch tasks (with SLOW) */
#define BLOCKCACHE_TASK_CHECK (1u << 28) /* ends in lcall/ljmp, or popf..iret: always stop before it (with TASK) */
/* A ROM entry's tag (with ROM): 1..15 from cpu_ops.rom_kind, a call the machine takes by a
 * shorter way it knows from the tag alone; 0 for any other block. */
#define BLOCKCACHE_TAG_SHIFT 20
#define BLOCKCACHE_TAG_MASK (0xFu << BLOCKCACHE_TAG_SHIFT)

typedef struct blockcache_entry {
    uint32_t pc;
    uint16_t size;     /* 0 = empty slot */
    uint16_t first_io; /* 1 + index of the first port I/O or MSR instruction, 0 = none */
    uint32_t cost;
} blockcache_entry;

static inline uint32_t blockcache_count(const blockcache_entry *e) { return e->cost & 0xFFFFu; }
static inline bool blockcache_rom(const blockcache_entry *e) { return (e->cost & BLOCKCACHE_ROM) != 0; }
static inline bool blockcache_msr(const blockcache_entry *e) { return (e->cost & BLOCKCACHE_MSR) != 0; }
static inline bool blockcache_task(const blockcache_entry *e) { return (e->cost & BLOCKCACHE_TASK) != 0; }
static inline bool blockcache_task_check(const blockcache_entry *e) { return (e->cost & BLOCKCACHE_TASK_CHECK) != 0; }
static inline int blockcache_tag(const blockcache_entry *e) { return (int)((e->cost & BLOCKCACHE_TAG_MASK) >> BLOCKCACHE_TAG_SHIFT); }
/* flags: BLOCKCACHE_ROM (and a tag), BLOCKCACHE_MSR (first_io then indexes the MSR instruction),
 * BLOCKCACHE_TASK (and BLOCKCACHE_TASK_CHECK). */
static inline blockcache_entry blockcache_make(uint32_t pc, uint32_t size, uint32_t count, uint32_t first_io,
                                               uint32_t flags)
{
    flags &= BLOCKCACHE_ROM | BLOCKCACHE_MSR | BLOCKCACHE_TASK | BLOCKCACHE_TASK_CHECK | BLOCKCACHE_TAG_MASK;
    uint32_t cost = count | (first_io || flags ? BLOCKCACHE_SLOW : 0) | flags;
    return (blockcache_entry){.pc = pc, .size = (uint16_t)size, .first_io = (uint16_t)first_io, .cost = cost};
}

/* A linear page counts were taken from, and the physical page it mapped then. */
typedef struct blockcache_page {
    uint32_t key;   /* linear page number + 1; 0 = empty slot */
    uint32_t phys;  /* physical page number */
} blockcache_page;

typedef struct blockcache_space {
    uint32_t root;     /* CR3 (1 = paging off); odd but not 1 = unused */
    uint32_t mask;     /* capacity - 1; capacity is a power of two */
    uint32_t used;
    uint64_t last_use; /* for choosing which table a new root takes over */
    blockcache_entry *slots;
    blockcache_page *pages; /* open addressing, pages_mask + 1 slots (NULL until first used) */
    uint32_t pages_mask, pages_used;
} blockcache_space;

typedef struct blockcache {
    blockcache_entry *slots; /* the current space's table, as in spaces[current] */
    uint32_t mask;
    uint32_t current;
    uint64_t switches;
    uint64_t changes; /* moves whenever a table is emptied or another becomes current: what was
                       * derived from the current space's counted code may be stale */
    blockcache_space spaces[BLOCKCACHE_SPACES];
} blockcache;

VM_MUST_CHECK bool blockcache_init(blockcache *bc);
void blockcache_free(blockcache *bc);
void blockcache_clear(blockcache *bc); /* after code changed: every space starts over */

/* The address space from now on, by its root: CR3, or 1 for paging off. Cheap when it is the
 * current one. */
void blockcache_set_space(blockcache *bc, uint32_t root);
/* The page holding these roots is no page table any more: if it becomes one again, its blocks
 * are counted afresh. */
void blockcache_forget_space(blockcache *bc, uint32_t page);

static inline uint32_t blockcache_home_slot(const blockcache *bc, uint32_t pc, uint32_t size)
{
    return (pc * 2654435761u ^ size) & bc->mask;
}

/* The entry for (pc, size) if it is in its home slot, else NULL: the block hook's fast path,
 * one compare. blockcache_get moves what it finds there. */
static inline const blockcache_entry *blockcache_at_home(const blockcache *bc, uint32_t pc, uint32_t size)
{
    const blockcache_entry *e = &bc->slots[blockcache_home_slot(bc, pc, size)];
    return e->pc == pc && e->size == size ? e : NULL;
}

/* The cached entry for (pc, size) in the current space, or NULL; one found past its home slot
 * (a collision) trades places with the entry there, so the next lookup finds it at home. */
const blockcache_entry *blockcache_get(blockcache *bc, uint32_t pc, uint32_t size);

/* Counts in the current space are being taken from code at `linear`, which maps physical
 * address `phys`. False if out of memory (the caller then must not cache the count). */
VM_MUST_CHECK bool blockcache_note_page(blockcache *bc, uint32_t linear, uint64_t phys);
/* True if the current space has counts from `linear`'s page taken while it mapped another
 * physical page than `phys`'s. */
bool blockcache_page_moved(const blockcache *bc, uint32_t linear, uint64_t phys);
/* Drop the current space's counts (its root stays). */
void blockcache_clear_current(blockcache *bc);

/* Insert; false only if the table could not grow (the caller then just doesn't cache). */
VM_MUST_CHECK bool blockcache_put(blockcache *bc, uint32_t pc, uint32_t size, uint32_t count, uint32_t first_io,
                                 uint32_t flags);

#endif
