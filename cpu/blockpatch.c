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
 * Once the count is kept, the call itself goes too where it can: the site's bytes become the
 * hook's fast path, with a call out of line past the limit ("The count inline" below).
 * tests/test_unicorn_probes.c checks the sequence and the rewrites. */
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE */

#include "cpu/blockpatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unicorn/unicorn.h>
#include <unistd.h>

/* mov $pc,%esi (5) mov $size,%edx (5) movabs $user,%rcx (10) call *disp32(%rip) (6) */
#define SEQ_BYTES 26
/* after it: movabs $uc,%rdi (10) xor %esi,%esi (2) call *disp32(%rip) (6) */
#define CHECK_BYTES 18
/* A site (BLOCKPATCH_SITE_BYTES) starts with movabs $uc,%rdi (10) before the sequence. */
#define SITE_BEFORE (SEQ_BYTES + 10)

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
    free(bp->queue);
    if (bp->stub)
        munmap(bp->stub, (size_t)sysconf(_SC_PAGESIZE));
    bp->sites = NULL;
    bp->pages = NULL;
    bp->queue = NULL;
    bp->stub = NULL;
    bp->inline_on = bp->inline_tried = false;
    bp->nsites = bp->cap = bp->free = 0;
    bp->pages_mask = bp->pages_used = 0;
    bp->nqueue = bp->queue_cap = 0;
    bp->last_note = 0;
}

void blockpatch_forget(blockpatch *bp)
{
    bp->nsites = 0;
    bp->free = 0;
    bp->nqueue = 0;
    bp->last_note = 0;
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
    blockpatch_site *site = &bp->sites[i];
    site->ret = (uintptr_t)ret;
    site->next = p->head;
    uintptr_t start = (uintptr_t)ret - SITE_BEFORE;
    site->have_orig = (uintptr_t)ret >= SITE_BEFORE && in_code_buffer(bp, start, start + BLOCKPATCH_SITE_BYTES);
    if (site->have_orig)
        memcpy(site->orig, (const void *)start, BLOCKPATCH_SITE_BYTES);
    p->head = i + 1;
    bp->last_note = i + 1;
    return true;
}

/* --- The count inline ---------------------------------------------------------------------
 *
 * A kept count still costs a call per block: the JIT-to-C call of a 4-argument hook and its
 * return (11 % of the Debian boot's host time). A site whose stop check is skipped has 54
 * bytes of Unicorn's code that do nothing else: the `movabs $uc,%rdi` before the call
 * sequence, the sequence, the skipped check. They become the hook's fast path itself:
 *
 *    0 movabs $base,%rax          base = &icount
 *   10 mov 0(%rax),%rdx           the count before the block
 *   14 lea n(%rdx),%rcx           n: the block's count, 1..127
 *   18 cmp limit(%rax),%rcx
 *   22 ja 49                      past the limit: the slow path
 *   24 mov %rcx,0(%rax)           icount += n
 *   28 mov %rdx,blk_icount(%rax)
 *   32 movabs $(pc|size<<32),%rsi
 *   42 mov %rsi,blk_pc(%rax)      blk_pc, blk_size
 *   46 jmp 54
 *   48 nop
 *   49 call stub                  rel32: the stub page lies within 2 GiB of the code buffer
 *   54 (the block's code)
 *
 * The stub calls how.slow with its return address (site + 54), from which the block's pc,
 * size and base are read back. That return address is the block's first instruction in
 * Unicorn's code as well, so the site may be undone while its slow path runs. Only caller-saved registers are used: the code replaced was
 * two calls, around which TCG keeps nothing in them. The hook runs from the site when it
 * learns the count and returns to offset 36, inside the new code, so the rewrite waits until
 * the engine has stopped (blockpatch_inline_queued). */

#define INLINE_RET 54 /* the slow call's return address in the site */

static const uint8_t STUB_CODE[] = {
    0x48, 0x8B, 0x3C, 0x24, /* mov (%rsp),%rdi: the site's return address */
    0x48, 0x83, 0xEC, 0x08, /* sub $8,%rsp: the ABI's alignment for the call */
    0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $slow,%rax */
    0xFF, 0xD0,             /* call *%rax */
    0x48, 0x83, 0xC4, 0x08, /* add $8,%rsp */
    0xC3,                   /* ret */
};

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* The site's code as blockpatch_set and blockpatch_skip_check leave it, with count `value`. */
static void make_kept(const uint8_t *orig, const void *user, uint16_t value, bool skipped, uint8_t *out)
{
    memcpy(out, orig, BLOCKPATCH_SITE_BYTES);
    put64(out + 22, (uint64_t)(uintptr_t)user | (uint64_t)value << BLOCKPATCH_SHIFT);
    if (skipped) {
        out[SITE_BEFORE] = 0xEB;
        out[SITE_BEFORE + 1] = CHECK_BYTES - 2;
    }
}

/* The inline form of a site at `at` whose Unicorn code is `orig`; false if the stub is out of
 * reach. */
static bool make_inline(const blockpatch *bp, const uint8_t *orig, uintptr_t at, uint8_t n, uint8_t *out)
{
    int64_t rel = (int64_t)((uintptr_t)bp->stub - (at + INLINE_RET));
    if (rel != (int32_t)rel)
        return false;
    uint8_t *p = out;
    *p++ = 0x48, *p++ = 0xB8, put64(p, (uint64_t)(uintptr_t)bp->how.base), p += 8;
    *p++ = 0x48, *p++ = 0x8B, *p++ = 0x50, *p++ = 0;
    *p++ = 0x48, *p++ = 0x8D, *p++ = 0x4A, *p++ = n;
    *p++ = 0x48, *p++ = 0x3B, *p++ = 0x48, *p++ = bp->how.off_limit;
    *p++ = 0x77, *p++ = 49 - 24;
    *p++ = 0x48, *p++ = 0x89, *p++ = 0x48, *p++ = 0;
    *p++ = 0x48, *p++ = 0x89, *p++ = 0x50, *p++ = bp->how.off_blk_icount;
    *p++ = 0x48, *p++ = 0xBE;
    memcpy(p, orig + 11, 4); /* pc: the immediate of Unicorn's mov $pc,%esi */
    memcpy(p + 4, orig + 16, 4); /* size: of mov $size,%edx */
    p += 8;
    *p++ = 0x48, *p++ = 0x89, *p++ = 0x70, *p++ = bp->how.off_blk_pc;
    *p++ = 0xEB, *p++ = BLOCKPATCH_SITE_BYTES - 48;
    *p++ = 0x90;
    *p++ = 0xE8, put32(p, (uint32_t)(int32_t)rel), p += 4;
    return p - out == BLOCKPATCH_SITE_BYTES;
}

void *blockpatch_inline_site(const uint8_t *ret, uint32_t *pc, uint32_t *size)
{
    const uint8_t *site = ret - INLINE_RET;
    *pc = le32(site + 34);
    *size = le32(site + 38);
    return (void *)(uintptr_t)le64(site + 2);
}

/* Whether `orig` is Unicorn's code of a site as blockpatch_set and skip_check expect it, its
 * calls (read through their pool slots at `at`) going to the hook and to the stop check. */
static bool orig_is_unicorns(blockpatch *bp, const uint8_t *orig, uintptr_t at, const void *user)
{
    if (orig[0] != 0x48 || orig[1] != 0xBF || memcmp(orig + 2, orig + SITE_BEFORE + 2, 8) != 0 || orig[10] != 0xBE ||
        orig[15] != 0xBA || orig[20] != 0x48 || orig[21] != 0xB9 || le64(orig + 22) != (uint64_t)(uintptr_t)user ||
        orig[30] != 0xFF || orig[31] != 0x15 || orig[SITE_BEFORE] != 0x48 || orig[SITE_BEFORE + 1] != 0xBF ||
        !((orig[46] == 0x31 || orig[46] == 0x33) && orig[47] == 0xF6) || orig[48] != 0xFF || orig[49] != 0x15)
        return false;
    uintptr_t slot1 = at + SITE_BEFORE + (uintptr_t)(intptr_t)(int32_t)le32(orig + 32);
    uintptr_t slot2 = at + BLOCKPATCH_SITE_BYTES + (uintptr_t)(intptr_t)(int32_t)le32(orig + 50);
    return in_code_buffer(bp, slot1, slot1 + 8) && le64((const uint8_t *)slot1) == (uint64_t)(uintptr_t)bp->how.callback &&
           in_code_buffer(bp, slot2, slot2 + 8) && le64((const uint8_t *)slot2) == (uint64_t)(uintptr_t)bp->how.check;
}

/* An unmapped page from which a rel32 reaches all of [lo, hi), as close to it as can be (the
 * gaps between the mappings of /proc/self/maps); 0 if none. */
static uintptr_t free_page_near(uintptr_t lo, uintptr_t hi, size_t page)
{
    const uintptr_t reach = (uintptr_t)1 << 31;
    if (hi - lo >= reach - 2 * page)
        return 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    char line[512];
    uintptr_t prev_end = page; /* never page 0 */
    uintptr_t best = 0, best_dist = UINTPTR_MAX;
    for (bool more = true; more;) {
        unsigned long start, end;
        more = fgets(line, sizeof line, f) != NULL;
        if (more && sscanf(line, "%lx-%lx", &start, &end) != 2)
            continue;
        uintptr_t gap_lo = prev_end, gap_hi = more ? (uintptr_t)start : (uintptr_t)1 << 47;
        if (more)
            prev_end = end > prev_end ? end : prev_end;
        if (gap_hi <= gap_lo || gap_hi - gap_lo < page)
            continue;
        /* the page of the gap nearest the buffer: its top below it, its bottom above it */
        uintptr_t cand = gap_hi <= lo ? gap_hi - page : gap_lo >= hi ? gap_lo : 0;
        if (!cand || (cand < lo && hi - cand >= reach) || (cand >= hi && cand + page - lo >= reach))
            continue;
        uintptr_t dist = cand < lo ? lo - cand : cand - hi;
        if (dist < best_dist)
            best = cand, best_dist = dist;
    }
    fclose(f);
    return best;
}

bool blockpatch_inline_setup(blockpatch *bp, const blockpatch_inline *how)
{
    if (!bp->on || bp->inline_tried || !bp->hi)
        return bp->inline_on;
    bp->inline_tried = true;
    if (how->off_limit >= 128 || how->off_blk_icount >= 128 || how->off_blk_pc >= 128)
        return false;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t want = free_page_near(bp->lo, bp->hi, page);
    void *at = want ? mmap((void *)want, page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
                    : MAP_FAILED;
    if (at != MAP_FAILED && (uintptr_t)at != want) { /* a kernel without the flag took it as a hint */
        munmap(at, page);
        at = MAP_FAILED;
    }
    if (at == MAP_FAILED)
        return false;
    uint8_t *stub = at;
    memcpy(stub, STUB_CODE, sizeof STUB_CODE);
    put64(stub + 10, (uint64_t)(uintptr_t)how->slow);
    if (mprotect(stub, page, PROT_READ | PROT_EXEC) != 0) {
        munmap(stub, page);
        return false;
    }
    bp->stub = stub;
    bp->how = *how;
    bp->inline_on = true;
    return true;
}

void blockpatch_queue_inline(blockpatch *bp, const void *ret)
{
    if (!bp->inline_on || !bp->last_note || bp->sites[bp->last_note - 1].ret != (uintptr_t)ret ||
        !bp->sites[bp->last_note - 1].have_orig)
        return;
    if (bp->nqueue == bp->queue_cap) {
        uint32_t cap = bp->queue_cap ? bp->queue_cap * 2 : 256;
        void *n = cap > bp->queue_cap ? realloc(bp->queue, (size_t)cap * sizeof *bp->queue) : NULL;
        if (!n)
            return; /* stays a kept count */
        bp->queue = n;
        bp->queue_cap = cap;
    }
    bp->queue[bp->nqueue].ret = (uintptr_t)ret;
    bp->queue[bp->nqueue].site = bp->last_note;
    bp->nqueue++;
}

void blockpatch_inline_queued(blockpatch *bp)
{
    uint32_t n = bp->nqueue;
    bp->nqueue = 0;
    if (!bp->inline_on)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = bp->queue[i].site;
        if (idx == 0 || idx > bp->nsites)
            continue;
        const blockpatch_site *site = &bp->sites[idx - 1];
        uintptr_t at = bp->queue[i].ret - SITE_BEFORE;
        if (site->ret != bp->queue[i].ret || !site->have_orig || !in_code_buffer(bp, at, at + BLOCKPATCH_SITE_BYTES))
            continue;
        const uint8_t *cur = (const uint8_t *)at;
        uint64_t tagged = le64(cur + 22);
        uint64_t value = tagged >> BLOCKPATCH_SHIFT;
        const void *plain = (const void *)(uintptr_t)(tagged & BLOCKPATCH_PTR_MASK);
        uint8_t want[BLOCKPATCH_SITE_BYTES], code[BLOCKPATCH_SITE_BYTES];
        if (value == 0 || value > 127 || !orig_is_unicorns(bp, site->orig, at, plain))
            continue;
        make_kept(site->orig, plain, (uint16_t)value, true, want);
        if (memcmp(cur, want, sizeof want) != 0 || !make_inline(bp, site->orig, at, (uint8_t)value, code))
            continue;
        memcpy((void *)at, code, sizeof code);
        bp->inlined++;
    }
}

/* A site with its Unicorn code noted: that code back if the site holds one of the rewrites. */
static void undo_from_orig(blockpatch *bp, const blockpatch_site *site, const void *user)
{
    uintptr_t at = site->ret - SITE_BEFORE;
    if (!in_code_buffer(bp, at, at + BLOCKPATCH_SITE_BYTES))
        return;
    uint8_t *cur = (uint8_t *)at;
    if (memcmp(cur, site->orig, BLOCKPATCH_SITE_BYTES) == 0)
        return;
    uint8_t want[BLOCKPATCH_SITE_BYTES];
    bool ours = false;
    if (cur[0] == 0x48 && cur[1] == 0xB8) { /* inline */
        ours = bp->inline_on && cur[17] >= 1 && cur[17] <= 127 && make_inline(bp, site->orig, at, cur[17], want) &&
               memcmp(cur, want, sizeof want) == 0;
    } else {
        uint64_t value = le64(cur + 22) >> BLOCKPATCH_SHIFT;
        for (int skipped = 0; skipped < 2 && !ours && value; skipped++) {
            make_kept(site->orig, user, (uint16_t)value, skipped, want);
            ours = value <= UINT16_MAX && memcmp(cur, want, sizeof want) == 0;
        }
    }
    if (ours)
        memcpy(cur, site->orig, BLOCKPATCH_SITE_BYTES);
}

/* Unicorn's code back at one site, if it is still the rewritten code of this hook. */
static void undo_site(blockpatch *bp, const blockpatch_site *site, const void *callback, const void *user,
                      const void *uc)
{
    uintptr_t end = site->ret;
    if (site->have_orig) {
        undo_from_orig(bp, site, user);
        return;
    }
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
        undo_site(bp, site, callback, user, uc);
        site->next = bp->free; /* reusable */
        bp->free = i;
        i = next;
    }
    p->head = 0; /* the key stays: an empty list (no deletion from open addressing) */
}
