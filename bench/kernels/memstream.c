/* memstream: memory streaming through the guest MMU. Two buffers A and B of `kib=K` KiB each
 * (default 1024; a multiple of 4) lie in RAM from physical 4 MiB on and are mapped at
 * BUF_VA = 0x40000000 (not their physical address, so every access goes through the page
 * tables); the low 4 MiB (the kernel) are identity-mapped. The page tables are built once
 * with the library (AllocatePage + SetPxE: with a ROM the ROM stores every entry, natively
 * plain stores), then paging is turned on. A is filled with a fixed pseudo-random pattern;
 * then `iters=N` times (default 100), with i the iteration number and n = K * 256 words:
 *
 *   copy:  B = A with one `rep movsd` of n double words               (n string iterations)
 *   rmw:   A[j] = (rotl(A[j], 3) ^ B[j + 1]) + i  for j < n - 1, and
 *          A[n - 1] = (rotl(A[n - 1], 3) ^ B[0]) + i                  (plain loads and stores)
 *
 * so one iteration reads 3 and writes 2 buffers' worth (5 * K KiB) through 2 * K / 4 pages;
 * no VMI call in the loop. At the end the last iteration's rmw is checked word by word
 * against B (B holds A as it was before it), and A and B are folded into a checksum that
 * is the same on every correct machine. Prints the counter before and after the loop, the
 * checksum, "memstream: N iterations" and PASS (exit 33) or FAIL (exit 35). */
#include <stdint.h>

#include "clock.h"
#include "exit.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"

#define DEFAULT_ITERS 100u
#define DEFAULT_KIB 1024u
#define LOW_BYTES (4u << 20) /* identity-mapped: the kernel */
#define BUF_PHYS LOW_BYTES   /* A, then B right after it */
#define BUF_VA 0x40000000u
/* The library's pool holds PG_POOL_PAGES pages: the directory, the low 4 MiB's table, and
 * one table per 4 MiB of buffers. */
#define MAX_BUF_TABLES (PG_POOL_PAGES - 2)

static uint32_t phys(const volatile void *p) { return (uint32_t)(uintptr_t)p; }
static uint32_t rotl(uint32_t x, unsigned k) { return x << k | x >> (32 - k); }

static _Noreturn void fail(const char *why)
{
    kprintf("memstream: FAIL (%s)\n", why);
    test_exit(TEST_FAIL);
}

/* dst[0..n) = src[0..n) with one rep movsd. */
static void copy_dwords(uint32_t *dst, const uint32_t *src, uint32_t n)
{
    __asm__ volatile("rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* The read-modify-write pass of iteration i (see the top). */
static void rmw(uint32_t *a, const uint32_t *b, uint32_t n, uint32_t i)
{
    for (uint32_t j = 0; j + 1 < n; j++)
        a[j] = (rotl(a[j], 3) ^ b[j + 1]) + i;
    a[n - 1] = (rotl(a[n - 1], 3) ^ b[0]) + i;
}

/* Words of A that are not what iteration i's rmw makes of B (= A before it). */
static uint32_t rmw_mismatches(const uint32_t *a, const uint32_t *b, uint32_t n, uint32_t i)
{
    uint32_t bad = 0;
    for (uint32_t j = 0; j < n; j++)
        bad += a[j] != (rotl(b[j], 3) ^ b[j + 1 < n ? j + 1 : 0]) + i;
    return bad;
}

/* FNV-1a over 32-bit words. */
static uint32_t fold(uint32_t h, const uint32_t *w, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        h = (h ^ w[j]) * 0x01000193u;
    return h;
}

/* KiB of RAM from physical 0 on, as the loader reports it (0 if it does not). */
static uint32_t ram_kib(uint32_t magic, const struct multiboot_info *mbi)
{
    if (magic != MB_BOOT_MAGIC || !(mbi->flags & MB_INFO_MEMORY))
        return 0;
    return 1024 + mbi->mem_upper;
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("memstream");
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t iters = DEFAULT_ITERS, kib = DEFAULT_KIB;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0 || mb_cmdline_u32(cmdline, "kib", &kib) < 0)
        fail("bad iters= or kib= value");
    if (kib == 0 || kib % 4 || kib > MAX_BUF_TABLES * 2048u)
        fail("kib= must be a multiple of 4 from 4 to 61440 (the page-table pool's reach)");
    if (phys(__bss_end) > LOW_BYTES)
        fail("the kernel ends past 4 MiB");
    const uint32_t ram = ram_kib(magic, mbi);
    if (ram < BUF_PHYS / 1024 + 2 * kib) {
        kprintf("memstream: RAM %u KiB, need %u KiB\n", ram, BUF_PHYS / 1024 + 2 * kib);
        fail("not enough RAM for the buffers (or the loader reports none)");
    }

    const uint32_t bytes = kib * 1024, n = bytes / 4;
    pg_init();
    if (!pg_map_range(0, 0, LOW_BYTES, PTE_W) || !pg_map_range(BUF_VA, BUF_PHYS, 2 * bytes, PTE_W))
        fail("page-table pool exhausted");
    pg_enable(true);
    uint32_t *const a = (uint32_t *)BUF_VA, *const b = (uint32_t *)(BUF_VA + bytes);
    kprintf("memstream: 2 buffers of %u KiB at 0x%08x (physical 0x%08x), %u pages\n", kib, BUF_VA,
            BUF_PHYS, 2 * bytes / PAGE_SIZE);

    uint32_t x = 0x2545F491u; /* xorshift32 */
    for (uint32_t j = 0; j < n; j++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        a[j] = x;
        b[j] = 0;
    }

    const uint64_t c0 = clock_now();
    for (uint32_t i = 0; i < iters; i++) {
        copy_dwords(b, a, n);
        rmw(a, b, n, i);
    }
    const uint64_t c1 = clock_now();

    const uint32_t bad = iters ? rmw_mismatches(a, b, n, iters - 1) : 0;
    const uint32_t sum = fold(fold(0x811C9DC5u, a, n), b, n);
    kprintf("memstream: %u iterations\n", iters);
    kprintf("memstream: counter %llu -> %llu\n", c0, c1);
    kprintf("memstream: checksum 0x%08x\n", sum);
    if (bad) {
        kprintf("memstream: %u of %u words wrong after the last iteration\n", bad, n);
        fail("the last read-modify-write pass does not match the copy");
    }
    kprintf("memstream: PASS\n");
    test_exit(TEST_PASS);
}
