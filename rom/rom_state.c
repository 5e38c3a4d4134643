#include <string.h>

#include "rom/rom.h"

typedef struct rom_out {
    uint8_t *p;
    size_t len;
} rom_out;

static void put(rom_out *o, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++, v >>= 8)
        o->p[o->len++] = (uint8_t)v;
}

/* A native call's record. */
static void put_record(rom_out *o, const rom_record *r)
{
    put(o, (uint64_t)r->action, 1);
    put(o, (uint64_t)r->error, 1);
    put(o, r->is_call, 1);
    put(o, r->failed, 1);
    put(o, r->nargs, 1);
    put(o, r->num, 2);
    put(o, r->eip, 4);
    for (int i = 0; i < 5; i++)
        put(o, r->args[i], 4);
    put(o, r->result, 8);
    for (int i = 0; i < 3; i++)
        put(o, r->extra[i], 4);
    put(o, r->offset, 4);
    put(o, r->out_mask, 4);
    for (int i = 0; i < ROM_CALL_REGS; i++)
        put(o, r->out[i], 4);
    put(o, r->ret_esp, 4);
    put(o, r->ret_eip, 4);
    put(o, r->slot_pc, 4);
    put(o, r->slot_len, 4);
}

size_t rom_state_serialise(const rom_state *st, uint8_t out[ROM_STATE_SER_MAX])
{
    _Static_assert(1 + 4 + ROM_LINEAR_SLOTS * 13 + 4 + ROM_AP_STATE_SIZE + 4 + 1 + 4 +
                           ROM_PENDING_MAX * (11 + 20 + 8 + 12 + 8 + ROM_CALL_REGS * 4 + 16) <=
                       ROM_STATE_SER_MAX,
                   "the ROM's serialised state fits ROM_STATE_SER_MAX");
    rom_out o = {out, 0};
    put(&o, st->initialized, 1);
    put(&o, st->pt_count, 4);
    for (int i = 0; i < ROM_LINEAR_SLOTS; i++) {
        const rom_linear_mapping *l = &st->linear_maps[i];
        put(&o, l->linear, 4);
        put(&o, l->pages, 4);
        put(&o, l->pfn, 4);
        put(&o, l->set, 1);
    }
    put(&o, st->lazy_mode, 4);
    memcpy(o.p + o.len, st->ap_state, ROM_AP_STATE_SIZE);
    o.len += ROM_AP_STATE_SIZE;
    put(&o, st->ap_state_apic, 4);
    put(&o, st->ap_state_set, 1);
    uint32_t n = st->npending < ROM_PENDING_MAX ? st->npending : ROM_PENDING_MAX;
    put(&o, n, 4);
    for (uint32_t i = 0; i < n; i++)
        put_record(&o, &st->pending[i]);
    return o.len;
}
