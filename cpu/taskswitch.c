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
 * means the switch happened: EIP is set to the new TSS's EIP, which the switch had loaded.
 *
 * Where a 16-bit (286) TSS takes part, old or new, Unicorn's switch is wrong: it saves the old
 * task in the new TSS's format (a 32-bit image written into a 44-byte TSS overwrites what follows
 * it) and reads a 16-bit TSS's segment selectors 4 bytes apart instead of 2. Those switches are
 * done here instead (vcpu_task_insn), the instruction stopped before it runs (cpu.c task_step). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/descriptor.h"
#include "cpu/disasm.h"

#define EFLAGS_NT 0x00004000u
#define EFLAGS_VM 0x00020000u
#define CR0_PE 0x1u
#define DR7_LOCAL_ENABLES 0x55u /* L0-L3; QEMU leaves LE as it is */
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

/* The 16-bit (286) TSS's, IP to LDT (0x0E..0x2B), words: ES CS SS DS, no FS, GS or CR3 (SDM
 * vol. 3, figure 8-11). */
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

/* The descriptor `sel` names in the GDT or, with TI set, in the LDT `ldt` (the new task's
 * during a switch). */
static bool read_descriptor_in(cpu *c, uint16_t sel, const uc_x86_mmr *ldt, uint64_t *raw)
{
    if (!(sel & 4))
        return vcpu_read_descriptor(c, sel, raw);
    uint32_t index = sel >> 3;
    return (ldt->selector & ~3u) != 0 && index * 8 + 7 <= ldt->limit &&
           vcpu_read_linear(c, (uint32_t)ldt->base + index * 8, raw, 8);
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
static bool segment_ok(cpu *c, int seg, uint16_t sel, const uc_x86_mmr *ldt, uint32_t cpl, uint32_t ext,
                       vcpu_fault *f)
{
    uint32_t err = (sel & ~3u) + ext;
    if ((sel & ~3u) == 0) {
        *f = (vcpu_fault){VEC_TS, err};
        return seg != S_CS && seg != S_SS;
    }
    uint64_t raw;
    seg_desc d;
    if (!read_descriptor_in(c, sel, ldt, &raw)) {
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

/* The old task's TSS: TR must hold a TSS (32- or 16-bit) as large as its format needs. */
static bool old_tss_ok(const uc_x86_mmr *tr, bool *big)
{
    uint32_t type = (tr->flags >> 8) & 0xFu;
    *big = (type & 8) != 0;
    return (type & 5) == 1 && tr->limit >= (*big ? TSS32_LIMIT : TSS16_LIMIT);
}

/* Save the old task's state in its TSS, in that TSS's format (SDM vol. 3, 8.3 step 8). */
static bool save_old(cpu *c, const uc_x86_mmr *tr, bool big, uint32_t eip, uint32_t eflags, vcpu_fault *f)
{
    uint32_t base = (uint32_t)tr->base;
    if (big) {
        tss32_dyn o = {.eip = eip, .eflags = eflags};
        for (int i = 0; i < 8; i++)
            o.gpr[i] = vcpu_get(c, (cpu_reg)(CPU_EAX + i));
        for (int i = 0; i < 6; i++)
            o.seg[i] = (uint16_t)vcpu_get(c, seg_regs[i]);
        /* the selectors' high words are reserved: keep what the TSS holds there */
        tss32_dyn keep;
        if (!access_or_fault(c, base + TSS_EIP, &keep, sizeof keep, false, f))
            return false;
        for (int i = 0; i < 6; i++)
            o.seg[i] |= keep.seg[i] & 0xFFFF0000u;
        return access_or_fault(c, base + TSS_EIP, &o, offsetof(tss32_dyn, ldt), true, f);
    }
    tss16_dyn w = {.ip = (uint16_t)eip, .flags = (uint16_t)eflags};
    for (int i = 0; i < 8; i++)
        w.gpr[i] = (uint16_t)vcpu_get(c, (cpu_reg)(CPU_EAX + i));
    for (int i = 0; i < 4; i++)
        w.seg[i] = (uint16_t)vcpu_get(c, seg_regs[i]);
    return access_or_fault(c, base + TSS16_IP, &w, offsetof(tss16_dyn, ldt), true, f);
}

int vcpu_task_switch(cpu *c, uint16_t sel, int source, uint32_t ret_eip, uint32_t ext, vcpu_fault *f, char *why,
                     size_t whylen)
{
    /* Faults by the SDM's pseudo-code (INT, CALL, JMP, IRET) and table 8-1: a selector or
     * descriptor that is no usable TSS is #GP for a call or jump (#TS for a local selector
     * through an IDT gate) and #TS for the task return of iret. */
    bool iret = source == VCPU_TASK_IRET, nest = source == VCPU_TASK_CALL || source == VCPU_TASK_INT;
    uint32_t err = (sel & ~3u) + ext, bad = iret ? VEC_TS : VEC_GP;
    uint64_t raw;
    seg_desc d;
    if (sel & 4) {
        *f = (vcpu_fault){source == VCPU_TASK_CALL || source == VCPU_TASK_JMP ? VEC_GP : VEC_TS, err};
        return 1;
    }
    if (!vcpu_read_descriptor(c, sel, &raw)) {
        *f = (vcpu_fault){bad, err};
        return 1;
    }
    desc_decode(raw, &d);
    if (!d.system || (d.type & 5) != 1) {
        *f = (vcpu_fault){bad, err};
        return 1;
    }
    bool big = (d.type & 8) != 0; /* a 32-bit TSS; else a 16-bit one */
    bool busy = (d.type & 2) != 0;
    if (busy != iret) { /* call/jmp need an available TSS, iret a busy one */
        *f = (vcpu_fault){bad, err};
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
    bool old_big;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    if (!old_tss_ok(&tr, &old_big)) {
        snprintf(why, whylen, "the current task (TR 0x%04x) has no TSS to save it in", tr.selector);
        return -1;
    }
    tss32_dyn n;
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
    /* The new task's LDT and segments (in that LDT) are checked before anything changes. The
     * CPU checks them after the switch and raises the fault in the new task; vmiemu raises it
     * in the old one (a difference only a guest with a broken TSS sees). */
    uint64_t ldt_raw = 0;
    if (!ldt_ok(c, (uint16_t)n.ldt, ext, &ldt_raw, f))
        return 1;
    seg_desc ld;
    desc_decode(ldt_raw, &ld);
    uc_x86_mmr ldtr = {.selector = (uint16_t)(n.ldt & ~3u), .base = ld.base, .limit = ld.limit,
                       .flags = (uint32_t)(ldt_raw >> 32)};
    if ((n.ldt & ~3u) == 0)
        ldtr = (uc_x86_mmr){0};
    if (!(n.eflags & EFLAGS_VM)) {
        uint32_t cpl = n.seg[S_CS] & 3u;
        static const int order[6] = {S_CS, S_SS, S_DS, S_ES, S_FS, S_GS};
        for (int i = 0; i < 6; i++)
            if (!segment_ok(c, order[i], (uint16_t)n.seg[order[i]], &ldtr, cpl, ext, f))
                return 1;
        if (cpl == 1 || cpl == 2) {
            snprintf(why, whylen, "task 0x%04x runs at CPL %u, which vmiemu cannot enter", sel, cpl);
            return -1;
        }
    }
    /* The old TSS must take the whole save before any of it is written. */
    uint32_t save_at = (uint32_t)tr.base + (old_big ? TSS_EIP : TSS16_IP);
    uint32_t save_len = old_big ? offsetof(tss32_dyn, ldt) : offsetof(tss16_dyn, ldt);
    uint64_t pa;
    for (uint32_t at = save_at; at - save_at < save_len; at = (at | 0xFFFu) + 1)
        if (!vcpu_translate(c, at, true, &pa)) {
            *f = vcpu_page_fault(c, at, true);
            return 1;
        }

    /* Save the old task (SDM step 8). */
    uint32_t eflags = vcpu_get(c, CPU_EFLAGS);
    if (iret)
        eflags &= ~EFLAGS_NT;
    if (!save_old(c, &tr, old_big, ret_eip, eflags, f))
        return 1;
    if (!nest && !set_busy(c, tr.selector, false, f))
        return 1;
    if (nest) {
        uint16_t link = tr.selector;
        if (!access_or_fault(c, d.base, &link, 2, true, f))
            return 1;
        n.eflags |= EFLAGS_NT;
    }
    if (!iret && !set_busy(c, sel, true, f))
        return 1;

    /* Commit: the new task's state. */
    uc_x86_mmr ntr = {.selector = sel, .base = d.base, .limit = d.limit, .flags = (uint32_t)(raw >> 32) | DESC_BUSY};
    uc_reg_write(c->uc, UC_X86_REG_TR, &ntr);
    uint32_t cr0 = vcpu_get(c, CPU_CR0) | CR0_TS;
    vcpu_put(c, CPU_CR0, cr0);
    if (big && (cr0 & CR0_PG)) /* a 16-bit TSS has no CR3: it stays */
        vcpu_put(c, CPU_CR3, cr3);
    uc_reg_write(c->uc, UC_X86_REG_LDTR, &ldtr);
    if (!load_segments(c, &n)) {
        snprintf(why, whylen, "cannot load the segments of task 0x%04x", sel);
        return -1;
    }
    vcpu_put(c, CPU_EFLAGS, n.eflags | 2u);
    for (int i = 0; i < 8; i++)
        vcpu_put(c, (cpu_reg)(CPU_EAX + i), n.gpr[i]);
    vcpu_put(c, CPU_EIP, n.eip);
    uint32_t dr7 = vcpu_get(c, CPU_DR7); /* the local breakpoints end with the task (SDM 17.2.4) */
    if (dr7 & DR7_LOCAL_ENABLES)
        vcpu_put(c, CPU_DR7, dr7 & ~DR7_LOCAL_ENABLES);
    return 0;
}

/* --- lcall, ljmp and iret that switch to or from a 16-bit task: done here, not by Unicorn. --- */

/* Base and D bit of the code segment from its descriptor (as cpu/mmu_fill.c reads them). */
static bool code_segment(cpu *c, uint32_t *base, bool *code32, uint32_t *limit)
{
    uint64_t raw;
    seg_desc d;
    if (!vcpu_read_descriptor(c, (uint16_t)vcpu_get(c, CPU_CS), &raw))
        return false;
    desc_decode(raw, &d);
    *base = d.base;
    *code32 = d.big;
    *limit = d.limit;
    return true;
}

uint32_t vcpu_cs_base(cpu *c)
{
    if (!(vcpu_get(c, CPU_CR0) & CR0_PE) || (vcpu_get(c, CPU_EFLAGS) & EFLAGS_VM))
        return 0;
    uint32_t base = 0, limit;
    bool code32;
    return code_segment(c, &base, &code32, &limit) ? base : 0;
}

static bool tss_is_16(uint32_t type) { return (type & 0xD) == 1; }

/* A far pointer in memory (FF /3, FF /5): its offset in the segment and that segment's
 * descriptor (`seg_ok` false for a null selector or one that names nothing). */
static uint32_t far_pointer_ea(cpu *c, const disasm_far *x, seg_desc *d, bool *seg_ok)
{
    uint32_t ea = x->disp;
    if (x->base >= 0)
        ea += vcpu_get(c, (cpu_reg)(CPU_EAX + x->base));
    if (x->index >= 0)
        ea += vcpu_get(c, (cpu_reg)(CPU_EAX + x->index)) * x->scale;
    if (x->addr16)
        ea &= 0xFFFFu;
    uint64_t raw;
    uint16_t sel = (uint16_t)vcpu_get(c, seg_regs[x->seg]);
    *d = (seg_desc){0};
    *seg_ok = (sel & ~3u) && vcpu_read_descriptor(c, sel, &raw);
    if (*seg_ok)
        desc_decode(raw, d);
    return ea;
}

/* The pointer's 4 or 6 bytes are readable inside its segment: not null, not execute-only code,
 * within the limit (above it for an expand-down data segment). */
static bool far_pointer_readable(cpu *c, const disasm_far *x)
{
    seg_desc d;
    bool seg_ok;
    uint64_t first = far_pointer_ea(c, x, &d, &seg_ok), last = first + (x->op32 ? 5 : 3);
    if (!seg_ok || (desc_is_code(&d) && !(d.type & 2)))
        return false;
    if (!desc_is_code(&d) && (d.type & 4)) /* expand-down: offsets above the limit */
        return first > d.limit && last <= (d.big ? 0xFFFFFFFFull : 0xFFFFull);
    return last <= d.limit;
}

int vcpu_task_insn(cpu *c, uint32_t cs_base, uint32_t eip, vcpu_fault *f, char *why, size_t whylen)
{
    if (!(vcpu_get(c, CPU_CR0) & CR0_PE) || (vcpu_get(c, CPU_EFLAGS) & EFLAGS_VM))
        return VCPU_TASK_UNICORN; /* real and virtual-8086 mode: no task switch */
    uint32_t desc_base, cs_limit;
    bool code32;
    uint8_t code[16];
    if (!code_segment(c, &desc_base, &code32, &cs_limit))
        return VCPU_TASK_UNICORN;
    size_t avail = sizeof code, to_page_end = 0x1000u - ((cs_base + eip) & 0xFFFu);
    if (!vcpu_read_linear(c, cs_base + eip, code, avail))
        avail = to_page_end < avail && vcpu_read_linear(c, cs_base + eip, code, to_page_end) ? to_page_end : 0;
    disasm_far x;
    if (!disasm_decode_far(code, avail, code32, &x))
        return VCPU_TASK_UNICORN;
    uc_x86_mmr tr;
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    bool from16 = tss_is_16((tr.flags >> 8) & 0xFu);
    uint32_t next = eip + x.len;
    if (!code32)
        next &= 0xFFFFu;
    uint64_t raw;
    seg_desc d;
    uint16_t tss;
    int source;
    if (x.kind == DISASM_FAR_IRET) {
        uint16_t link;
        if (!(vcpu_get(c, CPU_EFLAGS) & EFLAGS_NT) || !vcpu_read_linear(c, (uint32_t)tr.base, &link, 2))
            return VCPU_TASK_UNICORN;
        bool to16 = !(link & 4) && vcpu_read_descriptor(c, link, &raw) && (desc_decode(raw, &d), d.system) &&
                    tss_is_16(d.type);
        if (!from16 && !to16)
            return VCPU_TASK_UNICORN;
        tss = link;
        source = VCPU_TASK_IRET;
    } else {
        uint16_t sel = x.sel;
        if (!x.direct) {
            seg_desc pd;
            bool seg_ok;
            uint32_t ea = far_pointer_ea(c, &x, &pd, &seg_ok);
            uint32_t at = pd.base + ea + (x.op32 ? 4 : 2);
            if (!vcpu_read_linear(c, at, &sel, 2))
                return VCPU_TASK_UNICORN; /* Unicorn raises the #PF */
        }
        uint32_t cpl = vcpu_get(c, CPU_CS) & 3u, rpl = sel & 3u;
        if ((sel & ~3u) == 0 || !vcpu_read_descriptor(c, sel, &raw))
            return VCPU_TASK_UNICORN;
        desc_decode(raw, &d);
        if (!d.system || (d.type != 5 && (d.type & 5) != 1))
            return VCPU_TASK_UNICORN; /* no task switch: a far transfer to a segment or call gate */
        tss = sel;
        seg_desc t = d;
        if (d.type == 5) { /* a task gate names the TSS */
            tss = (uint16_t)(raw >> 16);
            uint64_t traw;
            if (!(tss & 4) && vcpu_read_descriptor(c, tss, &traw))
                desc_decode(traw, &t);
        }
        if (!from16 && !(t.system && tss_is_16(t.type)))
            return VCPU_TASK_UNICORN;
        /* SDM vol. 2, CALL and JMP: the pointer is read first, #GP(0) (#SS(0) through SS)
         * outside its segment. Unicorn (QEMU's TCG) checks no data segment limit. */
        if (!x.direct && !far_pointer_readable(c, &x)) {
            *f = (vcpu_fault){x.seg == 2 ? VEC_SS : VEC_GP, 0};
            return 1;
        }
        /* SDM vol. 2, CALL and JMP: the gate's or TSS's DPL, then presence; a TSS named
         * directly must be available (vcpu_task_switch checks the one a gate names). */
        if (d.dpl < cpl || d.dpl < rpl) {
            *f = (vcpu_fault){VEC_GP, sel & ~3u};
            return 1;
        }
        if (d.type != 5 && (d.type & 2)) {
            *f = (vcpu_fault){VEC_GP, sel & ~3u};
            return 1;
        }
        if (!d.present) {
            *f = (vcpu_fault){VEC_NP, sel & ~3u};
            return 1;
        }
        source = x.kind == DISASM_FAR_CALL ? VCPU_TASK_CALL : VCPU_TASK_JMP;
    }
    int r = vcpu_task_switch(c, tss, source, next, 0, f, why, whylen);
    if (r != 0)
        return r;
    /* after the commit point: an EIP past the new CS's limit faults in the new task */
    if (code_segment(c, &desc_base, &code32, &cs_limit) && vcpu_get(c, CPU_EIP) > cs_limit) {
        *f = (vcpu_fault){VEC_GP, 0};
        return VCPU_TASK_FAULT_AFTER;
    }
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
    uc_x86_mmr ldtr; /* Unicorn loaded the new task's LDT before it failed */
    uc_reg_read(c->uc, UC_X86_REG_LDTR, &ldtr);
    for (int i = 0; i < 6; i++)
        if (!segment_ok(c, i, (uint16_t)n.seg[i], &ldtr, cpl, 0, &f))
            return false;
    if (!load_segments(c, &n))
        return false;
    vcpu_put(c, CPU_EIP, n.eip);
    c->ts_armed = false;
    c->smc_cut = false;
    return true;
}
