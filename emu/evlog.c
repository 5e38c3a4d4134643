#include "emu/evlog.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <lz4.h>
#include <unistd.h>

#include "cpu/descriptor.h"
#include "emu/machine.h"
#include "rom/rom.h"

/* One full chunk: where its events are and what the index needs to find them. */
typedef struct chunk {
    uint64_t first_icount, last_icount; /* ev_logged_at of its first and last events */
    size_t before[EV_KINDS]; /* events of each kind in all earlier chunks */
    uint32_t kinds[EV_KINDS]; /* events of each kind in this chunk */
    uint8_t *data;            /* LZ4-compressed encoding; NULL once spilled */
    uint32_t size, raw_size;  /* compressed and encoded bytes */
    off_t offset;             /* in the spill file, or -1 */
} chunk;

#define CACHE_SLOTS 4

typedef struct cache_slot {
    size_t chunk; /* SIZE_MAX = empty */
    uint64_t used;
    vm_event *events;
} cache_slot;

struct evlog_store {
    chunk *chunks;
    size_t nchunks, cap;
    vm_event *hot; /* the newest events, not yet a full chunk */
    size_t nhot;
    uint32_t hot_kinds[EV_KINDS];
    size_t limit;       /* compressed bytes kept in memory */
    size_t compressed;  /* compressed bytes in memory now */
    size_t first_resident; /* chunks before this one are spilled */
    FILE *spill;        /* unlinked temporary file, opened on the first spill */
    off_t spill_end;
    cache_slot cache[CACHE_SLOTS];
    uint64_t tick;
    size_t decodes;
    uint8_t *scratch;   /* encode/decode buffer */
};

/* Worst case of one encoded event: 3 header bytes, 11 varints of at most 10 bytes. */
#define EVENT_MAX_BYTES 113u

void evlog_init(evlog *log)
{
    memset(log, 0, sizeof *log);
}

static struct evlog_store *store_of(evlog *log)
{
    if (log->store)
        return log->store;
    struct evlog_store *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->hot = malloc(EVLOG_CHUNK * sizeof *st->hot);
    st->scratch = malloc(EVLOG_CHUNK * EVENT_MAX_BYTES);
    if (!st->hot || !st->scratch) {
        free(st->hot);
        free(st->scratch);
        free(st);
        return NULL;
    }
    st->limit = (size_t)EVLOG_DEFAULT_MEM_MIB << 20;
    for (int i = 0; i < CACHE_SLOTS; i++)
        st->cache[i].chunk = SIZE_MAX;
    log->store = st;
    return st;
}

void evlog_free(evlog *log)
{
    struct evlog_store *st = log->store;
    if (!st)
        return;
    for (size_t c = 0; c < st->nchunks; c++)
        free(st->chunks[c].data);
    for (int i = 0; i < CACHE_SLOTS; i++)
        free(st->cache[i].events);
    if (st->spill)
        fclose(st->spill);
    free(st->chunks);
    free(st->hot);
    free(st->scratch);
    free(st);
    log->store = NULL;
}

void evlog_set_mem_limit(evlog *log, size_t bytes)
{
    struct evlog_store *st = store_of(log);
    if (st)
        st->limit = bytes;
}

size_t evlog_count(const evlog *log)
{
    const struct evlog_store *st = log->store;
    return st ? st->nchunks * EVLOG_CHUNK + st->nhot : 0;
}

/* The encoding: per event a header byte (kind, failed, which of result/num/insns are non-zero),
 * a byte of which args and extras are non-zero, then varints: icount and eip as zigzag deltas
 * from the previous event, the rest as values. */

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static uint64_t zigzag(int64_t v) { return (uint64_t)v << 1 ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Bit k: args[k] (k < 5) or extra[k - 5] is not 0. The eight words follow each other, and
 * four compares at once are a fifth of the eight single ones (the encoding runs once an
 * event, a million times a boot). */
static uint8_t nonzero_words(const vm_event *ev)
{
    _Static_assert(offsetof(vm_event, extra) == offsetof(vm_event, args) + 5 * sizeof(uint32_t), "args, then extra");
    typedef uint32_t words4 __attribute__((vector_size(16)));
    words4 lo, hi;
    memcpy(&lo, ev->args, sizeof lo);
    memcpy(&hi, &ev->args[4], sizeof hi);
    const words4 bit_lo = {1, 2, 4, 8}, bit_hi = {16, 32, 64, 128};
    words4 bits = ((words4)(lo != 0) & bit_lo) | ((words4)(hi != 0) & bit_hi);
    return (uint8_t)(bits[0] | bits[1] | bits[2] | bits[3]);
}

static size_t encode(const vm_event *ev, size_t n, uint8_t *out)
{
    uint8_t *p = out;
    uint64_t icount = 0;
    uint32_t eip = 0;
    for (size_t i = 0; i < n; i++, ev++) {
        uint8_t mask = nonzero_words(ev);
        *p++ = (uint8_t)((ev->kind & 0xF) | (ev->failed ? 0x10 : 0) | (ev->result ? 0x20 : 0) | (ev->num ? 0x40 : 0) |
                         (ev->insns ? 0x80 : 0));
        *p++ = mask;
        *p++ = ev->nargs;
        p = put_varint(p, zigzag((int64_t)(ev->icount - icount)));
        p = put_varint(p, zigzag((int64_t)(int32_t)(ev->eip - eip)));
        if (ev->result)
            p = put_varint(p, ev->result);
        if (ev->num)
            p = put_varint(p, ev->num);
        if (ev->insns)
            p = put_varint(p, ev->insns);
        for (unsigned left = mask; left; left &= left - 1) { /* the non-zero ones only, in mask order */
            unsigned b = (unsigned)__builtin_ctz(left);
            p = put_varint(p, b < 5 ? ev->args[b] : ev->extra[b - 5]);
        }
        icount = ev->icount;
        eip = ev->eip;
    }
    return (size_t)(p - out);
}

static bool decode(const uint8_t *p, size_t len, vm_event *ev, size_t n)
{
    const uint8_t *end = p + len;
    uint64_t icount = 0, v;
    uint32_t eip = 0;
    for (size_t i = 0; i < n; i++, ev++) {
        if (end - p < 3)
            return false;
        memset(ev, 0, sizeof *ev);
        uint8_t head = *p++, mask = *p++;
        ev->nargs = *p++;
        ev->kind = head & 0xF;
        ev->failed = head >> 4 & 1;
        if (!get_varint(&p, end, &v))
            return false;
        ev->icount = icount += (uint64_t)unzigzag(v);
        if (!get_varint(&p, end, &v))
            return false;
        ev->eip = eip += (uint32_t)unzigzag(v);
        if ((head & 0x20) && !get_varint(&p, end, &ev->result))
            return false;
        if (head & 0x40) {
            if (!get_varint(&p, end, &v))
                return false;
            ev->num = (uint16_t)v;
        }
        if (head & 0x80) {
            if (!get_varint(&p, end, &v))
                return false;
            ev->insns = (uint32_t)v;
        }
        for (int a = 0; a < 8; a++) {
            if (!(mask >> a & 1))
                continue;
            if (!get_varint(&p, end, &v))
                return false;
            if (a < 5)
                ev->args[a] = (uint32_t)v;
            else
                ev->extra[a - 5] = (uint32_t)v;
        }
    }
    return p == end;
}

/* Move the oldest chunks held in memory to the spill file until the cap holds. */
static bool spill(struct evlog_store *st)
{
    while (st->compressed > st->limit && st->first_resident < st->nchunks) {
        chunk *c = &st->chunks[st->first_resident];
        if (!st->spill && !(st->spill = tmpfile())) /* tmpfile: created already unlinked */
            return false;
        if (pwrite(fileno(st->spill), c->data, c->size, st->spill_end) != (ssize_t)c->size)
            return false;
        c->offset = st->spill_end;
        st->spill_end += c->size;
        st->compressed -= c->size;
        free(c->data);
        c->data = NULL;
        st->first_resident++;
    }
    return true;
}

/* The hot array is full: encode and compress it into a new chunk. */
static bool seal_hot(struct evlog_store *st)
{
    VM_ASSERT(st->nhot == EVLOG_CHUNK);
    if (st->nchunks == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        chunk *n = realloc(st->chunks, cap * sizeof *n);
        if (!n)
            return false;
        st->chunks = n;
        st->cap = cap;
    }
    /* LZ4, not zlib: a boot seals a chunk every 4096 calls, and zlib's level 1 cost ~550 host
     * instructions an event here (a tenth of a recorded VMI call), LZ4 a fraction of that for
     * chunks about 1.5x as large (the log's memory cap and spill file hold them alike). */
    size_t raw = encode(st->hot, st->nhot, st->scratch);
    int bound = LZ4_compressBound((int)raw);
    uint8_t *data = malloc((size_t)bound);
    int size = data ? LZ4_compress_default((const char *)st->scratch, (char *)data, (int)raw, bound) : 0;
    if (size <= 0) {
        free(data);
        return false;
    }
    uint8_t *fit = realloc(data, (size_t)size);
    chunk *c = &st->chunks[st->nchunks];
    memset(c, 0, sizeof *c);
    c->data = fit ? fit : data;
    c->size = (uint32_t)size;
    c->raw_size = (uint32_t)raw;
    c->offset = -1;
    c->first_icount = ev_logged_at(&st->hot[0]);
    c->last_icount = ev_logged_at(&st->hot[st->nhot - 1]);
    for (int k = 0; k < EV_KINDS; k++) {
        c->before[k] = st->nchunks ? c[-1].before[k] + c[-1].kinds[k] : 0;
        c->kinds[k] = st->hot_kinds[k];
        st->hot_kinds[k] = 0;
    }
    st->nchunks++;
    st->nhot = 0;
    st->compressed += c->size;
    return spill(st);
}

bool evlog_add(evlog *log, const vm_event *ev)
{
    if (log->sink)
        log->sink(log->sink_ctx, ev);
    if (log->observer)
        log->observer(log->observer_ctx, ev);
    struct evlog_store *st = store_of(log);
    if (!st)
        return false;
    st->hot[st->nhot++] = *ev;
    st->hot_kinds[ev->kind < EV_KINDS ? ev->kind : 0]++;
    return st->nhot < EVLOG_CHUNK || seal_hot(st);
}

/* Full chunk ci decoded (through the cache), or NULL if it cannot be read back. */
static const vm_event *chunk_events(struct evlog_store *st, size_t ci)
{
    VM_ASSERT(ci < st->nchunks);
    cache_slot *slot = &st->cache[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (st->cache[i].chunk == ci) {
            st->cache[i].used = ++st->tick;
            return st->cache[i].events;
        }
        if (st->cache[i].used < slot->used)
            slot = &st->cache[i];
    }
    if (!slot->events && !(slot->events = malloc(EVLOG_CHUNK * sizeof *slot->events)))
        return NULL;
    const chunk *c = &st->chunks[ci];
    uint8_t *packed = c->data;
    if (!packed) {
        if (!(packed = malloc(c->size)))
            return NULL;
        if (pread(fileno(st->spill), packed, c->size, c->offset) != (ssize_t)c->size) {
            free(packed);
            return NULL;
        }
    }
    int raw = LZ4_decompress_safe((const char *)packed, (char *)st->scratch, (int)c->size, (int)c->raw_size);
    bool ok = raw >= 0 && (uint32_t)raw == c->raw_size && decode(st->scratch, (size_t)raw, slot->events, EVLOG_CHUNK);
    if (packed != c->data)
        free(packed);
    st->decodes++;
    slot->chunk = ok ? ci : SIZE_MAX;
    slot->used = ++st->tick;
    return ok ? slot->events : NULL;
}

/* The events of chunk ci (the hot array for ci == nchunks), or NULL. */
static const vm_event *events_of(struct evlog_store *st, size_t ci)
{
    return ci == st->nchunks ? st->hot : chunk_events(st, ci);
}

bool evlog_get(const evlog *log, size_t i, vm_event *out)
{
    struct evlog_store *st = log->store;
    if (i >= evlog_count(log))
        return false;
    const vm_event *evs = events_of(st, i / EVLOG_CHUNK);
    if (!evs)
        return false;
    *out = evs[i % EVLOG_CHUNK];
    return true;
}

void evlog_truncate(evlog *log, size_t n)
{
    struct evlog_store *st = log->store;
    if (n >= evlog_count(log))
        return;
    size_t ci = n / EVLOG_CHUNK;
    if (ci < st->nchunks) { /* the cut is in a full chunk: it becomes the hot array again */
        const vm_event *evs = chunk_events(st, ci);
        if (evs)
            memcpy(st->hot, evs, (n % EVLOG_CHUNK) * sizeof *st->hot);
        else
            n = ci * EVLOG_CHUNK; /* unreadable: cut at its start (it cannot be read back anyway) */
        for (size_t c = ci; c < st->nchunks; c++) {
            if (st->chunks[c].data)
                st->compressed -= st->chunks[c].size;
            else if (st->chunks[c].offset < st->spill_end) /* spilled in order: the tail of the file */
                st->spill_end = st->chunks[c].offset;
            free(st->chunks[c].data);
        }
        if (st->spill && ftruncate(fileno(st->spill), st->spill_end) != 0) {
            /* the file keeps its bytes; the next spill overwrites them */
        }
        st->nchunks = ci;
        if (st->first_resident > ci)
            st->first_resident = ci;
        for (int i = 0; i < CACHE_SLOTS; i++)
            if (st->cache[i].chunk != SIZE_MAX && st->cache[i].chunk >= ci)
                st->cache[i].chunk = SIZE_MAX;
    }
    st->nhot = n % EVLOG_CHUNK;
    memset(st->hot_kinds, 0, sizeof st->hot_kinds);
    for (size_t i = 0; i < st->nhot; i++)
        st->hot_kinds[st->hot[i].kind < EV_KINDS ? st->hot[i].kind : 0]++;
}

/* Events of kind k in all chunks before chunk ci (ci == nchunks: before the hot array). */
static size_t kinds_before(const struct evlog_store *st, size_t ci, ev_kind k)
{
    if (ci < st->nchunks)
        return st->chunks[ci].before[k];
    return st->nchunks ? st->chunks[ci - 1].before[k] + st->chunks[ci - 1].kinds[k] : 0;
}

size_t evlog_count_kind(const evlog *log, ev_kind k, size_t n)
{
    struct evlog_store *st = log->store;
    if ((unsigned)k >= EV_KINDS || !st)
        return 0;
    if (n > evlog_count(log))
        n = evlog_count(log);
    size_t ci = n / EVLOG_CHUNK, count = kinds_before(st, ci, k);
    if (n % EVLOG_CHUNK == 0)
        return count;
    const vm_event *evs = events_of(st, ci);
    for (size_t i = 0; evs && i < n % EVLOG_CHUNK; i++)
        count += evs[i].kind == k;
    return count;
}

bool evlog_find_kind(const evlog *log, ev_kind k, size_t n, size_t *index)
{
    struct evlog_store *st = log->store;
    if ((unsigned)k >= EV_KINDS || !st || n >= kinds_before(st, st->nchunks, k) + st->hot_kinds[k])
        return false;
    /* The last chunk (the hot array counting as chunk nchunks) with at most n before it: the
     * next one has more than n before it, so this one holds the n-th. */
    size_t lo = 0, hi = st->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (kinds_before(st, mid, k) <= n)
            lo = mid;
        else
            hi = mid - 1;
    }
    const vm_event *evs = events_of(st, lo);
    size_t left = n - kinds_before(st, lo, k), len = lo == st->nchunks ? st->nhot : EVLOG_CHUNK;
    for (size_t i = 0; evs && i < len; i++)
        if (evs[i].kind == k && left-- == 0) {
            *index = lo * EVLOG_CHUNK + i;
            return true;
        }
    VM_ASSERT(!evs); /* the index says chunk lo holds it: only an unreadable chunk may miss */
    return false;
}

size_t evlog_find_icount(const evlog *log, uint64_t icount)
{
    struct evlog_store *st = log->store;
    if (!st)
        return 0;
    size_t lo = 0, hi = st->nchunks; /* the first chunk whose last icount reaches icount */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->chunks[mid].last_icount < icount)
            lo = mid + 1;
        else
            hi = mid;
    }
    const vm_event *evs = events_of(st, lo);
    size_t len = lo == st->nchunks ? st->nhot : EVLOG_CHUNK;
    for (size_t i = 0; evs && i < len; i++)
        if (ev_logged_at(&evs[i]) >= icount)
            return lo * EVLOG_CHUNK + i;
    return lo == st->nchunks ? evlog_count(log) : (lo + 1) * EVLOG_CHUNK;
}

void evlog_get_stats(const evlog *log, evlog_stats *out)
{
    memset(out, 0, sizeof *out);
    const struct evlog_store *st = log->store;
    if (!st)
        return;
    out->chunks = st->nchunks;
    out->spilled = st->first_resident;
    out->compressed_bytes = st->compressed;
    out->spilled_bytes = (size_t)st->spill_end;
    out->decodes = st->decodes;
    out->memory_bytes = sizeof *st + st->cap * sizeof *st->chunks + st->compressed +
                        EVLOG_CHUNK * (sizeof *st->hot + EVENT_MAX_BYTES);
    for (int i = 0; i < CACHE_SLOTS; i++)
        out->memory_bytes += st->cache[i].events ? EVLOG_CHUNK * sizeof(vm_event) : 0;
}

/* The name's bytes live in args then extra: 20 + 12 = EV_MARKER_NAME_MAX. */
size_t ev_marker_name(const vm_event *ev, char *buf)
{
    size_t n = ev->num < EV_MARKER_NAME_MAX ? ev->num : EV_MARKER_NAME_MAX;
    size_t head = n < sizeof ev->args ? n : sizeof ev->args;
    memcpy(buf, ev->args, head);
    memcpy(buf + head, ev->extra, n - head);
    buf[n] = 0;
    return n;
}

void ev_set_marker_name(vm_event *ev, const char *name, size_t len)
{
    _Static_assert(sizeof ev->args + sizeof ev->extra == EV_MARKER_NAME_MAX, "marker name storage");
    size_t n = len < EV_MARKER_NAME_MAX ? len : EV_MARKER_NAME_MAX;
    size_t head = n < sizeof ev->args ? n : sizeof ev->args;
    memset(ev->args, 0, sizeof ev->args);
    memset(ev->extra, 0, sizeof ev->extra);
    memcpy(ev->args, name, head);
    memcpy(ev->extra, name + head, n - head);
    ev->num = (uint16_t)n;
}

const char *ev_kind_name(ev_kind k)
{
    static const char *const names[] = {"vmi", "port-in", "port-out", "exception", "memory", "guest-error", "end",
                                        "input", "marker"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* A bounded appender: writes never overrun, the total length is tracked. */
typedef struct out {
    char *buf;
    size_t len, pos;
} out;

__attribute__((format(printf, 2, 3))) static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL, o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->pos += (size_t)n;
}

static const rom_call *call_of(const vm_event *ev)
{
    if (ev->num == EV_NUM_INIT)
        return &rom_entry_init;
    if (ev->num == EV_NUM_RELOC)
        return &rom_entry_reloc;
    return rom_call_find(ev->num);
}

static const char *counter_name(uint32_t v)
{
    static const char *const names[] = {"real", "available", "stolen"};
    return v < 3 ? names[v] : "invalid";
}

static const char *reloc_name(uint32_t v)
{
    static const char *const names[] = {"NONE", "CALL_REL", "JUMP_REL", "NOP"};
    return v < 4 ? names[v] : "?";
}

/* Names of the set bits of v, "|"-separated; bits without a name are ignored. */
static void put_bits(out *o, uint32_t v, const char *const names[], int n, const char *sep)
{
    bool first = true;
    for (int i = 0; i < n; i++)
        if ((v >> i & 1) && names[i]) {
            put(o, "%s%s", first ? "" : sep, names[i]);
            first = false;
        }
    if (first)
        put(o, "-");
}

static void put_pte(out *o, uint32_t v)
{
    static const char *const bits[] = {"P", "RW", "US", "PWT", "PCD", "A", "D", "PS", "G"};
    put(o, "0x%08x [frame 0x%08x ", v, v & 0xFFFFF000u);
    put_bits(o, v, bits, 9, " ");
    put(o, "]");
}

static void put_page_flags(out *o, uint32_t v)
{
    static const char *const bits[] = {"PT", "PD", "PDP", "PML4", "CURRENT_AS", "DEFER"};
    put_bits(o, v & 0x3F, bits, 6, "|");
    if (v & 0x10)
        put(o, " va=0x%08x", v & 0xFFFFF000u);
}

static void put_alloc_flags(out *o, uint32_t v)
{
    static const char *const bits[] = {"PT", "PD", "PDP", "PML4", "PAE", "CLONE", "ZEROED"};
    put_bits(o, v, bits, 7, "|");
}

static void put_alarm_flags(out *o, uint32_t v)
{
    put(o, "%s %s %s", counter_name(v & 0xFF), v & 0x100 ? "periodic" : "one-shot",
        v & 0x10000 ? "apic-lvt" : "irq0");
}

static void put_descriptor(out *o, uint32_t lo, uint32_t hi)
{
    seg_desc d;
    char text[96];
    desc_decode((uint64_t)hi << 32 | lo, &d);
    desc_format(&d, text, sizeof text);
    put(o, "0x%08x [%s]", lo, text);
}

static void put_gate(out *o, uint32_t lo, uint32_t hi)
{
    gate_desc g;
    gate_decode((uint64_t)hi << 32 | lo, &g);
    const char *kind = g.type == GATE_INT32 ? "int32" : g.type == GATE_TRAP32 ? "trap32" : g.type == GATE_TASK ? "task"
                       : g.type == GATE_INT16 ? "int16" : g.type == GATE_TRAP16 ? "trap16" : "invalid";
    put(o, "0x%08x [%04x:%08x %s dpl=%u%s]", lo, g.selector, g.offset, kind, g.dpl, g.present ? " P" : " NP");
}

/* One value as text (JSON writes the non-numeric ones as strings of this text). */
static void put_value(out *o, rom_type t, uint64_t v, const vm_event *ev, int argi)
{
    uint32_t next = argi >= 0 && argi < 4 ? ev->args[argi + 1] : 0; /* the high half of a two-slot value */
    switch (t) {
    case ROM_T_DEC: put(o, "%u", (uint32_t)v); break;
    case ROM_T_U64: case ROM_T_NS: put(o, "%llu", (unsigned long long)v); break;
    case ROM_T_COUNTER: put(o, "%s", counter_name((uint32_t)v)); break;
    case ROM_T_CALL: {
        const rom_call *c = rom_call_find((uint32_t)v);
        put(o, "%s", c ? c->name : "undefined");
        break;
    }
    case ROM_T_RELOC: put(o, "%s 0x%08x", reloc_name((uint32_t)(v >> 32) & 0xFF), (uint32_t)v); break;
    case ROM_T_CPUID:
        put(o, "eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x", (uint32_t)v, ev->extra[0], ev->extra[1], ev->extra[2]);
        break;
    case ROM_T_PTE: put_pte(o, (uint32_t)v); break;
    case ROM_T_PAGEFLAGS: put_page_flags(o, (uint32_t)v); break;
    case ROM_T_ALLOCFLAGS: put_alloc_flags(o, (uint32_t)v); break;
    case ROM_T_ALARM: put_alarm_flags(o, (uint32_t)v); break;
    case ROM_T_U64LO: put(o, "%llu", (unsigned long long)((uint64_t)next << 32 | (uint32_t)v)); break;
    case ROM_T_DESCLO: put_descriptor(o, (uint32_t)v, next); break;
    case ROM_T_GATELO: put_gate(o, (uint32_t)v, next); break;
    default: put(o, "0x%08x", (uint32_t)v); break;
    }
}

static void put_call(out *o, const vm_event *ev)
{
    const rom_call *c = call_of(ev);
    put(o, " vmi %s(", c ? c->name : "undefined");
    bool first = true;
    for (int i = 0; c && i < ev->nargs && i < 5; i++) {
        if (!c->arg_names[i] || !c->arg_names[i][0])
            continue;
        put(o, "%s%s=", first ? "" : ", ", c->arg_names[i]);
        put_value(o, c->arg_types[i], ev->args[i], ev, i);
        first = false;
    }
    put(o, ")");
    if (c && c->result_type != ROM_T_NONE) {
        put(o, " = ");
        put_value(o, c->result_type, ev->result, ev, -1);
    }
    if (ev->failed)
        put(o, " FAILED");
    if (c && c->native_code) /* entered at icount, logged once its slot had run these */
        put(o, " insns=%u", ev->insns);
}

static const char *exception_source(const vm_event *ev)
{
    return ev->args[2] & 4 ? "external" : ev->args[2] & 2 ? "software" : "exception";
}

static void put_payload(out *o, const vm_event *ev)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: put_call(o, ev); break;
    case EV_PORT_IN:
        put(o, " port 0x%x in size=%u value=0x%llx", ev->num, ev->args[0], (unsigned long long)ev->result);
        break;
    case EV_PORT_OUT: put(o, " port 0x%x out size=%u value=0x%x", ev->num, ev->args[0], ev->args[1]); break;
    case EV_EXCEPTION:
        put(o, " vector=%u", ev->num);
        if (ev->args[2] & 1)
            put(o, " error=0x%x", ev->args[0]);
        if (ev->num == 14)
            put(o, " cr2=0x%08x", ev->args[1]);
        put(o, " (%s)", exception_source(ev));
        if (ev->failed)
            put(o, " NOT DELIVERED");
        else if (ev->result != ev->num)
            put(o, " delivered as vector %llu", (unsigned long long)ev->result);
        break;
    case EV_MEMORY: put(o, " address=0x%08x access=%c", ev->args[0], (char)ev->args[1]); break;
    case EV_GUEST_ERROR: put(o, " rom_offset=0x%x", ev->args[0]); break;
    case EV_INPUT: {
        put(o, " %s %u bytes \"", ev->args[4] == HOST_COM1 ? "serial" : host_device_name(ev->args[4]), ev->num);
        const uint8_t *bytes = (const uint8_t *)ev->args;
        for (unsigned i = 0; i < ev->num && i < 16; i++)
            put(o, bytes[i] >= 0x20 && bytes[i] < 0x7F && bytes[i] != '"' && bytes[i] != '\\' ? "%c" : "\\x%02x",
                bytes[i]);
        put(o, "\"");
        break;
    }
    case EV_END: put(o, " %s value=%u", machine_end_name((machine_end)ev->num), ev->args[0]); break;
    case EV_MARKER: {
        char name[EV_MARKER_NAME_MAX + 1];
        size_t n = ev_marker_name(ev, name);
        put(o, " \"");
        for (size_t i = 0; i < n; i++) {
            uint8_t b = (uint8_t)name[i];
            put(o, b >= 0x20 && b < 0x7F && b != '"' && b != '\\' ? "%c" : "\\x%02x", b);
        }
        put(o, "\"");
        break;
    }
    }
}

size_t ev_format_text(const vm_event *ev, size_t index, char *buf, size_t len)
{
    out o = {buf, len, 0};
    put(&o, "#%zu icount=%llu eip=0x%08x", index, (unsigned long long)ev->icount, ev->eip);
    if (ev->kind != EV_VMI_CALL)
        put(&o, " %s", ev_kind_name((ev_kind)ev->kind));
    put_payload(&o, ev);
    return o.pos;
}

/* JSON through jansson, so the output is valid JSON whatever the guest feeds in. */

static void set(json_t *obj, const char *key, json_t *v) { json_object_set_new(obj, key, v); }

/* An unsigned number; above what jansson's signed integers hold, its decimal text. */
static json_t *json_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)v);
    return json_string(text);
}

static json_t *json_value(rom_type t, uint64_t v, const vm_event *ev, int argi)
{
    switch (t) {
    case ROM_T_DEC: return json_integer((uint32_t)v);
    case ROM_T_U64: case ROM_T_NS: return json_u64(v);
    case ROM_T_U64LO: return json_u64((uint64_t)(argi >= 0 && argi < 4 ? ev->args[argi + 1] : 0) << 32 | (uint32_t)v);
    default: {
        char text[160];
        out o = {text, sizeof text, 0};
        put_value(&o, t, v, ev, argi);
        return json_string(text);
    }
    }
}

static void json_call(json_t *obj, const vm_event *ev)
{
    const rom_call *c = call_of(ev);
    set(obj, "call", json_string(c ? c->name : "undefined"));
    set(obj, "num", json_integer(ev->num));
    json_t *args = json_object();
    for (int i = 0; c && i < ev->nargs && i < 5; i++)
        if (c->arg_names[i] && c->arg_names[i][0])
            set(args, c->arg_names[i], json_value(c->arg_types[i], ev->args[i], ev, i));
    set(obj, "args", args);
    if (c && c->result_type != ROM_T_NONE)
        set(obj, "result", json_value(c->result_type, ev->result, ev, -1));
    if (ev->failed)
        set(obj, "failed", json_true());
    if (c && c->native_code)
        set(obj, "insns", json_integer(ev->insns));
}

/* Serial bytes as a string whose code points are the bytes (U+0000..U+00FF), so any byte,
 * including control characters and bytes above 0x7F, survives as valid JSON. */
static json_t *json_bytes(const uint8_t *bytes, unsigned n)
{
    char utf8[2 * EV_MARKER_NAME_MAX];
    size_t len = 0;
    for (unsigned i = 0; i < n && i < EV_MARKER_NAME_MAX; i++) {
        if (bytes[i] < 0x80) {
            utf8[len++] = (char)bytes[i];
        } else {
            utf8[len++] = (char)(0xC0 | bytes[i] >> 6);
            utf8[len++] = (char)(0x80 | (bytes[i] & 0x3F));
        }
    }
    return json_stringn(utf8, len);
}

static void json_payload(json_t *obj, const vm_event *ev)
{
    switch ((ev_kind)ev->kind) {
    case EV_VMI_CALL: json_call(obj, ev); break;
    case EV_PORT_IN:
        set(obj, "port", json_integer(ev->num));
        set(obj, "size", json_integer(ev->args[0]));
        set(obj, "value", json_u64(ev->result));
        break;
    case EV_PORT_OUT:
        set(obj, "port", json_integer(ev->num));
        set(obj, "size", json_integer(ev->args[0]));
        set(obj, "value", json_integer(ev->args[1]));
        break;
    case EV_EXCEPTION:
        set(obj, "vector", json_integer(ev->num));
        if (ev->args[2] & 1)
            set(obj, "error", json_integer(ev->args[0]));
        if (ev->num == 14)
            set(obj, "cr2", json_integer(ev->args[1]));
        set(obj, "source", json_string(exception_source(ev)));
        if (ev->failed)
            set(obj, "delivered", json_false());
        else if (ev->result != ev->num)
            set(obj, "delivered_as", json_u64(ev->result));
        break;
    case EV_MEMORY: {
        char access[2] = {(char)(ev->args[1] & 0x7F), 0};
        set(obj, "address", json_integer(ev->args[0]));
        set(obj, "access", json_string(access));
        break;
    }
    case EV_GUEST_ERROR: set(obj, "rom_offset", json_integer(ev->args[0])); break;
    case EV_INPUT:
        set(obj, "device", json_string(host_device_name(ev->args[4])));
        set(obj, "bytes", json_integer(ev->num));
        set(obj, "text", json_bytes((const uint8_t *)ev->args, ev->num));
        break;
    case EV_END:
        set(obj, "reason", json_string(machine_end_name((machine_end)ev->num)));
        set(obj, "value", json_integer(ev->args[0]));
        break;
    case EV_MARKER: {
        char name[EV_MARKER_NAME_MAX + 1];
        size_t n = ev_marker_name(ev, name);
        set(obj, "name", json_bytes((const uint8_t *)name, (unsigned)n));
        break;
    }
    }
}

size_t ev_format_json(const vm_event *ev, size_t index, char *buf, size_t len)
{
    json_t *obj = json_object();
    if (!obj)
        return 0;
    set(obj, "seq", json_u64(index));
    set(obj, "icount", json_u64(ev->icount));
    set(obj, "eip", json_integer(ev->eip));
    set(obj, "kind", json_string(ev_kind_name((ev_kind)ev->kind)));
    json_payload(obj, ev);
    size_t n = json_dumpb(obj, buf, len, JSON_COMPACT);
    json_decref(obj);
    if (len)
        buf[n < len ? n : len - 1] = 0;
    return n;
}
