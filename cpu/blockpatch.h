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

/* The bytes of a site: from the `movabs $uc,%rdi` before the hook's call sequence to the end of
 * the stop check after it (blockpatch.c). */
#define BLOCKPATCH_SITE_BYTES 54

/* A rewritten call site, listed under a physical page its block's code lies on. */
typedef struct blockpatch_site {
    uintptr_t ret;  /* the hook's return address in the translation */
    uint32_t next;  /* 1 + index of the next site of the same page, 0 = none */
    bool have_orig; /* orig holds Unicorn's code of the site, taken when it was noted */
    uint8_t orig[BLOCKPATCH_SITE_BYTES];
} blockpatch_site;

/* What the count inlined in a translation works on: the hook's fast path (cpu.c, on_block) in
 * machine code. `base` points at the 64-bit instruction count; the limit, the count before the
 * block and the block's address (32 bits, its byte size right after it) lie at the given byte
 * offsets from it, each below 128. `slow` is called with the inlined site's return address
 * (blockpatch_inline_site reads it) when the count would pass the limit. */
typedef struct blockpatch_inline {
    void *base;
    uint8_t off_limit, off_blk_icount, off_blk_pc;
    void (*slow)(const uint8_t *ret);
    const void *callback, *check; /* the hook and Unicorn's stop check, as in the sites' calls */
} blockpatch_inline;

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
    uint32_t last_note;         /* 1 + index of the site noted last */
    /* Sites whose count is kept, waiting to get it inline (blockpatch_inline_queued). */
    struct { uintptr_t ret; uint32_t site; } *queue;
    uint32_t nqueue, queue_cap;
    bool inline_tried, inline_on; /* blockpatch_inline_setup tried; it mapped the stub page */
    blockpatch_inline how;
    uint8_t *stub;              /* the page with the slow path's entry, within reach of rel32 */
    unsigned long inlined;      /* sites converted (for tests and measurements) */
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

/* --- The count inline (blockpatch.c, "The count inline") --------------------------------- */

/* Turns inlining on for this engine: maps the slow path's entry next to the code buffer found
 * by the last blockpatch_set. False (inlining stays off, counts stay kept) if that fails. */
bool blockpatch_inline_setup(blockpatch *bp, const blockpatch_inline *how);
/* After blockpatch_skip_check succeeded at `ret` (the site noted last): queue it to get the
 * count inline. The rewrite itself waits for blockpatch_inline_queued: the hook is running
 * from that very site now, and returns into the middle of the bytes the rewrite replaces. */
void blockpatch_queue_inline(blockpatch *bp, const void *ret);
/* Rewrites the queued sites that are still as left by blockpatch_set and skip_check: the count
 * added and compared inline, the hook called only past the limit. Only while no translated
 * code runs (between runs of the engine). */
void blockpatch_inline_queued(blockpatch *bp);
/* In `how.slow`: the block of the inlined site whose slow path returns to `ret`; returns the
 * site's `how.base`. */
void *blockpatch_inline_site(const uint8_t *ret, uint32_t *pc, uint32_t *size);

#endif
