#include "cpu/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid_direct.h"
#include "cpu/ifwatch.h"
#include "cpu/regs_direct.h"
#include "cpu/model.h"

/* struct cpu is in cpu_internal.h, shared with deliver.c */

const char *const vcpu_reg_names[CPU_NREGS] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
    "cs", "ss", "ds", "es", "fs", "gs", "cr0", "cr2", "cr3", "cr4",
    "dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
};

static const int uc_regs[CPU_NREGS] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX, UC_X86_REG_ESP,
    UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EIP, UC_X86_REG_EFLAGS,
    UC_X86_REG_CS,  UC_X86_REG_SS,  UC_X86_REG_DS,  UC_X86_REG_ES,  UC_X86_REG_FS,
    UC_X86_REG_GS,  UC_X86_REG_CR0, UC_X86_REG_CR2, UC_X86_REG_CR3, UC_X86_REG_CR4,
    UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3, UC_X86_REG_DR6, UC_X86_REG_DR7,
};

static bool is_selector(cpu_reg r) { return r >= CPU_CS && r <= CPU_GS; }

/* Inside a ROM call (at_block_start) the guest does not run: EAX..CS are read from Unicorn
 * once each, in batches of what is asked for, and answered from c->call_regs (a call's
 * arguments, its handler and the record all read them; most calls need only EAX..ESP, and a
 * register read costs ~45 host instructions, EFLAGS more). Writes go through, except the call's
 * return (ESP, EIP): the slot's own `ret` performs it unless the run stops first. */
static void fill_call_regs(cpu *c, uint32_t want)
{
    uint32_t miss = want & ~c->call_regs_have;
    if (!miss)
        return;
    c->call_regs_have |= miss;
    if ((c->regs_state || (vcpu_regs_seen && vcpu_regs_seen != c->regs_rejected)) &&
        vcpu_regs_direct_read(c, miss, c->call_regs)) /* the words themselves (regs_direct.c) */
        return;
    int lo = __builtin_ctz(miss), end = 32 - __builtin_clz(miss);
    if (miss == (1u << end) - (1u << lo)) { /* one run of registers (the usual case): no tables to build */
        memset(&c->call_regs[lo], 0, (size_t)(end - lo) * sizeof c->call_regs[0]);
        uc_reg_read_batch(c->uc, (int *)&uc_regs[lo], &c->call_reg_ptrs[lo], end - lo);
        return;
    }
    int ids[CALL_REGS];
    void *ptrs[CALL_REGS];
    int n = 0;
    for (int i = 0; i < CALL_REGS; i++)
        if (miss & 1u << i) {
            c->call_regs[i] = 0; /* a selector read fills only the low 16 bits */
            ids[n] = uc_regs[i];
            ptrs[n++] = &c->call_regs[i];
        }
    uc_reg_read_batch(c->uc, ids, ptrs, n);
}

uint32_t vcpu_get(cpu *c, cpu_reg r)
{
    if (c->at_block_start && r < CALL_REGS) {
        fill_call_regs(c, 1u << r);
        return c->call_regs[r];
    }
    if (is_selector(r)) {
        uint16_t v = 0;
        uc_reg_read(c->uc, uc_regs[r], &v);
        return v;
    }
    uint32_t v = 0;
    uc_reg_read(c->uc, uc_regs[r], &v);
    return v;
}

uint32_t vcpu_cpl(cpu *c)
{
    if (vcpu_get(c, CPU_EFLAGS) & 0x20000u) /* VM */
        return 3;
    uint32_t rpl = vcpu_get(c, CPU_CS) & 3u; /* inside a ROM call both come from call_regs */
    return rpl && (vcpu_get(c, CPU_CR0) & 1u) ? rpl : 0;
}

void vcpu_get_first(cpu *c, uint32_t *out, int n)
{
    if (c->at_block_start && n <= CALL_REGS) {
        fill_call_regs(c, (1u << n) - 1);
        memcpy(out, c->call_regs, (size_t)n * sizeof *out);
        if (c->trap_step && n > CPU_EFLAGS)
            out[CPU_EFLAGS] &= ~0x100u;
        return;
    }
    void *ptrs[CPU_NREGS];
    n = n < CPU_NREGS ? n : CPU_NREGS;
    for (int i = 0; i < n; i++) {
        out[i] = 0; /* selectors fill only their low 16 bits */
        ptrs[i] = &out[i];
    }
    uc_reg_read_batch(c->uc, (int *)uc_regs, ptrs, n);
    if (c->trap_step && n > CPU_EFLAGS)
        out[CPU_EFLAGS] &= ~0x100u; /* the host's TF (trapstep.c: never the guest's then) */
}

void vcpu_get_call_regs(cpu *c, uint32_t want, uint32_t *out)
{
    VM_ASSERT(!(want >> CALL_REGS));
    if (c->at_block_start) {
        fill_call_regs(c, want);
        for (int i = 0; i < CALL_REGS; i++)
            if (want & 1u << i)
                out[i] = c->call_regs[i];
    } else { /* not from the block hook (tests call the ROM directly): nothing is kept */
        int ids[CALL_REGS];
        void *ptrs[CALL_REGS];
        int n = 0;
        for (int i = 0; i < CALL_REGS; i++)
            if (want & 1u << i) {
                out[i] = 0; /* a selector read fills only the low 16 bits */
                ids[n] = uc_regs[i];
                ptrs[n++] = &out[i];
            }
        uc_reg_read_batch(c->uc, ids, ptrs, n);
    }
    if (c->trap_step && (want & 1u << CPU_EFLAGS))
        out[CPU_EFLAGS] &= ~0x100u; /* the host's TF (trapstep.c: never the guest's then) */
}

bool vcpu_get_flag_call_regs(cpu *c, bool whole_eflags, uint32_t *out)
{
    return c->at_block_start && !c->trap_step && vcpu_regs_direct_flag_call(c, whole_eflags, out);
}

void vcpu_get_some(cpu *c, const cpu_reg *which, uint32_t *out, int n)
{
    int ids[CPU_NREGS];
    void *ptrs[CPU_NREGS];
    VM_ASSERT(n >= 0 && n <= CPU_NREGS);
    for (int i = 0; i < n; i++) {
        VM_ASSERT(which[i] >= CALL_REGS); /* none that a ROM call answers from call_regs */
        out[i] = 0; /* selectors fill only their low 16 bits */
        ids[i] = uc_regs[which[i]];
        ptrs[i] = &out[i];
    }
    uc_reg_read_batch(c->uc, ids, ptrs, n);
}

/* The host wrote EIP. While the engine runs, Unicorn then skips its EIP sync before the hooks
 * that read it (port I/O, RDTSC, CPUID, memory) until an exit check finds an exit request,
 * which nothing may make for many blocks: the count read there (vcpu_icount) would be that of
 * an older instruction. resync_pc has the next block start make that exit. */
static void note_pc_write(cpu *c)
{
    if (!c->running)
        return;
    c->pc_resync = true;
    c->limit = 0;
}

/* The pending ROM return done by the host instead of the slot's `ret` (the run stops first,
 * or the host sets ESP or EIP itself). */
static void settle_rom_return(cpu *c)
{
    note_pc_write(c);
    c->rom_ret_pending = false;
    uc_reg_write(c->uc, UC_X86_REG_ESP, &c->call_regs[CPU_ESP]);
    uc_reg_write(c->uc, UC_X86_REG_EIP, &c->call_regs[CPU_EIP]);
}

void vcpu_return_from_rom(cpu *c, uint32_t esp, uint32_t eip)
{
    c->call_regs[CPU_ESP] = esp;
    c->call_regs[CPU_EIP] = eip;
    c->call_regs_have |= 1u << CPU_ESP | 1u << CPU_EIP;
    c->rom_ret_pending = true;
    if (!c->at_block_start) { /* not from the block hook: no slot `ret` is about to run */
        settle_rom_return(c);
        c->call_regs_have = 0;
    }
}

bool vcpu_set(cpu *c, cpu_reg r, uint32_t value)
{
    if (r == CPU_CR0 || r == CPU_CR3 || r == CPU_CR4)
        c->mmu_regs_valid = false;
    if (c->rom_ret_pending && (r == CPU_ESP || r == CPU_EIP))
        settle_rom_return(c);
    if (r == CPU_EIP)
        note_pc_write(c);
    if (r < CALL_REGS && c->call_regs_have & 1u << r)
        c->call_regs[r] = is_selector(r) ? (uint16_t)value : value;
    if (r == CPU_EFLAGS) { /* Unicorn keeps its own view of some flag bits: read it back */
        c->call_regs_have &= ~(1u << CPU_EFLAGS);
        if (c->irq_window) { /* IF may be set now: look at the next block start */
            c->if_rose = true;
            c->limit = 0;
        }
    }
    if (r == CPU_DR7)
        c->dr7_clear_at = 0; /* read it again */
    if (is_selector(r)) {
        uint16_t v = (uint16_t)value;
        return uc_reg_write(c->uc, uc_regs[r], &v) == UC_ERR_OK;
    }
    return uc_reg_write(c->uc, uc_regs[r], &value) == UC_ERR_OK;
}

/* General registers (EAX..EDI but ESP) in one engine call: the CPUID and RDTSC hooks write their
 * results this way (one call instead of four: ~8 % of a CPUID-bound loop's host instructions). */
static void put_gprs(cpu *c, const cpu_reg *which, const uint32_t *v, int n)
{
    int ids[4];
    void *ptrs[4];
    VM_ASSERT(n >= 0 && n <= 4);
    for (int i = 0; i < n; i++) {
        VM_ASSERT(which[i] <= CPU_EDI && which[i] != CPU_ESP);
        if (c->call_regs_have & 1u << which[i])
            c->call_regs[which[i]] = v[i];
        ids[i] = uc_regs[which[i]];
        ptrs[i] = (void *)&v[i];
    }
    uc_err e = uc_reg_write_batch(c->uc, ids, ptrs, n);
    VM_ASSERT(e == UC_ERR_OK);
}

bool vcpu_set_masked(cpu *c, uint32_t mask, const uint32_t *values)
{
    const uint32_t gprs = ((1u << (CPU_EDI + 1)) - 1) & ~(1u << CPU_ESP);
    int ids[CPU_EDI + 1];
    void *ptrs[CPU_EDI + 1];
    int n = 0;
    VM_ASSERT(!(mask & ~((1u << CALL_REGS) - 1)));
    for (int i = 0; i <= CPU_EDI; i++)
        if (mask & gprs & 1u << i) {
            if (c->call_regs_have & 1u << i)
                c->call_regs[i] = values[i];
            ids[n] = uc_regs[i];
            ptrs[n++] = (void *)&values[i];
        }
    if (n && uc_reg_write_batch(c->uc, ids, ptrs, n) != UC_ERR_OK)
        return false;
    for (int i = 0; i < CALL_REGS; i++)
        if (mask & ~gprs & 1u << i && !vcpu_set(c, (cpu_reg)i, values[i]))
            return false;
    return true;
}

void vcpu_put(cpu *c, cpu_reg r, uint32_t value)
{
    VM_ASSERT(!is_selector(r));
    bool ok = vcpu_set(c, r, value);
    VM_ASSERT(ok);
}

static void update_block_watch(cpu *c)
{
    c->block_watch = c->watch_rom || c->watch_iret;
    c->limit = c->block_care || c->pc_resync || !c->running ? 0 : c->target;
}

void vcpu_watch_blocks(cpu *c, bool on)
{
    c->watch_rom = on;
    update_block_watch(c);
}

void vcpu_watch_iret(cpu *c, bool on)
{
    c->watch_iret = on;
    c->iret_armed = false;
    update_block_watch(c);
}

/* At a block start while irets are watched. The block before ended in an iret (armed) and
 * the CPU is now outside it: the iret retired. Back inside it (the block was stopped before
 * it ran, stepped partway or cut by a store) it did not; an exception in it disarms
 * (vcpu_deliver). Then arm for this block if it ends in an iret. */
static void settle_iret(cpu *c, uint32_t pc)
{
    if (c->iret_armed && pc - c->iret_blk > c->iret_pc - c->iret_blk) {
        c->iret_armed = false;
        if (c->ops.iret)
            c->ops.iret(c->ops.ctx); /* may turn the watch off */
    }
}

void vcpu_decode_mode(cpu *c) { disasm_set_code16(c->dis, vcpu_code16(c)); }

static void watch_iret_at(cpu *c, uint32_t pc, uint32_t size)
{
    settle_iret(c, pc);
    if (!c->watch_iret)
        return;
    uint8_t buf[MAX_BLOCK_BYTES];
    vcpu_decode_mode(c);
    c->iret_armed = size <= sizeof buf && vcpu_read_linear(c, pc, buf, size) &&
                    disasm_ends_in_iret(c->dis, buf, size, pc, &c->iret_pc);
    c->iret_blk = pc;
}

void vcpu_request_stop(cpu *c)
{
    if (!c->stop_requested) {
        c->stop_requested = true;
        c->stop = CPU_STOP_REQUEST;
    }
    c->limit = 0;
    uc_emu_stop(c->uc);
}

void vcpu_request_replan(cpu *c)
{
    c->replan = true;
    c->limit = 0;
}

const cpu_fault *vcpu_fault_info(const cpu *c) { return &c->fault; }

/* Instructions of the current block that start before `eip` (inside the block). A port read
 * in a busy loop (Linux's PIT and PM-timer waits: millions) asks the same question each time,
 * so the last answer is kept: the block's code cannot change without its counts being dropped
 * (its pages are watched, mmu_fill.c), which moves counts.changes. */
static bool answers(const index_answer *a, const cpu *c, uint32_t eip)
{
    return a->valid && a->changes == c->counts.changes && a->pc == c->blk_pc && a->size == c->blk_size &&
           a->eip == eip;
}

static __attribute__((noinline)) uint32_t block_index(cpu *c, uint32_t eip)
{
    if (answers(&c->index_memo, c, eip))
        return c->index_memo.index;
    index_answer *kept = &c->index_cache[((eip + c->blk_pc * 7u) * 2654435761u) >> 26 & (INDEX_CACHE_SIZE - 1)];
    if (answers(kept, c, eip)) {
        c->index_memo = *kept;
        return kept->index;
    }
    uint8_t buf[MAX_BLOCK_BYTES];
    if (c->blk_size > sizeof buf || !vcpu_read_linear(c, c->blk_pc, buf, c->blk_size))
        return 0;
    vcpu_decode_mode(c);
    uint32_t n = disasm_count_until(c->dis, buf, c->blk_size, c->blk_pc, eip);
    c->index_memo.io_single = disasm_only_port_io(c->dis, buf, c->blk_size, c->blk_pc, &c->index_memo.io_index);
    c->index_memo.changes = c->counts.changes;
    c->index_memo.pc = c->blk_pc;
    c->index_memo.size = c->blk_size;
    c->index_memo.eip = eip;
    c->index_memo.index = n;
    c->index_memo.valid = true;
    *kept = c->index_memo;
    return n;
}

/* Inside the port hook of a block run whole whose only port instruction is known (the memo
 * above): the count before that instruction, without reading EIP (a register read per port
 * access: Linux's PIT wait makes millions). Not
 * while stepping: a block is then entered midway and blk_pc may be a stand-in (step_one). */
static bool port_io_index(cpu *c, uint32_t *index)
{
    if (!c->in_port_io || c->exact || !c->index_memo.valid || !c->index_memo.io_single ||
        c->index_memo.changes != c->counts.changes || c->index_memo.pc != c->blk_pc ||
        c->index_memo.size != c->blk_size)
        return false;
    *index = c->index_memo.io_index;
    return true;
}

uint64_t vcpu_icount(cpu *c)
{
    if (!c->running || c->at_block_start)
        return c->icount;
    /* EIP in a hook is the instruction running: after a host write of EIP, resync_pc has
     * Unicorn sync it again before any hook reads it. */
    uint32_t known;
    if (port_io_index(c, &known))
        return c->blk_icount + known;
    uint32_t eip = vcpu_get(c, CPU_EIP);
    /* EIP is CS-relative, blk_pc linear: a code segment with a base (a 16-bit task's) is
     * looked up only when EIP alone misses the block. */
    if (eip - c->blk_pc >= c->blk_size)
        eip += vcpu_cs_base(c);
    /* Outside the current block (e.g. a fault fetching the next one), all of it retired. */
    if (eip - c->blk_pc >= c->blk_size)
        return c->icount;
    return c->blk_icount + block_index(c, eip);
}

/* Cache miss: disassemble the block once and remember its count. Kept out of line so the hot
 * path of on_block carries no 8 KiB buffer and no callee-saved register spills. */
static __attribute__((noinline)) const blockcache_entry *count_block(cpu *c, uint32_t pc, uint32_t size,
                                                                       blockcache_entry *tmp)
{
    uint8_t buf[MAX_BLOCK_BYTES];
    uint32_t first_io = 0, first_msr = 0, count = 0, tlb_ops[DISASM_MAX_SITES];
    int ntlb = 0;
    int task = 0;
    vcpu_decode_mode(c);
    if (size <= sizeof buf && vcpu_read_linear(c, pc, buf, size))
        count = disasm_scan(c->dis, buf, size, pc, &first_io, &first_msr, tlb_ops, &ntlb, &task);
    if (ntlb && vcpu_tlb_note_block(c, pc, buf, size, tlb_ops, ntlb))
        return NULL; /* a new invalidating instruction: hooked before the block runs */
    uint64_t phys;
    bool rom = in_rom_window(pc) || (vcpu_translate(c, pc, false, &phys) && phys - PHYS_ROM_BASE < PHYS_ROM_SIZE);
    int kind = rom && c->ops.rom_kind ? c->ops.rom_kind(c->ops.ctx, pc) : 0;
    if (kind == VCPU_ROM_PLAIN)
        rom = false;
    /* A tag only on a block with nothing else to look at (tagged_rom_block counts it as is). */
    uint32_t tag = rom && kind > 0 && kind <= VCPU_ROM_TAG_MAX && !first_io && !first_msr && !task
                       ? (uint32_t)kind << BLOCKCACHE_TAG_SHIFT : 0;
    uint32_t flags = (rom ? BLOCKCACHE_ROM | tag : 0) | (task ? BLOCKCACHE_TASK : 0) |
                     (task == DISASM_TASK_CHECK ? BLOCKCACHE_TASK_CHECK : 0);
    if (first_msr && (!first_io || first_msr < first_io)) { /* the block stops at whichever comes first */
        first_io = first_msr;
        flags |= BLOCKCACHE_MSR;
    } else if (first_msr)
        flags |= BLOCKCACHE_MSR; /* an I/O instruction first: stopped at, the MSR follows in a later block */
    if (vcpu_mmu_watch_block(c, pc, size) && !blockcache_put(&c->counts, pc, size, count, first_io, flags)) {
        /* not cached (huge block, or no memory): the lookup below misses, counted every time */
    }
    const blockcache_entry *e = blockcache_get(&c->counts, pc, size);
    if (e)
        return e;
    *tmp = blockcache_make(pc, size, count, first_io, flags);
    c->counts.changes++; /* its code may not be watched: nothing decoded from it is kept */
    return tmp; /* not cacheable (huge block, or no memory): counted every time */
}

static void stop_with(cpu *c, cpu_stop why)
{
    c->stop_requested = true;
    c->limit = 0;
    c->stop = why;
    c->fault.icount = vcpu_icount(c);
    uc_emu_stop(c->uc);
}

/* EFLAGS.IF, while an interrupt waits for it, after each instruction that may have set it
 * (cpu/ifwatch.c): from Unicorn's state itself where it is bound, as EFLAGS through the API
 * costs ~150 host instructions (its arithmetic flags computed). */
static bool interrupts_on(cpu *c)
{
    uint32_t flags;
    if (vcpu_regs_direct_system_flags(c, &flags)) /* IF is the guest's even while trap stepping */
        return flags & 0x200u;
    return vcpu_get(c, CPU_EFLAGS) & 0x200u;
}

/* The rare cases on_block must look at before counting; true if the block must not be counted. */
static bool block_needs_care(cpu *c, uc_engine *uc, uint32_t pc, bool store_again)
{
    if (c->tlb_after) { /* the invalidating instruction hooked before this block has run */
        c->tlb_after = false;
        vcpu_tlb_settle(c);
        if (!c->block_care) {
            c->limit = c->target;
            return false;
        }
    }
    if (c->exact) { /* exact stepping stays inside its block: leaving it ends the stretch (trap
                     * stepping makes a one-instruction block of each instruction in it). A
                     * store into its own block that Unicorn abandoned and runs again as a block
                     * of its own is still inside: stopping there, before it, would step the
                     * same abandoned store again for ever (found by fuzz_hostile). */
        if (c->exact_entered && !(c->trap_step && pc - c->blk_pc < c->blk_size) && !store_again)
            uc_emu_stop(uc);
        c->exact_entered = true;
        return true;
    }
    if (c->stop_requested)
        return true;
    if (c->watch_hit) { /* a watched write in the block just run: stop at this clean boundary */
        uc_emu_stop(uc);
        return true;
    }
    if (c->if_rose) { /* an instruction that may set IF ran (or the window just opened) */
        c->if_rose = false;
        if (c->irq_window && interrupts_on(c)) {
            c->window_hit = true;
            uc_emu_stop(uc);
            return true;
        }
        if (!c->block_care) {
            c->limit = c->target;
            return false;
        }
    }
    if (c->replan) { /* nothing of this block has run: the count is exact here */
        c->replan = false;
        c->stop_requested = true;
        c->stop = CPU_STOP_REQUEST;
        uc_emu_stop(uc);
        return true;
    }
    return false;
}

/* A ROM call counts as one instruction, like the trapping instruction it stands for. True if
 * the block was handled (a call done, or the run stops); false to count it as guest code. */
static bool rom_block(cpu *c, uc_engine *uc, uint32_t pc, int tag)
{
    if (c->icount + 1 > c->target) {
        c->deadline_hit = true;
        uc_emu_stop(uc);
        return true;
    }
    c->at_block_start = true;
    int r = c->ops.rom_block(c->ops.ctx, pc, tag);
    c->at_block_start = false;
    if (c->mmu_reference)
        c->mmu_regs_valid = false;
    if (c->rom_ret_pending && c->stop_requested)
        settle_rom_return(c); /* the slot's ret will not run */
    c->rom_ret_pending = false;
    c->call_regs_have = 0;
    if (r == VCPU_ROM_DONE) {
        c->icount++;
        c->rom_ret_pc = pc;
        c->rom_ret_bp_skip = true;
        return true;
    }
    if (r == VCPU_ROM_BREAK) {
        c->bp_hit = true;
        uc_emu_stop(uc);
        return true;
    }
    if (r == VCPU_ROM_REFUSED) { /* faults like a privileged instruction: nothing retires */
        c->rom_refused = true;
        uc_emu_stop(uc);
        return true;
    }
    return false;
}

/* True if the current block's code lies on physical page `phys` (its first or last byte). */
static bool block_on_page(cpu *c, uint64_t phys)
{
    uint64_t first, last;
    uint32_t end = c->blk_pc + (c->blk_size ? c->blk_size - 1 : 0);
    return (vcpu_translate(c, c->blk_pc, false, &first) && (first & ~0xFFFull) == phys) ||
           (vcpu_translate(c, end, false, &last) && (last & ~0xFFFull) == phys);
}

void vcpu_code_store(cpu *c, uint64_t phys)
{
    if (!c->running || c->at_block_start)
        return;
    /* Unicorn abandons the running block only when the store hits that block's own page; a
     * store into other counted code (Linux patching its alternatives from elsewhere) retires
     * normally. Whether that other page is counted depends on what ran before, not on the
     * guest (after going back in time its blocks may be counted already), so it must not
     * change the count. */
    if (!block_on_page(c, phys))
        return;
    c->smc_eip = vcpu_get(c, CPU_EIP);
    c->smc_icount = vcpu_icount(c);
    c->smc_cut = true;
    c->limit = 0;
}

static bool one_instruction(cpu *c, uint32_t pc, uint32_t size)
{
    uint8_t buf[16];
    vcpu_decode_mode(c);
    return size <= sizeof buf && vcpu_read_linear(c, pc, buf, size) && disasm_count(c->dis, buf, size, pc) == 1;
}

/* The block after a store to counted code (vcpu_code_store). If the store wrote into its own
 * block, Unicorn abandoned that block before the store and runs the store again as a block of
 * its own, one instruction long: only the instructions before the store retired, not the whole
 * block counted. A block that ran to its end and jumps back to the store starts a block of the
 * usual length there (a store that ends its block anyway and writes over its own block is the
 * case this cannot tell apart). True if this block is that store run again. */
static bool settle_code_store(cpu *c, uint32_t pc, uint32_t size)
{
    c->smc_cut = false;
    if (!c->block_care)
        c->limit = c->target;
    if (pc == c->smc_eip && pc - c->blk_pc < c->blk_size && (pc != c->blk_pc || size != c->blk_size) &&
        one_instruction(c, pc, size)) {
        c->icount = c->smc_icount;
        if (c->exact && !c->trap_step)
            c->exact_left++; /* the per-instruction hook counted the abandoned store */
        return true;
    }
    return false;
}

/* The first block start after a host write of EIP (note_pc_write): Unicorn syncs EIP before
 * the block hook, and writing it there makes the exit check that follows the hook leave the
 * block before its first instruction and clear Unicorn's skip flag; the engine goes on at the
 * same block, whose hook then counts it as usual. A block's worth of engine exit per write. */
static void resync_pc(cpu *c, uc_engine *uc)
{
    c->pc_resync = false;
    c->limit = c->block_care ? 0 : c->target;
    uint32_t eip = 0; /* not the block's address: that is linear, EIP is CS-relative */
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    uc_reg_write(uc, UC_X86_REG_EIP, &eip);
}

/* A block ending in lcall/ljmp/iret: stop before that instruction (task_step) when it may
 * switch to or from a 16-bit task. Far calls and jumps always (rare: their target is decided
 * there), an iret when the current task has a 16-bit TSS or NT is set (a popf before the iret
 * may set NT: such blocks are flagged too). Otherwise Unicorn runs the block. */
static bool task_needs_step(cpu *c, const blockcache_entry *e)
{
    if (blockcache_task_check(e))
        return true;
    if (vcpu_get(c, CPU_EFLAGS) & 0x4000u)
        return true;
    uc_x86_mmr tr;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    return ((tr.flags >> 8) & 0xDu) == 1u;
}

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user);
static void on_block_inlined(const uint8_t *ret);

/* The fields the inlined fast path works on, at small offsets from icount (blockpatch.c). */
#define HOT_OFF(f) (offsetof(cpu, f) - offsetof(cpu, icount))
_Static_assert(HOT_OFF(limit) < 128 && HOT_OFF(blk_icount) < 128 && HOT_OFF(blk_pc) < 128 &&
                   offsetof(cpu, blk_size) == offsetof(cpu, blk_pc) + 4 && sizeof(((cpu *)0)->blk_pc) == 4 &&
                   sizeof(((cpu *)0)->blk_size) == 4 && sizeof(((cpu *)0)->icount) == 8 &&
                   sizeof(((cpu *)0)->limit) == 8 && sizeof(((cpu *)0)->blk_icount) == 8,
               "the inlined block count's layout");

/* The count inlined into kept sites from now on, if the stub page can be mapped (once). */
static bool inline_setup(cpu *c)
{
    if (c->patch.inline_tried)
        return c->patch.inline_on;
    blockpatch_inline how = {
        .base = &c->icount,
        .off_limit = (uint8_t)HOT_OFF(limit),
        .off_blk_icount = (uint8_t)HOT_OFF(blk_icount),
        .off_blk_pc = (uint8_t)HOT_OFF(blk_pc),
        .slow = on_block_inlined,
        .callback = (const void *)on_block,
        .check = (const void *)helper_check_exit_request_x86_64,
    };
    return blockpatch_inline_setup(&c->patch, &how);
}

/* Keep a plain block's count in the translation that called the hook (blockpatch.c). Its
 * pages are watched (its count is cached): the site is noted under them first, so that when
 * one stops being watched (code_written) the translation gets Unicorn's code back and its
 * next run is counted, and its pages watched, again. */
static void keep_count(cpu *c, uc_engine *uc, uint32_t pc, uint32_t size, uint32_t count, const void *ret)
{
    uint64_t first, last;
    if (!blockpatch_matches(&c->patch, ret, (const void *)on_block, c, pc, size)) /* kept already, or not Unicorn's call */
        return;
    if (!vcpu_translate(c, pc, false, &first) || !vcpu_translate(c, pc + size - 1, false, &last) ||
        !blockpatch_note(&c->patch, ret, first >> 12) ||
        ((first ^ last) >> 12 && !blockpatch_note(&c->patch, ret, last >> 12)))
        return; /* a site noted under one page only is never rewritten: undoing it changes nothing */
    if (blockpatch_set(&c->patch, ret, (const void *)on_block, c, pc, size, (uint16_t)count) &&
        blockpatch_skip_check(&c->patch, ret, uc, (const void *)helper_check_exit_request_x86_64) &&
        inline_setup(c))
        blockpatch_queue_inline(&c->patch, ret); /* done when the engine stops (vcpu_run) */
}

const void *vcpu_block_hook(void) { return (const void *)on_block; }

/* The translations are gone: the rewritten sites with them. */
static void flush_translations(cpu *c)
{
    uc_ctl_flush_tb(c->uc);
    blockpatch_forget(&c->patch);
}

/* on_block for everything but ordinary cached guest code. `ret`: on_block's return address, in
 * the translation that called it. */
static __attribute__((noinline)) void on_block_slow(uc_engine *uc, uint32_t pc, uint32_t size, cpu *c,
                                                    const void *ret)
{
    uint32_t fixed;
    if (c->pc_resync) {
        resync_pc(c, uc);
        return;
    }
    if (c->ts_armed) { /* the block before ended in lcall/ljmp/iret (taskswitch.c) */
        if (vcpu_task_check(c, pc, &fixed)) {
            /* The switch retired; its stores to the old TSS may have hit the block's page, but
             * this block starts at the switch because of EIP, not because Unicorn cut it. */
            c->smc_cut = false;
            uc_emu_stop(uc); /* vcpu_task_settle moves EIP; this block must not run */
            return;
        }
        c->ts_armed = false;
        if (!c->block_care)
            c->limit = c->target;
    }
    if (c->rf_after_iret) { /* the block after an iret: the RF it loaded has done its work */
        vcpu_model_settle_rf(c);
        c->limit = c->block_care ? 0 : c->target;
    }
    bool store_again = c->smc_cut && settle_code_store(c, pc, size);
    if (c->watch_iret)
        watch_iret_at(c, pc, size);
    if (c->watch_rom && c->ops.block_watch) {
        /* Nothing of this block has run: registers read now are kept for the callback (a
         * native ROM call's result and its record entry read them: one batch). */
        c->at_block_start = true;
        c->ops.block_watch(c->ops.ctx, pc); /* may turn the watch off */
        c->at_block_start = false;
        c->call_regs_have = 0;
        if (c->mmu_reference)
            c->mmu_regs_valid = false;
    }
    if (c->block_care && block_needs_care(c, uc, pc, store_again))
        return;
    c->blk_icount = c->icount;
    c->blk_pc = pc;
    c->blk_size = size;
    blockcache_entry tmp;
    const blockcache_entry *found = blockcache_get(&c->counts, pc, size);
    if (!found && !(found = count_block(c, pc, size, &tmp))) {
        uc_emu_stop(uc); /* vcpu_run hooks the new sites; the block runs after that */
        return;
    }
    blockcache_entry ent = *found; /* a ROM call may clear the cache */
    const blockcache_entry *e = &ent;
    if (blockcache_rom(e) && c->ops.rom_block && rom_block(c, uc, pc, blockcache_tag(e)))
        return;
    /* Unicorn would skip the I/O bitmap check, and has no hook for rdmsr/wrmsr */
    if (e->first_io && (blockcache_msr(e) || vcpu_io_needs_check(c))) {
        c->io_hit = true;
        c->io_index = e->first_io - 1u;
        uc_emu_stop(uc);
        return;
    }
    if (blockcache_task(e)) {
        bool pass = c->task_pass && pc == c->task_pass_pc;
        c->task_pass = false;
        if (!pass && task_needs_step(c, e)) { /* a switch with a 16-bit TSS may end the block */
            c->task_hit = true;
            c->task_index = blockcache_count(e) - 1u;
            c->task_cs_base = pc - vcpu_get(c, CPU_EIP); /* EIP is synced for the block hook */

            uc_emu_stop(uc);
            return;
        }
        vcpu_task_arm(c, pc, size);
        c->limit = 0; /* the next block checks whether it switched tasks */
    }
    if (c->icount + blockcache_count(e) > c->target) {
        c->deadline_hit = true;
        uc_emu_stop(uc);
        return;
    }
    c->icount += blockcache_count(e);
    /* Plain guest code, its count cached (so its pages are watched): keep the count in the
     * translation, which then needs no lookup (blockpatch.c). Flagged blocks keep coming here. */
    if (found != &tmp && e->cost == blockcache_count(e) && c->patch.on)
        keep_count(c, uc, pc, size, blockcache_count(e), ret);
}

/* A ROM entry the machine knows by its tag (an interrupt-flag call's), when nothing needs a
 * closer look: `limit` is 0 whenever anything on_block_slow checks before counting is on,
 * so it has nothing to do here but the call (rom_block) and the count. */
static __attribute__((noinline)) void tagged_rom_block(cpu *c, uc_engine *uc, uint32_t pc, uint32_t size,
                                                         uint64_t cost)
{
    c->blk_icount = c->icount;
    c->blk_pc = pc;
    c->blk_size = size;
    if (!rom_block(c, uc, pc, (int)((cost & BLOCKCACHE_TAG_MASK) >> BLOCKCACHE_TAG_SHIFT)))
        c->icount += cost & 0xFFFFu; /* its slot runs as guest code (no I/O, no task switch in it) */
}

/* Runs before every translated block: the hot path of the whole emulator. Ordinary guest code
 * costs an add here: its count comes with `user` once kept in the translation (blockpatch.c),
 * else from a lookup; anything else (a block in the ROM window or with port I/O, flagged in
 * its cost; a deadline, a stop, stepping) goes to on_block_slow as a tail call, so this
 * function saves no registers. */
static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    cpu *c = (cpu *)((uintptr_t)user & BLOCKPATCH_PTR_MASK);
    uint32_t pc = (uint32_t)address;
    uint64_t cost = (uintptr_t)user >> BLOCKPATCH_SHIFT;
    if (cost == 0) {
        const blockcache_entry *e = blockcache_at_home(&c->counts, pc, size);
        if (__builtin_expect(e == NULL, 0))
            goto slow;
        cost = e->cost;
    }
    if (__builtin_expect(c->icount + cost > c->limit, 0))
        goto slow;
    c->blk_icount = c->icount;
    c->blk_pc = pc;
    c->blk_size = size;
    c->icount += cost; /* no flag bits: a flagged block went the slow way */
    return;
slow:
    if ((cost & BLOCKCACHE_TAG_MASK) && c->icount + (cost & 0xFFFFu) + 1u <= c->limit && c->ops.rom_block)
        tagged_rom_block(c, uc, pc, size, cost);
    else
        on_block_slow(uc, pc, size, c, __builtin_return_address(0));
    /* Unicorn's stop check at the block start, made here: a translation whose count is kept
     * jumps over its own (blockpatch_skip_check). A stop is pending only after this slow path:
     * every stop vmiemu asks for sets `limit` to 0 (or is asked for here). Where the
     * translation still has its check, that one finds nothing left to do. */
    if (c->patch.on)
        helper_check_exit_request_x86_64(uc, 0);
}

/* The slow path of a site whose count is inline (blockpatch.c): the count would pass `limit`.
 * Called through the stub with the site's return address. As on_block's slow path, it then
 * makes the block-start stop check the site's code no longer has. */
static void on_block_inlined(const uint8_t *ret)
{
    uint32_t pc, size;
    cpu *c = (cpu *)((uint8_t *)blockpatch_inline_site(ret, &pc, &size) - offsetof(cpu, icount));
    on_block_slow(c->uc, pc, size, c, NULL);
    helper_check_exit_request_x86_64(c->uc, 0);
}

static void on_exact_insn(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)address;
    (void)size;
    cpu *c = user;
    if (c->exact_left == 0) {
        uc_emu_stop(uc);
        return;
    }
    c->exact_left--;
}

static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained || !c->ops.port_in)
        return 0xFFFFFFFFu;
    c->in_port_io = true;
    uint32_t v = c->ops.port_in(c->ops.ctx, (uint16_t)port, size);
    c->in_port_io = false;
    return v;
}

/* The instruction running now (a port write) ended the run: the run ends right after it, with
 * the count one past it, whether the block runs whole or is stepped.
 *
 * Stepping (c->exact), that is where the CPU stops: the per-instruction hook of the next
 * instruction, or the one-instruction blocks of trap stepping, check Unicorn's stop request
 * before it runs. A block run whole cannot be cut there: once a stop is requested, Unicorn
 * runs the rest of the block with every hook skipped (probed). So the rest is contained: the
 * CPU state just after this instruction is saved, the TLB flushed and every refill refused
 * (mmu_fill.c), which stops the block, before it takes effect, at the first memory access of
 * a later instruction; the port, CPUID, RDTSC and exception hooks do nothing meanwhile; and
 * vcpu_run puts the saved state back. What those later instructions did to registers before
 * they reached memory (or the block's end) is undone with it. A string OUTS is taken as
 * complete, with the registers as they were during its first write. */
static void end_after_this_insn(cpu *c)
{
    c->end_after_insn = true;
    if (c->exact)
        return;
    uint32_t eip = vcpu_get(c, CPU_EIP);
    uint8_t code[16] = {0};
    char text[64];
    size_t len = 0;
    if (vcpu_read_linear(c, eip, code, sizeof code))
        len = disasm_one(c->dis, code, sizeof code, eip, text, sizeof text);
    c->end_icount = vcpu_icount(c) + 1;
    c->end_eip = eip + (uint32_t)(len ? len : 1);
    if (uc_context_save(c->uc, c->end_ctx) != UC_ERR_OK)
        return; /* cannot contain: the block's end is the best this run can do */
    c->end_contained = true;
    uc_ctl_flush_tlb(c->uc);
}

/* Back to the state just after the instruction that ended the run (see end_after_this_insn). */
static void settle_contained_end(cpu *c)
{
    c->end_contained = false;
    c->call_regs_have = 0;
    c->mmu_regs_valid = false;
    uc_context_restore(c->uc, c->end_ctx);
    c->dr7_clear_at = 0; /* a saved DR7 is back */
    uc_reg_write(c->uc, UC_X86_REG_EIP, &c->end_eip);
    c->icount = c->end_icount;
}

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained || !c->ops.port_out)
        return; /* an earlier instruction of this block ended the run */
    bool stopping = c->stop_requested;
    c->in_port_io = true;
    c->ops.port_out(c->ops.ctx, (uint16_t)port, size, value);
    c->in_port_io = false;
    if (!stopping && c->stop_requested)
        end_after_this_insn(c);
}

static int on_cpuid(uc_engine *uc, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained)
        return 1;
    uint32_t in[2]; /* EAX, ECX: the first two of cpu_reg, one engine call */
    vcpu_get_first(c, in, 2);
    uint32_t r[4] = {in[0], 0, in[1], 0}; /* EAX, EBX, ECX, EDX: the order cpu_ops.cpuid uses */
    if (c->ops.cpuid)
        c->ops.cpuid(c->ops.ctx, r);
    static const cpu_reg regs[4] = {CPU_EAX, CPU_EBX, CPU_ECX, CPU_EDX};
    put_gprs(c, regs, r, 4);
    vcpu_cpuid_direct_learn(c); /* the next ones skip this hook (cpuid_direct.c) */
    return 1; /* replaces the instruction */
}

#define CR4_TSD 0x4u

/* The time-stamp counter: the machine's cycle count (the instruction clock) plus TSC_ADJUST. */
static uint64_t vcpu_tsc(cpu *c) { return (c->ops.tsc ? c->ops.tsc(c->ops.ctx) : vcpu_icount(c)) + c->tsc_adjust; }

static int on_rdtsc(uc_engine *uc, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained)
        return 1;
    uint64_t t = vcpu_tsc(c);
    static const cpu_reg regs[2] = {CPU_EAX, CPU_EDX};
    const uint32_t v[2] = {(uint32_t)t, (uint32_t)(t >> 32)};
    put_gprs(c, regs, v, 2);
    return 1; /* no host time ever reaches the guest */
}

/* on_rdtsc inside Unicorn's helper, for an engine bound by cpuid_direct.c: the answer written
 * into the state's EAX and EDX (regs[0], regs[2]), high halves cleared as the hook's writes
 * do. Unicorn's helper rebuilds EIP from the host return address before its hooks; the
 * translated code has stored EIP and CC_OP before the call (translate.c: gen_update_cc_op,
 * gen_jmp_im), so the count read here is the same. False if the helper must run: CR4.TSD set
 * (its #GP check outside ring 0). */
bool vcpu_rdtsc_direct(cpu *c, uint64_t *regs)
{
    if (vcpu_get(c, CPU_CR4) & CR4_TSD)
        return false;
    if (c->end_contained)
        return true; /* as on_rdtsc: the run has ended, the registers stay */
    uint64_t t = vcpu_tsc(c);
    regs[0] = (uint32_t)t;
    regs[2] = (uint32_t)(t >> 32);
    return true;
}

/* rdtscp (only the max model has it: Unicorn's Core Duo raises #UD): ECX is IA32_TSC_AUX,
 * which Unicorn keeps (wrmsr), so it is in the state like every register. */
static int on_rdtscp(uc_engine *uc, void *user)
{
    cpu *c = user;
    uc_x86_msr aux = {.rid = 0xC0000103u};
    if (c->end_contained)
        return 1;
    if (uc_reg_read(c->uc, UC_X86_REG_MSR, &aux) != UC_ERR_OK)
        aux.value = 0;
    vcpu_put(c, CPU_ECX, (uint32_t)aux.value);
    return on_rdtsc(uc, user);
}

/* The instruction ran only up to here: the block's count was taken in advance. */
static void retire_until_here(cpu *c)
{
    c->icount = vcpu_icount(c);
    if (c->exact) { /* execution leaves the exactly-stepped block: stop and resume in fast mode */
        c->exact_aborted = true;
        uc_emu_stop(c->uc);
    }
}

static void fault_stop(cpu *c, const vcpu_event *ev, const char *what)
{
    c->fault.vector = ev->vector;
    c->fault.eip = ev->fault_eip;
    snprintf(c->fault.message, sizeof c->fault.message, "%s %u at eip 0x%08x", what, ev->vector, ev->fault_eip);
    stop_with(c, CPU_STOP_FAULT);
}

static uint32_t software_int_length(cpu *c, uint32_t vector, uint32_t eip)
{
    uint8_t b[2];
    if (!vcpu_read_linear(c, eip - 2, b, 2))
        return 2; /* unreadable now: int imm8, the common form */
    if ((vector == 3 && b[1] == 0xCC) || (vector == 4 && b[1] == 0xCE))
        return 1;
    return 2;
}

/* The same event at the same count, EIP and ESP again and again: its delivery did not take
 * effect (every delivery pushes a frame, every retired instruction counts), so the emulator,
 * not the guest, is stuck. A guest must never hang vmiemu inside one Unicorn run. */
#define MAX_EVENT_REPEATS 64u
static bool no_progress(cpu *c, const vcpu_event *ev)
{
    if (c->last_event.icount != c->icount || c->last_event.vector != ev->vector || c->last_event.eip != ev->eip) {
        c->last_event.icount = c->icount; /* the common case: no register read on this path */
        c->last_event.vector = ev->vector;
        c->last_event.eip = ev->eip;
        c->last_event.esp_known = false;
        c->last_event.repeats = 0;
        return false;
    }
    uint32_t esp = vcpu_get(c, CPU_ESP);
    if (c->last_event.esp_known && c->last_event.esp == esp)
        return ++c->last_event.repeats > MAX_EVENT_REPEATS;
    c->last_event.esp = esp;
    c->last_event.esp_known = true;
    c->last_event.repeats = 0;
    return false;
}

static void on_interrupt(uc_engine *uc, uint32_t intno, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained)
        return;
    if (c->insn_refused) { /* the refused instruction raised its own exception: it never ran
                            * (no exit check after its code hook, exitcheck.c); undo_refused */
        vcpu_forget_previous_exception(c);
        return;
    }
    if (c->trap_step && vcpu_trap_step_trap(c, intno))
        return;
    uint32_t eip = vcpu_get(c, CPU_EIP), error;
    bool is_int;
    vcpu_exception_state(c, &error, &is_int);
    vcpu_event ev = {.vector = intno, .software = is_int, .eip = eip, .fault_eip = eip};
    if (is_int)
        ev.fault_eip = eip - software_int_length(c, intno, eip);
    else if (vcpu_vector_has_error(intno)) {
        ev.has_error = true;
        ev.error = error;
    }
    if (!is_int)
        vcpu_tlb_cancel_at(c, ev.fault_eip);
    retire_until_here(c);
    if (c->ts_armed && vcpu_task_finish(c, &ev)) {
        c->icount++; /* the lcall/ljmp/iret retired after all */
        return;
    }
    if (no_progress(c, &ev)) {
        c->fault.vector = ev.vector;
        c->fault.eip = ev.fault_eip;
        snprintf(c->fault.message, sizeof c->fault.message,
                 "vector %u at eip 0x%08x was raised again with the same registers after its delivery",
                 ev.vector, ev.fault_eip);
        stop_with(c, CPU_STOP_ERROR);
        return;
    }
    if (c->ops.interrupt && c->ops.interrupt(c->ops.ctx, &ev))
        return;
    fault_stop(c, &ev, "unhandled exception or interrupt");
}

static bool on_invalid_opcode(uc_engine *uc, void *user)
{
    (void)uc;
    cpu *c = user;
    if (c->end_contained)
        return true;
    uint32_t eip = vcpu_get(c, CPU_EIP);
    vcpu_trap_step_exception(c);
    vcpu_event ev = {.vector = 6, .eip = eip, .fault_eip = eip};
    vcpu_tlb_cancel_at(c, eip);
    retire_until_here(c);
    if (c->ops.interrupt && c->ops.interrupt(c->ops.ctx, &ev))
        return true;
    c->fault.vector = 6;
    c->fault.eip = eip;
    snprintf(c->fault.message, sizeof c->fault.message, "invalid opcode (#UD) at eip 0x%08x", eip);
    stop_with(c, CPU_STOP_FAULT);
    return false;
}

static bool on_bad_memory(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)size;
    (void)value;
    cpu *c = user;
    static const char *const what[] = {"read from unmapped", "write to unmapped", "fetch from unmapped",
                                       "write to read-only", "read from protected", "fetch from non-executable"};
    int access = (type == UC_MEM_WRITE_UNMAPPED || type == UC_MEM_WRITE_PROT) ? 'w'
                 : (type == UC_MEM_FETCH_UNMAPPED || type == UC_MEM_FETCH_PROT) ? 'x' : 'r';
    unsigned idx = type >= UC_MEM_READ_UNMAPPED && type <= UC_MEM_FETCH_PROT ? (unsigned)(type - UC_MEM_READ_UNMAPPED) : 0;
    c->fault.address = address;
    c->fault.access = access;
    c->fault.eip = vcpu_get(c, CPU_EIP);
    snprintf(c->fault.message, sizeof c->fault.message, "%s physical memory at 0x%08llx (eip 0x%08x)", what[idx],
             (unsigned long long)address, c->fault.eip);
    stop_with(c, CPU_STOP_MEMORY);
    return false;
}

static bool map_memory(cpu *c, vm_error *err)
{
    physmem *pm = c->pm;
    struct { uint64_t base, end; uint32_t perms; } regions[] = {
        {0, PHYS_ROM_BASE, UC_PROT_ALL},                               /* low RAM + VGA */
        {PHYS_ROM_BASE, PHYS_ROM_BASE + PHYS_ROM_SIZE, UC_PROT_READ | UC_PROT_EXEC},
        {PHYS_ROM_BASE + PHYS_ROM_SIZE, PHYS_BIOS_BASE, UC_PROT_READ}, /* BIOS hole reads as zero */
        {PHYS_BIOS_BASE, PHYS_HOLE_END, UC_PROT_READ | UC_PROT_EXEC},  /* the BIOS handlers (emu/firmware.h) */
        {PHYS_HOLE_END, pm->size, UC_PROT_ALL},
    };
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        uc_err e = uc_mem_map_ptr(c->uc, regions[i].base, regions[i].end - regions[i].base, regions[i].perms,
                                  pm->ram + regions[i].base);
        if (e != UC_ERR_OK)
            return vm_fail(err, VM_EENGINE, "unicorn: cannot map guest memory at 0x%llx: %s",
                           (unsigned long long)regions[i].base, uc_strerror(e));
    }
    return true;
}

static void on_check_write(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)type;
    cpu *c = user;
    if (c->mmu_refused)
        return; /* Unicorn calls write hooks even for a store whose TLB fill was refused: it faults
                 * instead (the reference step runs it again, and calls the hook only if it stores) */
    c->ops.check_write(c->ops.ctx, address, size, (uint64_t)value);
}

static bool add_hooks(cpu *c, vm_error *err)
{
    uc_engine *uc = c->uc;
    uc_err e = UC_ERR_OK;
    int i = 0;
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_BLOCK, (void *)on_block, c, 1, 0);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INSN, (void *)on_in, c, 1, 0, UC_X86_INS_IN);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INSN, (void *)on_out, c, 1, 0, UC_X86_INS_OUT);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INSN, (void *)on_cpuid, c, 1, 0, UC_X86_INS_CPUID);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INSN, (void *)on_rdtsc, c, 1, 0, UC_X86_INS_RDTSC);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INSN, (void *)on_rdtscp, c, 1, 0, UC_X86_INS_RDTSCP);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INTR, (void *)on_interrupt, c, 1, 0);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_INSN_INVALID, (void *)on_invalid_opcode, c, 1, 0);
    /* Only where nothing writable is mapped: a hook covering RAM would keep every store there on
     * Unicorn's slow path (its notdirty_write looks for such hooks). */
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_MEM_INVALID, (void *)on_bad_memory, c, PHYS_ROM_BASE,
                            PHYS_HOLE_END - 1);
    if (!e) e = uc_hook_add(uc, &c->hooks[i++], UC_HOOK_MEM_INVALID, (void *)on_bad_memory, c, c->pm->size,
                            UINT64_MAX);
    /* The checker sees every store to RAM (and so keeps them all on the slow path: its cost). */
    if (!e && c->ops.check_write)
        e = uc_hook_add(uc, &c->check_hook, UC_HOOK_MEM_WRITE, (void *)on_check_write, c, 0, c->pm->size - 1);
    if (e != UC_ERR_OK)
        return vm_fail(err, VM_EENGINE, "unicorn: cannot add hook %d: %s", i, uc_strerror(e));
    if (c->ops.check_insn)
        disasm_set_priv_sites(c->dis, true);
    return true;
}

cpu *vcpu_open(physmem *pm, const cpu_ops *ops, vcpu_model_id model, vm_error *err)
{
    cpu *c = calloc(1, sizeof *c);
    if (!c) {
        vm_fail(err, VM_ENOMEM, "out of memory for the CPU");
        return NULL;
    }
    c->pm = pm;
    c->ops = *ops;
    c->model = model;
    for (int i = 0; i < CALL_REGS; i++)
        c->call_reg_ptrs[i] = &c->call_regs[i];
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &c->uc);
    if (e != UC_ERR_OK) {
        vm_fail(err, VM_EENGINE, "unicorn: cannot open an i386 engine: %s", uc_strerror(e));
        free(c);
        return NULL;
    }
    /* coreduo: a Core Duo, 32-bit, SSE3, PAE, no long mode, as the VMI era's machines. max:
     * Unicorn's Skylake-Server, whose TCG has SMEP, SMAP, PKU, RDTSCP, CLFLUSHOPT and CLWB
     * (its translator and MMU check them against its own CPUID); model.c reports those. */
    e = uc_ctl_set_cpu_model(c->uc, model == VCPU_MODEL_MAX ? UC_CPU_X86_SKYLAKE_SERVER : UC_CPU_X86_COREDUO);
    /* uc_emu_start stops before a block at its `until` address, and every address is guest
     * code (until = 0 stopped a jmp 0). With exits enabled and none set, nothing stops a run
     * but vmiemu's own hooks. (Not an unreachable `until` such as 2^64-1: after each run Unicorn
     * translates until-1 to drop its translation, which calls the TLB fill hook.) */
    if (e == UC_ERR_OK)
        e = uc_ctl_exits_enable(c->uc);
    vcpu_exit_checks_open(c);
    vcpu_cpuid_direct_open(c);
    vcpu_regs_direct_open(c);
    blockpatch_open(&c->patch, c);
    if (e != UC_ERR_OK) {
        vm_fail(err, VM_EENGINE, "unicorn: cannot select the CPU model or enable exits: %s", uc_strerror(e));
        vcpu_close(c);
        return NULL;
    }
    if (!vcpu_calibrate(&c->layout, err) || uc_context_alloc(c->uc, &c->scratch) != UC_ERR_OK ||
        uc_context_alloc(c->uc, &c->end_ctx) != UC_ERR_OK) {
        if (err && err->code == 0)
            vm_fail(err, VM_ENOMEM, "out of memory for the CPU context");
        vcpu_close(c);
        return NULL;
    }
    c->dis = disasm_open(err);
    if (c->dis)
        disasm_set_max_sites(c->dis, model == VCPU_MODEL_MAX);
    if (!c->dis || !blockcache_init(&c->counts) || !map_memory(c, err) || !add_hooks(c, err) ||
        !vcpu_mmu_open(c, err)) {
        if (err && err->code == 0)
            vm_fail(err, VM_ENOMEM, "out of memory for the CPU");
        vcpu_close(c);
        return NULL;
    }
    return c;
}

vcpu_model_id vcpu_model(const cpu *c) { return c->model; }

uint64_t vcpu_tsc_adjust(const cpu *c) { return c->tsc_adjust; }

void vcpu_close(cpu *c)
{
    if (!c)
        return;
    if (c->scratch)
        uc_context_free(c->scratch);
    if (c->end_ctx)
        uc_context_free(c->end_ctx);
    vcpu_cpuid_direct_close(c);
    vcpu_regs_direct_close(c);
    vcpu_ifwatch(c, false);
    if (c->uc)
        uc_close(c->uc);
    disasm_close(c->dis);
    blockcache_free(&c->counts);
    blockpatch_free(&c->patch);
    vcpu_mmu_close(c);
    free(c);
}

bool vcpu_reset(cpu *c, const vcpu_entry *e, vm_error *err)
{
    c->dr7_clear_at = 0;
    uc_x86_mmr gdtr = {.base = e->gdt_base, .limit = e->gdt_limit};
    if (uc_reg_write(c->uc, UC_X86_REG_GDTR, &gdtr) != UC_ERR_OK)
        return vm_fail(err, VM_EENGINE, "unicorn: cannot load the boot GDT");
    const cpu_reg data_segs[] = {CPU_SS, CPU_DS, CPU_ES, CPU_FS, CPU_GS};
    for (size_t i = 0; i < sizeof data_segs / sizeof data_segs[0]; i++)
        if (!vcpu_set(c, data_segs[i], e->ds))
            return vm_fail(err, VM_EENGINE, "unicorn: cannot load %s", vcpu_reg_names[data_segs[i]]);
    const struct { cpu_reg r; uint32_t v; } regs[] = {
        {CPU_CS, e->cs},   {CPU_EFLAGS, e->eflags}, {CPU_EIP, e->eip}, {CPU_ESP, e->esp},
        {CPU_EAX, e->eax}, {CPU_EBX, e->ebx},       {CPU_ECX, e->ecx}, {CPU_EDX, e->edx},
        {CPU_ESI, e->esi}, {CPU_EDI, e->edi},       {CPU_EBP, e->ebp},
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        if (!vcpu_set(c, regs[i].r, regs[i].v))
            return vm_fail(err, VM_EENGINE, "unicorn: cannot set %s at entry", vcpu_reg_names[regs[i].r]);
    /* Unicorn's Skylake starts with CR4.OSFXSR, FSGSBASE and OSXSAVE set (QEMU's user-mode
     * reset); a PC starts with CR4 clear */
    if (vcpu_get(c, CPU_CR4) != 0 && !vcpu_set(c, CPU_CR4, 0))
        return vm_fail(err, VM_EENGINE, "unicorn: cannot clear CR4 at entry");
    c->icount = 0;
    c->tsc_adjust = 0;
    c->smc_cut = false;
    blockcache_clear(&c->counts);
    vcpu_tlb_reset(c);
    return true;
}

/* After a stop: an iret that has run (EIP elsewhere) has its RF cleared now; one not run yet
 * (EIP still at it) hooks again when it runs. */
static void settle_rf_at_stop(cpu *c)
{
    if (!c->rf_after_iret)
        return;
    if (vcpu_get(c, CPU_EIP) == c->rf_iret_pc)
        c->rf_after_iret = false;
    else
        vcpu_model_settle_rf(c);
}

/* A refused instruction (model.c) that ran all the same: its translation had no exit check
 * after the code hook (exitcheck.c). Only a mov to CR4 or a sysenter gets here, each the last
 * instruction of its block (the engine stops right after it; a sysenter in real mode raises
 * #GP, which on_interrupt ignores): CR4 and EIP go back to what the stop before it leaves. */
static void undo_refused(cpu *c)
{
    if (!c->insn_refused || vcpu_get(c, CPU_EIP) == c->refused_pc)
        return;
    if (c->refused_cr4_valid)
        vcpu_put(c, CPU_CR4, c->refused_cr4);
    uc_reg_write(c->uc, UC_X86_REG_EIP, &c->refused_pc); /* the engine is stopped: no resync */
}

/* Step exactly k instructions from EIP inside the block at blk_pc (stopping early at the
 * block's end or at an exception): by the trap flag where the guest cannot tell (trapstep.c),
 * else with a per-instruction hook. */
static uc_err run_exact(cpu *c, uint64_t k)
{
    uint32_t pc = c->blk_pc, size = c->blk_size ? c->blk_size : 1, eip = vcpu_get(c, CPU_EIP);
    uc_hook h = 0;
    vcpu_exit_checks(c, true); /* the per-instruction hook stops through them */
    if (!vcpu_trap_step_begin(c, eip, k)) {
        /* Cached translations carry no per-instruction hook: drop this block's so it is
         * retranslated with the bounded hook; deleting the hook drops it again afterwards. */
        uc_ctl_remove_cache(c->uc, (uint64_t)pc, (uint64_t)pc + size);
        /* Dropping it translates pc as a fetch. With Unicorn's own MMU a fetch that faults there
         * raises a #PF that Unicorn swallows but QEMU remembers as the previous exception: the
         * same #PF raised again by the step would be escalated to #DF. */
        if (c->mmu_reference)
            vcpu_forget_previous_exception(c);
        uc_err e = uc_hook_add(c->uc, &h, UC_HOOK_CODE, (void *)on_exact_insn, c, pc, (uint64_t)pc + size - 1);
        if (e != UC_ERR_OK)
            return e;
    }
    c->exact = true;
    c->limit = 0;
    c->exact_aborted = false;
    c->exact_entered = false;
    c->exact_left = k;
    c->blk_icount = c->icount;
    c->mmu_refused = false;
    const blockcache_entry *be = blockcache_get(&c->counts, pc, size);
    if (be && blockcache_task(be))
        vcpu_task_arm(c, pc, size);
    c->pc_resync = false; /* uc_emu_start clears Unicorn's skip flag */
    c->mmu_regs_valid = false; /* the host may have changed them between stretches */
    uc_err e = uc_emu_start(c->uc, eip, 0, 0, 0);
    c->mmu_regs_valid = false;
    undo_refused(c);
    (void)vcpu_task_settle(c); /* the caller goes on from EIP wherever it is */
    c->exact = false;
    vcpu_tlb_settle_at_stop(c);
    settle_rf_at_stop(c);
    if (c->trap_step)
        vcpu_trap_step_end(c);
    else
        uc_hook_del(c->uc, h);
    if ((e == UC_ERR_EXCEPTION && c->mmu_refused) || c->insn_refused) {
        /* The refused instruction did not run; a refused fetch of the next block means this
         * whole stretch did. */
        uint32_t at = vcpu_get(c, CPU_EIP);
        c->icount = c->blk_icount + (at - c->blk_pc < c->blk_size ? block_index(c, at) : k - c->exact_left);
    } else if ((!c->stop_requested || c->end_after_insn) && !c->exact_aborted)
        c->icount = c->blk_icount + (k - c->exact_left);
    return e;
}

static bool msr_step(cpu *c, uint32_t eip);

/* One instruction at EIP, exactly (for vcpu_mmu_reference_step). An MSR access the machine
 * models gets here too, when translating its block touched a page the fill hook refused. */
static uc_err step_one(cpu *c)
{
    c->blk_pc = vcpu_get(c, CPU_EIP);
    c->blk_size = 16; /* longer than any instruction */
    c->blk_icount = c->icount; /* vcpu_icount counts from here during the MSR callback */
    if (msr_step(c, c->blk_pc))
        return UC_ERR_OK;
    return run_exact(c, 1);
}

/* After a stretch of execution: an access vmiemu's MMU refused is stepped with Unicorn's own,
 * which raises the page fault. *stepped tells the run loop that execution simply goes on. */
static uc_err settle_refused(cpu *c, uc_err e, bool *stepped)
{
    if (e != UC_ERR_EXCEPTION || !c->mmu_refused || c->stop_requested)
        return e;
    *stepped = true;
    return vcpu_mmu_reference_step(c, step_one);
}

/* `vector` (#GP(0) or #UD) in place of the instruction at EIP, which has not run; the engine is
 * stopped, so the count is exact here. */
static void raise_here(cpu *c, uint32_t vector, const char *what)
{
    uint32_t eip = vcpu_get(c, CPU_EIP);
    vcpu_event ev = {.vector = vector, .has_error = vector == 13, .error = 0, .eip = eip, .fault_eip = eip};
    c->running = false;
    bool ok = c->ops.interrupt && c->ops.interrupt(c->ops.ctx, &ev);
    c->running = true;
    if (!ok)
        fault_stop(c, &ev, what);
}

static void raise_gp_here(cpu *c, const char *what) { raise_here(c, 13, what); }

/* rdmsr/wrmsr at EIP (stopped before it, the count exact): performed here if the machine
 * models the MSR. True if done (or #GP raised, or a breakpoint stops before it). */
static bool msr_step(cpu *c, uint32_t eip)
{
    uint8_t code[16];
    bool write = false;
    size_t avail = sizeof code, to_page_end = 0x1000u - (eip & 0xFFFu);
    if (!vcpu_read_linear(c, eip, code, avail)) /* the next page may be absent: its own bytes suffice */
        avail = to_page_end < avail && vcpu_read_linear(c, eip, code, to_page_end) ? to_page_end : 0;
    size_t len = disasm_msr_insn(code, avail, &write);
    if (len == 0 || vcpu_cpl(c) != 0)
        return false; /* not one, or at CPL > 0 (or in virtual-8086 mode): Unicorn raises the #GP */
    if (vcpu_is_breakpoint(c, eip) && !(c->bp_skip_armed && c->bp_skip_at == eip)) {
        c->bp_hit = true; /* stepped up to it exactly: the breakpoint hook did not fire */
        return true;
    }
    c->bp_skip_armed = false;
    uint32_t msr = vcpu_get(c, CPU_ECX);
    uint64_t value = (uint64_t)vcpu_get(c, CPU_EDX) << 32 | vcpu_get(c, CPU_EAX);
    int r = VCPU_MSR_NATIVE;
    if (write ? c->ops.msr_write != NULL : c->ops.msr_read != NULL)
        r = write ? c->ops.msr_write(c->ops.ctx, msr, value) : c->ops.msr_read(c->ops.ctx, msr, &value);
    if (r == VCPU_MSR_NATIVE) /* not the machine's: the CPU model's, or absent */
        switch (vcpu_model_msr(c->model, msr, write, value)) {
        case MODEL_MSR_GP:
            r = VCPU_MSR_GP;
            break;
        case MODEL_MSR_TSC: /* a write (max): TSC_ADJUST takes the difference (SDM 17.17.3) */
            if (write)
                c->tsc_adjust += value - vcpu_tsc(c);
            else
                value = vcpu_tsc(c);
            r = VCPU_MSR_DONE;
            break;
        case MODEL_MSR_TSC_ADJUST:
            if (write)
                c->tsc_adjust = value;
            else
                value = c->tsc_adjust;
            r = VCPU_MSR_DONE;
            break;
        case MODEL_MSR_UNICORN:
            break;
        }
    if (r == VCPU_MSR_GP) {
        raise_gp_here(c, "MSR access refused: exception");
        return true;
    }
    if (r != VCPU_MSR_DONE)
        return false;
    if (!write) {
        vcpu_put(c, CPU_EAX, (uint32_t)value);
        vcpu_put(c, CPU_EDX, (uint32_t)(value >> 32));
    }
    vcpu_put(c, CPU_EIP, eip + (uint32_t)len);
    c->icount++;
    return true;
}

/* A block with port I/O at CPL > IOPL, or with rdmsr/wrmsr: run exactly up to that
 * instruction; for I/O check the TSS I/O bitmap, then either run that one instruction or
 * deliver #GP(0) in its place; an MSR the machine models is performed by msr_step. */
static uc_err io_step(cpu *c)
{
    if (c->icount >= c->target)
        return UC_ERR_OK; /* the block before ended at the target: this one starts past it */
    uint64_t before = c->target - c->icount;
    if (c->io_index > 0) {
        uc_err e = run_exact(c, c->io_index < before ? c->io_index : before);
        if (e != UC_ERR_OK || c->stop_requested || c->exact_aborted || c->insn_refused || c->icount >= c->target)
            return e;
    }
    uint32_t eip = vcpu_get(c, CPU_EIP);
    uint16_t port;
    int size;
    if (eip - c->blk_pc >= c->blk_size)
        return run_exact(c, 1);
    if (msr_step(c, eip))
        return UC_ERR_OK;
    if (vcpu_io_needs_check(c) && vcpu_io_decode(c, eip, &port, &size) && !vcpu_io_permitted(c, port, size)) {
        raise_gp_here(c, "port I/O not permitted: exception");
        return UC_ERR_OK;
    }
    return run_exact(c, 1);
}

/* A block ending in lcall/ljmp/iret that may switch to or from a 16-bit task: run exactly up
 * to that instruction; vcpu_task_insn performs it if it is such a switch (Unicorn's is wrong
 * there), else Unicorn runs it. */
static uc_err task_step(cpu *c)
{
    if (c->icount >= c->target)
        return UC_ERR_OK; /* as in io_step */
    uint64_t before = c->target - c->icount;
    if (c->task_index > 0) {
        uc_err e = run_exact(c, c->task_index < before ? c->task_index : before);
        if (e != UC_ERR_OK || c->stop_requested || c->exact_aborted || c->insn_refused || c->icount >= c->target)
            return e;
    }
    uint32_t eip = vcpu_get(c, CPU_EIP);
    if (vcpu_is_breakpoint(c, eip) && !(c->bp_skip_armed && c->bp_skip_at == eip)) {
        c->bp_hit = true; /* stepped up to it exactly: the breakpoint hook did not fire */
        return UC_ERR_OK;
    }
    vcpu_fault f;
    char why[160];
    int r = vcpu_task_insn(c, c->task_cs_base, eip, &f, why, sizeof why);
    if (r == VCPU_TASK_UNICORN) {
        /* Unicorn's own (a 32-bit switch, or none): the block that starts at this instruction
         * runs as before, not stopped again (on_block_slow). */
        c->task_pass = true;
        c->task_pass_pc = c->task_cs_base + eip;
        return UC_ERR_OK;
    }
    c->bp_skip_armed = false;
    if (r == 0 || r == VCPU_TASK_FAULT_AFTER)
        c->icount++;
    if (r == 1 || r == VCPU_TASK_FAULT_AFTER) {
        uint32_t at = vcpu_get(c, CPU_EIP);
        vcpu_event ev = {.vector = f.vector, .has_error = true, .error = f.error, .eip = at, .fault_eip = at};
        c->running = false;
        bool ok = c->ops.interrupt && c->ops.interrupt(c->ops.ctx, &ev);
        c->running = true;
        if (!ok)
            fault_stop(c, &ev, "task switch: exception");
    } else if (r < 0) {
        c->fault.eip = eip;
        snprintf(c->fault.message, sizeof c->fault.message, "%.120s at eip 0x%08x", why, eip);
        stop_with(c, CPU_STOP_FAULT);
    }
    return UC_ERR_OK;
}

/* An instruction the CPU model refused (model.c) has not run: #GP(0) in its place. The count
 * is set to the instructions before it. */
static void raise_refused(cpu *c)
{
    c->insn_refused = false;
    if (c->refused_vector == REFUSED_SYSENTER) {
        char why[160];
        uint32_t eip = vcpu_get(c, CPU_EIP);
        switch (vcpu_sysenter(c, why, sizeof why)) {
        case VCPU_SYSENTER_DONE:
            c->icount++;
            return;
        case VCPU_SYSENTER_GP:
            raise_gp_here(c, "sysenter: exception");
            return;
        case VCPU_SYSENTER_UNSUPPORTED:
            c->fault.eip = eip;
            snprintf(c->fault.message, sizeof c->fault.message, "%s", why);
            stop_with(c, CPU_STOP_FAULT);
            return;
        }
    }
    raise_here(c, c->refused_vector, "instruction refused by the CPU model: exception");
}

static cpu_stop stop_from_error(cpu *c, uc_err e)
{
    if (c->stop_requested)
        return c->stop;
    c->fault.eip = vcpu_get(c, CPU_EIP);
    c->fault.icount = c->icount;
    snprintf(c->fault.message, sizeof c->fault.message, "unicorn: %s at eip 0x%08x", uc_strerror(e), c->fault.eip);
    return CPU_STOP_ERROR;
}

/* Unicorn stopped after a hlt: the byte before CS:EIP (linear: the code segment's base added,
 * which a 16-bit task's or a real-mode CS has) is F4. */
static bool halted_at(cpu *c, uint32_t eip)
{
    uint8_t op = 0;
    bool real = !(vcpu_get(c, CPU_CR0) & 1u) || (vcpu_get(c, CPU_EFLAGS) & 0x20000u); /* PE, VM */
    uint32_t base = real ? (vcpu_get(c, CPU_CS) & 0xFFFFu) << 4 : vcpu_cs_base(c);
    return eip > 0 && vcpu_read_linear(c, base + eip - 1, &op, 1) && op == 0xF4;
}

cpu_stop vcpu_run(cpu *c, uint64_t target, bool over_breakpoint)
{
    memset(&c->fault, 0, sizeof c->fault);
    c->stop_requested = false;
    c->end_after_insn = false;
    c->replan = false; /* whoever called has just planned this run */
    c->in_port_io = false;
    c->target = target;
    c->running = true;
    cpu_stop result = CPU_STOP_TARGET;
    c->window_hit = false;
    c->bp_hit = false;
    c->watch_hit = false;
    uint32_t start = vcpu_get(c, CPU_EIP);
    c->bp_skip_armed = false;
    for (int i = 0; over_breakpoint && i < c->nbreakpoints; i++)
        if (c->breakpoints[i] == start) { /* resuming from a breakpoint runs it */
            c->bp_skip_armed = true;
            c->bp_skip_at = start;
        }
    while (c->icount < target) {
        /* Unicorn sizes its TLB only when it is flushed; a guest that never flushes (no CR3
         * write) would keep the small initial TLB and thrash it. A flush now and then lets it
         * grow. (Architecturally the TLB may be flushed at any time.) */
        if (c->icount - c->tlb_flushed_at >= TLB_RESIZE_INSNS) {
            vcpu_mmu_flush_tlb(c);
            c->tlb_flushed_at = c->icount;
        }
        c->target = target - c->tlb_flushed_at > TLB_RESIZE_INSNS ? c->tlb_flushed_at + TLB_RESIZE_INSNS : target;
        c->if_rose = c->irq_window; /* the host may have written EFLAGS between stretches */
        c->limit = c->block_care ? 0 : c->target;
        c->deadline_hit = false;
        c->io_hit = false;
        c->task_hit = false;
        c->rom_refused = false;
        bool stepped = false;
        c->mmu_refused = false;
        c->insn_refused = false;
        c->pc_resync = false; /* uc_emu_start clears Unicorn's skip flag */
        c->mmu_regs_valid = false; /* the host may have changed them between stretches */
        vcpu_exit_checks(c, vcpu_exit_checks_wanted(c));
        uc_err e = uc_emu_start(c->uc, vcpu_get(c, CPU_EIP), 0, 0, 0);
        blockpatch_inline_queued(&c->patch); /* no translated code runs now */
        c->mmu_regs_valid = false;
        undo_refused(c);
        bool task_fixed = vcpu_task_settle(c);
        vcpu_tlb_settle_at_stop(c);
        settle_rf_at_stop(c);
        bool hooked = vcpu_tlb_hook_sites(c);
        if ((e == UC_ERR_EXCEPTION && c->mmu_refused) || c->insn_refused)
            c->icount = vcpu_icount(c); /* the instructions before the refused one retired */
        if (e == UC_ERR_OK && c->io_hit && !c->stop_requested)
            e = io_step(c);
        else if (e == UC_ERR_OK && c->task_hit && !c->stop_requested)
            e = task_step(c);
        else if (e == UC_ERR_OK && c->rom_refused && !c->stop_requested)
            raise_gp_here(c, "VMI call refused at this privilege level: exception");
        else if (e == UC_ERR_OK && c->deadline_hit && !c->stop_requested && c->icount < c->target)
            e = run_exact(c, c->target - c->icount); /* a block starting right at the target needs none */
        e = settle_refused(c, e, &stepped);
        bool refused = e == UC_ERR_OK && c->insn_refused && !c->stop_requested;
        if (refused)
            raise_refused(c);
        if (e != UC_ERR_OK || c->stop_requested) {
            result = stop_from_error(c, e);
            break;
        }
        if (c->window_hit) {
            result = CPU_STOP_IRQ_WINDOW;
            break;
        }
        if (c->bp_hit) {
            result = CPU_STOP_BREAKPOINT;
            break;
        }
        if (c->watch_hit) {
            result = CPU_STOP_WATCHPOINT;
            break;
        }
        if (c->deadline_hit || c->io_hit || c->task_hit || c->rom_refused || stepped || hooked || task_fixed || refused)
            continue;
        uint32_t eip = vcpu_get(c, CPU_EIP);
        if (halted_at(c, eip)) {
            result = CPU_STOP_HALT;
            break;
        }
        c->fault.eip = eip;
        c->fault.icount = c->icount;
        snprintf(c->fault.message, sizeof c->fault.message, "the CPU stopped without a reason at eip 0x%08x", eip);
        result = CPU_STOP_ERROR;
        break;
    }
    if (result == CPU_STOP_FAULT || result == CPU_STOP_MEMORY)
        c->icount = c->fault.icount; /* the faulting block did not run to its end */
    if (c->end_contained)
        settle_contained_end(c);
    if (c->iret_armed) /* a stop asked for inside the block (a replan) ran it to its end unhooked */
        settle_iret(c, vcpu_get(c, CPU_EIP));
    c->running = false;
    return result;
}

void vcpu_request_irq_window(cpu *c, bool on)
{
    c->irq_window = on;
    c->if_rose = on; /* the first block start looks at IF once; then cpu/ifwatch.c says when */
    vcpu_ifwatch(c, on);
    c->limit = 0; /* set again at the next run */
}

static void on_breakpoint(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
    (void)size;
    cpu *c = user;
    if (c->exact && c->exact_left == 0)
        return; /* the exact stretch ends here anyway */
    if (c->rom_ret_bp_skip && (uint32_t)address == c->rom_ret_pc) {
        c->rom_ret_bp_skip = false; /* the slot's ret after its call: the call is done */
        return;
    }
    if (c->bp_skip_armed && (uint32_t)address == c->bp_skip_at) {
        c->bp_skip_armed = false;
        return;
    }
    /* Stop before this instruction; the block's count was taken in advance. */
    if (!c->exact)
        c->icount = (uint32_t)address - c->blk_pc < c->blk_size ? c->blk_icount + block_index(c, (uint32_t)address)
                                                                 : c->icount;
    else
        c->exact_aborted = true, c->icount = c->blk_icount + block_index(c, (uint32_t)address);
    c->bp_hit = true;
    uc_emu_stop(uc);
}

static void on_watch(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    cpu *c = user;
    if (c->watch_hit)
        return; /* the first write of this run is the one reported */
    uint32_t eip = vcpu_get(c, CPU_EIP);
    c->watch_hit = true;
    c->limit = 0;
    c->last_watch = (vcpu_watch_hit){vcpu_icount(c) + 1, address, eip, (uint64_t)value, size,
                                     type == UC_MEM_WRITE ? 'w' : 'r'};
    (void)uc; /* no uc_emu_stop here: it would stop inside the instruction, after its store but
               * before EIP moves on; the next block boundary stops instead (on_block) */
}

bool vcpu_set_watchpoints(cpu *c, const vcpu_watch *w, int n)
{
    if (n < 0 || n > VCPU_MAX_WATCHPOINTS)
        return false;
    for (int i = 0; i < c->nwatch; i++)
        uc_hook_del(c->uc, c->watch_hooks[i]);
    c->nwatch = 0;
    for (int i = 0; i < n; i++) {
        if (w[i].len == 0)
            return false;
        if (w[i].access != 'r' && uc_hook_add(c->uc, &c->watch_hooks[c->nwatch++], UC_HOOK_MEM_WRITE, (void *)on_watch,
                                              c, w[i].addr, w[i].addr + w[i].len - 1) != UC_ERR_OK)
            return false;
        if (w[i].access != 'w' && uc_hook_add(c->uc, &c->watch_hooks[c->nwatch++], UC_HOOK_MEM_READ, (void *)on_watch,
                                              c, w[i].addr, w[i].addr + w[i].len - 1) != UC_ERR_OK)
            return false;
    }
    flush_translations(c); /* memory hooks are built into translations */
    return true;
}

const vcpu_watch_hit *vcpu_last_watch(const cpu *c) { return &c->last_watch; }

static void on_store(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user)
{
    (void)uc;
    (void)type;
    cpu *c = user;
    c->store_fn(c->store_ctx, address, size, (uint64_t)value, vcpu_icount(c), vcpu_get(c, CPU_EIP));
}

static void drop_store_ranges(cpu *c)
{
    for (int i = 0; i < c->nstore_hooks; i++)
        uc_hook_del(c->uc, c->store_hooks[i]);
    c->nstore_hooks = 0;
}

void vcpu_untrace_stores(cpu *c)
{
    if (!c->store_traced)
        return;
    drop_store_ranges(c);
    uc_hook_del(c->uc, c->store_anchor);
    c->store_traced = false;
    flush_translations(c); /* back to translations without memory hooks */
}

/* A hook on an address no guest reaches: while it exists, translations send every store
 * through Unicorn's helper, which checks the range hooks as they are at that moment. */
#define STORE_ANCHOR 0xFFFFFFFFF000ull

bool vcpu_trace_stores(cpu *c, vcpu_store_fn fn, void *ctx)
{
    vcpu_untrace_stores(c);
    c->store_fn = fn;
    c->store_ctx = ctx;
    if (uc_hook_add(c->uc, &c->store_anchor, UC_HOOK_MEM_WRITE, (void *)on_store, c, STORE_ANCHOR, STORE_ANCHOR) !=
        UC_ERR_OK)
        return false;
    c->store_traced = true;
    flush_translations(c);
    return true;
}

bool vcpu_trace_ranges(cpu *c, int n, const uint64_t *at, const uint32_t *len)
{
    drop_store_ranges(c);
    for (int i = 0; c->store_traced && i < n && i < 2; i++) {
        if (!len[i] || uc_hook_add(c->uc, &c->store_hooks[i], UC_HOOK_MEM_WRITE, (void *)on_store, c, at[i],
                                   at[i] + len[i] - 1) != UC_ERR_OK)
            return false;
        c->nstore_hooks++;
    }
    return c->store_traced;
}

bool vcpu_is_breakpoint(cpu *c, uint32_t addr)
{
    for (int i = 0; i < c->nbreakpoints; i++)
        if (c->breakpoints[i] == addr)
            return true;
    return false;
}

bool vcpu_set_breakpoints(cpu *c, const uint32_t *addrs, int n)
{
    if (n < 0 || n > VCPU_MAX_BREAKPOINTS)
        return false;
    for (int i = 0; i < c->nbreakpoints; i++)
        uc_hook_del(c->uc, c->bp_hooks[i]); /* drops the translations they were built into */
    c->nbreakpoints = 0;
    for (int i = 0; i < n; i++) {
        /* Cached translations carry no hook: drop the one holding the address. */
        uc_ctl_remove_cache(c->uc, (uint64_t)addrs[i], (uint64_t)addrs[i] + 1);
        if (uc_hook_add(c->uc, &c->bp_hooks[i], UC_HOOK_CODE, (void *)on_breakpoint, c, (uint64_t)addrs[i],
                        (uint64_t)addrs[i]) != UC_ERR_OK)
            return false;
        c->breakpoints[i] = addrs[i];
        c->nbreakpoints++;
    }
    return true;
}

/* Nothing stops, steps or interrupts the next `insns` instructions (a ROM slot at pc, len
 * bytes): no stop, step, replan or watch hit due, no planned stop before they have run, no host
 * breakpoint in the slot, no interrupt waiting for IF (when the slot may set it), no debug
 * trap (the guest's TF is the caller's to check; DR7 here). From ops.rom_block only. */
bool vcpu_slot_runs_whole(cpu *c, uint32_t pc, uint32_t len, uint32_t insns, bool sets_if)
{
    if (!c->at_block_start || c->exact || c->stop_requested || c->watch_hit || c->replan || c->pc_resync ||
        c->trap_step || (sets_if && c->irq_window) || c->icount + insns > c->target)
        return false;
    for (int i = 0; i < c->nbreakpoints; i++)
        if (c->breakpoints[i] - pc < len)
            return false;
    if (c->dr7_clear_at == vcpu_dr_writes + 1) /* no debug register written since it read clear */
        return true;
    uint32_t dr7 = 0;
    uc_reg_read(c->uc, UC_X86_REG_DR7, &dr7);
    if (dr7 & 0xFFu)
        return false;
    c->dr7_clear_at = vcpu_dr_writes + 1;
    return true;
}

bool vcpu_in_irq_shadow(cpu *c)
{
    uint32_t eip = vcpu_get(c, CPU_EIP);
    uint8_t op = 0;
    return c->blk_size && eip == c->blk_pc + c->blk_size && vcpu_read_linear(c, eip - 1, &op, 1) && op == 0xFB;
}

bool vcpu_get_table(cpu *c, cpu_table which, vcpu_table_reg *out)
{
    static const int regs[] = {UC_X86_REG_GDTR, UC_X86_REG_IDTR, UC_X86_REG_LDTR, UC_X86_REG_TR};
    uc_x86_mmr mmr = {0};
    if (uc_reg_read(c->uc, regs[which], &mmr) != UC_ERR_OK)
        return false;
    out->base = (uint32_t)mmr.base;
    out->limit = mmr.limit;
    out->selector = mmr.selector;
    return true;
}

static uint64_t mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
    (void)uc;
    struct vcpu_mmio *r = user;
    return r->rd(r->opaque, offset, size);
}

static void mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
    (void)uc;
    struct vcpu_mmio *r = user;
    r->wr(r->opaque, offset, size, (uint32_t)value);
}

bool vcpu_map_mmio(cpu *c, uint64_t base, uint64_t size, vcpu_mmio_read rd, vcpu_mmio_write wr, void *opaque,
                   vm_error *err)
{
    if (c->nmmio == (int)(sizeof c->mmio / sizeof c->mmio[0]))
        return vm_fail(err, VM_EINVAL, "too many memory-mapped I/O regions");
    struct vcpu_mmio *r = &c->mmio[c->nmmio];
    *r = (struct vcpu_mmio){rd, wr, opaque};
    uc_err e = uc_mmio_map(c->uc, base, size, mmio_read, r, mmio_write, r);
    if (e != UC_ERR_OK)
        return vm_fail(err, VM_EENGINE, "unicorn: cannot map I/O memory at 0x%llx: %s", (unsigned long long)base,
                       uc_strerror(e));
    c->nmmio++;
    return true;
}

void vcpu_forget_space(cpu *c, uint32_t page) { blockcache_forget_space(&c->counts, page); }

/* The state blob: Unicorn's context, the instruction count, TSC_ADJUST, the number of TLB entries and the
 * entries (mmu/tlb.h), so its size follows the TLB. */
size_t vcpu_state_size(cpu *c)
{
    const void *entries;
    size_t bytes;
    vcpu_tlb_state(c, &entries, &bytes);
    return c->layout.context_size + sizeof c->icount + sizeof c->tsc_adjust + sizeof(uint32_t) + bytes;
}

bool vcpu_save_state(cpu *c, void *blob)
{
    const void *entries;
    size_t bytes;
    vcpu_tlb_state(c, &entries, &bytes);
    if (uc_context_save(c->uc, c->scratch) != UC_ERR_OK)
        return false;
    uint8_t *p = blob;
    uint32_t n = c->tlb->n;
    memcpy(p, c->scratch, c->layout.context_size);
    p += c->layout.context_size;
    memcpy(p, &c->icount, sizeof c->icount);
    p += sizeof c->icount;
    memcpy(p, &c->tsc_adjust, sizeof c->tsc_adjust);
    p += sizeof c->tsc_adjust;
    memcpy(p, &n, sizeof n);
    memcpy(p + sizeof n, entries, bytes);
    return true;
}

bool vcpu_load_state(cpu *c, const void *blob)
{
    const uint8_t *p = (const uint8_t *)blob + c->layout.context_size;
    uint32_t n;
    memcpy(c->scratch, blob, c->layout.context_size);
    c->call_regs_have = 0;
    c->mmu_regs_valid = false;
    c->dr7_clear_at = 0; /* the loaded DR7 is not the one read */
    if (uc_context_restore(c->uc, c->scratch) != UC_ERR_OK)
        return false;
    memcpy(&c->icount, p, sizeof c->icount);
    p += sizeof c->icount;
    memcpy(&c->tsc_adjust, p, sizeof c->tsc_adjust);
    p += sizeof c->tsc_adjust;
    memcpy(&n, p, sizeof n);
    c->blk_size = 0; /* no block is current: an interrupt shadow cannot carry over */
    c->smc_cut = false;
    c->iret_armed = false;
    flush_translations(c);
    blockcache_clear(&c->counts);
    vcpu_tlb_reset(c); /* Unicorn's TLB goes; the guest's comes back from the blob */
    return mmu_tlb_load(c->tlb, p + sizeof n, n);
}

void vcpu_flush_code(cpu *c)
{
    blockcache_clear(&c->counts);
    flush_translations(c);
}
