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

/* n / d for a 64-bit divisor (d != 0): shift-and-subtract, 64 steps at most. */
static inline uint64_t div64_u64(uint64_t n, uint64_t d)
{
    if (!(d >> 32))
        return div64_u32(n, (uint32_t)d, 0);
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= d) {
            r -= d;
            q |= 1ull << i;
        }
    }
    return q;
}

/* a * b / c without overflow as long as a * b fits in 64 bits (callers clamp a). */
static inline uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c) { return div64_u64(a * b, c); }

#endif
