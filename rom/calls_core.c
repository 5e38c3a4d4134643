/* Init, GetRelocationInfo and the calls that control the virtual CPU as a whole. */
#include "rom/rom_handlers.h"

/* Init: activates the ROM. The kernel stays at ring 0 (VMI.md section 2 allows it), so the
 * guest reads CS & 3 == 0 as its privilege level afterwards. */
void rom_do_init(rom_ctx *x, rom_frame *f)
{
    x->st->initialized = true;
    f->result = 0;
}

/* GetRelocationInfo: EAX = where the call lives, relative to the linear alias the guest
 * reached the ROM through, so the answer stays valid once the identity mapping is gone. */
void rom_do_get_reloc(rom_ctx *x, rom_frame *f)
{
    (void)x;
    uint32_t num = f->args[0];
    rom_reloc type = rom_reloc_of(num);
    uint32_t addr = type == ROM_RELOC_NONE ? 0 : f->linear_base + ROM_SLOT_BASE + num * ROM_SLOT_SIZE;
    f->result = ((uint64_t)type << 32) | addr;
}

void rom_do_cpuid(rom_ctx *x, rom_frame *f)
{
    f->cpuid[0] = f->args[0]; /* leaf in EAX */
    f->cpuid[2] = f->args[2]; /* subleaf in ECX */
    x->svc->cpuid(x->o, f->cpuid);
    f->result = f->cpuid[0];
}

/* IODelay: the port-0x80 write it replaces only burns time; virtual time is instructions. */
void rom_do_iodelay(rom_ctx *x, rom_frame *f)
{
    (void)x;
    (void)f;
}

/* Halt: the "safe" halt: interrupts enabled, then halt until one arrives. The machine sleeps
 * to the next timer event after the call returns (or ends the run if nothing can wake it). */
void rom_do_halt(rom_ctx *x, rom_frame *f)
{
    (void)f;
    x->svc->set(x->o, ROM_EFLAGS, x->svc->get(x->o, ROM_EFLAGS) | 0x200);
    x->svc->request(x->o, ROM_REQ_HALT);
}

void rom_do_reboot(rom_ctx *x, rom_frame *f)
{
    (void)f;
    x->svc->request(x->o, ROM_REQ_REBOOT);
}

void rom_do_shutdown(rom_ctx *x, rom_frame *f)
{
    (void)f;
    x->svc->request(x->o, ROM_REQ_SHUTDOWN);
}
