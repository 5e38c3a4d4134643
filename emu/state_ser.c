#include "emu/state_ser.h"

#include <string.h>

#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

_Static_assert(STATE_SER_CHUNK % 8 == 0, "whole words reach the hash, however the bytes were split");

static void hash_chunk(state_writer *w)
{
    const uint8_t *p = w->chunk;
    size_t len = w->fill;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t word = 0;
        for (int i = 7; i >= 0; i--) /* little-endian whatever the host */
            word = word << 8 | p[i];
        w->hash = (w->hash ^ word) * FNV_PRIME;
    }
    for (; len; len--, p++)
        w->hash = (w->hash ^ *p) * FNV_PRIME;
    w->fill = 0;
}

void state_writer_init(state_writer *w, uint8_t *out, size_t out_cap)
{
    w->fill = 0;
    w->hash = FNV_BASIS;
    w->out = out;
    w->out_cap = out ? out_cap : 0;
    w->total = 0;
    state_put_u32(w, STATE_SER_VERSION);
}

void state_put_bytes(state_writer *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (w->total < w->out_cap) {
        size_t n = w->out_cap - w->total < len ? w->out_cap - w->total : len;
        memcpy(w->out + w->total, p, n);
    }
    w->total += len;
    while (len) {
        size_t n = STATE_SER_CHUNK - w->fill < len ? STATE_SER_CHUNK - w->fill : len;
        memcpy(w->chunk + w->fill, p, n);
        w->fill += n;
        p += n;
        len -= n;
        if (w->fill == STATE_SER_CHUNK)
            hash_chunk(w);
    }
}

static void put_le(state_writer *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++, v >>= 8)
        b[i] = (uint8_t)v;
    state_put_bytes(w, b, (size_t)bytes);
}

void state_put_u8(state_writer *w, uint8_t v) { put_le(w, v, 1); }
void state_put_bool(state_writer *w, bool v) { put_le(w, v ? 1 : 0, 1); }
void state_put_u16(state_writer *w, uint16_t v) { put_le(w, v, 2); }
void state_put_u32(state_writer *w, uint32_t v) { put_le(w, v, 4); }
void state_put_u64(state_writer *w, uint64_t v) { put_le(w, v, 8); }

uint64_t state_writer_finish(state_writer *w)
{
    hash_chunk(w);
    return w->hash;
}
