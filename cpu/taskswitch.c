/* Hardware task switches (Intel SDM vol. 3, 8.3): through a task gate in the IDT, which
 * cpu/deliver.c hands here, and the repair of the ones Unicorn performs itself for lcall,
 * ljmp and iret with NT set.
 *
 * Unicorn's own switch (seg_helper.c switch_tss) is right but for one thing: in UC_TLB_VIRTUAL
 * mode every TLB fill first restores EIP to the start of the running instruction, and the
 * switch reloads CR3 (a TLB flush) before it reads the new task's segment descriptors. So with
 * paging on, the new task starts with all its registers but EIP pointing at the old task's
 * lcall/ljmp/iret, which then runs again in the new task (a busy TSS: #GP). Blocks that end
 * in such an instruction are flagged when counted (BLOCKCACHE_TASK); entering one notes TR,
 * and at the next block (or where the run stops) a changed TR with EIP still inside that block
 * means the switch happened: EIP is set to the new TSS's EIP, which the switch had loaded. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/descriptor.h"

#define EFLAGS_NT 0x00004000u
#define EFLAGS_VM 0x00020000u
#define CR0_PE 0x1u
#define CR0_TS 0x8u
#define CR0_PG 0x80000000u
#define DESC_BUSY 0x200u /* in the descriptor's high dword: TSS type 9 <-> 0xB */

enum { VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14 };
enum { TSS_EIP = 0x20, TSS_LDT = 0x60, TSS32_LIMIT = 0x67, TSS16_IP = 0x0E, TSS16_LIMIT = 0x2B };

/* The 32-bit TSS's dynamic fields, EIP to LDT, in their memory order (0x20..0x63). */
typedef struct tss32_dyn {
    uint32_t eip, eflags, gpr[8];
    uint32_t seg[6]; /* ES CS SS DS FS GS, 16 bits each and 16 reserved */
    uint32_t ldt;
} tss32_dyn;

/* The 16-bit (286) TSS's, IP to LDT (0x0E..0x2B), words: ES CS SS DS, no FS, GS or CR3. A task
 * gate may switch to one; the task it leaves must have a 32-bit TSS (saving into a 16-bit one
 * is not done: the run ends with a message, as before). */
typedef struct tss16_dyn {
    uint16_t ip, flags, gpr[8], seg[4], ldt;
} tss16_dyn;

static const cpu_reg seg_regs[6] = {CPU_ES, CPU_CS, CPU_SS, CPU_DS, CPU_FS, CPU_GS};
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS };

bool vcpu_read_descriptor(cpu *c, uint16_t sel, uint64_t *raw)
{
    uc_x86_mmr t;
    if (uc_reg_read(c->uc, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &t) != UC_ERR_OK)
        return false;
    uint32_t index = sel >> 3;
    return index * 8 + 7 <= t.limit && vcpu_read_linear(c, (uint32_t)t.base + index * 8, raw, 8);
}

vcpu_fault vcpu_page_fault(cpu *c, uint32_t linear, bool write)
{
    uint64_t pa;
    vcpu_put(c, CPU_CR2, linear);
    bool present = vcpu_translate(c, linear, false, &pa);
    return (vcpu_fault){VEC_PF, (present ? 1u : 0u) | (write ? 2u : 0u)};
}

/* The first page of [linear, linear + len) the access cannot reach, for CR2. */
static uint32_t first_bad(cpu *c, uint32_t linear, uint32_t len, bool write)
{
    uint64_t pa;
    for (uint32_t at = linear; at - linear < len; at = (at | 0xFFFu) + 1)
        if (!vcpu_translate(c, at, write, &pa))
            return at;
    return linear;
}

static bool access_or_fault(cpu *c, uint32_t linear, void *buf, uint32_t len, bool write, vcpu_fault *f)
{
    bool ok = write ? vcpu_write_linear(c, linear, buf, len) : vcpu_read_linear(c, linear, buf, len);
    if (!ok)
        *f = vcpu_page_fault(c, first_bad(c, linear, len, write), write);
    return ok;
}

bool vcpu_enter_ring(cpu *c, uint32_t cpl)
{
    /* A host write of SS is checked like `mov ss` at the current CPL (QEMU keeps the CPL in
     * SS's DPL). A load in real mode is not checked and makes CPL 0, one in virtual-8086 mode
     * makes it 3; the protected-mode load of the wanted SS is then allowed. */
    uint32_t cr0 = vcpu_get(c, CPU_CR0), eflags = vcpu_get(c, CPU_EFLAGS);
    bool ok;
    if (cpl == 0) {
        ok = vcpu_set(c, CPU_EFLAGS, eflags & ~EFLAGS_VM) && vcpu_set(c, CPU_CR0, cr0 & ~CR0_PE) &&
             vcpu_set(c, CPU_SS, 0);
        ok = vcpu_set(c, CPU_CR0, cr0) && ok;
    } else if (cpl == 3) {
        ok = vcpu_set(c, CPU_EFLAGS, eflags | EFLAGS_VM) && vcpu_set(c, CPU_SS, 0);
        ok = vcpu_set(c, CPU_EFLAGS, eflags & ~EFLAGS_VM) && ok;
    } else {
        return false; /* rings 1 and 2: no unchecked way there */
    }
    return ok;
}

/* The checks the CPU makes of a new task's segment selector before it loads it (SDM 8.3,
 * "Task switching", step 13): *f = the fault, false. */
static bool segment_ok(cpu *c, int seg, uint16_t sel, uint32_t cpl, uint32_t ext, vcpu_fault *f)
{
    uint32_t err = (sel & ~3u) + ext;
    if ((sel & ~3u) == 0) {
        *f = (vcpu_fault){VEC_TS, err};
        return seg != S_CS && seg != S_SS;
    }
    uint64_t raw;
    seg_desc d;
    if (!vcpu_read_descriptor(c, sel, &raw)) {
        *f = (vcpu_fault){VEC_TS, err};
        return false;
    }
    desc_decode(raw, &d);
    bool type_ok = seg == S_CS   ? desc_is_code(&d) && (desc_is_conforming(&d) ? d.dpl <= cpl : d.dpl == cpl)
                   : seg == S_SS ? desc_is_writable_data(&d) && d.dpl == cpl && (sel & 3u) == cpl
                                 : !d.system && (!desc_is_code(&d) || (d.type & 2)) &&
                                       (desc_is_conforming(&d) || (d.dpl >= cpl && d.dpl >= (sel & 3u)));
    if (!type_ok) {
        *f = (vcpu_fault){VEC_TS, err};
        return false;
    }
    if (!d.present) {
        *f = (vcpu_fault){seg == S_SS ? VEC_SS : VEC_NP, err};
        return false;
    }
    return true;
}

/* The LDT a new task names: null, or an LDT descriptor in the GDT. */
static bool ldt_ok(cpu *c, uint16_t sel, uint32_t ext, uint64_t *raw, vcpu_fault *f)
{
    *f = (vcpu_fault){VEC_TS, (sel & ~3u) + ext};
    if ((sel & ~3u) == 0)
        return true;
    seg_desc d;
    if ((sel & 4) || !vcpu_read_descriptor(c, sel, raw))
        return false;
    desc_decode(*raw, &d);
    return d.system && d.type == 2 && d.present;
}

/* Set or clear the busy bit of the TSS descriptor `sel` in the GDT. */
static bool set_busy(cpu *c, uint16_t sel, bool busy, vcpu_fault *f)
{
    uc_x86_mmr gdtr;
    uint32_t hi;
    uc_reg_read(c->uc, UC_X86_REG_GDTR, &gdtr);
    uint32_t at = (uint32_t)gdtr.base + (sel & ~7u) + 4;
    if (!access_or_fault(c, at, &hi, 4, false, f))
        return false;
    hi = busy ? hi | DESC_BUSY : hi & ~DESC_BUSY;
    return access_or_fault(c, at, &hi, 4, true, f);
}

/* Load the new task's segment registers (checked already): CPL from CS first. */
static bool load_segments(cpu *c, const tss32_dyn *n)
{
    if (n->eflags & EFLAGS_VM) { /* virtual-8086 task: selectors are paragraph numbers */
        bool ok = true;
        for (int i = 0; i < 6; i++)
            ok = vcpu_set(c, seg_regs[i], (uint16_t)n->seg[i]) && ok;
        return ok;
    }
    if (!vcpu_enter_ring(c, n->seg[S_CS] & 3u))
        return false;
    static const int order[6] = {S_SS, S_CS, S_DS, S_ES, S_FS, S_GS};
    for (int i = 0; i < 6; i++)
        if (!vcpu_set(c, seg_regs[order[i]], (uint16_t)n->seg[order[i]]))
            return false;
    return true;
}

int vcpu_task_switch(cpu *c, uint16_t sel, int source, uint32_t ret_eip, uint32_t ext, vcpu_fault *f, char *why,
                     size_t whylen)
{
    uint32_t err = (sel & ~3u) + ext;
    uint64_t raw;
    seg_desc d;
    if (sel & 4) {
        *f = (vcpu_fault){VEC_TS, err};
        return 1;
    }
    if (!vcpu_read_descriptor(c, sel, &raw)) {
        *f = (vcpu_fault){VEC_GP, err};
        return 1;
    }
    desc_decode(raw, &d);
    if (!d.system || (d.type & 5) != 1) {
        *f = (vcpu_fault){VEC_GP, err};
        return 1;
    }
    bool big = (d.type & 8) != 0; /* a 32-bit TSS; else a 16-bit one */
    bool busy = (d.type & 2) != 0;
    if (busy != (source == VCPU_TASK_IRET)) { /* call/jmp need an available TSS, iret a busy one */
        *f = (vcpu_fault){source == VCPU_TASK_IRET ? VEC_TS : VEC_GP, err};
        return 1;
    }
    if (!d.present) {
        *f = (vcpu_fault){VEC_NP, err};
        return 1;
    }
    if (d.limit < (big ? TSS32_LIMIT : TSS16_LIMIT)) {
        *f = (vcpu_fault){VEC_TS, err};
        return 1;
    }
    uc_x86_mmr tr;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    if (((tr.flags >> 8) & 0xD) != 0x9 || tr.limit < TSS32_LIMIT) {
        snprintf(why, whylen, "the current task (TR 0x%04x) has no 32-bit TSS to save it in", tr.selector);
        return -1;
    }
    tss32_dyn n, o;
    uint32_t cr3 = 0;
    if (big) {
        if (!access_or_fault(c, d.base + 0x1C, &cr3, 4, false, f) ||
            !access_or_fault(c, d.base + TSS_EIP, &n, sizeof n, false, f))
            return 1;
    } else { /* as Bochs and QEMU: the registers' high words 0xFFFF, EFLAGS' zero, FS and GS null */
        tss16_dyn w;
        if (!access_or_fault(c, d.base + TSS16_IP, &w, sizeof w, false, f))
            return 1;
        n = (tss32_dyn){.eip = w.ip, .eflags = w.flags, .ldt = w.ldt};
        for (int i = 0; i < 8; i++)
            n.gpr[i] = 0xFFFF0000u | w.gpr[i];
        for (int i = 0; i < 4; i++)
            n.seg[i] = w.seg[i];
    }
    /* The new task's LDT and segments are checked before anything changes. The CPU checks
     * them after the switch and raises the fault in the new task; vmiemu raises it in the old
     * one (a difference only a guest with a broken TSS sees). */
    uint64_t ldt_raw = 0;
    if (!ldt_ok(c, (uint16_t)n.ldt, ext, &ldt_raw, f))
        return 1;
    if (!(n.eflags & EFLAGS_VM)) {
        uint32_t cpl = n.seg[S_CS] & 3u;
        static const int order[6] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};
        for (int i = 0; i < 6; i++)
            if (!segment_ok(c, order[i], (uint16_t)n.seg[order[i]], cpl, ext, f))
                return 1;
        if (cpl == 1 || cpl == 2) {
            snprintf(why, whylen, "task 0x%04x runs at CPL %u, which vmiemu cannot enter", sel, cpl);
            return -1;
        }
    }

    /* Save the old task (SDM step 8). */
    o.eip = ret_eip;
    o.eflags = vcpu_get(c, CPU_EFLAGS);
    if (source == VCPU_TASK_IRET)
        o.eflags &= ~EFLAGS_NT;
    for (int i = 0; i < 8; i++)
        o.gpr[i] = vcpu_get(c, (cpu_reg)(CPU_EAX + i));
    uint32_t old_segs = (uint32_t)tr.base + 0x48;
    if (!access_or_fault(c, (uint32_t)tr.base + TSS_EIP, &o, offsetof(tss32_dyn, seg), true, f))
        return 1;
    for (int i = 0; i < 6; i++) {
        uint16_t s = (uint16_t)vcpu_get(c, seg_regs[i]);
        if (!access_or_fault(c, old_segs + 4u * (uint32_t)i, &s, 2, true, f))
            return 1;
    }
    if (source != VCPU_TASK_CALL && !set_busy(c, tr.selector, false, f))
        return 1;
    if (source == VCPU_TASK_CALL) {
        uint16_t link = tr.selector;
        if (!access_or_fault(c, d.base, &link, 2, true, f))
            return 1;
        n.eflags |= EFLAGS_NT;
    }
    if (source != VCPU_TASK_IRET && !set_busy(c, sel, true, f))
        return 1;

    /* Commit: the new task's state. */
    uc_x86_mmr ntr = {.selector = sel, .base = d.base, .limit = d.limit, .flags = (uint32_t)(raw >> 32) | DESC_BUSY};
    uc_reg_write(c->uc, UC_X86_REG_TR, &ntr);
    uint32_t cr0 = vcpu_get(c, CPU_CR0) | CR0_TS;
    vcpu_put(c, CPU_CR0, cr0);
    if (big && (cr0 & CR0_PG)) /* a 16-bit TSS has no CR3 */
        vcpu_put(c, CPU_CR3, cr3);
    seg_desc ld;
    desc_decode(ldt_raw, &ld);
    uc_x86_mmr ldtr = {.selector = (uint16_t)(n.ldt & ~3u), .base = ld.base, .limit = ld.limit,
                       .flags = (uint32_t)(ldt_raw >> 32)};
    if ((n.ldt & ~3u) == 0)
        ldtr = (uc_x86_mmr){0};
    uc_reg_write(c->uc, UC_X86_REG_LDTR, &ldtr);
    if (!load_segments(c, &n)) {
        snprintf(why, whylen, "cannot load the segments of task 0x%04x", sel);
        return -1;
    }
    vcpu_put(c, CPU_EFLAGS, n.eflags | 2u);
    for (int i = 0; i < 8; i++)
        vcpu_put(c, (cpu_reg)(CPU_EAX + i), n.gpr[i]);
    vcpu_put(c, CPU_EIP, n.eip);
    return 0;
}

/* --- Unicorn's own switches (lcall, ljmp, iret with NT): see the top of the file. --- */

void vcpu_task_arm(cpu *c, uint32_t pc, uint32_t size)
{
    uc_x86_mmr tr;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    c->ts_armed = true;
    c->ts_tr = tr.selector;
    c->ts_tr_base = (uint32_t)tr.base;
    c->ts_lo = pc;
    c->ts_size = size;
}

bool vcpu_task_check(cpu *c, uint32_t eip, uint32_t *fixed)
{
    uc_x86_mmr tr;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    if (tr.selector == c->ts_tr && (uint32_t)tr.base == c->ts_tr_base)
        return false;
    if (eip - c->ts_lo >= c->ts_size)
        return false; /* the switch went through (or a fault of the new task was delivered) */
    uint32_t neip = 0;
    bool big = ((tr.flags >> 8) & 8) != 0; /* a 16-bit TSS keeps IP at 0x0E */
    if (!vcpu_read_linear(c, (uint32_t)tr.base + (big ? TSS_EIP : 0x0Eu), &neip, big ? 4 : 2))
        return false;
    *fixed = neip;
    return neip != eip;
}

bool vcpu_task_settle(cpu *c)
{
    if (!c->ts_armed)
        return false;
    c->ts_armed = false;
    uint32_t eip = vcpu_get(c, CPU_EIP), fixed;
    if (!vcpu_task_check(c, eip, &fixed))
        return false;
    c->smc_cut = false; /* the switch retired: no store of it cut its block (cpu.c) */
    vcpu_put(c, CPU_EIP, fixed);
    return true;
}

/* Unicorn's switch checks a new task's CS as if it were never conforming (DPL == RPL) and
 * raises #TS after the commit point, with everything but the segments and EIP loaded; the CPU
 * accepts a conforming CS whose DPL is at most its RPL. That one case is finished here, as
 * the CPU would have run it: the segments (checked again by the CPU's rules) and EIP. */
bool vcpu_task_finish(cpu *c, const vcpu_event *ev)
{
    uc_x86_mmr tr;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    uint32_t eip = vcpu_get(c, CPU_EIP);
    if (ev->vector != VEC_TS || (tr.selector == c->ts_tr && (uint32_t)tr.base == c->ts_tr_base) ||
        eip - c->ts_lo >= c->ts_size || !((tr.flags >> 8) & 8))
        return false;
    tss32_dyn n;
    uint64_t raw;
    seg_desc cs;
    if (!vcpu_read_linear(c, (uint32_t)tr.base + TSS_EIP, &n, sizeof n) || (n.eflags & EFLAGS_VM) ||
        (ev->error & ~3u) != (n.seg[S_CS] & ~3u) || !vcpu_read_descriptor(c, (uint16_t)n.seg[S_CS], &raw))
        return false;
    desc_decode(raw, &cs);
    uint32_t cpl = n.seg[S_CS] & 3u;
    vcpu_fault f;
    if (!desc_is_conforming(&cs) || cpl == 1 || cpl == 2)
        return false;
    for (int i = 0; i < 6; i++)
        if (!segment_ok(c, i, (uint16_t)n.seg[i], cpl, 0, &f))
            return false;
    if (!load_segments(c, &n))
        return false;
    vcpu_put(c, CPU_EIP, n.eip);
    c->ts_armed = false;
    c->smc_cut = false;
    return true;
}
