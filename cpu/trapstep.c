/* Exact stepping with the trap flag.
 *
 * Stepping k instructions into a block with a per-instruction hook needs a translation of the
 * block that carries the hook and, once the hook is gone, one without it: ~50,000 host
 * instructions each, paid again at every interrupt that falls inside a busy loop. With
 * EFLAGS.TF set, Unicorn translates one instruction per block and raises #DB after each; those
 * translations are cached under their own CPU flags, so stepping the same few instructions
 * later costs no translation at all, only a trap per instruction.
 *
 * Used only where the guest cannot tell: its own TF clear, no debug-register breakpoint
 * enabled (their #DB would look the same), none of the stepped instructions reads or writes
 * the EFLAGS image or raises a software interrupt, and DR6 (where #DB notes the step) is put
 * back afterwards. An exception inside the stretch clears TF before it is delivered. */
#include "cpu/cpu_internal.h"

#define EFLAGS_TF 0x100u
#define DR7_ENABLE_BITS 0xFFu
/* Past this many traps, two translations are cheaper. A trap costs ~1-2 us; stepping with the
 * hook ~150 us in the Debian boot (two translations of a block with a hook call per
 * instruction, and dropping the block's range drops its cached trap-flag translations too).
 * 32 sent 4,086 of its 17,445 deadline stops the hook's way: 0.95 s; 128: 0.3 s. */
#define TRAP_STEP_MAX 128u
#define MAX_INSN_BYTES 15u

bool vcpu_trap_step_begin(cpu *c, uint32_t eip, uint64_t k)
{
    if (k == 0 || k > TRAP_STEP_MAX)
        return false;
    uint32_t flags = vcpu_get(c, CPU_EFLAGS);
    if ((flags & EFLAGS_TF) || (vcpu_get(c, CPU_DR7) & DR7_ENABLE_BITS))
        return false;
    uint8_t code[TRAP_STEP_MAX * MAX_INSN_BYTES];
    uint32_t len = (uint32_t)k * MAX_INSN_BYTES;
    eip += vcpu_cs_base(c); /* linear, as blk_pc (a 16-bit task's code segment has a base) */
    if (eip - c->blk_pc < c->blk_size && c->blk_pc + c->blk_size - eip < len)
        len = c->blk_pc + c->blk_size - eip; /* the block's own bytes: the next page may be unmapped */
    vcpu_decode_mode(c);
    if (!vcpu_read_linear(c, eip, code, len) || !disasm_trap_step_safe(c->dis, code, len, eip, (uint32_t)k))
        return false;
    c->trap_dr6 = vcpu_get(c, CPU_DR6);
    if (!vcpu_set(c, CPU_EFLAGS, flags | EFLAGS_TF))
        return false;
    c->trap_step = true;
    return true;
}

/* Before an exception raised inside the stretch is delivered: the frame it pushes must carry
 * the guest's flags, not the host's TF. */
static void clear_trap_flag(cpu *c)
{
    uint32_t flags = vcpu_get(c, CPU_EFLAGS);
    if (flags & EFLAGS_TF)
        vcpu_put(c, CPU_EFLAGS, flags & ~EFLAGS_TF);
}

void vcpu_trap_step_end(cpu *c)
{
    clear_trap_flag(c);
    vcpu_put(c, CPU_DR6, c->trap_dr6);
    c->trap_step = false;
}

bool vcpu_trap_step_trap(cpu *c, uint32_t intno)
{
    if (intno != 1) {
        clear_trap_flag(c);
        return false;
    }
    if (c->exact_left > 0 && --c->exact_left == 0)
        uc_emu_stop(c->uc); /* EIP is already past the k-th instruction */
    return true;
}

void vcpu_trap_step_exception(cpu *c)
{
    if (c->trap_step)
        clear_trap_flag(c);
}
