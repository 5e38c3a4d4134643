/* The machine's side of the VMI ROM: the services rom/ calls through rom_ctx, and what becomes
 * of a call record (registers, return, the event log and through it the record file). A native
 * call is logged once its slot has returned: the CPU watches block starts while one is in
 * flight (vcpu_watch_blocks), or a fault inside the slot ends it as failed. Its event still
 * says where it was entered (icount) and how many instructions the slot ran (insns). An
 * interrupt-flag call whose slot will run whole is logged at its entry instead, as the same
 * event (ROM_ACT_LOGGED); under --quiet-calls irqflags those slots run as plain code. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/machine.h"
#include "emu/vmicheck.h"
#include "emu/whatif.h"
#include "rom/rom.h"

#define SAME_REG(r) _Static_assert((int)ROM_##r == (int)CPU_##r, "rom_reg and cpu_reg differ at " #r)
SAME_REG(EAX); SAME_REG(ECX); SAME_REG(EDX); SAME_REG(EBX); SAME_REG(ESP); SAME_REG(EBP); SAME_REG(ESI);
SAME_REG(EDI); SAME_REG(EIP); SAME_REG(EFLAGS); SAME_REG(CS); SAME_REG(SS); SAME_REG(DS); SAME_REG(ES);
SAME_REG(FS); SAME_REG(GS); SAME_REG(CR0); SAME_REG(CR2); SAME_REG(CR3); SAME_REG(CR4); SAME_REG(DR0);
SAME_REG(DR1); SAME_REG(DR2); SAME_REG(DR3); SAME_REG(DR6); SAME_REG(DR7);
_Static_assert(ROM_PHYS_BASE == PHYS_ROM_BASE, "the ROM image's physical address");
_Static_assert(ROM_NUM_INIT == EV_NUM_INIT && ROM_NUM_RELOC == EV_NUM_RELOC, "event numbers of Init, GetRelocationInfo");
_Static_assert(ROM_NUM_RELOC < MACHINE_VMI_BREAKS, "a VMI breakpoint for every event number");

static uint32_t svc_get(void *o, rom_reg r) { return vcpu_get(((machine *)o)->cpu, (cpu_reg)r); }
static bool svc_set(void *o, rom_reg r, uint32_t v) { return vcpu_set(((machine *)o)->cpu, (cpu_reg)r, v); }
static bool svc_read(void *o, uint32_t at, void *dst, uint32_t n) { return vcpu_read_linear(((machine *)o)->cpu, at, dst, n); }
static bool svc_write(void *o, uint32_t at, const void *src, uint32_t n)
{
    return vcpu_write_linear(((machine *)o)->cpu, at, src, n);
}
static bool svc_translate(void *o, uint32_t at, bool write, uint64_t *phys)
{
    return vcpu_translate(((machine *)o)->cpu, at, write, phys);
}

static bool svc_table(void *o, rom_table which, uint32_t *base, uint32_t *limit, uint16_t *selector)
{
    vcpu_table_reg t = {0};
    if (!vcpu_get_table(((machine *)o)->cpu, which == ROM_TABLE_TR ? CPU_TR : CPU_LDTR, &t))
        return false;
    *base = t.base;
    *limit = t.limit;
    *selector = t.selector;
    return true;
}

static uint32_t svc_cpl(void *o) { return vcpu_cpl(((machine *)o)->cpu); }
static bool svc_io_allowed(void *o, uint16_t port, int size) { return vcpu_io_allowed(((machine *)o)->cpu, port, size); }
static uint64_t svc_cycles(void *o) { return machine_cycles(o); }
static uint64_t svc_cycle_hz(void *o) { return machine_cycle_hz(o); }
static uint64_t svc_wall_ns(void *o) { return machine_wall_ns(o); }
static void svc_cpuid(void *o, uint32_t regs[4]) { machine_cpuid(o, regs); }
static bool svc_alarm_set(void *o, uint32_t flags, uint64_t expiry, uint64_t period)
{
    return alarms_set(&((machine *)o)->alarms, flags, expiry, period);
}
static bool svc_alarm_cancel(void *o, uint32_t flags) { return alarms_cancel(&((machine *)o)->alarms, flags); }
static bool svc_apic_write(void *o, uint32_t reg, uint32_t v)
{
    return machine_lapic_write(o, reg, v) == APIC_OK;
}
static bool svc_apic_read(void *o, uint32_t reg, uint32_t *v) { return apic_read(&((machine *)o)->lapic, machine_cycles(o), reg, v); }
static void svc_forget_space(void *o, uint32_t root) { vcpu_forget_space(((machine *)o)->cpu, root); }

static void svc_request(void *o, rom_request what)
{
    machine *m = o;
    switch (what) {
    case ROM_REQ_HALT:
        m->halt_requested = true;
        vcpu_request_stop(m->cpu);
        break;
    case ROM_REQ_REBOOT:
        machine_end_run(m, END_REBOOT, "guest requested a reboot");
        break;
    case ROM_REQ_SHUTDOWN:
        machine_end_run(m, END_SHUTDOWN, "guest shut down");
        break;
    case ROM_REQ_REPLAN:
        vcpu_request_stop(m->cpu);
        break;
    }
}

/* A VMI-call breakpoint on this call: stop before it once; running on performs it. */
static bool svc_break_before(void *o, uint16_t num)
{
    machine *m = o;
    if (num >= MACHINE_VMI_BREAKS || !m->vmi_breaks[num])
        return false;
    uint64_t now = machine_insns(m);
    if (m->vmi_break_skip == now)
        return false;
    m->vmi_break_skip = now;
    return true;
}

static void svc_call_regs(void *o, uint32_t regs[ROM_CALL_REGS], uint32_t want)
{
    /* One engine call for everything the call will read (a batch costs ~80 host instructions
     * beside ~30 a register): the CPU keeps them for the rest of the call. */
    vcpu_get_call_regs(((machine *)o)->cpu, want, regs);
}

/* An interrupt-flag call may be logged at its entry (rom_dispatch.c) when the CPU runs its slot
 * whole and nothing that looks at a call wants the machine after it: the checker follows the
 * slot, what-if may change the call, history reads state at each event (the record has no entry
 * for it, only a count: emu/recplay.c). */
static bool svc_slot_whole(void *o, uint32_t pc, uint32_t len, uint32_t insns, bool sets_if)
{
    machine *m = o;
    return !m->check && !m->whatif && !m->history && vcpu_slot_runs_whole(m->cpu, pc, len, insns, sets_if);
}

static bool svc_quiet(void *o, uint16_t num)
{
    return (((machine *)o)->cfg.quiet_calls & MACHINE_QUIET_IRQFLAGS) && rom_call_is_irqflag(num);
}

static bool svc_stack_top(void *o, uint32_t esp, bool push, uint32_t *top)
{
    return vcpu_read_stack_top(((machine *)o)->cpu, esp, push, top);
}

static const rom_services services = {
    svc_get, svc_set, svc_read, svc_write, svc_translate, svc_table, svc_cpl, svc_io_allowed,
    svc_cycles, svc_cycle_hz, svc_wall_ns, svc_cpuid, svc_alarm_set, svc_alarm_cancel, svc_apic_write,
    svc_apic_read, svc_forget_space, svc_request, svc_break_before, svc_call_regs, svc_slot_whole,
    svc_quiet, svc_stack_top,
};

static rom_ctx ctx_of(machine *m)
{
    return (rom_ctx){&services, m, &m->rom, m->pt_pages, (uint32_t)(m->mem.size >> 12), {0}};
}

/* A call entered at instruction `entry` and done `insns` instructions later. */
static void log_call_at(machine *m, const rom_record *r, uint64_t entry, uint32_t insns)
{
    vm_event ev = {0};
    ev.kind = EV_VMI_CALL;
    ev.num = r->num;
    ev.icount = entry;
    ev.insns = insns;
    ev.eip = r->eip;
    ev.nargs = r->nargs;
    memcpy(ev.args, r->args, sizeof ev.args);
    ev.result = r->result;
    memcpy(ev.extra, r->extra, sizeof ev.extra);
    ev.failed = r->failed;
    if (m->whatif)
        whatif_on_call(m, &ev);
    machine_log(m, &ev);
}

/* A call entered at instruction `entry` (a native call's slot has run since) and done now. */
static void log_call(machine *m, const rom_record *r, uint64_t entry)
{
    uint64_t now = machine_insns(m);
    entry = entry <= now ? entry : now;
    log_call_at(m, r, entry, (uint32_t)(now - entry));
}

static void log_guest_error(machine *m, const rom_record *r)
{
    vm_event ev = {0};
    ev.kind = EV_GUEST_ERROR;
    ev.icount = machine_insns(m);
    ev.eip = r->eip;
    ev.nargs = 1;
    ev.args[0] = r->offset;
    machine_log(m, &ev);
}

static void watch_pending(machine *m) { vcpu_watch_blocks(m->cpu, m->rom.npending > 0); }

/* Log native call `index`: its slot returned, or faulted or never will (then it failed). */
static void finish_native(machine *m, int index, bool failed)
{
    /* A native call's result is in EDX:EAX at most: three registers, and only for a call that
     * has one (register reads cost a quarter of a page-table-heavy guest's host time,
     * docs/BENCHMARKS.md). */
    rom_ctx x = ctx_of(m);
    _Static_assert(ROM_EAX < 3 && ROM_EDX < 3, "the result registers come first in the batch");
    uint32_t after[ROM_CALL_REGS] = {0};
    const rom_call *c = rom_call_find(m->rom.pending[index].num);
    /* The record's entry reads EAX..EFLAGS after the call (emu/recplay.c; not an interrupt-flag
     * call's): then one batch for both, which the CPU keeps while the block hook runs
     * (vcpu_get_first). */
    if (m->recplay && !rom_call_is_irqflag(m->rom.pending[index].num))
        vcpu_get_first(m->cpu, after, CPU_EFLAGS + 1);
    else if (!failed && c && c->result_type != ROM_T_NONE) /* SetPxE, InvalPage, ...: nothing to read */
        vcpu_get_first(m->cpu, after, 3);
    rom_record r = rom_native_finish(&x, index, after, failed);
    watch_pending(m);
    log_call(m, &r, r.entry_icount);
}

static int serve_call(machine *m, uint32_t pc, uint16_t *num)
{
    if (m->rom.npending == ROM_PENDING_MAX) /* calls left in slots by switched-away tasks */
        finish_native(m, 0, true);
    rom_ctx x = ctx_of(m);
    rom_record r;
    rom_dispatch(&x, pc, &r);
    switch (r.action) { /* r.is_call and r.num are set for calls only */
    case ROM_ACT_RUN:
        return VCPU_ROM_RUN;
    case ROM_ACT_NATIVE: /* logged when its slot returns (machine_rom_block), as entered here */
        *num = r.num;
        m->rom.pending[m->rom.npending - 1].entry_icount = machine_insns(m);
        watch_pending(m);
        if (m->check)
            vmicheck_native_entry(m);
        return VCPU_ROM_RUN;
    case ROM_ACT_LOGGED: /* complete at its entry: the slot runs whole */
        *num = r.num;
        log_call_at(m, &r, machine_insns(m), r.insns);
        return VCPU_ROM_RUN;
    case ROM_ACT_BREAK:
        return VCPU_ROM_BREAK;
    case ROM_ACT_REFUSED:
        if (r.is_call)
            *num = r.num, log_call(m, &r, machine_insns(m));
        else
            log_guest_error(m, &r);
        return VCPU_ROM_REFUSED;
    case ROM_ACT_CRASH:
        if (r.is_call) {
            *num = r.num;
            log_call(m, &r, machine_insns(m));
            const rom_call *c = rom_call_find(r.num);
            machine_end_run(m, END_CRASH, "guest error at eip 0x%08x: called VMI %s, %s", r.eip, c ? c->name : "?",
                            rom_error_text(r.error));
        } else {
            log_guest_error(m, &r);
            machine_end_run(m, END_CRASH, "guest error at eip 0x%08x: %s (ROM offset 0x%x)", r.eip,
                            rom_error_text(r.error), r.offset);
        }
        return VCPU_ROM_DONE;
    case ROM_ACT_DONE:
        break;
    }
    if (!vcpu_set_masked(m->cpu, r.out_mask, r.out)) {
        machine_end_run(m, END_ERROR, "emulator error: cannot set the registers after VMI call %u", r.num);
        return VCPU_ROM_DONE;
    }
    vcpu_return_from_rom(m->cpu, r.ret_esp, r.ret_eip);
    log_call(m, &r, machine_insns(m));
    *num = r.num;
    return VCPU_ROM_DONE;
}

static uint64_t host_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int machine_rom_call(machine *m, uint32_t pc)
{
    if (!m->cfg.rom_enabled)
        return VCPU_ROM_RUN;
    uint16_t num = UINT16_MAX;
    if (!m->timing) /* the usual case: no clock read on the call path */
        return serve_call(m, pc, &num);
    uint64_t t0 = host_ns();
    int ret = serve_call(m, pc, &num);
    if (num < CALL_TIMING_NUMS) {
        m->timing->ns[num] += host_ns() - t0;
        m->timing->count[num]++;
    }
    return ret;
}

void machine_rom_block(machine *m, uint32_t pc)
{
    if (!rom_native_may_return(&m->rom, pc))
        return;
    int i = rom_native_returned(&m->rom, pc, vcpu_get(m->cpu, CPU_ESP));
    if (i >= 0)
        finish_native(m, i, false);
}

void machine_rom_fault(machine *m, const vcpu_event *ev)
{
    bool trap = ev->vector == 1 || ev->vector == 3 || ev->vector == 4; /* EIP is past the instruction */
    int i = ev->external || ev->software || trap ? -1 : rom_native_faulted(&m->rom, ev->eip);
    if (i >= 0)
        finish_native(m, i, true);
}

void machine_rom_end(machine *m)
{
    while (m->rom.npending > 0 && m->cpu) /* the run ended inside a slot: the call never returned */
        finish_native(m, (int)m->rom.npending - 1, true);
}

bool machine_rom_open(machine *m, vm_error *err)
{
    VM_ASSERT(rom_table_check()); /* rom_calls.c builds it so; a broken edit must not run */
    m->pt_pages = calloc(m->mem.size >> 12, 1);
    if (!m->pt_pages)
        return vm_fail(err, VM_ENOMEM, "out of memory for the page-table map");
    return true;
}

void machine_rom_reset(machine *m)
{
    memset(&m->rom, 0, sizeof m->rom);
    memset(m->pt_pages, 0, m->mem.size >> 12);
}

/* An interrupt-flag call's entry block carries its tag (machine_rom_kind): 1..4. */
static int flag_call_tag(uint32_t num) { return (int)(num - VMI_CALL_EnableInterrupts) + 1; }
static uint16_t flag_call_num(int tag) { return (uint16_t)(VMI_CALL_EnableInterrupts + (uint32_t)tag - 1u); }
_Static_assert(VMI_CALL_SetInterruptMask - VMI_CALL_EnableInterrupts + 1 <= VCPU_ROM_TAG_MAX, "a tag each");

int machine_rom_kind(machine *m, uint32_t pc)
{
    uint64_t phys;
    if (!m->cfg.rom_enabled || !vcpu_translate(m->cpu, pc, false, &phys) || phys < ROM_PHYS_BASE + ROM_SLOT_BASE ||
        phys >= ROM_PHYS_BASE + ROM_IMAGE_SIZE)
        return 0;
    uint32_t rel = (uint32_t)(phys - ROM_PHYS_BASE - ROM_SLOT_BASE), num = rel / ROM_SLOT_SIZE;
    /* A block inside a native slot, past its entry (sti and popfd end a block; an interrupt or
     * a step may resume there), is never a call: rom_dispatch would only say run it. */
    if (rel % ROM_SLOT_SIZE != 0 && rom_inside_native_code(rel + ROM_SLOT_BASE))
        return VCPU_ROM_PLAIN;
    const rom_call *c = rom_call_find(num);
    if (!c || !rom_call_is_irqflag(num) || rel % ROM_SLOT_SIZE >= c->native_len)
        return 0;
    /* A quiet call's entry: the guest's own code, unless a breakpoint is on it. */
    if ((m->cfg.quiet_calls & MACHINE_QUIET_IRQFLAGS) && !m->vmi_breaks[num])
        return VCPU_ROM_PLAIN;
    return rel % ROM_SLOT_SIZE == 0 ? flag_call_tag(num) : 0;
}

/* An interrupt-flag call at its entry (tagged by machine_rom_kind), the short way: no page
 * walk to find the call, its four registers read as the checks need them, logged at once
 * when its slot runs whole (rom_irqflag_entry). Anything else, and any call that must stop,
 * be timed or be followed, takes machine_rom_call's way, which decides it afresh. */
int machine_rom_tagged_call(machine *m, uint32_t pc, int tag)
{
    uint16_t num = flag_call_num(tag);
    if (rom_call_is_irqflag(num) && m->cfg.rom_enabled && !m->timing && m->rom.npending < ROM_PENDING_MAX &&
        !m->vmi_breaks[num] && !(m->cfg.quiet_calls & MACHINE_QUIET_IRQFLAGS)) {
        rom_ctx x = ctx_of(m);
        rom_record r;
        if (vcpu_get_flag_call_regs(m->cpu, num == VMI_CALL_GetInterruptMask, x.regs) &&
            rom_irqflag_entry(&x, num, pc, &r)) {
            log_call_at(m, &r, machine_insns(m), r.insns);
            m->flag_calls_short++;
            return VCPU_ROM_RUN;
        }
    }
    return machine_rom_call(m, pc);
}

void machine_rom_breaks_changed(machine *m, const bool before[MACHINE_VMI_BREAKS])
{
    if (!(m->cfg.quiet_calls & MACHINE_QUIET_IRQFLAGS) || !m->cpu)
        return;
    for (uint32_t n = VMI_CALL_EnableInterrupts; n <= VMI_CALL_SetInterruptMask; n++)
        if (before[n] != m->vmi_breaks[n]) { /* the call's slot goes back to the ROM trap, or leaves it */
            vcpu_flush_code(m->cpu);
            return;
        }
}

bool machine_rom_entry_here(machine *m, uint16_t *num)
{
    uint64_t phys;
    if (!m->cfg.rom_enabled || !vcpu_translate(m->cpu, vcpu_get(m->cpu, CPU_EIP), false, &phys) ||
        phys < ROM_PHYS_BASE || phys >= ROM_PHYS_BASE + ROM_IMAGE_SIZE)
        return false;
    const rom_call *c = rom_entry_at((uint32_t)(phys - ROM_PHYS_BASE));
    if (c)
        *num = c->num;
    return c != NULL;
}
