/* Exception and interrupt delivery through the guest IDT. Unicorn reports exceptions but never
 * uses the guest's IDT, so cpu/ does what the CPU's microcode would (Intel SDM vol. 3, 6.12). */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/descriptor.h"

#define EFLAGS_TF 0x00000100u
#define EFLAGS_IF 0x00000200u
#define EFLAGS_NT 0x00004000u
#define EFLAGS_RF 0x00010000u
#define EFLAGS_VM 0x00020000u
#define EFLAGS_AC 0x00040000u
#define CR0_PE 0x1u

enum { VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14 };

bool vcpu_vector_has_error(uint32_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/* Fault-class exceptions (the instruction is restarted): the EFLAGS image they push has RF set,
 * so that an instruction breakpoint at the restarted instruction does not fire again (SDM vol.
 * 3, 17.3.1.1). #DB is left out: as a fault it is the breakpoint itself. */
static bool fault_class(const vcpu_event *ev)
{
    const uint32_t faults = 1u << 0 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 10 | 1u << 11 | 1u << 12 | 1u << 13 |
                            1u << 14 | 1u << 16 | 1u << 17 | 1u << 19;
    return !ev->software && !ev->external && ev->vector < 32 && (faults >> ev->vector & 1u);
}

static bool contributory(uint32_t v) { return v == 0 || (v >= VEC_TS && v <= VEC_GP); }

/* Saves the CPU context into c->scratch, reads the reported exception's error code and "raised
 * by int" from it (either may be NULL), and restores it with no previous exception. */
static void take_exception_state(cpu *c, uint32_t *error, bool *is_int)
{
    uint8_t *ctx = (uint8_t *)c->scratch;
    int32_t err = 0, isint = 0, none = -1;
    if (uc_context_save(c->uc, c->scratch) == UC_ERR_OK) {
        memcpy(&err, ctx + c->layout.error_code, sizeof err);
        memcpy(&isint, ctx + c->layout.is_int, sizeof isint);
        memcpy(ctx + c->layout.old_exception, &none, sizeof none);
        uc_context_restore(c->uc, c->scratch);
        c->call_regs_have = 0;
    }
    if (error)
        *error = (uint32_t)err;
    if (is_int)
        *is_int = isint != 0;
}

void vcpu_exception_state(cpu *c, uint32_t *error, bool *is_int) { take_exception_state(c, error, is_int); }

void vcpu_forget_previous_exception(cpu *c) { take_exception_state(c, NULL, NULL); }

typedef vcpu_fault fault;

static bool table_entry(cpu *c, uint32_t base, uint32_t limit, uint32_t index, uint64_t *raw)
{
    return index * 8 + 7 <= limit && vcpu_read_linear(c, base + index * 8, raw, 8);
}

/* The descriptor a selector names, from the GDT or the LDT. */
static bool read_descriptor(cpu *c, uint16_t sel, seg_desc *d)
{
    uint64_t raw;
    if (!vcpu_read_descriptor(c, sel, &raw))
        return false;
    desc_decode(raw, d);
    return true;
}

/* Push the frame words (last pushed first in `words`), each `size` bytes (2 or 4), below `esp`
 * in the segment at `base`. */
static bool push_frame(cpu *c, uint32_t base, uint32_t esp, const uint32_t *words, int n, uint32_t size, fault *f)
{
    uint8_t frame[6 * 4 + 4 * 4];
    for (int i = 0; i < n; i++)
        memcpy(frame + (uint32_t)i * size, &words[n - 1 - i], size);
    uint32_t at = base + esp - (uint32_t)n * size;
    if (!vcpu_write_linear(c, at, frame, (uint32_t)n * size)) {
        uint32_t bad = at;
        for (int i = 0; i < n; i++) /* find the first word that did not fit, for CR2 */
            if (!vcpu_write_linear(c, at + (uint32_t)i * size, frame + (uint32_t)i * size, size)) {
                bad = at + (uint32_t)i * size;
                break;
            }
        *f = vcpu_page_fault(c, bad, true);
        return false;
    }
    return true;
}

/* ESP after pushing `bytes` on a stack of segment `ss` (a 16-bit one changes only SP). */
static uint32_t stack_after(uint32_t esp, uint32_t bytes, bool big)
{
    return big ? esp - bytes : (esp & 0xFFFF0000u) | ((esp - bytes) & 0xFFFFu);
}

/* Real mode (SDM vol. 3, 20.1.4): the IVT at IDTR.base holds 4-byte segment:offset vectors;
 * FLAGS, CS and IP are pushed as words, IF, TF and AC cleared, and no error code is pushed. */
static int deliver_real(cpu *c, const vcpu_event *ev, fault *f)
{
    uc_x86_mmr idtr;
    uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
    uint32_t vec;
    if (ev->vector * 4 + 3 > idtr.limit || !vcpu_read_linear(c, (uint32_t)idtr.base + ev->vector * 4, &vec, 4)) {
        *f = (fault){VEC_GP, 0};
        return 1;
    }
    uint32_t eflags = vcpu_get(c, CPU_EFLAGS), esp = vcpu_get(c, CPU_ESP), ss = vcpu_get(c, CPU_SS);
    uint32_t words[3] = {eflags & 0xFFFFu, vcpu_get(c, CPU_CS), ev->eip & 0xFFFFu};
    uint32_t sp = esp & 0xFFFFu;
    if (sp >= 1 && sp < 6) { /* the frame would wrap around the segment */
        *f = (fault){VEC_SS, 0};
        return 1;
    }
    if (!push_frame(c, ss << 4, sp ? sp : 0x10000u, words, 3, 2, f))
        return 1;
    if (!vcpu_set(c, CPU_CS, vec >> 16))
        return 1;
    vcpu_put(c, CPU_EFLAGS, eflags & ~(EFLAGS_TF | EFLAGS_IF | EFLAGS_AC | EFLAGS_RF));
    vcpu_put(c, CPU_ESP, stack_after(esp, 6, false));
    vcpu_put(c, CPU_EIP, vec & 0xFFFFu);
    return 0;
}

/* A task gate: switch to its task as a call would; the error code goes on the new task's
 * stack (SDM vol. 3, 6.12.2). */
static int deliver_task(cpu *c, const vcpu_event *ev, const gate_desc *g, uint32_t ext, fault *f, char *why,
                        size_t whylen)
{
    int r = vcpu_task_switch(c, g->selector, VCPU_TASK_INT, ev->eip, ext, f, why, whylen);
    if (r != 0 || !ev->has_error)
        return r;
    seg_desc ssd;
    uint32_t esp = vcpu_get(c, CPU_ESP);
    if (!read_descriptor(c, (uint16_t)vcpu_get(c, CPU_SS), &ssd)) {
        *f = (fault){VEC_SS, ext};
        return 1;
    }
    uc_x86_mmr tr; /* a 16-bit task gets a word */
    uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
    uint32_t size = (tr.flags >> 8) & 8 ? 4 : 2;
    if (!push_frame(c, ssd.base, ssd.big ? esp : esp & 0xFFFFu, &ev->error, 1, size, f))
        return 1;
    vcpu_put(c, CPU_ESP, stack_after(esp, size, ssd.big));
    return 0;
}

/* One delivery attempt. 0: delivered; 1: a nested fault in *f; -1: unsupported (why). */
static int deliver_once(cpu *c, const vcpu_event *ev, fault *f, char *why, size_t whylen)
{
    if (!(vcpu_get(c, CPU_CR0) & CR0_PE))
        return deliver_real(c, ev, f);
    uint32_t ext = ev->external ? 1 : 0, idt_err = ev->vector * 8 + 2 + ext;
    uc_x86_mmr idtr;
    uint64_t raw;
    uc_reg_read(c->uc, UC_X86_REG_IDTR, &idtr);
    if (!table_entry(c, (uint32_t)idtr.base, idtr.limit, ev->vector, &raw)) {
        *f = (fault){VEC_GP, idt_err};
        return 1;
    }
    gate_desc g;
    gate_decode(raw, &g);
    uint32_t cpl = vcpu_get(c, CPU_CS) & 3;
    bool gate16 = g.type == GATE_INT16 || g.type == GATE_TRAP16;
    if (g.type != GATE_INT32 && g.type != GATE_TRAP32 && !gate16 && g.type != GATE_TASK) {
        *f = (fault){VEC_GP, idt_err};
        return 1;
    }
    if (ev->software && g.dpl < cpl) {
        *f = (fault){VEC_GP, idt_err};
        return 1;
    }
    if (!g.present) {
        *f = (fault){VEC_NP, idt_err};
        return 1;
    }
    if (g.type == GATE_TASK)
        return deliver_task(c, ev, &g, ext, f, why, whylen);
    uint32_t eflags = vcpu_get(c, CPU_EFLAGS);
    if (eflags & EFLAGS_VM) {
        snprintf(why, whylen, "vector %u raised in virtual-8086 mode, which vmiemu does not deliver through "
                              "an interrupt or trap gate", ev->vector);
        return -1;
    }
    seg_desc cs;
    if ((g.selector & ~3u) == 0 || !read_descriptor(c, g.selector, &cs) || !desc_is_code(&cs) || cs.dpl > cpl) {
        *f = (fault){VEC_GP, (g.selector & ~3u) + ext};
        return 1;
    }
    if (!cs.present) {
        *f = (fault){VEC_NP, (g.selector & ~3u) + ext};
        return 1;
    }
    uint32_t new_cpl = desc_is_conforming(&cs) ? cpl : cs.dpl;
    uint32_t old_ss = vcpu_get(c, CPU_SS), old_esp = vcpu_get(c, CPU_ESP);
    uint32_t words[6], n = 0;
    uint16_t new_ss = (uint16_t)old_ss;
    uint32_t new_esp = old_esp;
    seg_desc ssd;
    if (new_cpl < cpl) {
        uc_x86_mmr tr;
        uint32_t tss[2];
        uc_reg_read(c->uc, UC_X86_REG_TR, &tr);
        if (tr.limit < 8 * new_cpl + 11 || !vcpu_read_linear(c, (uint32_t)tr.base + 4 + 8 * new_cpl, tss, sizeof tss)) {
            *f = (fault){VEC_TS, (tr.selector & ~3u) + ext};
            return 1;
        }
        new_esp = tss[0];
        new_ss = (uint16_t)tss[1];
        if ((new_ss & ~3u) == 0 || (new_ss & 3) != new_cpl || !read_descriptor(c, new_ss, &ssd) ||
            !desc_is_writable_data(&ssd) || ssd.dpl != new_cpl) {
            *f = (fault){VEC_TS, (new_ss & ~3u) + ext};
            return 1;
        }
        if (!ssd.present) {
            *f = (fault){VEC_SS, (new_ss & ~3u) + ext};
            return 1;
        }
        words[n++] = old_ss;
        words[n++] = old_esp;
    } else if (!read_descriptor(c, new_ss, &ssd)) {
        *f = (fault){VEC_SS, 0};
        return 1;
    }
    words[n++] = eflags | (fault_class(ev) ? EFLAGS_RF : 0);
    words[n++] = vcpu_get(c, CPU_CS);
    words[n++] = ev->eip;
    if (ev->has_error)
        words[n++] = ev->error;
    uint32_t size = gate16 ? 2 : 4; /* a 16-bit gate pushes words (SDM vol. 3, 6.12.1) */
    if (gate16) {
        for (uint32_t i = 0; i < n; i++)
            words[i] &= 0xFFFFu;
        g.offset &= 0xFFFFu;
    }
    if (!push_frame(c, ssd.base, new_esp, words, (int)n, size, f))
        return 1;

    /* The frame is in memory: now switch the CPU over. */
    if (new_cpl < cpl && !(vcpu_enter_ring(c, new_cpl) && vcpu_set(c, CPU_SS, new_ss))) {
        snprintf(why, whylen, "cannot load stack segment 0x%04x for vector %u", new_ss, ev->vector);
        return -1;
    }
    uint16_t new_cs = (uint16_t)((g.selector & ~3u) | new_cpl);
    if (!vcpu_set(c, CPU_CS, new_cs)) {
        snprintf(why, whylen, "cannot load code segment 0x%04x for vector %u (execute-only code segments "
                              "are not supported)", new_cs, ev->vector);
        return -1;
    }
    eflags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
    if (g.type == GATE_INT32 || g.type == GATE_INT16)
        eflags &= ~EFLAGS_IF;
    vcpu_put(c, CPU_EFLAGS, eflags);
    vcpu_put(c, CPU_ESP, stack_after(new_esp, n * size, ssd.big));
    vcpu_put(c, CPU_EIP, g.offset);
    return 0;
}

vcpu_delivery vcpu_deliver(cpu *c, const vcpu_event *ev, vcpu_event *delivered, char *why, size_t whylen)
{
    vcpu_event cur = *ev;
    why[0] = 0;
    c->iret_armed = false; /* an iret about to run was cut short by this event (vcpu_watch_iret) */
    for (int depth = 0; depth < 4; depth++) {
        fault f;
        int r = deliver_once(c, &cur, &f, why, whylen);
        if (r == 0) {
            *delivered = cur;
            return VCPU_DELIVERED;
        }
        if (r < 0) {
            *delivered = cur;
            return VCPU_UNSUPPORTED;
        }
        if (cur.vector == VEC_DF) {
            snprintf(why, whylen, "triple fault: delivering #DF raised vector %u (error 0x%x)", f.vector, f.error);
            *delivered = cur;
            return VCPU_TRIPLE_FAULT;
        }
        bool first_bad = !cur.software && !cur.external && (contributory(cur.vector) || cur.vector == VEC_PF);
        bool second_bad = contributory(f.vector) || f.vector == VEC_PF;
        bool to_df = first_bad && (contributory(cur.vector) ? contributory(f.vector) : second_bad);
        vcpu_event next = {.vector = to_df ? VEC_DF : f.vector, .error = to_df ? 0 : f.error, .has_error = true,
                           .external = cur.external, .eip = cur.fault_eip, .fault_eip = cur.fault_eip};
        cur = next;
    }
    snprintf(why, whylen, "exception delivery did not converge");
    *delivered = cur;
    return VCPU_TRIPLE_FAULT;
}
