/* Descriptor entries, the kernel stack, debug registers, counters and other per-CPU state. */
#include <string.h>

#include "emu/machine.h"
#include "rom/rom_handlers.h"

void rom_peek_cr0(machine *m, rom_frame *f) { f->result = vcpu_get(m->cpu, CPU_CR0); }
void rom_peek_cr2(machine *m, rom_frame *f) { f->result = vcpu_get(m->cpu, CPU_CR2); }
void rom_peek_cr3(machine *m, rom_frame *f) { f->result = vcpu_get(m->cpu, CPU_CR3); }
void rom_peek_cr4(machine *m, rom_frame *f) { f->result = vcpu_get(m->cpu, CPU_CR4); }
void rom_peek_flags(machine *m, rom_frame *f) { f->result = vcpu_get(m->cpu, CPU_EFLAGS); }

static void peek_table(machine *m, rom_frame *f, cpu_table which)
{
    vcpu_table_reg t = {0};
    vcpu_get_table(m->cpu, which, &t);
    f->result = t.selector;
}

void rom_peek_ldt(machine *m, rom_frame *f) { peek_table(m, f, CPU_LDTR); }
void rom_peek_tr(machine *m, rom_frame *f) { peek_table(m, f, CPU_TR); }

/* Write{GDT,LDT,IDT}Entry(table, index, lo, hi): one 8-byte store at a linear address. A table
 * address that is not mapped writable fails the call (logged) and changes nothing. */
void rom_do_write_desc(machine *m, rom_frame *f)
{
    uint32_t desc[2] = {f->args[2], f->args[3]};
    uint32_t at = f->args[0] + f->args[1] * 8;
    if (f->args[1] > 8191 || !vcpu_write_linear(m->cpu, at, desc, sizeof desc))
        f->failed = true;
}

/* The TSS's esp0 is what the CPU loads on a switch to ring 0 (TSS offset 4). */
void rom_do_update_kernel_stack(machine *m, rom_frame *f)
{
    vcpu_table_reg tr;
    uint32_t esp0 = f->args[1];
    if (!vcpu_get_table(m->cpu, CPU_TR, &tr) || tr.limit < 7 || !vcpu_write_linear(m->cpu, tr.base + 4, &esp0, 4))
        f->failed = true; /* no task register loaded yet */
}

static bool dr_reg(uint32_t regno, cpu_reg *r)
{
    static const cpu_reg map[8] = {CPU_DR0, CPU_DR1, CPU_DR2, CPU_DR3, CPU_DR6, CPU_DR7, CPU_DR6, CPU_DR7};
    if (regno > 7)
        return false;
    *r = map[regno];
    return true;
}

void rom_do_set_dr(machine *m, rom_frame *f)
{
    cpu_reg r;
    if (!dr_reg(f->args[0], &r) || !vcpu_set(m->cpu, r, f->args[1]))
        f->failed = true;
}

void rom_do_get_dr(machine *m, rom_frame *f)
{
    cpu_reg r;
    if (!dr_reg(f->args[0], &r)) {
        f->failed = true;
        return;
    }
    f->result = vcpu_get(m->cpu, r);
}

void rom_do_rdpmc(machine *m, rom_frame *f)
{
    (void)m;
    f->result = 0; /* no performance counters are modelled */
}

void rom_do_set_ap_state(machine *m, rom_frame *f)
{
    uint8_t state[MACHINE_AP_STATE_SIZE];
    if (!vcpu_read_linear(m->cpu, f->args[0], state, sizeof state)) {
        f->failed = true;
        return;
    }
    memcpy(m->ap_state, state, sizeof state);
    m->ap_state_apic = f->args[1];
    m->ap_state_set = true;
}

void rom_do_set_lazy_mode(machine *m, rom_frame *f)
{
    if (f->args[0] > 2) {
        f->failed = true;
        return;
    }
    m->lazy_mode = f->args[0];
}
