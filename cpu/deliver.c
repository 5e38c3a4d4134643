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
#define CR0_PE 0x1u

enum { VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14 };

bool vcpu_vector_has_error(uint32_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
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
        c->call_regs_valid = false;
    }
    if (error)
        *error = (uint32_t)err;
    if (is_int)
        *is_int = isint != 0;
}

void vcpu_exception_state(cpu *c, uint32_t *error, bool *is_int) { take_exception_state(c, error, is_int); }

void vcpu_forget_previous_exception(cpu *c) { take_exception_state(c, NULL, NULL); }

/* A nested fault found while delivering: what the CPU raises instead. */
typedef struct fault {
    uint32_t vector, error;
} fault;

static bool table_entry(cpu *c, uint32_t base, uint32_t limit, uint32_t index, uint64_t *raw)
{
    return index * 8 + 7 <= limit && vcpu_read_linear(c, base + index * 8, raw, 8);
}

/* The descriptor a selector names, from the GDT or the LDT. */
static bool read_descriptor(cpu *c, uint16_t sel, seg_desc *d)
{
    uc_x86_mmr t;
    if (uc_reg_read(c->uc, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &t) != UC_ERR_OK)
        return false;
    uint64_t raw;
    if (!table_entry(c, (uint32_t)t.base, t.limit, sel >> 3, &raw))
        return false;
    desc_decode(raw, d);
    return true;
}

/* #PF error code for a supervisor write that failed at `linear`. */
static fault page_fault(cpu *c, uint32_t linear)
{
    uint64_t pa;
    vcpu_put(c, CPU_CR2, linear);
    bool present = vcpu_translate(c, linear, false, &pa);
    return (fault){VEC_PF, (present ? 1u : 0u) | 2u};
}

/* Push the frame words (last pushed first in `words`) below `esp` in the segment at `base`. */
static bool push_frame(cpu *c, uint32_t base, uint32_t esp, const uint32_t *words, int n, fault *f)
{
    uint32_t frame[6];
    for (int i = 0; i < n; i++)
        frame[i] = words[n - 1 - i];
    uint32_t at = base + esp - (uint32_t)n * 4;
    if (!vcpu_write_linear(c, at, frame, (uint32_t)n * 4)) {
        uint32_t bad = at;
        for (int i = 0; i < n; i++) /* find the first word that did not fit, for CR2 */
            if (!vcpu_write_linear(c, at + (uint32_t)i * 4, &frame[i], 4)) {
                bad = at + (uint32_t)i * 4;
                break;
            }
        *f = page_fault(c, bad);
        return false;
    }
    return true;
}

/* Make `ss` (a ring-0..2 selector) the current stack while CPL is higher: a host write of SS
 * is checked like `mov ss`, which refuses a more privileged stack. A real-mode load (PE off)
 * is not checked and makes CPL 0; then the protected-mode load succeeds. */
static bool enter_inner_ring(cpu *c, uint16_t ss)
{
    uint32_t cr0 = vcpu_get(c, CPU_CR0);
    bool ok = vcpu_set(c, CPU_CR0, cr0 & ~CR0_PE) && vcpu_set(c, CPU_SS, 0);
    ok = vcpu_set(c, CPU_CR0, cr0) && ok;
    return ok && vcpu_set(c, CPU_SS, ss);
}

/* One delivery attempt. 0: delivered; 1: a nested fault in *f; -1: unsupported (why). */
static int deliver_once(cpu *c, const vcpu_event *ev, fault *f, char *why, size_t whylen)
{
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
    if (g.type == GATE_TASK || g.type == GATE_INT16 || g.type == GATE_TRAP16) {
        snprintf(why, whylen, "IDT entry %u is a %s gate, which vmiemu does not deliver through", ev->vector,
                 g.type == GATE_TASK ? "task" : "16-bit");
        return -1;
    }
    if (g.type != GATE_INT32 && g.type != GATE_TRAP32) {
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
    uint32_t eflags = vcpu_get(c, CPU_EFLAGS), old_ss = vcpu_get(c, CPU_SS), old_esp = vcpu_get(c, CPU_ESP);
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
    words[n++] = eflags;
    words[n++] = vcpu_get(c, CPU_CS);
    words[n++] = ev->eip;
    if (ev->has_error)
        words[n++] = ev->error;
    if (!push_frame(c, ssd.base, new_esp, words, (int)n, f))
        return 1;

    /* The frame is in memory: now switch the CPU over. */
    if (new_cpl < cpl && !enter_inner_ring(c, new_ss)) {
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
    if (g.type == GATE_INT32)
        eflags &= ~EFLAGS_IF;
    vcpu_put(c, CPU_EFLAGS, eflags);
    vcpu_put(c, CPU_ESP, new_esp - n * 4);
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
