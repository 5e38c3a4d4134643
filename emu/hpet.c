#include "emu/hpet.h"

#include <string.h>

enum {
    REG_CAP = 0x000, REG_CONFIG = 0x010, REG_STATUS = 0x020, REG_COUNTER = 0x0F0,
    REG_TIMER = 0x100, TIMER_STRIDE = 0x20, TIMER_CONFIG = 0x00, TIMER_COMPARATOR = 0x08,
};

#define CAP_LOW (0x8086u << 16 | 1u << 15 | 1u << 13 | (HPET_TIMERS - 1u) << 8 | 1u) /* vendor, legacy, 64-bit, timers, rev */
#define CONFIG_ENABLE 1ull
#define CONFIG_BITS 3ull           /* enable, legacy replacement */
/* Timer configuration: level (1), enable (2), periodic (3), value set (6), 32-bit (8), route
 * (9-13), FSB enable (14). */
#define TIMER_BITS 0x7F4Eull
#define TIMER_PERIODIC_CAP (1ull << 4)
#define TIMER_SIZE_CAP (1ull << 5)
#define TIMER_ROUTES (0x00FF0104ull << 32) /* IO-APIC pins 2, 8, 16-23 */

void hpet_init(hpet *h, uint64_t cpu_hz)
{
    memset(h, 0, sizeof *h);
    h->cpu_hz = cpu_hz;
    for (int i = 0; i < HPET_TIMERS; i++)
        h->timer[i].comparator = UINT64_MAX;
}

static bool running(const hpet *h) { return h->config & CONFIG_ENABLE; }

/* Counts between cycle `from` and `to` (to >= from), from the counter's phase at cycle 0: the
 * counter ticks at fixed cycles, whatever the reads. */
static uint64_t ticks(const hpet *h, uint64_t from, uint64_t to)
{
    unsigned __int128 a = (unsigned __int128)from * HPET_HZ / h->cpu_hz;
    unsigned __int128 b = (unsigned __int128)to * HPET_HZ / h->cpu_hz;
    return (uint64_t)(b - a);
}

uint64_t hpet_counter(const hpet *h, uint64_t now)
{
    if (!running(h) || now < h->base_cycle)
        return h->base_count;
    return h->base_count + ticks(h, h->base_cycle, now);
}

/* Take the counter's value at `now` as the new base (before it starts, stops or is set). */
static void rebase(hpet *h, uint64_t now)
{
    h->base_count = hpet_counter(h, now);
    h->base_cycle = now;
}

static uint64_t timer_config(const hpet *h, int i)
{
    uint64_t caps = TIMER_SIZE_CAP | TIMER_ROUTES | (i == 0 ? TIMER_PERIODIC_CAP : 0);
    return (h->timer[i].config & ~(1ull << 6)) | caps; /* value set reads 0 */
}

static uint64_t read64(const hpet *h, uint64_t now, uint32_t reg)
{
    if (reg == REG_CAP)
        return (uint64_t)HPET_PERIOD_FS << 32 | CAP_LOW;
    if (reg == REG_CONFIG)
        return h->config;
    if (reg == REG_STATUS)
        return h->status;
    if (reg == REG_COUNTER)
        return hpet_counter(h, now);
    if (reg >= REG_TIMER && reg < REG_TIMER + HPET_TIMERS * TIMER_STRIDE) {
        int i = (int)((reg - REG_TIMER) / TIMER_STRIDE);
        uint32_t r = (reg - REG_TIMER) % TIMER_STRIDE;
        if (r == TIMER_CONFIG)
            return timer_config(h, i);
        if (r == TIMER_COMPARATOR)
            return h->timer[i].comparator;
    }
    return 0;
}

uint32_t hpet_read(const hpet *h, uint64_t now, uint32_t offset)
{
    uint64_t v = read64(h, now, offset & ~7u);
    return (uint32_t)(offset & 4 ? v >> 32 : v);
}

/* Merge a 32-bit write into half of a 64-bit value. */
static uint64_t merge(uint64_t old, uint32_t offset, uint32_t value)
{
    return offset & 4 ? (old & 0xFFFFFFFFull) | (uint64_t)value << 32 : (old & ~0xFFFFFFFFull) | value;
}

void hpet_write(hpet *h, uint64_t now, uint32_t offset, uint32_t value)
{
    uint32_t reg = offset & ~7u;
    if (reg == REG_CONFIG) {
        rebase(h, now);
        h->config = merge(h->config, offset, value) & CONFIG_BITS;
    } else if (reg == REG_STATUS) {
        h->status &= ~merge(0, offset, value); /* write 1 to clear */
    } else if (reg == REG_COUNTER) {
        if (!running(h)) { /* the counter may be written only while halted */
            h->base_count = merge(h->base_count, offset, value);
            h->base_cycle = now;
        }
    } else if (reg >= REG_TIMER && reg < REG_TIMER + HPET_TIMERS * TIMER_STRIDE) {
        hpet_timer *t = &h->timer[(reg - REG_TIMER) / TIMER_STRIDE];
        uint32_t r = (reg - REG_TIMER) % TIMER_STRIDE;
        if (r == TIMER_CONFIG)
            t->config = merge(t->config, offset, value) & TIMER_BITS;
        else if (r == TIMER_COMPARATOR)
            t->comparator = merge(t->comparator, offset, value);
    }
}

void hpet_serialise(const hpet *h, state_writer *w)
{
    state_put_u64(w, h->config);
    state_put_u64(w, h->status);
    state_put_u64(w, h->base_count);
    state_put_u64(w, h->base_cycle);
    state_put_u64(w, h->cpu_hz);
    for (int i = 0; i < HPET_TIMERS; i++) {
        state_put_u64(w, h->timer[i].config);
        state_put_u64(w, h->timer[i].comparator);
    }
}
