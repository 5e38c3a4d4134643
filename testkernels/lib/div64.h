/* 64-by-32-bit division without libgcc (the kernels link with -nostdlib, so a plain
 * 64-bit `/` would need __udivdi3). Two `divl`s, high word first, as Linux's do_div. */
#ifndef TK_DIV64_H
#define TK_DIV64_H

#include <stdint.h>

/* n / d, remainder in *rem if rem is not NULL; d must not be 0. */
static inline uint64_t div64_u32(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, qhi = 0, qlo, r;
    if (hi >= d) {
        qhi = hi / d;
        hi %= d;
    }
    /* hi < d now, so the quotient of hi:lo / d fits in 32 bits: no #DE. */
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "0"(lo), "1"(hi), "rm"(d));
    if (rem)
        *rem = r;
    return ((uint64_t)qhi << 32) | qlo;
}

#endif
