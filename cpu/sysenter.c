/* sysenter, performed by vmiemu: Unicorn 2.1.4's only calls UC_HOOK_INSN hooks and steps over
 * the instruction (its sysexit is real). Linux 6.1's vDSO makes every system call with it. */
#include <stdio.h>
#include <unicorn/unicorn.h>

#include "cpu/cpu_internal.h"
#include "cpu/descriptor.h"

#define EFLAGS_IF 0x00000200u
#define EFLAGS_RF 0x00010000u
#define EFLAGS_VM 0x00020000u
#define CR0_PE 0x1u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u

static uint32_t msr(cpu *c, uint32_t index)
{
    uc_x86_msr m = {.rid = index};
    return uc_reg_read(c->uc, UC_X86_REG_MSR, &m) == UC_ERR_OK ? (uint32_t)m.value : 0;
}

/* The GDT's descriptor for sel is a present flat ring-0 segment: code, or writable data. */
static bool flat_ring0(cpu *c, uint16_t sel, bool code)
{
    uint64_t raw;
    seg_desc d;
    if ((sel & 4u) || !vcpu_read_descriptor(c, sel, &raw))
        return false;
    desc_decode(raw, &d);
    return d.present && d.dpl == 0 && d.base == 0 && d.limit == 0xFFFFFFFFu && d.big &&
           (code ? desc_is_code(&d) && !desc_is_conforming(&d) : desc_is_writable_data(&d));
}

/* SDM vol. 2B, SYSENTER: ring 0 at SYSENTER_EIP with ESP = SYSENTER_ESP, CS = SYSENTER_CS and
 * SS = SYSENTER_CS + 8, VM, IF and RF cleared; #GP(0) in real mode or with SYSENTER_CS null.
 * The CPU loads fixed flat descriptors without reading the GDT; vmiemu can fill Unicorn's
 * segment caches only from the GDT, so it needs the GDT's entries to be those flat segments,
 * as every kernel that uses sysenter makes them. */
vcpu_sysenter_result vcpu_sysenter(cpu *c, char *why, size_t whylen)
{
    uint16_t cs = (uint16_t)(msr(c, MSR_SYSENTER_CS) & 0xFFFCu), ss = (uint16_t)(cs + 8);
    if (!(vcpu_get(c, CPU_CR0) & CR0_PE) || cs == 0)
        return VCPU_SYSENTER_GP;
    if (!flat_ring0(c, cs, true) || !flat_ring0(c, ss, false)) {
        snprintf(why, whylen, "sysenter with SYSENTER_CS 0x%04x: vmiemu needs GDT entries 0x%04x and 0x%04x "
                              "to be the flat ring-0 code and data segments the CPU would load", cs, cs, ss);
        return VCPU_SYSENTER_UNSUPPORTED;
    }
    uint32_t eflags = vcpu_get(c, CPU_EFLAGS) & ~(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
    if (!vcpu_set(c, CPU_EFLAGS, eflags) || !vcpu_enter_ring(c, 0) || !vcpu_set(c, CPU_SS, ss) ||
        !vcpu_set(c, CPU_CS, cs)) {
        snprintf(why, whylen, "sysenter: cannot load CS 0x%04x and SS 0x%04x", cs, ss);
        return VCPU_SYSENTER_UNSUPPORTED;
    }
    vcpu_put(c, CPU_ESP, msr(c, MSR_SYSENTER_ESP));
    vcpu_put(c, CPU_EIP, msr(c, MSR_SYSENTER_EIP));
    return VCPU_SYSENTER_DONE;
}
