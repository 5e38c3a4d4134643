#include "emu/machine.h"
#include "emu/vmicheck.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/model.h"
#include "emu/firmware.h"
#include "emu/history.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "rom/rom.h"

void machine_config_defaults(machine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ram_mib = MACHINE_DEFAULT_MIB;
    cfg->rom_enabled = true;
    cfg->cpu_mhz = MACHINE_DEFAULT_MHZ;
    cfg->epoch = MACHINE_DEFAULT_EPOCH;
    cfg->snap_every = MACHINE_DEFAULT_SNAP_EVERY;
    cfg->snap_mem_mib = MACHINE_DEFAULT_SNAP_MIB;
    cfg->log_mem_mib = EVLOG_DEFAULT_MEM_MIB;
}

const char *machine_end_name(machine_end why)
{
    static const char *const names[] = {"running", "shutdown", "exit-port", "halted",
                                        "reboot", "limit", "crash", "error", "diverged", "stopped"};
    return (unsigned)why < sizeof names / sizeof names[0] ? names[why] : "?";
}

void machine_end_run(machine *m, machine_end why, const char *fmt, ...)
{
    if (m->end != END_RUNNING)
        return;
    m->end = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->end_message, sizeof m->end_message, fmt, ap);
    va_end(ap);
    if (m->cpu)
        vcpu_request_stop(m->cpu);
}

void machine_log(machine *m, const vm_event *ev)
{
    if (!evlog_add(&m->log, ev))
        machine_end_run(m, END_ERROR, "emulator error: the event log cannot hold event %zu (out of memory, or the spill file failed)",
                        evlog_count(&m->log));
    if (m->check)
        vmicheck_event(m, ev);
    if (m->history)
        history_on_event(m->history, ev);
}

uint64_t machine_insns(machine *m) { return m->insns_before_boot + (m->cpu ? vcpu_icount(m->cpu) : 0); }

uint64_t machine_cycles(machine *m) { return machine_insns(m) + m->idle_cycles; }

uint64_t machine_cycle_hz(const machine *m) { return (uint64_t)m->cfg.cpu_mhz * 1000000u; }

uint64_t machine_wall_ns(machine *m)
{
    uint64_t hz = machine_cycle_hz(m), cycles = machine_cycles(m);
    /* Split to keep cycles * 10^9 from overflowing. */
    uint64_t ns = cycles / hz * 1000000000u + cycles % hz * 1000000000u / hz;
    return (uint64_t)m->cfg.epoch * 1000000000u + ns;
}


/* CPUID as this machine's CPU reports it: the CPU model's (cpu/model.c), whose table also
 * decides the CR4 bits and MSRs the CPU accepts. */
void machine_cpuid(machine *m, uint32_t r[4])
{
    uint32_t leaf = r[0];
    uint32_t cr4 = vcpu_model_cpuid_reads_cr4(leaf) ? vcpu_get(m->cpu, CPU_CR4) : 0;
    vcpu_model_cpuid(vcpu_model(m->cpu), cr4, r);
    if (leaf == 1 && !apic_hw_enabled(&m->lapic))
        r[3] &= ~(1u << 9); /* globally disabled through IA32_APICBASE: no APIC */
}

static void log_simple(machine *m, ev_kind kind, uint16_t num, uint32_t eip, uint32_t a0, uint32_t a1)
{
    vm_event ev = {0};
    ev.kind = kind;
    ev.num = num;
    ev.icount = machine_insns(m);
    ev.eip = eip;
    ev.args[0] = a0;
    ev.args[1] = a1;
    machine_log(m, &ev);
}

bool machine_deliver(machine *m, const vcpu_event *ev)
{
    vm_event e = {0};
    e.kind = EV_EXCEPTION;
    e.num = (uint16_t)ev->vector;
    e.icount = machine_insns(m);
    e.eip = ev->fault_eip;
    e.nargs = 3;
    e.args[0] = ev->has_error ? ev->error : 0;
    e.args[1] = ev->vector == 14 ? vcpu_get(m->cpu, CPU_CR2) : 0;
    e.args[2] = (ev->has_error ? 1u : 0u) | (ev->software ? 2u : 0u) | (ev->external ? 4u : 0u);
    vcpu_event done;
    char why[200];
    vcpu_delivery r = vcpu_deliver(m->cpu, ev, &done, why, sizeof why);
    e.result = done.vector;
    e.failed = r != VCPU_DELIVERED;
    machine_log(m, &e);
    if (r == VCPU_DELIVERED)
        return true;
    if (r == VCPU_TRIPLE_FAULT) { /* a PC's chipset resets the CPU on the shutdown cycle */
        machine_end_run(m, END_REBOOT, "guest triple-faulted, which resets a PC: %s (vector %u at eip 0x%08x, icount %llu)",
                        why, ev->vector, ev->fault_eip, (unsigned long long)e.icount);
        return false;
    }
    machine_end_run(m, END_CRASH, "guest crashed: %s (vector %u at eip 0x%08x, icount %llu)", why, ev->vector,
                    ev->fault_eip, (unsigned long long)e.icount);
    return false;
}

static uint32_t size_mask(int size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }

static uint32_t on_port_in(void *ctx, uint16_t port, int size)
{
    machine *m = ctx;
    const device_ports *r = device_find_port(port, NULL);
    if (r)
        return r->read(m, port, size) & size_mask(size);
    vm_event ev = {0};
    ev.kind = EV_PORT_IN;
    ev.num = port;
    ev.icount = machine_insns(m);
    ev.eip = vcpu_get(m->cpu, CPU_EIP);
    ev.args[0] = (uint32_t)size;
    ev.nargs = 1;
    ev.result = size_mask(size); /* nothing drives the bus: all ones */
    machine_log(m, &ev);
    return size_mask(size);
}

static void on_port_out(void *ctx, uint16_t port, int size, uint32_t value)
{
    machine *m = ctx;
    const device_ports *r = device_find_port(port, NULL);
    if (r) {
        r->write(m, port, size, value & size_mask(size));
        if (r->affects_interrupts)
            vcpu_request_replan(m->cpu); /* re-plan the next event, as the ROM's timer calls do */
        return;
    }
    log_simple(m, EV_PORT_OUT, port, vcpu_get(m->cpu, CPU_EIP), (uint32_t)size, value & size_mask(size));
}

static void on_cpuid(void *ctx, uint32_t regs[4]) { machine_cpuid(ctx, regs); }

static bool is_x2apic_msr(uint32_t msr) { return msr >= APIC_MSR_X2APIC_FIRST && msr <= APIC_MSR_X2APIC_LAST; }

/* Native rdmsr/wrmsr: IA32_APICBASE, the x2APIC registers (#GP unless in x2APIC mode) and (max)
 * IA32_TSC_DEADLINE are the machine's; every other MSR is the CPU model's. */
static int on_msr_read(void *ctx, uint32_t msr, uint64_t *value)
{
    machine *m = ctx;
    if (m->check)
        vmicheck_msr(m, false, msr);
    if (msr == APIC_MSR_TSC_DEADLINE && m->lapic.deadline_ok) {
        *value = apic_deadline_msr(&m->lapic);
        return VCPU_MSR_DONE;
    }
    if (is_x2apic_msr(msr))
        return apic_x2apic_msr_read(&m->lapic, machine_cycles(m), msr, value) ? VCPU_MSR_DONE : VCPU_MSR_GP;
    if (msr != APIC_MSR_BASE)
        return VCPU_MSR_NATIVE;
    *value = apic_base_msr(&m->lapic);
    return VCPU_MSR_DONE;
}

static int on_msr_write(void *ctx, uint32_t msr, uint64_t value)
{
    machine *m = ctx;
    if (m->check)
        vmicheck_msr(m, true, msr);
    if (msr == APIC_MSR_TSC_DEADLINE && m->lapic.deadline_ok) {
        uint64_t now = machine_cycles(m);
        apic_deadline_msr_write(&m->lapic, now, now + vcpu_tsc_adjust(m->cpu), value);
        vcpu_request_replan(m->cpu); /* the timer's next event moved */
        return VCPU_MSR_DONE;
    }
    if (is_x2apic_msr(msr)) {
        if (machine_lapic_msr_write(m, msr, value) == APIC_BAD_REGISTER)
            return VCPU_MSR_GP;
        vcpu_request_replan(m->cpu); /* as a write to the page: EOI, an IPI or the timer */
        return VCPU_MSR_DONE;
    }
    if (msr != APIC_MSR_BASE)
        return VCPU_MSR_NATIVE;
    return apic_base_msr_write(&m->lapic, value) ? VCPU_MSR_DONE : VCPU_MSR_GP;
}

static uint64_t on_tsc(void *ctx) { return machine_cycles(ctx); }

static void on_check_write(void *ctx, uint64_t addr, int size, uint64_t value) { vmicheck_write(ctx, addr, size, value); }
static void on_check_insn(void *ctx, uint32_t pc, const disasm_priv_insn *in) { vmicheck_insn(ctx, pc, in); }
static void on_check_stale(void *ctx, uint32_t linear, uint64_t page, char access)
{
    vmicheck_stale(ctx, linear, page, access);
}

static int on_rom_block(void *ctx, uint32_t pc, int tag)
{
    return tag ? machine_rom_tagged_call(ctx, pc, tag) : machine_rom_call(ctx, pc);
}

static void on_block_watch(void *ctx, uint32_t pc) { machine_rom_block(ctx, pc); }
static int on_rom_kind(void *ctx, uint32_t pc) { return machine_rom_kind(ctx, pc); }

static void on_iret(void *ctx) { machine_nmi_iret(ctx); }

/* An exception or software interrupt: log it, then deliver it through the guest IDT. */
static bool on_interrupt(void *ctx, const vcpu_event *ev)
{
    machine *m = ctx;
    machine_rom_fault(m, ev); /* a native ROM call that faulted is logged before the exception */
    return machine_deliver(m, ev);
}

/* m->state and the named fields are one storage (emu/machine.h): check that they line up. */
#define STATE_FIELD_AT(f)                                                                            \
    _Static_assert(offsetof(machine, f) == offsetof(machine, state) + offsetof(machine_state, f), \
                   #f " is where machine_state has it")
STATE_FIELD_AT(com1);
STATE_FIELD_AT(rtc);
STATE_FIELD_AT(pic);
STATE_FIELD_AT(pit);
STATE_FIELD_AT(lapic);
STATE_FIELD_AT(ioapic);
STATE_FIELD_AT(acpi);
STATE_FIELD_AT(alarms);
STATE_FIELD_AT(kbc);
STATE_FIELD_AT(sysctl);
STATE_FIELD_AT(pci);
STATE_FIELD_AT(fwcfg);
STATE_FIELD_AT(testdev);
STATE_FIELD_AT(hpet);
STATE_FIELD_AT(vga);
STATE_FIELD_AT(halt_requested);
STATE_FIELD_AT(step_shadow);
STATE_FIELD_AT(nmi_blocked);
STATE_FIELD_AT(rom);
STATE_FIELD_AT(insns_before_boot);
STATE_FIELD_AT(idle_cycles);
STATE_FIELD_AT(reboots);

void machine_set_serial_out(machine *m, uart_tx_fn tx, void *ctx)
{
    m->serial_out = tx;
    m->serial_ctx = ctx;
}

/* Every device as a power-on leaves it (emu/device.h); what survives a reboot has no reset. */
static void reset_devices(machine *m)
{
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->reset)
            machine_devices[i]->reset(m);
    m->halt_requested = false;
    m->step_shadow = false;
    m->nmi_blocked = false;
}

static bool setup_devices(machine *m, vm_error *err)
{
    char why[128];
    if (!device_table_check(why, sizeof why))
        return vm_fail(err, VM_EINVAL, "%s", why);
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        if (d->init)
            d->init(m);
        else if (d->reset)
            d->reset(m);
    }
    return true;
}

/* Everything a power-on does: clear RAM, write the ROM, load the kernel, reset the CPU. */
static bool power_on(machine *m, vm_error *err)
{
    phys_clear(&m->mem);
    if (m->dirty.bits)
        dirty_mark_all(&m->dirty); /* the clear above bypasses write tracking */
    if (m->cfg.rom_enabled)
        rom_build_image(phys_ptr(&m->mem, PHYS_ROM_BASE));
    boot_image img = {.path = m->kernel_path, .data = m->kernel, .size = m->kernel_size};
    boot_options opt = {.cmdline = m->cfg.cmdline, .initrd_path = m->cfg.initrd, .initrd = m->initrd,
                        .initrd_size = m->initrd_size};
    if (!boot_load(&m->mem, &img, &opt, &m->boot, err))
        return false;
    vcpu_close(m->cpu);
    cpu_ops ops = {
        .ctx = m,
        .rom_block = on_rom_block,
        .port_in = on_port_in,
        .port_out = on_port_out,
        .cpuid = on_cpuid,
        .msr_read = on_msr_read,
        .msr_write = on_msr_write,
        .tsc = on_tsc,
        .interrupt = on_interrupt,
        .block_watch = on_block_watch,
        .rom_kind = on_rom_kind,
        .iret = on_iret,
    };
    if (m->check) { /* the checker's hooks exist only when it runs */
        ops.check_write = on_check_write;
        ops.check_insn = on_check_insn;
        ops.check_stale = on_check_stale;
    }
    m->cpu = vcpu_open(&m->mem, &ops, (vcpu_model_id)m->cfg.cpu_model, err);
    if (!m->cpu || !machine_map_high_memory(m, err))
        return false;
    machine_rom_reset(m);
    vmicheck_reset(m);
    m->vmi_break_skip = UINT64_MAX;
    reset_devices(m);
    if (m->boot.bios_devices)
        firmware_program_devices(m);
    return vcpu_reset(m->cpu, &m->boot.cpu, err);
}

bool machine_init(machine *m, const machine_config *cfg, const char *kernel_path, vm_error *err)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    machine_set_host_hook(m, 0, NULL, NULL);
    evlog_init(&m->log);
    evlog_set_mem_limit(&m->log, (size_t)cfg->log_mem_mib << 20);
    if (cfg->cpu_mhz == 0)
        return vm_fail(err, VM_EINVAL, "the cycle frequency must be at least 1 MHz");
    if (!vcpu_model_name((vcpu_model_id)cfg->cpu_model))
        return vm_fail(err, VM_EINVAL, "CPU model %u does not exist", cfg->cpu_model);
    m->kernel_path = strdup(kernel_path);
    if (!m->kernel_path)
        return vm_fail(err, VM_ENOMEM, "out of memory");
    if (!loader_read_file(kernel_path, &m->kernel, &m->kernel_size, err) ||
        (cfg->initrd && !loader_read_file(cfg->initrd, &m->initrd, &m->initrd_size, err)))
        return false;
    if (!phys_init(&m->mem, cfg->ram_mib, err) || !setup_devices(m, err))
        return false;
    if (cfg->quiet_calls & ~MACHINE_QUIET_ALL)
        return vm_fail(err, VM_EINVAL, "unknown quiet-call set 0x%x", cfg->quiet_calls);
    if (cfg->quiet_calls && cfg->check_vmi)
        return vm_fail(err, VM_EINVAL, "--quiet-calls and --check-vmi cannot be used together: the checker follows "
                                       "every VMI call");
    if (cfg->check_vmi && !vmicheck_open(m))
        return vm_fail(err, VM_ENOMEM, "out of memory for the VMI checker");
    if (!machine_rom_open(m, err) || !power_on(m, err))
        return false;
    return cfg->snap_every == 0 || snap_enable(m, cfg->snap_every, err);
}

void machine_free(machine *m)
{
    recplay_free(m);
    snap_disable(m);
    vcpu_close(m->cpu);
    m->cpu = NULL;
    phys_free(&m->mem);
    evlog_free(&m->log);
    free(m->pt_pages);
    m->pt_pages = NULL;
    vmicheck_close(m);
    free(m->kernel);
    free(m->kernel_path);
    free(m->initrd);
    m->initrd = NULL;
    m->kernel = NULL;
    m->kernel_path = NULL;
}

static void end_from_cpu(machine *m, cpu_stop stop)
{
    const cpu_fault *f = vcpu_fault_info(m->cpu);
    switch (stop) {
    case CPU_STOP_TARGET:
        if (m->cfg.max_insns && machine_insns(m) >= m->cfg.max_insns)
            machine_end_run(m, END_LIMIT, "instruction limit reached (%llu instructions)",
                            (unsigned long long)m->cfg.max_insns);
        break;
    case CPU_STOP_HALT:
        machine_idle(m);
        break;
    case CPU_STOP_FAULT:
        machine_end_run(m, END_CRASH, "guest crashed: %s (icount %llu)", f->message, (unsigned long long)f->icount);
        break;
    case CPU_STOP_MEMORY:
        log_simple(m, EV_MEMORY, 0, f->eip, (uint32_t)f->address, (uint32_t)f->access);
        machine_end_run(m, END_CRASH, "guest crashed: %s (icount %llu)", f->message, (unsigned long long)f->icount);
        break;
    case CPU_STOP_ERROR:
        machine_end_run(m, END_ERROR, "emulator error: %s", f->message);
        break;
    case CPU_STOP_REQUEST:
        if (m->halt_requested && m->end == END_RUNNING)
            machine_idle(m);
        break;
    case CPU_STOP_IRQ_WINDOW:
        break;
    case CPU_STOP_BREAKPOINT:
        m->break_hit = true;
        break;
    case CPU_STOP_WATCHPOINT:
        m->watch_hit = true;
        m->watch = *vcpu_last_watch(m->cpu);
        m->watch.icount += m->insns_before_boot;
        break;
    }
}

/* The instruction count to run to: the next timer event or the limit, whichever is first. */
static uint64_t run_target(machine *m)
{
    uint64_t icount = vcpu_icount(m->cpu), target = UINT64_MAX;
    if (m->step_shadow) {
        m->step_shadow = false;
        target = icount + 1;
    } else {
        uint64_t next = machine_next_event(m), now = machine_cycles(m);
        if (next != UINT64_MAX)
            target = icount + (next > now ? next - now : 0);
    }
    uint64_t stops[] = {m->recplay ? recplay_next_input(m) : UINT64_MAX, m->host_next};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        uint64_t rel = stops[i] > m->insns_before_boot ? stops[i] - m->insns_before_boot : 0;
        if (stops[i] != UINT64_MAX && rel > icount && rel < target)
            target = rel;
    }
    if (m->pause_at > m->insns_before_boot && m->pause_at - m->insns_before_boot < target)
        target = m->pause_at - m->insns_before_boot;
    if (m->timeline) {
        uint64_t snap = snap_next_due(m);
        if (snap > m->insns_before_boot && snap - m->insns_before_boot < target)
            target = snap - m->insns_before_boot;
    }
    if (m->cfg.max_insns) { /* the limit counts every boot of a restarting machine */
        uint64_t left = m->cfg.max_insns > m->insns_before_boot ? m->cfg.max_insns - m->insns_before_boot : 0;
        if (left < target)
            target = left;
    }
    return target;
}

static bool reboot(machine *m)
{
    snap_forget(m); /* snapshots do not reach across a power-on: the CPU engine is new */
    vm_error err = {0};
    log_simple(m, EV_END, END_REBOOT, vcpu_get(m->cpu, CPU_EIP), 0, 0);
    m->end = END_RUNNING;
    m->end_message[0] = 0;
    m->reboots++;
    m->insns_before_boot = machine_insns(m); /* time keeps running across the reboot */
    if (!power_on(m, &err)) {
        machine_end_run(m, END_ERROR, "reboot failed: %s", err.msg);
        return false;
    }
    return true;
}

static bool paused(machine *m)
{
    return m->break_hit || m->watch_hit || (m->pause_at && machine_insns(m) >= m->pause_at);
}

/* A watched write stops at the end of its translated block; with snapshots, go back to just
 * after the writing instruction, where a debugger user expects to be. */
static void settle_watch(machine *m)
{
    if (!m->watch_hit || !m->timeline || m->in_goto || machine_insns(m) == m->watch.icount)
        return;
    vcpu_watch_hit hit = m->watch;
    vm_error err = {0};
    if (!snap_goto(m, hit.icount, &err))
        machine_end_run(m, END_ERROR, "cannot stop exactly at the watched write: %s", err.msg);
    m->watch = hit;
    m->watch_hit = true;
}

const char *host_device_name(unsigned dev)
{
    static const char *const names[HOST_DEVICES] = {[HOST_COM1] = "com1", [HOST_KEYBOARD] = "keyboard"};
    return dev < HOST_DEVICES ? names[dev] : "?";
}

/* Where each device's bytes go (table indexed by host_device). */
static size_t (*const input_route[HOST_DEVICES])(machine *, const uint8_t *, size_t) = {
    [HOST_COM1] = machine_serial_input,
    [HOST_KEYBOARD] = machine_key_input,
};

size_t machine_host_input(machine *m, const host_input *in)
{
    if ((unsigned)in->device >= HOST_DEVICES || in->kind != HOST_BYTES)
        return 0;
    size_t taken = 0;
    while (taken < in->len) {
        size_t k = in->len - taken < 16 ? in->len - taken : 16;
        k = input_route[in->device](m, in->bytes + taken, k);
        if (k == 0)
            break; /* the device is full: the rest is dropped, as a real one drops it */
        vm_event ev = {0};
        ev.kind = EV_INPUT;
        ev.num = (uint16_t)k;
        ev.icount = machine_insns(m);
        ev.eip = m->cpu ? vcpu_get(m->cpu, CPU_EIP) : 0;
        memcpy(ev.args, in->bytes + taken, k);
        ev.args[4] = (uint32_t)in->device;
        machine_log(m, &ev);
        taken += k;
    }
    return taken;
}

static uint64_t first_boundary_after(uint64_t insns, uint64_t every) { return (insns / every + 1) * every; }

/* A run starts: the next boundary is the first multiple of host_every not yet called at (time
 * travel may have moved the count either way since the last run). */
static void plan_boundary(machine *m)
{
    uint64_t now = machine_insns(m), every = m->host_every;
    uint64_t next = (now + every - 1) / every * every;
    if (next == 0 || next == m->host_last)
        next += every;
    m->host_next = next;
}

void machine_set_host_hook(machine *m, uint64_t every, machine_host_fn fn, void *ctx)
{
    m->host_fn = fn;
    m->host_ctx = ctx;
    m->host_every = every ? every : MACHINE_HOST_EVERY;
    m->host_last = UINT64_MAX;
    plan_boundary(m);
}

void machine_interrupt(machine *m) { m->host_interrupt = 1; }
void machine_clear_interrupt(machine *m) { m->host_interrupt = 0; }

/* The record's inputs due now, during a replay. */
static void replay_inputs(machine *m)
{
    if (m->recplay)
        recplay_inject_inputs(m);
}

/* At a host boundary: call the hook; true if it (or machine_interrupt) pauses the run here. */
static bool host_boundary(machine *m)
{
    if (machine_insns(m) < m->host_next)
        return false;
    m->host_last = machine_insns(m);
    m->host_next = first_boundary_after(m->host_last, m->host_every);
    if (m->history) /* a change without a store or an event is seen within one interval */
        history_check(m->history);
    bool pause = m->host_fn && m->host_fn(m, m->host_ctx, false);
    if (m->host_interrupt)
        pause = true;
    m->host_paused = pause && m->end == END_RUNNING;
    return m->host_paused;
}

static machine_end run(machine *m, bool over_breakpoint)
{
    m->break_hit = false;
    m->watch_hit = false;
    m->host_paused = false;
    bool outer_run = m->in_run; /* snap_goto runs the machine from inside a run */
    m->in_run = true;
    plan_boundary(m);
    while (m->end == END_RUNNING) {
        /* A snapshot due here is taken before the run pauses at this count too: whoever paused
         * it (--keys-at, sendkey) may give input now, and a replay meets the snapshot first. */
        if (m->timeline && machine_insns(m) >= snap_next_due(m)) {
            vm_error err = {0};
            if (!snap_take(m, &err))
                machine_end_run(m, END_ERROR, "snapshot failed: %s", err.msg);
        }
        if (m->end != END_RUNNING || paused(m))
            break;
        replay_inputs(m);
        if (host_boundary(m))
            break;
        machine_service_interrupts(m);
        if (m->end != END_RUNNING || paused(m))
            break;
        cpu_stop stop = vcpu_run(m->cpu, run_target(m), over_breakpoint);
        over_breakpoint = false; /* later slices start where the machine paused on its own */
        if (machine_insns(m) > m->furthest)
            m->furthest = machine_insns(m);
        end_from_cpu(m, stop);
        machine_fire_due(m);
        settle_watch(m);
        if (m->end == END_REBOOT && m->cfg.reboot_restarts && !reboot(m))
            break;
    }
    if (m->host_fn && m->host_fn(m, m->host_ctx, true) && m->end == END_RUNNING)
        m->host_paused = true;
    m->in_run = outer_run;
    if (m->end != END_RUNNING)
        machine_rom_end(m);
    if (m->end != END_RUNNING)
        log_simple(m, EV_END, (uint16_t)m->end, m->cpu ? vcpu_get(m->cpu, CPU_EIP) : 0, m->exit_value, 0);
    return m->end;
}

machine_end machine_run(machine *m) { return run(m, true); }
machine_end machine_run_on(machine *m) { return run(m, false); }

void machine_stop(machine *m, const char *why)
{
    if (m->end != END_RUNNING)
        return;
    machine_end_run(m, END_STOPPED, "stopped by %s", why);
    if (m->in_run)
        return; /* from the host hook: machine_run logs the end as it returns */
    log_simple(m, EV_END, END_STOPPED, m->cpu ? vcpu_get(m->cpu, CPU_EIP) : 0, 0, 0);
}

machine_end machine_run_until(machine *m, uint64_t insns)
{
    m->pause_at = insns;
    machine_end e = machine_insns(m) < insns ? machine_run(m) : m->end;
    m->pause_at = 0;
    return e;
}
