#include "emu/pit.h"

#include <string.h>

/* cycles * 1193182 overflows 64 bits after ~4 hours at 1 GHz: convert in 128 bits. */
#ifndef __SIZEOF_INT128__
#error "emu/pit.c needs a 128-bit integer type for exact tick/cycle conversion"
#endif
__extension__ typedef unsigned __int128 u128;

#define NO_TICK UINT64_MAX
#define CONTROL_PORT 3
#define SELECT_READ_BACK 3
#define READ_BACK_NO_COUNT 0x20u /* read-back bits 5 and 4 are active low */
#define READ_BACK_NO_STATUS 0x10u
#define STATUS_OUT 0x80u
#define STATUS_NULL_COUNT 0x40u
#define PORT61_WRITABLE 0x0Fu
#define PORT61_GATE2 0x01u
#define PORT61_REFRESH 0x10u
#define PORT61_OUT2 0x20u
#define REFRESH_TICKS 18u /* DRAM refresh period: 15.085 us */

enum { ACCESS_LATCH = 0, ACCESS_LOW = 1, ACCESS_HIGH = 2, ACCESS_WORD = 3 };

uint64_t pit_ticks_at(const pit *t, uint64_t cycles)
{
    /* The same quotient in 64 bits while the product fits (the first ~4 hours of guest time at
     * 1 GHz): every port 0x61 read of Linux's PIT wait asks, and a 128-bit division is a call. */
    if (cycles <= UINT64_MAX / PIT_HZ)
        return cycles * PIT_HZ / t->cpu_hz;
    return (uint64_t)((u128)cycles * PIT_HZ / t->cpu_hz);
}

uint64_t pit_cycle_of_tick(const pit *t, uint64_t ticks)
{
    u128 c = ((u128)ticks * t->cpu_hz + PIT_HZ - 1) / PIT_HZ;
    return c > UINT64_MAX ? UINT64_MAX : (uint64_t)c;
}

/* Mode 3: OUT is high for the first (n + 1) / 2 ticks of each period, low for the rest. */
static uint32_t high_ticks(uint32_t n) { return (n + 1) / 2; }

/* OUT while the counter is not counting (after a control word, before the load). */
static bool idle_out(const pit_channel *c) { return c->mode != 0; }

/* OUT after `e` ticks of counting in segment s. */
static bool segment_out(uint8_t mode, const pit_segment *s, uint64_t e)
{
    uint32_t n = s->n;
    switch (mode) {
    case 0:
    case 1: return e >= n;
    case 2: return n < 2 || (s->phase + e % n) % n != n - 1;
    case 3: return (s->phase + e % n) % n < high_ticks(n);
    default: return e != n; /* 4, 5: one tick low at terminal count */
    }
}

/* The segment counting at `tick`. */
static const pit_segment *segment_at(const pit_channel *c, uint64_t tick)
{
    return c->has_next && tick >= c->next.start ? &c->next : &c->cur;
}

static bool out_at(const pit_channel *c, uint64_t tick)
{
    if (!c->counting)
        return idle_out(c);
    if (c->paused) /* gate low: modes 2/3 force OUT high, modes 0/4 hold it */
        return c->mode == 2 || c->mode == 3 || segment_out(c->mode, &c->cur, c->paused_at);
    const pit_segment *s = segment_at(c, tick);
    return tick < s->start ? idle_out(c) : segment_out(c->mode, s, tick - s->start);
}

/* The counting element at `tick`, as a read or a latch sees it. */
static uint16_t count_at(const pit_channel *c, uint64_t tick)
{
    if (!c->counting)
        return (uint16_t)c->cr;
    const pit_segment *s = c->paused ? &c->cur : segment_at(c, tick);
    uint64_t e;
    if (c->paused)
        e = c->paused_at;
    else if (tick < s->start)
        return (uint16_t)s->n;
    else
        e = tick - s->start;
    uint32_t n = s->n, ph = (uint32_t)((s->phase + e % n) % n);
    switch (c->mode) {
    case 2: return (uint16_t)(n - ph);
    case 3: /* counts down by two through each half: n (or n-1 if odd) ... 2 (or 0) */
        return (uint16_t)((n & ~1u) - 2 * (ph < high_ticks(n) ? ph : ph - high_ticks(n)));
    default: return (uint16_t)(n - e); /* past terminal count the counter keeps wrapping */
    }
}

/* First tick >= from (from >= s->start) at which segment s is at phase `target`. */
static uint64_t next_phase(const pit_segment *s, uint64_t from, uint32_t target)
{
    uint32_t n = s->n, a = (uint32_t)((s->phase + (from - s->start) % n) % n);
    return from + (target + n - a) % n;
}

/* Ticks in (x, hi) where OUT may change in segment s, which counts from lo to hi. */
static int change_candidates(uint8_t mode, const pit_segment *s, uint64_t lo, uint64_t hi, uint64_t x,
                             uint64_t *out)
{
    uint64_t y[3];
    int m = 0, k = 0;
    y[m++] = lo; /* the load itself: compared with OUT before it */
    if (mode == 2 || mode == 3) {
        uint64_t from = (x > lo ? x : lo) + 1;
        y[m++] = next_phase(s, from, 0);
        y[m++] = next_phase(s, from, mode == 2 ? s->n - 1 : high_ticks(s->n));
    } else {
        y[m++] = lo + s->n;
        if (mode >= 4)
            y[m++] = lo + s->n + 1;
    }
    for (int i = 0; i < m; i++)
        if (y[i] > x && y[i] < hi)
            out[k++] = y[i];
    return k;
}

/* The first tick after x at which OUT changes (rises, if `rising`), or NO_TICK. Candidates
 * come from the formulas; each is confirmed by comparing OUT with the tick before. */
static uint64_t next_change(const pit_channel *c, uint64_t x, bool rising)
{
    if (!c->counting || c->paused)
        return NO_TICK;
    uint64_t cand[6];
    int k = change_candidates(c->mode, &c->cur, c->cur.start, c->has_next ? c->next.start : NO_TICK, x, cand);
    if (c->has_next)
        k += change_candidates(c->mode, &c->next, c->next.start, NO_TICK, x, cand + k);
    uint64_t best = NO_TICK;
    for (int i = 0; i < k; i++) {
        uint64_t y = cand[i];
        bool level = out_at(c, y);
        if (y < best && level != out_at(c, y - 1) && (level || !rising))
            best = y;
    }
    return best;
}

/* Once a waiting count has taken over, it is simply the current one. */
static void commit(pit_channel *c, uint64_t tick)
{
    if (c->has_next && tick >= c->next.start) {
        c->cur = c->next;
        c->has_next = false;
    }
}

static void drive_irq(pit *t, const irq_line *irq0, bool level)
{
    if (level != t->irq_level) {
        t->irq_level = level;
        irq_set_level(irq0, level);
    }
}

/* Replay channel 0's OUT changes from `synced` up to `tick` on irq0, in order. */
static void deliver(pit *t, const irq_line *irq0, uint64_t tick)
{
    const pit_channel *c = &t->ch[0];
    while (t->synced < tick) {
        uint64_t y = next_change(c, t->synced, false);
        if (y > tick)
            break;
        drive_irq(t, irq0, out_at(c, y));
        t->synced = y;
    }
    if (tick > t->synced)
        t->synced = tick;
    for (int i = 0; i < 3; i++)
        commit(&t->ch[i], tick);
}

/* Load cr into the counter at tick `at` and count from there. */
static void start(pit_channel *c, uint64_t at)
{
    c->cur = (pit_segment){c->cr, 0, at};
    c->counting = true;
    c->has_next = false;
    c->paused = !c->gate && (c->mode == 0 || c->mode == 4);
    c->paused_at = 0;
    c->cr_loaded = at;
}

/* A new count in modes 2/3 waits for the end of the period (mode 2) or of the half period
 * (mode 3, whose new count then starts with its low half). */
static void schedule_count(pit_channel *c, uint64_t tick)
{
    if (tick < c->cur.start) { /* not loaded yet: the later write wins */
        c->cur.n = c->cr;
        return;
    }
    const pit_segment *s = &c->cur;
    uint32_t a = (uint32_t)((s->phase + (tick - s->start) % s->n) % s->n);
    uint64_t at = tick + (s->n - a);
    uint32_t phase = 0;
    if (c->mode == 3 && a < high_ticks(s->n)) {
        at = tick + (high_ticks(s->n) - a);
        phase = high_ticks(c->cr);
    }
    c->next = (pit_segment){c->cr, phase, at};
    c->has_next = true;
    c->cr_loaded = at;
}

static void load_count(pit_channel *c, uint32_t n, uint64_t tick)
{
    c->cr = n;
    c->armed = true;
    switch (c->mode) {
    case 0:
    case 4: start(c, tick + 1); break;
    case 1:
    case 5: c->cr_loaded = NO_TICK; break; /* waits for a rising gate */
    default:
        if (c->counting && !c->paused)
            schedule_count(c, tick);
        else if (c->gate)
            start(c, tick + 1);
        else
            c->cr_loaded = NO_TICK;
        break;
    }
}

static void write_data(pit_channel *c, uint8_t v, uint64_t tick)
{
    uint32_t n;
    switch (c->access) {
    case ACCESS_LOW: n = v; break;
    case ACCESS_HIGH: n = (uint32_t)v << 8; break;
    default:
        if (!c->write_high_next) {
            c->write_low = v;
            c->write_high_next = true;
            if (c->mode == 0)
                c->counting = false; /* the first byte stops the count and drops OUT */
            return;
        }
        c->write_high_next = false;
        n = c->write_low | (uint32_t)v << 8;
        break;
    }
    load_count(c, n ? n : 65536, tick);
}

static uint8_t read_data(pit_channel *c, uint64_t tick)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t n;
    bool high;
    if (c->latch_left) {
        n = c->latched;
        high = c->access == ACCESS_HIGH || (c->access == ACCESS_WORD && c->latch_left == 1);
        c->latch_left--;
    } else {
        n = count_at(c, tick);
        high = c->access == ACCESS_HIGH || (c->access == ACCESS_WORD && c->read_high_next);
        if (c->access == ACCESS_WORD)
            c->read_high_next = !c->read_high_next;
    }
    return (uint8_t)(high ? n >> 8 : n & 0xFF);
}

/* A second latch before the first is read is ignored, as on the chip. */
static void latch_count(pit_channel *c, uint64_t tick)
{
    if (c->latch_left)
        return;
    c->latched = count_at(c, tick);
    c->latch_left = c->access == ACCESS_WORD ? 2 : 1;
}

static void latch_status(pit_channel *c, uint64_t tick)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)((out_at(c, tick) ? STATUS_OUT : 0) | (tick < c->cr_loaded ? STATUS_NULL_COUNT : 0) |
                          c->access << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
    c->status_latched = true;
}

static void write_control(pit *t, uint8_t v, uint64_t tick)
{
    unsigned sel = v >> 6;
    if (sel == SELECT_READ_BACK) {
        for (int i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            if (!(v & READ_BACK_NO_STATUS))
                latch_status(&t->ch[i], tick);
            if (!(v & READ_BACK_NO_COUNT))
                latch_count(&t->ch[i], tick);
        }
        return;
    }
    pit_channel *c = &t->ch[sel];
    unsigned access = (v >> 4) & 3, mode = (v >> 1) & 7;
    if (access == ACCESS_LATCH) {
        latch_count(c, tick);
        return;
    }
    /* A control word resets the channel: it stops until a new count is written. */
    c->access = (uint8_t)access;
    c->mode = (uint8_t)(mode >= 6 ? mode - 4 : mode);
    c->bcd = v & 1;
    c->armed = c->counting = c->paused = c->has_next = false;
    c->cr_loaded = NO_TICK;
    c->write_high_next = c->read_high_next = false;
    c->latch_left = 0;
    c->status_latched = false;
}

/* Gate edges (channel 2 only): modes 0/4 pause and resume, modes 2/3 stop (OUT high) and
 * reload on the rising edge, modes 1/5 start on the rising edge. */
static void set_gate(pit_channel *c, bool gate, uint64_t tick)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    if (!gate) {
        if (c->counting && c->mode != 1 && c->mode != 5) {
            c->paused = true;
            c->has_next = false;
            c->paused_at = tick >= c->cur.start ? tick - c->cur.start : 0;
        }
    } else if (c->paused && (c->mode == 0 || c->mode == 4)) {
        uint64_t resumed = tick - c->paused_at; /* so that paused_at ticks have been counted */
        c->paused = false;
        if (resumed > c->cur.start)
            c->cur.start = resumed;
    } else if (c->armed && c->mode != 0 && c->mode != 4) {
        start(c, tick + 1);
    }
}

/* Bring the machine's view up to the current cycle; returns its PIT tick. */
static uint64_t sync_now(pit *t, const irq_line *irq0, uint64_t now_cycles)
{
    uint64_t tick = pit_ticks_at(t, now_cycles);
    deliver(t, irq0, tick);
    return tick > t->synced ? tick : t->synced;
}

void pit_init(pit *t, uint64_t cpu_hz)
{
    memset(t, 0, sizeof *t);
    t->cpu_hz = cpu_hz ? cpu_hz : 1;
    for (int i = 0; i < 3; i++) {
        pit_channel *c = &t->ch[i];
        c->mode = 3;
        c->access = ACCESS_WORD;
        c->gate = i != 2;
        c->cr = 65536;
        c->cr_loaded = NO_TICK;
    }
    t->ch[0].armed = true;
    start(&t->ch[0], 0);
    t->irq_level = out_at(&t->ch[0], 0);
}

uint32_t pit_read(pit *t, const irq_line *irq0, uint64_t now_cycles, uint16_t offset)
{
    if (offset >= CONTROL_PORT)
        return 0xFF;
    uint64_t tick = sync_now(t, irq0, now_cycles);
    return read_data(&t->ch[offset], tick);
}

void pit_write(pit *t, const irq_line *irq0, uint64_t now_cycles, uint16_t offset, uint32_t value)
{
    if (offset > CONTROL_PORT)
        return;
    uint64_t tick = sync_now(t, irq0, now_cycles);
    if (offset == CONTROL_PORT)
        write_control(t, (uint8_t)value, tick);
    else
        write_data(&t->ch[offset], (uint8_t)value, tick);
    drive_irq(t, irq0, out_at(&t->ch[0], tick));
}

uint32_t pit_speaker_read(pit *t, const irq_line *irq0, uint64_t now_cycles)
{
    uint64_t tick = sync_now(t, irq0, now_cycles);
    uint32_t v = t->port61 & PORT61_WRITABLE;
    if ((tick / REFRESH_TICKS) & 1)
        v |= PORT61_REFRESH;
    if (out_at(&t->ch[2], tick))
        v |= PORT61_OUT2;
    return v;
}

void pit_speaker_write(pit *t, const irq_line *irq0, uint64_t now_cycles, uint32_t value)
{
    uint64_t tick = sync_now(t, irq0, now_cycles);
    t->port61 = (uint8_t)(value & PORT61_WRITABLE);
    set_gate(&t->ch[2], value & PORT61_GATE2, tick);
}

uint64_t pit_next_event(const pit *t)
{
    uint64_t tick = next_change(&t->ch[0], t->synced, true);
    return tick == NO_TICK ? UINT64_MAX : pit_cycle_of_tick(t, tick);
}

void pit_advance(pit *t, const irq_line *irq0, uint64_t now_cycles) { deliver(t, irq0, pit_ticks_at(t, now_cycles)); }

static void put_segment(state_writer *w, const pit_segment *s)
{
    state_put_u32(w, s->n);
    state_put_u32(w, s->phase);
    state_put_u64(w, s->start);
}

void pit_serialise(const pit *t, state_writer *w)
{
    for (int i = 0; i < 3; i++) {
        const pit_channel *c = &t->ch[i];
        state_put_u8(w, c->mode);
        state_put_u8(w, c->access);
        state_put_bool(w, c->bcd);
        state_put_bool(w, c->gate);
        state_put_bool(w, c->armed);
        state_put_bool(w, c->counting);
        state_put_bool(w, c->paused);
        state_put_bool(w, c->has_next);
        put_segment(w, &c->cur);
        put_segment(w, &c->next);
        state_put_u64(w, c->paused_at);
        state_put_u32(w, c->cr);
        state_put_u64(w, c->cr_loaded);
        state_put_u8(w, c->write_low);
        state_put_bool(w, c->write_high_next);
        state_put_bool(w, c->read_high_next);
        state_put_u8(w, c->latch_left);
        state_put_u16(w, c->latched);
        state_put_bool(w, c->status_latched);
        state_put_u8(w, c->status);
    }
    state_put_u64(w, t->cpu_hz);
    state_put_u64(w, t->synced);
    state_put_bool(w, t->irq_level);
    state_put_u8(w, t->port61);
}
