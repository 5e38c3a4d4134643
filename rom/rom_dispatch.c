#include "rom/rom_dispatch.h"

#include <string.h>

#include "emu/machine.h"
#include "rom/rom.h"

/* Where the call instruction that pushed `ret` starts, for the log: a direct `call rel32`
 * (Linux's patched sites) or the common indirect forms; otherwise the return address. */
static uint32_t caller_eip(machine *m, uint32_t ret)
{
    uint8_t b[7] = {0};
    if (ret < 7 || !vcpu_read_linear(m->cpu, ret - 7, b, sizeof b))
        return ret;
    if (b[2] == 0xE8)
        return ret - 5; /* call rel32 */
    if (b[5] == 0xFF && (b[6] & 0xF8) == 0xD0)
        return ret - 2; /* call *%reg */
    if (b[1] == 0xFF && (b[2] == 0x15 || (b[2] & 0xF8) == 0x90))
        return ret - 6; /* call *abs32 / call *disp32(%reg) */
    if (b[4] == 0xFF && (b[5] & 0xF8) == 0x50)
        return ret - 3; /* call *disp8(%reg) */
    return ret;
}

static void write_result(machine *m, const rom_call *call, const rom_frame *f)
{
    switch (call->result_type) {
    case ROM_T_NONE:
        break;
    case ROM_T_CPUID:
        vcpu_set(m->cpu, CPU_EAX, f->cpuid[0]);
        vcpu_set(m->cpu, CPU_EBX, f->cpuid[1]);
        vcpu_set(m->cpu, CPU_ECX, f->cpuid[2]);
        vcpu_set(m->cpu, CPU_EDX, f->cpuid[3]);
        break;
    case ROM_T_U64:
    case ROM_T_NS:
    case ROM_T_RELOC:
        vcpu_set(m->cpu, CPU_EDX, (uint32_t)(f->result >> 32));
        /* fall through */
    default:
        vcpu_set(m->cpu, CPU_EAX, (uint32_t)f->result);
        break;
    }
}

static void log_call(machine *m, uint16_t num, const rom_call *call, const rom_frame *f, uint32_t eip)
{
    vm_event ev = {0};
    ev.kind = EV_VMI_CALL;
    ev.num = num;
    ev.icount = machine_insns(m);
    ev.eip = eip;
    ev.nargs = call->nargs;
    memcpy(ev.args, f->args, sizeof ev.args);
    ev.result = f->result;
    memcpy(ev.extra, &f->cpuid[1], sizeof ev.extra);
    ev.failed = f->failed;
    evlog_add(&m->log, &ev);
}

static void log_guest_error(machine *m, uint32_t eip, uint32_t offset)
{
    vm_event ev = {0};
    ev.kind = EV_GUEST_ERROR;
    ev.icount = machine_insns(m);
    ev.eip = eip;
    ev.nargs = 1;
    ev.args[0] = offset;
    evlog_add(&m->log, &ev);
}

static void guest_error(machine *m, uint32_t eip, const char *what, uint32_t offset)
{
    log_guest_error(m, eip, offset);
    machine_end_run(m, END_CRASH, "guest error at eip 0x%08x: %s (ROM offset 0x%x)", eip, what, offset);
}

static uint16_t event_number(const rom_call *call)
{
    if (call == &rom_entry_init)
        return EV_NUM_INIT;
    if (call == &rom_entry_reloc)
        return EV_NUM_RELOC;
    return call->num;
}

/* The guest's arguments as the call convention places them: EAX, EDX, ECX, then the stack
 * above the return address. False if the stack cannot be read. */
static bool read_args(machine *m, const rom_call *call, rom_frame *f, uint32_t *ret, uint32_t *esp_out)
{
    uint32_t regs[CPU_ESP + 1], stack_args[2] = {0};
    vcpu_get_first(m->cpu, regs, CPU_ESP + 1); /* one batch: EAX ECX EDX EBX ESP */
    uint32_t esp = regs[CPU_ESP];
    *esp_out = esp;
    f->args[0] = regs[CPU_EAX];
    f->args[1] = regs[CPU_EDX];
    f->args[2] = regs[CPU_ECX];
    if (!vcpu_read_linear(m->cpu, esp, ret, sizeof *ret) ||
        (call->nargs > 3 && !vcpu_read_linear(m->cpu, esp + 4, stack_args, sizeof stack_args)))
        return false;
    f->args[3] = stack_args[0];
    f->args[4] = stack_args[1];
    return true;
}

/* A native call: log it (with what the host can tell about its result), then let the CPU run
 * the slot's real instructions, which fault in the guest if the arguments are bad. */
static int log_native(machine *m, const rom_call *call, uint32_t pc)
{
    rom_frame f = {0};
    uint32_t eip = pc;
    if (call->reloc == ROM_RELOC_JUMP_REL && call->nargs == 3) { /* IRET: the frame is on top */
        vcpu_read_linear(m->cpu, vcpu_get(m->cpu, CPU_ESP), f.args, 3 * sizeof f.args[0]);
    } else if (call->reloc == ROM_RELOC_JUMP_REL) { /* SYSEXIT: EDX = eip, ECX = esp */
        f.args[0] = vcpu_get(m->cpu, CPU_EDX);
        f.args[1] = vcpu_get(m->cpu, CPU_ECX);
    } else {
        uint32_t ret;
        uint32_t esp;
        if (read_args(m, call, &f, &ret, &esp))
            eip = caller_eip(m, ret);
        if (call->handler)
            call->handler(m, &f);
    }
    log_call(m, call->num, call, &f, eip);
    return VCPU_ROM_RUN;
}

#define CR4_TSD 0x4u
#define CR4_PCE 0x100u
#define IO_DELAY_PORT 0x80u

/* May the guest make this host call at its present privilege level? The rule is the one of the
 * instruction the call stands for (rom.h, rom_priv); the kernel's own calls cost one look at
 * CS, read with the call's registers. */
static bool call_permitted(machine *m, const rom_call *call)
{
    if (call->priv == ROM_PRIV_ANY || vcpu_cpl(m->cpu) == 0)
        return true;
    switch (call->priv) {
    case ROM_PRIV_TSD:
        return !(vcpu_get(m->cpu, CPU_CR4) & CR4_TSD);
    case ROM_PRIV_PCE:
        return vcpu_get(m->cpu, CPU_CR4) & CR4_PCE;
    case ROM_PRIV_IO_DELAY:
        return vcpu_io_allowed(m->cpu, IO_DELAY_PORT, 1);
    default:
        return false;
    }
}

/* A host call made from a privilege level that may not make it: not performed, logged as a
 * failed call, and the CPU raises #GP(0) with EIP at the ROM entry and the return address still
 * on the stack. The entry is where the guest's view of the privileged instruction is: a native
 * call's slot faults at the same place, and the kernel's #GP handler sees a fault in ROM code
 * reached from user mode. */
static int refuse(machine *m, const rom_call *call, uint32_t pc)
{
    rom_frame f = {.failed = true};
    uint32_t ret, esp, eip = pc;
    if (read_args(m, call, &f, &ret, &esp))
        eip = caller_eip(m, ret);
    log_call(m, event_number(call), call, &f, eip);
    return VCPU_ROM_REFUSED;
}

/* User code in the ROM off any call entry (or at a call this build lacks): at the kernel's
 * privilege that ends the run as a guest error, but a user process must not end the machine,
 * so it is refused like a privileged call, logged as a guest error without ending the run. */
static int refuse_stray(machine *m, uint32_t pc, uint32_t offset)
{
    log_guest_error(m, pc, offset);
    return VCPU_ROM_REFUSED;
}

/* A VMI-call breakpoint on this call: stop before it once; running on performs it. */
static bool break_before(machine *m, const rom_call *call)
{
    uint16_t num = event_number(call);
    if (num >= MACHINE_VMI_BREAKS || !m->vmi_breaks[num])
        return false;
    uint64_t now = machine_insns(m);
    if (m->vmi_break_skip == now)
        return false;
    m->vmi_break_skip = now;
    return true;
}

int rom_dispatch(machine *m, uint32_t pc)
{
    uint64_t phys;
    if (!m->cfg.rom_enabled || !vcpu_translate(m->cpu, pc, false, &phys))
        return VCPU_ROM_RUN;
    if (phys < PHYS_ROM_BASE || phys >= PHYS_ROM_BASE + ROM_IMAGE_SIZE)
        return VCPU_ROM_RUN;
    uint32_t offset = (uint32_t)(phys - PHYS_ROM_BASE);
    const rom_call *call = rom_entry_at(offset);
    if (!call) {
        if (rom_inside_native_code(offset))
            return VCPU_ROM_RUN;
        if (vcpu_cpl(m->cpu) > 0)
            return refuse_stray(m, pc, offset);
        guest_error(m, pc, "execution inside the VMI ROM that is not a call entry", offset);
        return VCPU_ROM_DONE;
    }
    if (break_before(m, call))
        return VCPU_ROM_BREAK;
    if (call->native_code)
        return log_native(m, call, pc);
    if (!call_permitted(m, call))
        return refuse(m, call, pc);

    uint32_t esp, ret;
    rom_frame f = {0};
    if (!read_args(m, call, &f, &ret, &esp)) {
        guest_error(m, pc, "VMI call with an unreadable stack", offset);
        return VCPU_ROM_DONE;
    }
    f.linear_base = pc - offset;
    uint32_t eip = caller_eip(m, ret);

    if (!rom_call_implemented(call)) {
        f.failed = true;
        log_call(m, event_number(call), call, &f, eip);
        machine_end_run(m, END_CRASH,
                        "guest error at eip 0x%08x: called VMI %s, which this build does not implement "
                        "(GetRelocationInfo answers NONE for it)", eip, call->name);
        return VCPU_ROM_DONE;
    }
    call->handler(m, &f);
    write_result(m, call, &f);
    vcpu_return_from_rom(m->cpu, esp + 4, ret);
    log_call(m, event_number(call), call, &f, eip);
    return VCPU_ROM_DONE;
}
