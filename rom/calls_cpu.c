/* Descriptor entries, the kernel stack, debug registers, counters and other per-CPU state. */
#include <string.h>

#include "rom/rom_handlers.h"

/* Write{GDT,LDT,IDT}Entry(table, index, lo, hi): one 8-byte store at a linear address. A table
 * address that is not mapped writable fails the call (logged) and changes nothing. */
void rom_do_write_desc(rom_ctx *x, rom_frame *f)
{
    uint32_t desc[2] = {f->args[2], f->args[3]};
    uint32_t at = f->args[0] + f->args[1] * 8;
    if (f->args[1] > 8191 || !x->svc->write(x->o, at, desc, sizeof desc))
        f->failed = true;
}

/* The TSS's esp0 is what the CPU loads on a switch to ring 0 (TSS offset 4). */
void rom_do_update_kernel_stack(rom_ctx *x, rom_frame *f)
{
    /* A notification, nothing to do: at ring 0 the kernel owns its TSS and has already stored
     * esp0 there itself (Linux's vmi_load_sp0), and its first call comes before it loads TR
     * (cpu_init: load_sp0 before load_TR_desc), so TR may still be the loader's. Writing
     * TR.base + 4 would store into memory the kernel did not name. The log shows (selector,
     * esp0). */
    (void)x;
    (void)f;
}

static bool dr_reg(uint32_t regno, rom_reg *r)
{
    static const rom_reg map[8] = {ROM_DR0, ROM_DR1, ROM_DR2, ROM_DR3, ROM_DR6, ROM_DR7, ROM_DR6, ROM_DR7};
    if (regno > 7)
        return false;
    *r = map[regno];
    return true;
}

void rom_do_set_dr(rom_ctx *x, rom_frame *f)
{
    rom_reg r;
    if (!dr_reg(f->args[0], &r) || !x->svc->set(x->o, r, f->args[1]))
        f->failed = true;
}

void rom_do_get_dr(rom_ctx *x, rom_frame *f)
{
    rom_reg r;
    if (!dr_reg(f->args[0], &r)) {
        f->failed = true;
        return;
    }
    f->result = x->svc->get(x->o, r);
}

void rom_do_rdpmc(rom_ctx *x, rom_frame *f)
{
    (void)x;
    f->result = 0; /* no performance counters are modelled */
}

void rom_do_set_ap_state(rom_ctx *x, rom_frame *f)
{
    uint8_t state[ROM_AP_STATE_SIZE];
    if (!x->svc->read(x->o, f->args[0], state, sizeof state)) {
        f->failed = true;
        return;
    }
    memcpy(x->st->ap_state, state, sizeof state);
    x->st->ap_state_apic = f->args[1];
    x->st->ap_state_set = true;
}

void rom_do_set_lazy_mode(rom_ctx *x, rom_frame *f)
{
    if (f->args[0] > 2) {
        f->failed = true;
        return;
    }
    x->st->lazy_mode = f->args[0];
}
