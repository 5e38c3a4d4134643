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

/* Whether the k instructions from linear `eip` can be stepped by the trap flag (disasm.c).
 * Inside the current block the answer is kept, as block_index keeps its own (the block's code
 * is watched: a write to it moves counts.changes): stretches to interrupts in a busy loop
 * start at the same few block starts (18,935 stretches in the Debian boot, each decoding its
 * instructions with capstone before). */
static bool safe_to_step(cpu *c, uint32_t eip, uint32_t k)
{
    uint8_t code[TRAP_STEP_MAX * MAX_INSN_BYTES];
    bool inside = eip - c->blk_pc < c->blk_size;
    /* Kept only in a block whose count is cached: its code is watched (step_one's stand-in
     * block is not). */
    bool keep = inside && blockcache_get(&c->counts, c->blk_pc, c->blk_size);
    bool code16 = vcpu_code16(c);
    trap_answer *kept = &c->trap_cache[((eip + c->blk_pc * 7u) * 2654435761u) >> 27 & (TRAP_CACHE_SIZE - 1)];
    if (keep && kept->valid && kept->changes == c->counts.changes && kept->pc == c->blk_pc &&
        kept->size == c->blk_size && kept->eip == eip && kept->code16 == code16)
        return k <= kept->safe;
    uint32_t len = (keep ? TRAP_STEP_MAX : k) * MAX_INSN_BYTES;
    if (inside && c->blk_pc + c->blk_size - eip < len)
        len = c->blk_pc + c->blk_size - eip; /* the block's own bytes: the next page may be unmapped */
    vcpu_decode_mode(c);
    if (!vcpu_read_linear(c, eip, code, len))
        return false;
    if (!keep)
        return disasm_trap_step_safe(c->dis, code, len, eip, k);
    *kept = (trap_answer){.changes = c->counts.changes, .pc = c->blk_pc, .size = c->blk_size, .eip = eip,
                          .safe = disasm_trap_step_safe_count(c->dis, code, len, eip, TRAP_STEP_MAX),
                          .valid = true, .code16 = code16};
    return k <= kept->safe;
}

bool vcpu_trap_step_begin(cpu *c, uint32_t eip, uint64_t k)
{
    if (k == 0 || k > TRAP_STEP_MAX)
        return false;
    uint32_t flags = vcpu_get(c, CPU_EFLAGS);
    if ((flags & EFLAGS_TF) || (vcpu_get(c, CPU_DR7) & DR7_ENABLE_BITS))
        return false;
    eip += vcpu_cs_base(c); /* linear, as blk_pc (a 16-bit task's code segment has a base) */
    if (!safe_to_step(c, eip, (uint32_t)k))
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
