/* A block's instruction count kept in its translation (blockpatch.c). */
#ifndef VMIEMU_BLOCKPATCH_H
#define VMIEMU_BLOCKPATCH_H

#include <stdbool.h>
#include <stdint.h>

/* The block hook's user_data is the cpu pointer; in a translation whose count was kept there,
 * its top 16 bits carry the count (x86-64 user-space pointers use the low 47). */
#define BLOCKPATCH_SHIFT 48
#define BLOCKPATCH_PTR_MASK ((UINT64_C(1) << BLOCKPATCH_SHIFT) - 1)

/* libunicorn.a (accel/tcg/tcg-runtime.c): leaves the translated code for the engine's loop
 * (longjmp) if a stop is pending, else returns. */
void helper_check_exit_request_x86_64(void *uc, uint32_t in_delay_slot);

/* A rewritten call site, listed under a physical page its block's code lies on. */
typedef struct blockpatch_site {
    uintptr_t ret;  /* the hook's return address in the translation */
    uint32_t next;  /* 1 + index of the next site of the same page, 0 = none */
} blockpatch_site;

typedef struct blockpatch_page {
    uint32_t key;  /* physical page number + 1; 0 = empty slot */
    uint32_t head; /* 1 + index of its first site, 0 = none */
} blockpatch_page;

typedef struct blockpatch {
    bool on;            /* Unicorn 2.1.4 on an x86-64 host, and a user pointer below 2^48 */
    uintptr_t lo, hi;   /* the writable and executable mapping last found holding translations */
    unsigned map_reads; /* /proc/self/maps reads that found none: gives up after a few */
    blockpatch_site *sites;
    uint32_t nsites, cap, free; /* free: 1 + index of the first reusable site, 0 = none */
    blockpatch_page *pages;     /* open addressing, pages_mask + 1 slots */
    uint32_t pages_mask, pages_used;
} blockpatch;

/* Whether keeping counts in translations can work for a hook whose user_data is `user`. */
void blockpatch_open(blockpatch *bp, const void *user);

void blockpatch_free(blockpatch *bp);

/* The rewritten call site at `ret` (its block's code on physical page `page`, a page number):
 * blockpatch_undo_page puts it back. False if out of memory: then it must not be rewritten. */
bool blockpatch_note(blockpatch *bp, const void *ret, uint64_t page);
/* Every site noted under `page` gets Unicorn's own code back (the plain user_data, the stop
 * check), wherever that code is still there: its next run takes the hook's slow path. For a
 * page whose counts are dropped and which stops being watched (mmu_fill.c, code_written), so
 * that no translation with a kept count runs from code that is no longer watched. */
void blockpatch_undo_page(blockpatch *bp, uint64_t page, const void *callback, const void *user, const void *uc);
/* All translations are gone (a flush of the translation cache): forget the sites. */
void blockpatch_forget(blockpatch *bp);

/* In a block hook that Unicorn called straight from translated code (it does so for a lone
 * block hook): `ret` is the hook's return address. If the code before it is the call sequence
 * expected (mov $pc,%esi; mov $size,%edx; movabs $user,%rcx; call callback), rewrite the
 * user_data there to user | value << BLOCKPATCH_SHIFT, so that every later run of this
 * translation passes `value` with it. True if done; anything unexpected changes nothing. */
bool blockpatch_set(blockpatch *bp, const void *ret, const void *callback, const void *user, uint32_t pc,
                    uint32_t size, uint16_t value);
/* Whether blockpatch_set would rewrite the site now (the plain user_data is there). */
bool blockpatch_matches(blockpatch *bp, const void *ret, const void *callback, const void *user, uint32_t pc,
                        uint32_t size);

/* After blockpatch_set succeeded at `ret`: the call Unicorn puts right after the block hook
 * (movabs $uc,%rdi; xor %esi,%esi; call check), its stop check at the block start, is jumped
 * over, so the hook must make that check itself whenever it did not take its fast path (see
 * on_block: a stop is only ever pending then). True if done; anything unexpected changes
 * nothing. */
bool blockpatch_skip_check(blockpatch *bp, const void *ret, const void *uc, const void *check);

#endif
