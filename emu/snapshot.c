#include "emu/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <lz4.h>

#include "emu/machine.h"
#include "emu/recplay.h"
#include "emu/state_ser.h"
#include "mmu/tlb.h"

#define PAGE 4096u

typedef struct snap_page {
    uint32_t pfn;
    uint32_t size;  /* compressed bytes; 0 = an all-zero page */
    uint8_t *data;
} snap_page;

typedef struct snapshot {
    uint64_t insns;
    uint8_t *cpu;
    uint8_t *pt_pages; /* m->pt_pages LZ4-compressed: almost all zero, and 1/4096 of RAM */
    size_t pt_size;
    machine_state state;
    size_t log_count;
    recplay_mark rec; /* where recording or replay stood (emu/recplay.h) */
    bool scheduled;   /* taken on the `every` schedule, not on the user's request */
    uint64_t *pending; /* the user's snapshot: the timeline's `pending` as it stood after it */
    snap_page *pages; /* sorted by pfn */
    size_t npages;
    size_t bytes;
} snapshot;

typedef struct timeline {
    snapshot *snaps;
    size_t count, cap;
    uint64_t every;
    uint64_t *restore; /* scratch bitmap of pages to restore */
    uint64_t *nonzero; /* scratch bitmap: pages that may hold something other than zeros */
    uint8_t *pt_scratch; /* room for m->pt_pages compressed */
    size_t pt_room;
    uint64_t *pending; /* pages written since the last scheduled snapshot and before the latest
                          (a user's): a scheduled snapshot's digest covers them too, so it does
                          not depend on the snapshots the user took in between */
    size_t limit;      /* bytes all snapshots may hold; 0 = no limit */
    size_t bytes;      /* bytes all snapshots hold now */
    double ratio;       /* thinning's resolution: gaps up to age / ratio; 0 = not thinned yet */
    uint64_t thin_work; /* snapshot entries examined or moved by thinning, for tests */
} timeline;

static uint64_t mix(uint64_t h, const void *data, size_t len);
static uint64_t state_digest(machine *m);

/* The machine state is plain data (emu/machine.h): one assignment each way. */
static void save_state(const machine *m, machine_state *s) { *s = m->state; }

static void load_state(machine *m, const machine_state *s)
{
    m->state = *s;
    vcpu_watch_blocks(m->cpu, m->rom.npending > 0); /* a native ROM call in flight at the snapshot */
    vcpu_watch_iret(m->cpu, m->nmi_blocked);        /* an NMI handler running at the snapshot */
}

static void free_snapshot(snapshot *s)
{
    for (size_t i = 0; i < s->npages; i++)
        free(s->pages[i].data);
    free(s->pages);
    free(s->cpu);
    free(s->pt_pages);
    free(s->pending);
    memset(s, 0, sizeof *s);
}

static const uint8_t zero_page[PAGE];

static bool page_is_zero(const uint8_t *p) { return memcmp(p, zero_page, PAGE) == 0; }

/* Page pfn's contents to read: the zero page when maybe (if any) says it holds only zeros, so
 * that a page the guest never touched is not read (each would cost a page fault). */
static const uint8_t *page_at(const machine *m, const uint64_t *maybe, uint64_t pfn)
{
    return maybe && !(maybe[pfn >> 6] >> (pfn & 63) & 1) ? zero_page : m->mem.ram + pfn * PAGE;
}

/* One page LZ4-compressed into out; false if it fails. LZ4, not zlib: a boot's snapshots
 * compress every page it wrote (the first one the kernel and its unpacked initramfs), and zlib
 * at level 1 was a tenth of a recorded Linux boot's host time. The pages never leave the
 * process. */
static bool deflate_page(const uint8_t *page, uint8_t *out, size_t room, size_t *len)
{
    int n = LZ4_compress_default((const char *)page, (char *)out, (int)PAGE, (int)room);
    *len = n > 0 ? (size_t)n : 0;
    return n > 0;
}

/* Save page pfn into s (compressed; an all-zero page costs no data). */
static bool save_page(machine *m, snapshot *s, bool first, const uint64_t *maybe, uint64_t pfn, vm_error *err)
{
    uint8_t buf[PAGE + PAGE / 8 + 64];
    const uint8_t *page = page_at(m, maybe, pfn);
    snap_page *sp = &s->pages[s->npages];
    sp->pfn = (uint32_t)pfn;
    if (page_is_zero(page)) {
        if (first)
            return true; /* before the first snapshot, absent means zero */
    } else {
        size_t len = 0;
        if (!deflate_page(page, buf, sizeof buf, &len) || !(sp->data = malloc(len)))
            return vm_fail(err, VM_ENOMEM, "cannot compress page %llu for a snapshot", (unsigned long long)pfn);
        memcpy(sp->data, buf, len);
        sp->size = (uint32_t)len;
        s->bytes += len;
    }
    s->npages++;
    return true;
}

/* Compress the pages written since the last snapshot (all non-zero pages for the first). When
 * most pages are to be saved (the first snapshot, the one after a power-on), *maybe is set to
 * the pages that may hold something other than zeros, else to NULL. */
static bool save_pages(machine *m, snapshot *s, bool first, const uint64_t **maybe, vm_error *err)
{
    dirty_map *d = &m->dirty;
    size_t n = 0, words = (d->npages + 63) / 64;
    for (size_t w = 0; w < words; w++) /* a word at a time: most of a big RAM is clean */
        n += (size_t)__builtin_popcountll(d->bits[w]);
    *maybe = NULL;
    if (n > d->npages / 4) {
        dirty_maybe_nonzero(d, m->timeline->nonzero);
        *maybe = m->timeline->nonzero;
    }
    s->pages = calloc(n ? n : 1, sizeof *s->pages);
    if (!s->pages)
        return vm_fail(err, VM_ENOMEM, "out of memory for a snapshot");
    for (size_t w = 0; w < words; w++) {
        for (uint64_t bits = d->bits[w]; bits; bits &= bits - 1) {
            uint64_t pfn = w * 64 + (uint64_t)__builtin_ctzll(bits);
            if (pfn >= d->npages)
                break;
            if (!save_page(m, s, first, *maybe, pfn, err))
                return false;
        }
    }
    return true;
}

/* Fold snapshot a into its successor b: pages only a holds move on, so every later restore still
 * finds each page's latest version at or before it. a is freed; the caller drops its slot. */
static bool fold_into(timeline *t, snapshot *a, snapshot *b)
{
    snap_page *merged = malloc((a->npages + b->npages + 1) * sizeof *merged);
    if (!merged)
        return false;
    size_t held = a->bytes + b->bytes;
    size_t i = 0, k = 0, n = 0;
    while (i < a->npages || k < b->npages) {
        if (k == b->npages || (i < a->npages && a->pages[i].pfn < b->pages[k].pfn)) {
            merged[n++] = a->pages[i];
            b->bytes += a->pages[i++].size;
        } else {
            if (i < a->npages && a->pages[i].pfn == b->pages[k].pfn)
                free(a->pages[i++].data); /* b has a newer version */
            merged[n++] = b->pages[k++];
        }
    }
    free(b->pages);
    b->pages = merged;
    b->npages = n;
    free(a->pages);
    a->pages = NULL;
    a->npages = 0;
    t->bytes -= held - b->bytes; /* a's CPU state and page versions b supersedes */
    return true;
}

/* One thinning pass with resolution r: walking from the latest snapshot back to the first,
 * snapshot j is folded into the next kept one (its live successor) when the gap that leaves,
 * from j's predecessor to that successor, is at most the successor's age / r. So the spacing
 * grows in proportion to age: dense near the present (everything younger than r intervals is
 * kept), sparse far back, about r * ln(age / r) snapshots in all. The first and the latest are
 * always kept. One pass examines and moves each snapshot at most once. */
static void thin_pass(timeline *t, double r)
{
    size_t n = t->count, keep = n - 1, w = n - 1;
    uint64_t now = t->snaps[n - 1].insns;
    for (size_t j = n - 1; j-- > 1;) {
        t->thin_work++;
        snapshot *s = &t->snaps[j];
        double allowed = (double)(now - t->snaps[keep].insns) / r;
        if ((double)(t->snaps[keep].insns - t->snaps[j - 1].insns) <= allowed && fold_into(t, s, &t->snaps[keep])) {
            free_snapshot(s);
            continue;
        }
        t->snaps[--w] = *s;
        keep = w;
    }
    t->thin_work += n - w;
    memmove(&t->snaps[1], &t->snaps[w], (n - w) * sizeof *t->snaps);
    t->count = 1 + n - w;
}

/* Keep within the memory budget. Over it, a pass at the current resolution drops what has aged
 * out of it; while the snapshots still hold more than 3/4 of the budget, the resolution halves
 * and another pass runs. A pass costs O(n); the next thinning waits until a quarter of the
 * budget has filled again with new snapshots, and the resolution only ever halves, so each
 * snapshot costs amortised O(1) (the old scheme scanned and memmoved every snapshot for each
 * one it dropped: ~1 ms a snapshot with thousands kept). */
static void thin(machine *m)
{
    timeline *t = m->timeline;
    if (!t->limit || t->bytes <= t->limit || t->count <= 2)
        return;
    size_t low = t->limit / 4 * 3;
    if (t->ratio == 0)
        t->ratio = (double)t->count;
    thin_pass(t, t->ratio);
    while (t->bytes > low && t->count > 2 && t->ratio > 1.0 / 1024) {
        t->ratio /= 2;
        thin_pass(t, t->ratio);
    }
}

bool snap_take(machine *m, vm_error *err)
{
    timeline *t = m->timeline;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        snapshot *n = realloc(t->snaps, cap * sizeof *n);
        if (!n)
            return vm_fail(err, VM_ENOMEM, "out of memory for snapshots");
        t->snaps = n;
        t->cap = cap;
    }
    /* On the schedule, or one the user asked for in between: only the scheduled ones are in a
     * record, since a replay takes only those. */
    bool scheduled = t->count == 0 || machine_insns(m) >= snap_next_due(m);
    snapshot *s = &t->snaps[t->count];
    memset(s, 0, sizeof *s);
    s->insns = machine_insns(m);
    s->log_count = evlog_count(&m->log);
    /* Snapshots are in time order (a restore drops the later ones), which thinning, goto and
     * the record's checkpoints rely on. */
    VM_ASSERT(t->count == 0 || (s->insns >= t->snaps[t->count - 1].insns &&
                                s->log_count >= t->snaps[t->count - 1].log_count));
    save_state(m, &s->state);
    size_t cpu_size = vcpu_state_size(m->cpu); /* grows with the guest's TLB */
    s->cpu = malloc(cpu_size);
    int pt_size = LZ4_compress_default((const char *)m->pt_pages, (char *)t->pt_scratch, (int)(m->mem.size / PAGE),
                                       (int)t->pt_room);
    s->pt_size = pt_size > 0 ? (size_t)pt_size : 0;
    s->pt_pages = s->pt_size ? malloc(s->pt_size) : NULL;
    if (!s->cpu || !s->pt_pages || !vcpu_save_state(m->cpu, s->cpu)) {
        free_snapshot(s);
        return vm_fail(err, VM_ENOMEM, "cannot save the CPU state for a snapshot");
    }
    memcpy(s->pt_pages, t->pt_scratch, s->pt_size);
    s->bytes = cpu_size + s->pt_size + sizeof *s;
    uint64_t digest = state_digest(m);
    dirty_sync(&m->dirty);
    size_t words = (m->dirty.npages + 63) / 64;
    const uint64_t *maybe;
    if (!save_pages(m, s, t->count == 0, &maybe, err)) {
        free_snapshot(s);
        return false;
    }
    if (scheduled) { /* the pages written since the last scheduled snapshot, in pfn order */
        for (size_t w = 0; w < words; w++)
            for (uint64_t bits = t->pending[w] | m->dirty.bits[w]; bits; bits &= bits - 1) {
                uint64_t pfn = w * 64 + (uint64_t)__builtin_ctzll(bits);
                if (pfn < m->dirty.npages)
                    digest = mix(mix(digest, &pfn, sizeof pfn), page_at(m, maybe, pfn), PAGE);
            }
        memset(t->pending, 0, words * sizeof *t->pending);
    } else {
        for (size_t w = 0; w < words; w++)
            t->pending[w] |= m->dirty.bits[w];
        if (!(s->pending = malloc(words * sizeof *s->pending))) {
            free_snapshot(s);
            return vm_fail(err, VM_ENOMEM, "out of memory for a snapshot");
        }
        memcpy(s->pending, t->pending, words * sizeof *s->pending);
        s->bytes += words * sizeof *s->pending;
    }
    s->scheduled = scheduled;
    t->count++;
    t->bytes += s->bytes;
    dirty_rearm_synced(&m->dirty); /* the snapshot only read guest memory */
    thin(m);
    if (m->recplay) /* the new snapshot is the latest: thinning keeps it, at the end */
        t->snaps[t->count - 1].rec = recplay_on_snapshot(m, digest, scheduled);
    return true;
}

static const snap_page *find_page(const snapshot *s, uint32_t pfn)
{
    size_t lo = 0, hi = s->npages;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->pages[mid].pfn < pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->npages && s->pages[lo].pfn == pfn ? &s->pages[lo] : NULL;
}

/* Page pfn as it was at snapshot k: from the latest snapshot at or before k that holds it. */
static bool restore_page(machine *m, size_t k, uint32_t pfn)
{
    uint8_t *dst = m->mem.ram + (uint64_t)pfn * PAGE;
    for (size_t j = k + 1; j-- > 0;) {
        const snap_page *sp = find_page(&m->timeline->snaps[j], pfn);
        if (!sp)
            continue;
        if (!sp->size) {
            memset(dst, 0, PAGE);
            return true;
        }
        return LZ4_decompress_safe((const char *)sp->data, (char *)dst, (int)sp->size, (int)PAGE) == (int)PAGE;
    }
    memset(dst, 0, PAGE);
    return true;
}

static bool restore(machine *m, size_t k, vm_error *err)
{
    timeline *t = m->timeline;
    VM_ASSERT(k < t->count);
    size_t words = (m->dirty.npages + 63) / 64;
    dirty_sync(&m->dirty);
    memcpy(t->restore, m->dirty.bits, words * sizeof *t->restore); /* written since the last */
    for (size_t j = k + 1; j < t->count; j++)
        for (size_t i = 0; i < t->snaps[j].npages; i++) {
            uint32_t pfn = t->snaps[j].pages[i].pfn;
            t->restore[pfn >> 6] |= 1ull << (pfn & 63);
        }
    dirty_disarm(&m->dirty);
    for (uint64_t pfn = 0; pfn < m->dirty.npages; pfn++)
        if ((t->restore[pfn >> 6] >> (pfn & 63) & 1) && !restore_page(m, k, (uint32_t)pfn))
            return vm_fail(err, VM_EFORMAT, "snapshot %zu: page %llu does not decompress", k, (unsigned long long)pfn);
    const snapshot *s = &t->snaps[k];
    if (LZ4_decompress_safe((const char *)s->pt_pages, (char *)m->pt_pages, (int)s->pt_size, (int)(m->mem.size / PAGE)) !=
        (int)(m->mem.size / PAGE))
        return vm_fail(err, VM_EFORMAT, "snapshot %zu: the page-table marks do not decompress", k);
    if (!vcpu_load_state(m->cpu, s->cpu))
        return vm_fail(err, VM_EENGINE, "cannot load the CPU state of snapshot %zu", k);
    load_state(m, &s->state);
    evlog_truncate(&m->log, s->log_count);
    m->end = END_RUNNING;
    m->end_message[0] = 0;
    for (size_t j = k + 1; j < t->count; j++) { /* the future is run again from here */
        t->bytes -= t->snaps[j].bytes;
        free_snapshot(&t->snaps[j]);
    }
    t->count = k + 1;
    dirty_rearm(&m->dirty);
    if (s->pending)
        memcpy(t->pending, s->pending, words * sizeof *t->pending);
    else
        memset(t->pending, 0, words * sizeof *t->pending);
    if (m->recplay)
        recplay_on_restore(m, &s->rec);
    return true;
}

bool snap_goto(machine *m, uint64_t insns, vm_error *err)
{
    timeline *t = m->timeline;
    if (!t)
        return vm_fail(err, VM_EINVAL, "snapshots are off (use --snap-every)");
    uint64_t now = machine_insns(m);
    if (insns < now || m->end != END_RUNNING) {
        size_t k = t->count;
        while (k > 0 && t->snaps[k - 1].insns > insns)
            k--;
        if (k == 0)
            return vm_fail(err, VM_EINVAL, "no snapshot at or before instruction %llu", (unsigned long long)insns);
        if (!restore(m, k - 1, err))
            return false;
    }
    machine_end e;
    bool nested = m->in_goto;
    m->in_goto = true;
    do /* breakpoints and watchpoints on the way do not stop a goto */
        e = machine_run_until(m, insns);
    while (e == END_RUNNING && (m->break_hit || m->watch_hit) && machine_insns(m) < insns);
    m->in_goto = nested;
    m->break_hit = false;
    m->watch_hit = false;
    /* Moved here: running on performs a VMI call entered here, as after a `break vmi` stop
     * here (a skip left from an earlier pass through this instruction count would hide it). */
    m->vmi_break_skip = machine_insns(m);
    if (e != END_RUNNING && machine_insns(m) != insns)
        return vm_fail(err, VM_EINVAL, "the run ended (%s) at instruction %llu, before %llu", machine_end_name(e),
                       (unsigned long long)machine_insns(m), (unsigned long long)insns);
    return true;
}

bool snap_enable(machine *m, uint64_t every, vm_error *err)
{
    timeline *t = calloc(1, sizeof *t);
    if (!t)
        return vm_fail(err, VM_ENOMEM, "out of memory for snapshots");
    t->every = every;
    t->limit = (size_t)m->cfg.snap_mem_mib << 20;
    m->timeline = t;
    if (!dirty_init(&m->dirty, &m->mem, err) ||
        !(t->restore = calloc((m->dirty.npages + 63) / 64, sizeof *t->restore)) ||
        !(t->nonzero = calloc((m->dirty.npages + 63) / 64, sizeof *t->nonzero)) ||
        !(t->pt_scratch = malloc(t->pt_room = (size_t)LZ4_compressBound((int)(m->mem.size / PAGE)))) ||
        !(t->pending = calloc((m->dirty.npages + 63) / 64, sizeof *t->pending))) {
        snap_disable(m);
        return err && err->code ? false : vm_fail(err, VM_ENOMEM, "out of memory for snapshots");
    }
    dirty_mark_all(&m->dirty);
    if (!snap_take(m, err)) {
        snap_disable(m);
        return false;
    }
    return true;
}

void snap_forget(machine *m)
{
    timeline *t = m->timeline;
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        free_snapshot(&t->snaps[i]);
    t->count = 0;
    t->bytes = 0;
    t->ratio = 0;
    if (t->pending)
        memset(t->pending, 0, (m->dirty.npages + 63) / 64 * sizeof *t->pending);
    dirty_mark_all(&m->dirty); /* the next snapshot is a first one again */
}

void snap_disable(machine *m)
{
    timeline *t = m->timeline;
    if (!t)
        return;
    snap_forget(m);
    free(t->snaps);
    free(t->restore);
    free(t->pt_scratch);
    free(t->nonzero);
    free(t->pending);
    free(t);
    m->timeline = NULL;
    dirty_free(&m->dirty);
}

uint64_t snap_next_due(const machine *m)
{
    const timeline *t = m->timeline;
    if (!t || t->count == 0)
        return 0;
    /* Every `every` instructions from the first snapshot (power-on), whatever snapshots the user
     * took in between: a run with extra snapshots keeps the schedule, and so its digests. */
    uint64_t first = t->snaps[0].insns, last = t->snaps[t->count - 1].insns;
    return first + ((last - first) / t->every + 1) * t->every;
}

size_t snap_count(const machine *m) { return m->timeline ? m->timeline->count : 0; }

uint64_t snap_insns(const machine *m, size_t i) { return m->timeline->snaps[i].insns; }

size_t snap_bytes(const machine *m) { return m->timeline ? m->timeline->bytes : 0; }

bool snap_thinned(const machine *m) { return m->timeline && m->timeline->ratio > 0; }

uint64_t snap_thin_work(const machine *m) { return m->timeline ? m->timeline->thin_work : 0; }

/* FNV-1a over 64-bit words: fast enough for tests over a small guest, and order-sensitive. */
static uint64_t mix(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; len; len--, p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

void snap_serialise_state(machine *m, state_writer *w)
{
    for (int r = 0; r < CPU_NREGS; r++)
        state_put_u32(w, vcpu_get(m->cpu, (cpu_reg)r));
    state_put_u64(w, machine_insns(m));
    state_put_u64(w, m->idle_cycles);
    state_put_u64(w, m->insns_before_boot);
    state_put_bool(w, m->halt_requested);
    state_put_bool(w, m->step_shadow);
    state_put_bool(w, m->nmi_blocked);
    state_put_u32(w, m->reboots);
    state_put_u64(w, vcpu_tsc_adjust(m->cpu));
    const void *tlb;
    size_t tlb_bytes;
    vcpu_tlb_state(m->cpu, &tlb, &tlb_bytes); /* what the guest's loads go through */
    const mmu_tlb_entry *e = tlb;
    size_t n = tlb_bytes / sizeof *e;
    state_put_u32(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        state_put_u32(w, e[i].vpage);
        state_put_u32(w, e[i].flags);
        state_put_u64(w, e[i].page);
    }
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->serialise)
            machine_devices[i]->serialise(m, w);
    uint8_t rom[ROM_STATE_SER_MAX];
    state_put_bytes(w, rom, rom_state_serialise(&m->rom, rom));
}

/* Registers, clock and device state: everything but memory, as the versioned stream. */
static uint64_t state_digest(machine *m)
{
    state_writer w;
    state_writer_init(&w, NULL, 0);
    snap_serialise_state(m, &w);
    return state_writer_finish(&w);
}

uint64_t machine_state_hash(machine *m) { return mix(state_digest(m), m->mem.ram, m->mem.size); }
