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

typedef struct blockpatch {
    bool on;            /* Unicorn 2.1.4 on an x86-64 host, and a user pointer below 2^48 */
    uintptr_t lo, hi;   /* the writable and executable mapping last found holding translations */
    unsigned map_reads; /* /proc/self/maps reads that found none: gives up after a few */
} blockpatch;

/* Whether keeping counts in translations can work for a hook whose user_data is `user`. */
void blockpatch_open(blockpatch *bp, const void *user);

/* In a block hook that Unicorn called straight from translated code (it does so for a lone
 * block hook): `ret` is the hook's return address. If the code before it is the call sequence
 * expected (mov $pc,%esi; mov $size,%edx; movabs $user,%rcx; call callback), rewrite the
 * user_data there to user | value << BLOCKPATCH_SHIFT, so that every later run of this
 * translation passes `value` with it. True if done; anything unexpected changes nothing. */
bool blockpatch_set(blockpatch *bp, const void *ret, const void *callback, const void *user, uint32_t pc,
                    uint32_t size, uint16_t value);

/* After blockpatch_set succeeded at `ret`: the call Unicorn puts right after the block hook
 * (movabs $uc,%rdi; xor %esi,%esi; call check), its stop check at the block start, is jumped
 * over, so the hook must make that check itself whenever it did not take its fast path (see
 * on_block: a stop is only ever pending then). True if done; anything unexpected changes
 * nothing. */
bool blockpatch_skip_check(blockpatch *bp, const void *ret, const void *uc, const void *check);

#endif
