/* A block's instruction count kept in its translation.
 *
 * The block hook (cpu.c, on_block) adds each block's count before it runs. Looking the count
 * up costs a hash probe per block, mostly a cache miss on the table (12 % of the Debian boot's
 * host time was the hook, docs/BENCHMARKS.md). Unicorn 2.1.4 calls a lone block hook straight
 * from the translated code, with its arguments as immediates of the instructions before the
 * call, the hook's user_data among them: a 64-bit `movabs`. Once a block's count is known, the
 * hook rewrites that immediate in the translation it was called from, so every later run of
 * the translation hands the hook its count: no lookup.
 *
 * The count kept belongs to the translation, which is the translation of the very bytes the
 * count was decoded from: when they change, Unicorn drops the translation (its own check of
 * stores to code pages) and the new one starts with the plain user_data again. Only the call
 * sequence observed for Unicorn 2.1.4 on x86-64 is rewritten, in a mapping that is writable
 * and executable (the code buffer), after checking every byte of it; otherwise nothing is
 * written and the hook keeps looking counts up (slower, same results).
 * tests/test_unicorn_probes.c checks the sequence and the rewrite. */
#define _POSIX_C_SOURCE 200809L

#include "cpu/blockpatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

/* mov $pc,%esi (5) mov $size,%edx (5) movabs $user,%rcx (10) call *disp32(%rip) (6) */
#define SEQ_BYTES 26
/* after it: movabs $uc,%rdi (10) xor %esi,%esi (2) call *disp32(%rip) (6) */
#define CHECK_BYTES 18

void blockpatch_open(blockpatch *bp, const void *user)
{
    memset(bp, 0, sizeof *bp);
#if defined(__x86_64__)
    bp->on = (uc_version(NULL, NULL) >> 8) == 0x020104u && ((uintptr_t)user >> BLOCKPATCH_SHIFT) == 0;
#else
    (void)user;
#endif
}

/* True if [from, to) lies in one mapping that is readable, writable and executable. */
static bool in_code_buffer(blockpatch *bp, uintptr_t from, uintptr_t to)
{
    if (from >= bp->lo && to <= bp->hi)
        return true;
    if (bp->map_reads >= 8) {
        bp->on = false; /* the translations are somewhere this code does not expect */
        return false;
    }
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) {
        bp->on = false;
        return false;
    }
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && from >= lo && to <= hi &&
            perms[0] == 'r' && perms[1] == 'w' && perms[2] == 'x') {
            bp->lo = lo;
            bp->hi = hi;
            found = true;
        }
    }
    fclose(f);
    if (!found)
        bp->map_reads++;
    return found;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

bool blockpatch_matches(blockpatch *bp, const void *ret, const void *callback, const void *user, uint32_t pc,
                        uint32_t size)
{
    if (!bp->on)
        return false;
    uintptr_t end = (uintptr_t)ret;
    if (end < SEQ_BYTES || !in_code_buffer(bp, end - SEQ_BYTES, end))
        return false;
    uint8_t *seq = (uint8_t *)(end - SEQ_BYTES);
    if (seq[0] != 0xBE || le32(seq + 1) != pc || seq[5] != 0xBA || le32(seq + 6) != size || seq[10] != 0x48 ||
        seq[11] != 0xB9 || le64(seq + 12) != (uint64_t)(uintptr_t)user || seq[20] != 0xFF || seq[21] != 0x15)
        return false;
    /* The call's target, read from the constant pool it names, must be the hook itself. */
    int32_t disp = (int32_t)le32(seq + 22);
    uintptr_t slot = end + (uintptr_t)(intptr_t)disp;
    return in_code_buffer(bp, slot, slot + 8) && le64((const uint8_t *)slot) == (uint64_t)(uintptr_t)callback;
}

bool blockpatch_set(blockpatch *bp, const void *ret, const void *callback, const void *user, uint32_t pc,
                    uint32_t size, uint16_t value)
{
    if (value == 0 || !blockpatch_matches(bp, ret, callback, user, pc, size))
        return false;
    uint64_t patched = (uint64_t)(uintptr_t)user | (uint64_t)value << BLOCKPATCH_SHIFT;
    memcpy((uint8_t *)(uintptr_t)ret - SEQ_BYTES + 12, &patched, sizeof patched);
    return true;
}


bool blockpatch_skip_check(blockpatch *bp, const void *ret, const void *uc, const void *check)
{
    if (!bp->on)
        return false;
    uint8_t *seq = (uint8_t *)(uintptr_t)ret;
    uintptr_t end = (uintptr_t)ret + CHECK_BYTES;
    if (!in_code_buffer(bp, (uintptr_t)ret, end))
        return false;
    if (seq[0] != 0x48 || seq[1] != 0xBF || le64(seq + 2) != (uint64_t)(uintptr_t)uc ||
        !((seq[10] == 0x31 || seq[10] == 0x33) && seq[11] == 0xF6) || seq[12] != 0xFF || seq[13] != 0x15)
        return false;
    uintptr_t slot = end + (uintptr_t)(intptr_t)(int32_t)le32(seq + 14);
    if (!in_code_buffer(bp, slot, slot + 8) || le64((const uint8_t *)slot) != (uint64_t)(uintptr_t)check)
        return false;
    seq[0] = 0xEB; /* jmp rel8 over the rest: the next instruction after the call */
    seq[1] = CHECK_BYTES - 2;
    return true;
}

/* --- Sites by page ------------------------------------------------------------------------ */

void blockpatch_free(blockpatch *bp)
{
    free(bp->sites);
    free(bp->pages);
    bp->sites = NULL;
    bp->pages = NULL;
    bp->nsites = bp->cap = bp->free = 0;
    bp->pages_mask = bp->pages_used = 0;
}

void blockpatch_forget(blockpatch *bp)
{
    bp->nsites = 0;
    bp->free = 0;
    if (bp->pages_used)
        memset(bp->pages, 0, ((size_t)bp->pages_mask + 1) * sizeof *bp->pages);
    bp->pages_used = 0;
}

static blockpatch_page *page_slot(blockpatch_page *pages, uint32_t mask, uint32_t key)
{
    uint32_t i = (key * 2654435761u) & mask;
    while (pages[i].key != 0 && pages[i].key != key)
        i = (i + 1) & mask;
    return &pages[i];
}

static bool grow_pages(blockpatch *bp)
{
    uint32_t cap = bp->pages ? (bp->pages_mask + 1) * 2 : 1024;
    blockpatch_page *n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    for (uint32_t i = 0; bp->pages && i <= bp->pages_mask; i++)
        if (bp->pages[i].key)
            *page_slot(n, cap - 1, bp->pages[i].key) = bp->pages[i];
    free(bp->pages);
    bp->pages = n;
    bp->pages_mask = cap - 1;
    return true;
}

bool blockpatch_note(blockpatch *bp, const void *ret, uint64_t page)
{
    if (page >= UINT32_MAX)
        return false;
    uint32_t key = (uint32_t)page + 1;
    if ((!bp->pages || (bp->pages_used + 1) * 2 > bp->pages_mask + 1) && !grow_pages(bp))
        return false;
    uint32_t i;
    if (bp->free) {
        i = bp->free - 1;
        bp->free = bp->sites[i].next;
    } else {
        if (bp->nsites == bp->cap) {
            uint32_t cap = bp->cap ? bp->cap * 2 : 4096;
            blockpatch_site *n = cap > bp->cap ? realloc(bp->sites, (size_t)cap * sizeof *n) : NULL;
            if (!n)
                return false;
            bp->sites = n;
            bp->cap = cap;
        }
        i = bp->nsites++;
    }
    blockpatch_page *p = page_slot(bp->pages, bp->pages_mask, key);
    if (p->key == 0) {
        p->key = key;
        bp->pages_used++;
    }
    bp->sites[i] = (blockpatch_site){(uintptr_t)ret, p->head};
    p->head = i + 1;
    return true;
}

/* Unicorn's code back at one site, if it is still the rewritten code of this hook. */
static void undo_site(blockpatch *bp, uintptr_t end, const void *callback, const void *user, const void *uc)
{
    if (end < SEQ_BYTES || !in_code_buffer(bp, end - SEQ_BYTES, end + CHECK_BYTES))
        return;
    uint8_t *seq = (uint8_t *)(end - SEQ_BYTES);
    uint64_t tagged = le64(seq + 12);
    if (seq[0] != 0xBE || seq[5] != 0xBA || seq[10] != 0x48 || seq[11] != 0xB9 || (tagged >> BLOCKPATCH_SHIFT) == 0 ||
        (tagged & BLOCKPATCH_PTR_MASK) != (uint64_t)(uintptr_t)user || seq[20] != 0xFF || seq[21] != 0x15)
        return;
    uintptr_t slot = end + (uintptr_t)(intptr_t)(int32_t)le32(seq + 22);
    if (!in_code_buffer(bp, slot, slot + 8) || le64((const uint8_t *)slot) != (uint64_t)(uintptr_t)callback)
        return;
    uint8_t *check = (uint8_t *)end;
    if (check[0] == 0xEB && check[1] == CHECK_BYTES - 2 && le64(check + 2) == (uint64_t)(uintptr_t)uc) {
        check[0] = 0x48; /* movabs $uc,%rdi again */
        check[1] = 0xBF;
    }
    uint64_t plain = (uint64_t)(uintptr_t)user;
    memcpy(seq + 12, &plain, sizeof plain);
}

void blockpatch_undo_page(blockpatch *bp, uint64_t page, const void *callback, const void *user, const void *uc)
{
    if (!bp->pages_used || page >= UINT32_MAX)
        return;
    blockpatch_page *p = page_slot(bp->pages, bp->pages_mask, (uint32_t)page + 1);
    if (p->key == 0)
        return;
    for (uint32_t i = p->head; i;) {
        blockpatch_site *site = &bp->sites[i - 1];
        uint32_t next = site->next;
        undo_site(bp, site->ret, callback, user, uc);
        site->next = bp->free; /* reusable */
        bp->free = i;
        i = next;
    }
    p->head = 0; /* the key stays: an empty list (no deletion from open addressing) */
}
