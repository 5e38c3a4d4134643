/* The CPU model (model.h): a Core Duo-class 32-bit part with the features vmiemu models. */
#include "cpu/model.h"

#include <string.h>

#include "cpu/cpu_internal.h"

/* CPUID.1:EDX and ECX. Reported = present: each feature here works on Unicorn's Core Duo and in
 * vmiemu (its MMU, its devices); each one left out is absent (its MSRs and CR4 bits #GP).
 * APIC: the local APIC (emu/apic.c), which Linux uses only if this bit is set. MCE, MCA: the
 * ten machine-check banks Unicorn keeps (MCE_BANKS_DEF); PAT: Unicorn keeps the MSR. Left out
 * although Unicorn has them: VME (QEMU's TCG does not implement it), MTRR, CLFLUSH, ACPI, SS,
 * MONITOR (mwait would halt Unicorn where vmiemu does not look). */
enum {
    F_FPU = 1u << 0, F_DE = 1u << 2, F_PSE = 1u << 3, F_TSC = 1u << 4, F_MSR = 1u << 5, F_PAE = 1u << 6,
    F_MCE = 1u << 7, F_CX8 = 1u << 8, F_APIC = 1u << 9, F_SEP = 1u << 11, F_PGE = 1u << 13, F_MCA = 1u << 14,
    F_CMOV = 1u << 15, F_PAT = 1u << 16, F_MMX = 1u << 23, F_FXSR = 1u << 24, F_SSE = 1u << 25,
    F_SSE2 = 1u << 26,
};
#define FEATURES_EDX                                                                                                 \
    (F_FPU | F_DE | F_PSE | F_TSC | F_MSR | F_PAE | F_MCE | F_CX8 | F_APIC | F_SEP | F_PGE | F_MCA | F_CMOV | F_PAT | \
     F_MMX | F_FXSR | F_SSE | F_SSE2)
#define FEATURES_ECX 1u /* SSE3 */
/* CPUID.80000001:EDX: NX, which vmiemu's page walk honours with PAE and EFER.NXE (cpu/mmu_fill.c). */
#define F_EXT_NX (1u << 20)
#define EFER_SCE 1u
#define EFER_NXE 0x800u

/* Host CPU features never leak in, so runs replay on any host. */
void vcpu_model_cpuid(uint32_t r[4])
{
    uint32_t leaf = r[0];
    r[0] = r[1] = r[2] = r[3] = 0;
    switch (leaf) {
    case 0:
        r[0] = 1;
        memcpy(&r[1], "Genu", 4);
        memcpy(&r[3], "ineI", 4);
        memcpy(&r[2], "ntel", 4);
        break;
    case 1:
        r[0] = 0x000006E8; /* family 6, model 14 (Core Duo), stepping 8; EBX: APIC ID 0 */
        r[2] = FEATURES_ECX;
        r[3] = FEATURES_EDX;
        break;
    case 0x80000000:
        r[0] = 0x80000004;
        break;
    case 0x80000001:
        r[3] = F_EXT_NX; /* no SYSCALL, no long mode */
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        static const char brand[48] = "vmiemu virtual CPU";
        memcpy(r, brand + (leaf - 0x80000002) * 16, 16);
        break;
    }
    default:
        break;
    }
}

/* CR4 bit -> the CPUID.1:EDX feature it needs (0: always there, on every P6). Bits not listed
 * (VME, PVI, UMIP, LA57, VMXE, SMXE, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP, PKE and the reserved
 * ones) need a feature the model lacks. */
static const struct {
    uint32_t bit, needs;
} cr4_bits[] = {
    {1u << 2, F_TSC}, /* TSD */  {1u << 3, F_DE},  {1u << 4, F_PSE},       {1u << 5, F_PAE},
    {1u << 6, F_MCE},            {1u << 7, F_PGE}, {1u << 8, 0} /* PCE */, {1u << 9, F_FXSR}, /* OSFXSR */
    {1u << 10, F_SSE},           /* OSXMMEXCPT */
};

uint32_t vcpu_model_cr4_allowed(void)
{
    uint32_t allowed = 0;
    for (size_t i = 0; i < sizeof cr4_bits / sizeof cr4_bits[0]; i++)
        if ((FEATURES_EDX & cr4_bits[i].needs) == cr4_bits[i].needs)
            allowed |= cr4_bits[i].bit;
    return allowed;
}

/* The MSRs of the model, as ranges with a rule for writes; every other number is #GP(0), as on
 * hardware (Unicorn reads 0 and ignores writes). Among those: the 64-bit ones (FS/GS_BASE,
 * KERNEL_GS_BASE, STAR, LSTAR, CSTAR, FMASK, TSC_AUX: Unicorn is built for x86-64 and a write
 * of GS_BASE really moved GS), the MTRRs, PERF_STATUS, the x2APIC range, SPEC_CTRL. */
enum { MSR_RW, MSR_RO, MSR_TSC, MSR_EFER, MSR_MC_CTL, MSR_MC_STATUS };
#define MC_BANKS 10u /* Unicorn's MCE_BANKS_DEF, in MCG_CAP[7:0] */
static const struct {
    uint32_t first, last;
    uint8_t rule;
} msrs[] = {
    {0x10, 0x10, MSR_TSC},                 /* TIME_STAMP_COUNTER */
    {0x17, 0x17, MSR_RO},                  /* PLATFORM_ID (Linux's microcode driver reads it on P6) */
    {0x1B, 0x1B, MSR_RW},                  /* APIC_BASE (the machine's, emu/apic.c) */
    {0x8B, 0x8B, MSR_RW},                  /* BIOS_SIGN_ID (microcode revision) */
    {0x174, 0x176, MSR_RW},                /* SYSENTER_CS, _ESP, _EIP */
    {0x179, 0x179, MSR_RO},                /* MCG_CAP */
    {0x17A, 0x17A, MSR_RW},                /* MCG_STATUS */
    {0x17B, 0x17B, MSR_MC_CTL},            /* MCG_CTL (MCG_CTL_P) */
    {0x1A0, 0x1A0, MSR_RW},                /* MISC_ENABLE */
    {0x277, 0x277, MSR_RW},                /* PAT */
    {0x400, 0x400 + 4 * MC_BANKS - 1, 0},  /* MCi_CTL, _STATUS, _ADDR, _MISC: by offset, below */
    {0xC0000080, 0xC0000080, MSR_EFER},    /* EFER: NXE */
};

vcpu_model_msr_rule vcpu_model_msr(uint32_t msr, bool write, uint64_t value)
{
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        if (msr < msrs[i].first || msr > msrs[i].last)
            continue;
        int rule = msrs[i].rule;
        if (msrs[i].first == 0x400) /* the banks: CTL, STATUS, ADDR, MISC */
            rule = (msr & 3) == 0 ? MSR_MC_CTL : (msr & 3) == 1 ? MSR_MC_STATUS : MSR_RW;
        if (!write)
            return rule == MSR_TSC ? MODEL_MSR_TSC : MODEL_MSR_UNICORN;
        switch (rule) {
        case MSR_RO:
            return MODEL_MSR_GP;
        case MSR_MC_CTL: /* all zeros or all ones (SDM vol. 3, 16.3.2.1) */
            return value == 0 || value == ~(uint64_t)0 ? MODEL_MSR_UNICORN : MODEL_MSR_GP;
        case MSR_MC_STATUS: /* only zeros may be written */
            return value == 0 ? MODEL_MSR_UNICORN : MODEL_MSR_GP;
        case MSR_EFER:
            /* NXE; LME, LMA, SVME...: reserved here. SCE is accepted and dropped (by Unicorn), as
             * on QEMU's 32-bit models: SYSCALL is not in the model */
            return (value & ~(uint64_t)(EFER_SCE | EFER_NXE)) ? MODEL_MSR_GP : MODEL_MSR_UNICORN;
        default: /* a TSC write is accepted and ignored: vmiemu's TSC is the instruction clock */
            return MODEL_MSR_UNICORN;
        }
    }
    return MODEL_MSR_GP;
}

/* Refuse the instruction at pc before it runs: the run stops with EIP at it (Unicorn checks
 * for a stop right after each code hook, in translations made with exit checks; without them,
 * exitcheck.c, only a mov to CR4 or a sysenter can be refused, which end their block: vcpu_run
 * undoes them) and vcpu_run raises `vector` there (#GP with error code 0, or #UD). */
static bool refuse(cpu *c, uint32_t pc, uint32_t vector)
{
    c->insn_refused = true;
    c->refused_vector = vector;
    c->refused_pc = pc;
    c->refused_cr4_valid = false;
    c->limit = 0;
    uc_emu_stop(c->uc);
    return true;
}

bool vcpu_model_check_site(cpu *c, uint32_t pc, const disasm_tlb_op *op)
{
    if (c->end_contained)
        return false; /* the run has ended: nothing here takes effect */
    if (c->exact && !c->trap_step && c->exact_left == 0)
        return false; /* the instruction after an exact stretch: on_exact_insn stops before it */
    switch (op->kind) {
    case DISASM_TLB_MODE: /* mov to CR4: Unicorn takes any bit (QEMU 7.2 raises #GP for the
                           * bits its CPUID lacks, as hardware does) */
        if (op->cr == 4 && (vcpu_get(c, (cpu_reg)(CPU_EAX + op->src)) & ~vcpu_model_cr4_allowed())) {
            refuse(c, pc, 13);
            c->refused_cr4 = vcpu_get(c, CPU_CR4); /* to undo it if it runs all the same */
            c->refused_cr4_valid = true;
            return true;
        }
        return false;
    case DISASM_SSE_ALIGNED: { /* Unicorn 2.1.4 (QEMU 5.0) never checks the alignment */
        uint32_t linear;
        if (vcpu_code32(c) && vcpu_operand_linear(c, op, &linear) && (linear & 15u))
            return refuse(c, pc, 13);
        return false;
    }
    case DISASM_RDPMC: /* Unicorn raises #UD ("unimplemented"); the model has no performance
                        * counters, so every counter number is out of range: #GP(0) */
        return refuse(c, pc, 13);
    case DISASM_UNREPORTED: /* Unicorn's Core Duo has them; CPUID does not report them (mwait
                             * would also halt Unicorn where vmiemu does not look for a halt) */
        return refuse(c, pc, 6);
    case DISASM_SYSENTER: /* Unicorn only calls hooks and steps over it: vcpu_run performs it */
        return refuse(c, pc, REFUSED_SYSENTER);
    case DISASM_SMSW_REG: /* Unicorn 2.1.4 writes CR0's low 16 bits only, also to a 32-bit register;
                           * hardware and QEMU 7.2 write all of CR0 (kvm-unit-tests realmode
                           * "smsw"). The high half goes in first; smsw writes the low half. */
        if (vcpu_code32(c) != op->opsize)
            vcpu_put(c, (cpu_reg)(CPU_EAX + op->src), vcpu_get(c, CPU_CR0));
        return false;
    case DISASM_IRET: /* Unicorn keeps the RF an iret loads until the end of the next block, so
                       * pushf there shows it; hardware clears it after one instruction */
        c->rf_after_iret = true;
        c->rf_iret_pc = pc;
        c->limit = 0; /* the next block start takes the slow path, which settles it */
        return false;
    default:
        return false;
    }
}

void vcpu_model_settle_rf(cpu *c)
{
    c->rf_after_iret = false;
    uint32_t flags = vcpu_get(c, CPU_EFLAGS);
    if (flags & 0x10000u) /* RF */
        vcpu_put(c, CPU_EFLAGS, flags & ~0x10000u);
}
