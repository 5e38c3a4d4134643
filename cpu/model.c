/* The CPU models (model.h): a Core Duo-class 32-bit part with the features vmiemu models, and max. */
#include "cpu/model.h"

#include <string.h>

#include "cpu/cpu_internal.h"

/* CPUID.1:EDX and ECX. Reported = present: each feature here works on Unicorn's Core Duo and in
 * vmiemu (its MMU, its devices); each one left out is absent (its MSRs and CR4 bits #GP).
 * APIC: the local APIC (emu/apic.c), which Linux uses only if this bit is set. MCE, MCA: the
 * ten machine-check banks Unicorn keeps (MCE_BANKS_DEF); PAT: Unicorn keeps the MSR. Left out
 * although Unicorn has them: VME (QEMU's TCG does not implement it), MTRR, ACPI, SS, MONITOR
 * (mwait would halt Unicorn where vmiemu does not look); CLFLUSH only in max. */
enum {
    F_FPU = 1u << 0, F_DE = 1u << 2, F_PSE = 1u << 3, F_TSC = 1u << 4, F_MSR = 1u << 5, F_PAE = 1u << 6,
    F_MCE = 1u << 7, F_CX8 = 1u << 8, F_APIC = 1u << 9, F_SEP = 1u << 11, F_PGE = 1u << 13, F_MCA = 1u << 14,
    F_CMOV = 1u << 15, F_PAT = 1u << 16, F_CLFSH = 1u << 19, F_MMX = 1u << 23, F_FXSR = 1u << 24,
    F_SSE = 1u << 25, F_SSE2 = 1u << 26,
};
#define FEATURES_EDX                                                                                                 \
    (F_FPU | F_DE | F_PSE | F_TSC | F_MSR | F_PAE | F_MCE | F_CX8 | F_APIC | F_SEP | F_PGE | F_MCA | F_CMOV | F_PAT | \
     F_MMX | F_FXSR | F_SSE | F_SSE2)
#define FEATURES_ECX 1u /* SSE3 */
/* CPUID.1:ECX (max): x2APIC mode of the local APIC (emu/apic_x2apic.c, IA32_APICBASE.EXTD and
 * MSRs 0x800-0x8FF), the local APIC timer's TSC-deadline mode (emu/apic.c, MSR 0x6E0). */
#define F1C_X2APIC (1u << 21)
#define F1C_TSC_DEADLINE (1u << 24)
/* CPUID.80000001:EDX: NX, which vmiemu's page walk honours with PAE and EFER.NXE (cpu/mmu_fill.c);
 * RDTSCP (max), whose TSC is the instruction clock (cpu/cpu.c on_rdtscp) and ECX IA32_TSC_AUX. */
#define F_EXT_NX (1u << 20)
#define F_EXT_RDTSCP (1u << 27)
/* CPUID.7.0 (max): EBX TSC_ADJUST (vcpu_run's MSR), SMEP and SMAP (vmiemu's page walk and
 * Unicorn's own MMU, which the max model runs on, both enforce them), CLFLUSHOPT and CLWB
 * (Unicorn runs them as no-ops: no cache to flush); ECX UMIP (cpu/model.c refuses the
 * instructions at CPL > 0), PKU (Unicorn's rdpkru/wrpkru and CR4.PKE; protection keys apply
 * only to IA-32e paging, so nothing here checks them), OSPKE = CR4.PKE. */
#define F7_TSC_ADJUST (1u << 1)
#define F7_SMEP (1u << 7)
#define F7_SMAP (1u << 20)
#define F7_CLFLUSHOPT (1u << 23)
#define F7_CLWB (1u << 24)
#define F7C_UMIP (1u << 2)
#define F7C_PKU (1u << 3)
#define F7C_OSPKE (1u << 4)
#define CR4_UMIP (1u << 11)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define CR4_PKE (1u << 22)
#define EFER_SCE 1u
#define EFER_NXE 0x800u

static const char *const model_names[VCPU_MODEL_COUNT] = {"coreduo", "max"};

const char *vcpu_model_name(vcpu_model_id id) { return (unsigned)id < VCPU_MODEL_COUNT ? model_names[id] : NULL; }

bool vcpu_model_by_name(const char *name, vcpu_model_id *id)
{
    for (unsigned i = 0; i < VCPU_MODEL_COUNT; i++)
        if (strcmp(name, model_names[i]) == 0) {
            *id = (vcpu_model_id)i;
            return true;
        }
    return false;
}

static uint32_t features_edx(vcpu_model_id id) { return FEATURES_EDX | (id == VCPU_MODEL_MAX ? F_CLFSH : 0); }

/* Host CPU features never leak in, so runs replay on any host. */
void vcpu_model_cpuid(vcpu_model_id id, uint32_t cr4, uint32_t r[4])
{
    uint32_t leaf = r[0], sub = r[2];
    bool max = id == VCPU_MODEL_MAX;
    r[0] = r[1] = r[2] = r[3] = 0;
    switch (leaf) {
    case 0:
        r[0] = max ? 7 : 1;
        memcpy(&r[1], "Genu", 4);
        memcpy(&r[3], "ineI", 4);
        memcpy(&r[2], "ntel", 4);
        break;
    case 1:
        r[0] = 0x000006E8; /* family 6, model 14 (Core Duo), stepping 8; EBX: APIC ID 0 */
        r[1] = max ? 8u << 8 : 0; /* CLFLUSH line size: 8 quadwords */
        r[2] = FEATURES_ECX | (max ? F1C_X2APIC | F1C_TSC_DEADLINE : 0);
        r[3] = features_edx(id);
        break;
    case 7:
        if (max && sub == 0) {
            r[1] = F7_TSC_ADJUST | F7_SMEP | F7_SMAP | F7_CLFLUSHOPT | F7_CLWB;
            r[2] = F7C_UMIP | F7C_PKU | (cr4 & CR4_PKE ? F7C_OSPKE : 0);
        }
        break;
    case 0x80000000:
        r[0] = 0x80000004;
        break;
    case 0x80000001:
        r[3] = F_EXT_NX | (max ? F_EXT_RDTSCP : 0); /* no SYSCALL, no long mode */
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
 * (VME, PVI, LA57, VMXE, SMXE, FSGSBASE, PCIDE, OSXSAVE and the reserved ones) need a feature
 * no model has; UMIP, SMEP, SMAP, PKE only max has. */
static const struct {
    uint32_t bit, needs;
} cr4_bits[] = {
    {1u << 2, F_TSC}, /* TSD */  {1u << 3, F_DE},  {1u << 4, F_PSE},       {1u << 5, F_PAE},
    {1u << 6, F_MCE},            {1u << 7, F_PGE}, {1u << 8, 0} /* PCE */, {1u << 9, F_FXSR}, /* OSFXSR */
    {1u << 10, F_SSE},           /* OSXMMEXCPT */
};

uint32_t vcpu_model_cr4_allowed(vcpu_model_id id)
{
    uint32_t allowed = 0;
    for (size_t i = 0; i < sizeof cr4_bits / sizeof cr4_bits[0]; i++)
        if ((features_edx(id) & cr4_bits[i].needs) == cr4_bits[i].needs)
            allowed |= cr4_bits[i].bit;
    if (id == VCPU_MODEL_MAX)
        allowed |= CR4_UMIP | CR4_SMEP | CR4_SMAP | CR4_PKE;
    return allowed;
}

/* The MSRs of the model, as ranges with a rule for writes; every other number is #GP(0), as on
 * hardware (Unicorn reads 0 and ignores writes). Among those: the 64-bit ones (FS/GS_BASE,
 * KERNEL_GS_BASE, STAR, LSTAR, CSTAR, FMASK: Unicorn is built for x86-64 and a write of GS_BASE
 * really moved GS), the MTRRs, PERF_STATUS, SPEC_CTRL; TSC_AUX and TSC_ADJUST but in max. The
 * x2APIC range 0x800-0x8FF is the machine's (emu/apic_x2apic.c), 0x900-0xBFF is #GP here. */
enum { MSR_RW, MSR_RO, MSR_TSC, MSR_EFER, MSR_MC_CTL, MSR_MC_STATUS, MSR_TSC_ADJUST, MSR_TSC_AUX };
#define MC_BANKS 10u /* Unicorn's MCE_BANKS_DEF, in MCG_CAP[7:0] */
static const struct {
    uint32_t first, last;
    uint8_t rule;
    bool max_only;
} msrs[] = {
    {0x10, 0x10, MSR_TSC, false},                 /* TIME_STAMP_COUNTER */
    {0x17, 0x17, MSR_RO, false},                  /* PLATFORM_ID (Linux's microcode driver reads it on P6) */
    {0x1B, 0x1B, MSR_RW, false},                  /* APIC_BASE (the machine's, emu/apic.c) */
    {0x3B, 0x3B, MSR_TSC_ADJUST, true},           /* TSC_ADJUST (vcpu_run's) */
    {0x8B, 0x8B, MSR_RW, false},                  /* BIOS_SIGN_ID (microcode revision) */
    {0x174, 0x176, MSR_RW, false},                /* SYSENTER_CS, _ESP, _EIP */
    {0x179, 0x179, MSR_RO, false},                /* MCG_CAP */
    {0x17A, 0x17A, MSR_RW, false},                /* MCG_STATUS */
    {0x17B, 0x17B, MSR_MC_CTL, false},            /* MCG_CTL (MCG_CTL_P) */
    {0x1A0, 0x1A0, MSR_RW, false},                /* MISC_ENABLE */
    {0x277, 0x277, MSR_RW, false},                /* PAT */
    {0x400, 0x400 + 4 * MC_BANKS - 1, 0, false},  /* MCi_CTL, _STATUS, _ADDR, _MISC: by offset, below */
    {0xC0000080, 0xC0000080, MSR_EFER, false},    /* EFER: NXE */
    {0xC0000103, 0xC0000103, MSR_TSC_AUX, true},  /* TSC_AUX (Unicorn's; rdtscp's ECX) */
};

vcpu_model_msr_rule vcpu_model_msr(vcpu_model_id id, uint32_t msr, bool write, uint64_t value)
{
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        if (msr < msrs[i].first || msr > msrs[i].last || (msrs[i].max_only && id != VCPU_MODEL_MAX))
            continue;
        int rule = msrs[i].rule;
        if (msrs[i].first == 0x400) /* the banks: CTL, STATUS, ADDR, MISC */
            rule = (msr & 3) == 0 ? MSR_MC_CTL : (msr & 3) == 1 ? MSR_MC_STATUS : MSR_RW;
        if (rule == MSR_TSC_ADJUST)
            return MODEL_MSR_TSC_ADJUST;
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
            /* NXE; LME, LMA, SVME...: reserved here. SCE is accepted: coreduo drops it (Unicorn),
             * as QEMU's 32-bit models do; max keeps it, as an Intel 64 CPU does, and syscall
             * stays #UD outside 64-bit mode (vcpu_model_check_site) */
            return (value & ~(uint64_t)(EFER_SCE | EFER_NXE)) ? MODEL_MSR_GP : MODEL_MSR_UNICORN;
        case MSR_TSC_AUX: /* 32 bits; the high half is reserved */
            return value >> 32 ? MODEL_MSR_GP : MODEL_MSR_UNICORN;
        case MSR_TSC: /* coreduo: accepted and ignored, vmiemu's TSC is the instruction clock;
                       * max: the write moves TSC_ADJUST by the difference, as hardware does */
            return id == VCPU_MODEL_MAX ? MODEL_MSR_TSC : MODEL_MSR_UNICORN;
        default:
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

/* CR4.UMIP at CPL > 0 (virtual-8086 mode included): the model has UMIP only in max. */
static bool umip_refuses(cpu *c)
{
    return c->model == VCPU_MODEL_MAX && (vcpu_get(c, CPU_CR4) & CR4_UMIP) && vcpu_cpl(c) > 0;
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
        if (op->cr == 4 && (vcpu_get(c, (cpu_reg)(CPU_EAX + op->src)) & ~vcpu_model_cr4_allowed(c->model))) {
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
    case DISASM_SYSCALL: /* max only: Unicorn's Skylake performs them once EFER.SCE is set (AMD's
                          * legacy-mode SYSCALL); an Intel CPU has them in 64-bit mode only, and
                          * CPUID does not report them (Unicorn's Core Duo raises #UD itself) */
        return c->model == VCPU_MODEL_MAX && refuse(c, pc, 6);
    case DISASM_RDRAND: /* max only: Unicorn's Skylake answers rdrand and rdseed from the host's
                         * random source (measured: two runs, two values), which no replay could
                         * repeat; CPUID does not report them (Core Duo raises #UD itself) */
        return c->model == VCPU_MODEL_MAX && refuse(c, pc, 6);
    case DISASM_CLFLUSH: /* clflush, clflushopt: Unicorn's no-ops, reported by max only */
        return c->model == VCPU_MODEL_MAX ? false : refuse(c, pc, 6);
    case DISASM_UMIP: /* Unicorn 2.1.4 keeps CR4.UMIP but never checks it (QEMU 5.0's TCG has no
                       * UMIP): sgdt, sidt, sldt, str, smsw at CPL > 0 are #GP(0) */
        return umip_refuses(c) && refuse(c, pc, 13);
    case DISASM_SMSW_REG: /* UMIP first, then: Unicorn 2.1.4 writes CR0's low 16 bits only, also to a 32-bit register;
                           * hardware and QEMU 7.2 write all of CR0 (kvm-unit-tests realmode
                           * "smsw"). The high half goes in first; smsw writes the low half. */
        if (umip_refuses(c))
            return refuse(c, pc, 13);
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
