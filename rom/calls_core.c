/* Init, GetRelocationInfo and the calls that control the virtual CPU as a whole. */
#include "emu/machine.h"
#include "rom/rom_handlers.h"

/* Init: activates the ROM. The kernel stays at ring 0 (VMI.md section 2 allows it), so the
 * guest reads CS & 3 == 0 as its privilege level afterwards. */
void rom_do_init(machine *m, rom_frame *f)
{
    m->rom_initialized = true;
    f->result = 0;
}

/* GetRelocationInfo: EAX = where the call lives, relative to the linear alias the guest
 * reached the ROM through, so the answer stays valid once the identity mapping is gone. */
void rom_do_get_reloc(machine *m, rom_frame *f)
{
    (void)m;
    uint32_t num = f->args[0];
    rom_reloc type = rom_reloc_of(num);
    uint32_t addr = type == ROM_RELOC_NONE ? 0 : f->linear_base + ROM_SLOT_BASE + num * ROM_SLOT_SIZE;
    f->result = ((uint64_t)type << 32) | addr;
}

void rom_do_cpuid(machine *m, rom_frame *f)
{
    f->cpuid[0] = f->args[0]; /* leaf in EAX */
    f->cpuid[2] = f->args[2]; /* subleaf in ECX */
    machine_cpuid(m, f->cpuid);
    f->result = f->cpuid[0];
}

/* IODelay: the port-0x80 write it replaces only burns time; virtual time is instructions. */
void rom_do_iodelay(machine *m, rom_frame *f)
{
    (void)m;
    (void)f;
}

/* Halt: the "safe" halt: interrupts enabled, then halt until one arrives. The machine sleeps
 * to the next timer event after the call returns (or ends the run if nothing can wake it). */
void rom_do_halt(machine *m, rom_frame *f)
{
    (void)f;
    vcpu_set(m->cpu, CPU_EFLAGS, vcpu_get(m->cpu, CPU_EFLAGS) | 0x200);
    m->halt_requested = true;
    vcpu_request_stop(m->cpu);
}

void rom_do_reboot(machine *m, rom_frame *f)
{
    (void)f;
    machine_end_run(m, END_REBOOT, "guest requested a reboot");
}

void rom_do_shutdown(machine *m, rom_frame *f)
{
    (void)f;
    machine_end_run(m, END_SHUTDOWN, "guest shut down");
}
