/* The CPU model (cpu/model.c): what CPUID reports is what the CPU has. Unicorn's Core Duo takes
 * more than that (every CR4 bit, the 64-bit MSRs, any MSR number, misaligned SSE operands, an
 * RF that outlives its instruction); cpu/ checks those before Unicorn runs them. Each scenario
 * is a guest snippet in tests/guest/model_*.asm. */
#include <check.h>
#include <string.h>

#include "cpu/cpuid_direct.h"
#include "cpu/model.h"
#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u

static machine m;

static void teardown(void) { machine_free(&m); }

static uint32_t result(uint32_t offset) { return phys_read32(&m.mem, RESULT + offset); }
static uint32_t gps_after(int slot) { return result(4u * (uint32_t)slot); }

/* The i-th #GP of the run was raised at an instruction starting with these two bytes. */
static void gp_at(uint32_t i, uint8_t b0, uint8_t b1)
{
    uint32_t eip = result(0x80 + 4 * i);
    ck_assert_msg(m.mem.ram[eip] == b0 && m.mem.ram[eip + 1] == b1, "#GP %u at 0x%x: %02x %02x", i, eip,
                  m.mem.ram[eip], m.mem.ram[eip + 1]);
    ck_assert_uint_eq(result(0x100 + 4 * i), 0); /* #GP(0) */
}

START_TEST(test_msrs_the_model_lacks_raise_gp_and_gs_base_does_not_move_gs)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_msr"), END_HALTED);
    ck_assert_uint_eq(result(0x5C), 1);
    static const uint32_t want[] = {0, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 8, 9, 9, 9};
    for (int slot = 1; slot <= 14; slot++)
        ck_assert_msg(gps_after(slot) == want[slot], "slot %d: %u #GPs, want %u", slot, gps_after(slot), want[slot]);
    for (uint32_t i = 0; i < 9; i++) /* each at its rdmsr or wrmsr */
        ck_assert(m.mem.ram[result(0x80 + 4 * i)] == 0x0F);
    ck_assert_uint_eq(result(0x3C), 0x800); /* EFER.NXE set (NX is reported), LME refused */
    gp_at(0, 0x0F, 0x30);
    ck_assert_uint_eq(result(0x4C), 0x600DF00Du); /* read through GS at its old base */
    ck_assert_uint_eq(result(0x40), 0x00070406u); /* PAT */
    ck_assert_uint_eq(result(0x44), 0x00070106u);
    ck_assert_uint_eq(result(0x48) & 0xFF, 10);   /* MCG_CAP: ten banks */
}
END_TEST

/* Linux 6.1's microcode driver reads PLATFORM_ID on every family-6 model from 5 on (a Core
 * Duo has it); a #GP there printed "unchecked MSR access error" with a stack trace. */
START_TEST(test_platform_id_msr_reads_and_refuses_writes)
{
    ck_assert_int_eq(vcpu_model_msr(VCPU_MODEL_COREDUO, 0x17, false, 0), MODEL_MSR_UNICORN);
    ck_assert_int_eq(vcpu_model_msr(VCPU_MODEL_COREDUO, 0x17, true, 0), MODEL_MSR_GP);
    ck_assert_int_eq(vcpu_model_msr(VCPU_MODEL_COREDUO, 0x18, false, 0), MODEL_MSR_GP);
}
END_TEST

START_TEST(test_time_stamp_counter_msr_reads_the_instruction_clock)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_msr"), END_HALTED);
    uint32_t before = result(0x50), msr = result(0x54), after = result(0x58);
    ck_assert_uint_gt(msr, before);
    ck_assert_uint_gt(after, msr);
    ck_assert_uint_lt(after - before, 16);
}
END_TEST

START_TEST(test_cr4_bits_of_features_cpuid_lacks_raise_gp_and_keep_cr4)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_cr4"), END_HALTED);
    ck_assert_uint_eq(result(0x48), 1);
    for (int slot = 1; slot <= 6; slot++)
        ck_assert_uint_eq(gps_after(slot), (uint32_t)slot);
    ck_assert_uint_eq(gps_after(7), 6); /* the reported ones load */
    ck_assert_uint_eq(gps_after(8), 7);
    for (uint32_t i = 0; i < 6; i++)
        gp_at(i, 0x0F, 0x22);
    ck_assert_uint_eq(result(0x40), 0);
    ck_assert_uint_eq(result(0x44), 0x6D0);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_CR4), 0x6D0);
}
END_TEST

/* CPUID and the CR4 filter come from one table: every CR4 bit allowed has its feature reported. */
/* Stepping exactly up to a refused instruction stops before it, its #GP not yet raised, also
 * when the step before it runs with a per-instruction hook (pushfd cannot be trap-stepped) in
 * the same block: the check must not act for the instruction after the stretch. */
START_TEST(test_stepping_up_to_a_refused_instruction_stops_before_its_fault)
{
    ck_assert(tu_load_snippet(&m, "model_cr4"));
    machine_end end = END_RUNNING;
    bool stopped_at_it = false;
    for (int guard = 0; end == END_RUNNING && guard < 2000; guard++) {
        end = machine_run_until(&m, machine_insns(&m) + 1);
        if (result(0x4C) && vcpu_get(m.cpu, CPU_EIP) == result(0x4C)) {
            stopped_at_it = true;
            ck_assert_uint_eq(phys_read32(&m.mem, 0x5000 + 0x80 + 4 * 6), 0); /* its #GP not raised yet */
        }
    }
    ck_assert_int_eq(end, END_HALTED);
    ck_assert(stopped_at_it);
    ck_assert_uint_eq(gps_after(8), 7);
}
END_TEST

START_TEST(test_cr4_bits_allowed_follow_the_features_cpuid_reports)
{
    uint32_t r[4] = {1, 0, 0, 0};
    vcpu_model_cpuid(VCPU_MODEL_COREDUO, 0, r);
    uint32_t allowed = vcpu_model_cr4_allowed(VCPU_MODEL_COREDUO);
    ck_assert_uint_eq(allowed & 0x3, 0);                   /* no VME: VME, PVI refused */
    ck_assert_uint_eq(!!(allowed & (1u << 6)), !!(r[3] & (1u << 7))); /* MCE */
    ck_assert_uint_eq(!!(allowed & (1u << 9)), !!(r[3] & (1u << 24))); /* OSFXSR: FXSR */
    ck_assert_uint_eq(allowed & ~0x7FCu, 0);              /* nothing above OSXMMEXCPT */
}
END_TEST

START_TEST(test_misaligned_sse_operands_raise_gp_before_the_access)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_sse_align"), END_HALTED);
    ck_assert_uint_eq(result(0x44), 1);
    static const uint32_t want[] = {0, 1, 1, 1, 2, 3, 3, 4, 4, 5, 6, 7};
    for (int slot = 1; slot <= 11; slot++)
        ck_assert_msg(gps_after(slot) == want[slot], "slot %d: %u #GPs, want %u", slot, gps_after(slot), want[slot]);
    gp_at(0, 0x0F, 0x28); /* movaps */
    gp_at(1, 0x66, 0x0F); /* movdqa */
    ck_assert_uint_eq(result(0x40), 0x11111111u); /* the refused store wrote nothing */
}
END_TEST

START_TEST(test_smsw_to_a_32_bit_register_stores_all_of_cr0)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_smsw"), END_HALTED);
    ck_assert_uint_eq(result(16), 1);
    ck_assert_uint_eq(result(4) & 0x40000000, 0x40000000); /* CD was set: a high half to see */
    ck_assert_uint_eq(result(0), result(4));               /* 32-bit code */
    ck_assert_uint_eq(result(12), result(4));              /* 16-bit code, 66 prefix */
    ck_assert_uint_eq(result(8), 0x12340000u | (result(4) & 0xFFFF)); /* smsw ax: low half only */
}
END_TEST

START_TEST(test_rf_loaded_by_iret_is_gone_after_one_instruction)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_iret_rf"), END_HALTED);
    ck_assert_uint_eq(result(20), 1);
    ck_assert_uint_eq(result(0) & 0x10000, 0);
    ck_assert_uint_eq(result(4) & 0x10000, 0);
    ck_assert_uint_eq(result(16) & 0x10000, 0);
}
END_TEST

START_TEST(test_fault_frames_carry_rf_and_software_interrupt_frames_do_not)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_iret_rf"), END_HALTED);
    ck_assert_uint_eq(result(8) & 0x10000, 0x10000); /* #UD */
    ck_assert_uint_eq(result(12) & 0x10000, 0);      /* int3 */
}
END_TEST

START_TEST(test_instructions_of_unreported_features_raise_ud_and_rdpmc_raises_gp)
{
    ck_assert_int_eq(tu_run_snippet(&m, "model_unreported"), END_HALTED);
    ck_assert_uint_eq(result(0x60), 1);
    ck_assert_uint_eq(gps_after(1), 1);
    gp_at(0, 0x0F, 0x33); /* rdpmc */
    ck_assert_uint_eq(result(0x40), 1);
    ck_assert_uint_eq(result(0x44), 2);
    ck_assert_uint_eq(result(0x48), 3);
    ck_assert_uint_eq(result(0x4C), 3); /* sfence runs */
    ck_assert_uint_eq(m.mem.ram[result(0x50) + 2], 0xC8); /* monitor */
    ck_assert_uint_eq(m.mem.ram[result(0x54) + 2], 0xC9); /* mwait */
    ck_assert_uint_eq(m.mem.ram[result(0x58) + 1], 0xAE); /* clflush */
}
END_TEST

/* ---- The max model (--cpu max): each feature it adds, run on both models. ---- */

static machine_end run_on(vcpu_model_id model, const char *snippet)
{
    machine_config c;
    machine_config_defaults(&c);
    c.cpu_model = (uint8_t)model;
    return tu_load_snippet_with(&m, snippet, &c) ? machine_run(&m) : END_ERROR;
}

START_TEST(test_max_reports_its_features_and_coreduo_does_not)
{
    uint32_t r[4] = {0, 0, 0, 0};
    vcpu_model_cpuid(VCPU_MODEL_COREDUO, 0, r);
    ck_assert_uint_eq(r[0], 1);
    r[0] = 0;
    vcpu_model_cpuid(VCPU_MODEL_MAX, 0, r);
    ck_assert_uint_eq(r[0], 7);
    r[0] = 7, r[2] = 0;
    vcpu_model_cpuid(VCPU_MODEL_MAX, 0, r);
    ck_assert_uint_eq(r[1], (1u << 1) | (1u << 7) | (1u << 20) | (1u << 23) | (1u << 24)); /* TSC_ADJUST SMEP SMAP CLFLUSHOPT CLWB */
    ck_assert_uint_eq(r[2], (1u << 2) | (1u << 3)); /* UMIP, PKU; OSPKE follows CR4.PKE */
    r[0] = 7, r[2] = 0;
    vcpu_model_cpuid(VCPU_MODEL_MAX, 1u << 22, r);
    ck_assert_uint_eq(r[2] & (1u << 4), 1u << 4);
    r[0] = 7, r[2] = 0;
    vcpu_model_cpuid(VCPU_MODEL_COREDUO, 1u << 22, r);
    ck_assert_uint_eq(r[1] | r[2], 0);
    r[0] = 1;
    vcpu_model_cpuid(VCPU_MODEL_MAX, 0, r);
    ck_assert_uint_eq(r[3] & (1u << 19), 1u << 19); /* CLFLUSH, with its line size */
    ck_assert_uint_eq(r[1] >> 8 & 0xFF, 8);
    r[0] = 0x80000001;
    vcpu_model_cpuid(VCPU_MODEL_MAX, 0, r);
    ck_assert_uint_eq(r[3], (1u << 20) | (1u << 27)); /* NX, RDTSCP; no SYSCALL, no LM */
    ck_assert_uint_eq(vcpu_model_cr4_allowed(VCPU_MODEL_MAX) & ~vcpu_model_cr4_allowed(VCPU_MODEL_COREDUO),
                      (1u << 11) | (1u << 20) | (1u << 21) | (1u << 22)); /* UMIP SMEP SMAP PKE */
    vcpu_model_id id;
    ck_assert(vcpu_model_by_name("max", &id) && id == VCPU_MODEL_MAX);
    ck_assert(vcpu_model_by_name("coreduo", &id) && id == VCPU_MODEL_COREDUO);
    ck_assert(!vcpu_model_by_name("skylake", &id));
    ck_assert_ptr_null(vcpu_model_name(VCPU_MODEL_COUNT));
}
END_TEST

START_TEST(test_max_runs_rdtscp_tsc_adjust_flushes_and_pku)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_MAX, "model_max"), END_HALTED);
    ck_assert_uint_eq(result(0x44), 1);
    ck_assert_uint_eq(result(0x00), 1);          /* TSC_AUX written; its high half refused */
    ck_assert_uint_eq(result(0x14), 0);          /* rdtscp ran */
    ck_assert_uint_eq(result(0x0C), 0x12345678); /* ECX = TSC_AUX */
    uint32_t t0 = result(0x04), t1 = result(0x08), t2 = result(0x10);
    ck_assert_uint_gt(t1, t0); /* the instruction clock, between two rdtsc */
    ck_assert_uint_gt(t2, t1);
    ck_assert_uint_lt(t2 - t0, 16);
    ck_assert_uint_eq(result(0x18), 0);          /* TSC_ADJUST starts at 0 */
    ck_assert_uint_eq(result(0x1C), 1);          /* and adds to the TSC */
    ck_assert_uint_eq(result(0x24), 0);          /* TSC := 2^20 */
    ck_assert_uint_ge(result(0x20), 0x100000);
    ck_assert_uint_lt(result(0x20), 0x100010);
    uint64_t adjust = (uint64_t)result(0x2C) << 32 | result(0x28);
    ck_assert_uint_eq(adjust, vcpu_tsc_adjust(m.cpu));
    ck_assert_uint_ge(adjust + machine_cycles(&m), 0x100000); /* TSC = cycles + TSC_ADJUST */
    ck_assert_uint_eq(result(0x30), 0);          /* clflush, clflushopt, clwb */
    ck_assert_uint_eq(result(0x34), 0xC);        /* PKRU */
    ck_assert_uint_eq(result(0x38), 0x1C);       /* UMIP, PKU, OSPKE */
    ck_assert_uint_eq(result(0x3C), 1);          /* syscall: #UD */
    ck_assert_uint_eq(result(0x48), 3);          /* rdrand, rdseed: #UD (no host randomness) */
    ck_assert_uint_eq(result(0x40), 1);
}
END_TEST

START_TEST(test_coreduo_lacks_what_max_adds)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_COREDUO, "model_max"), END_HALTED);
    ck_assert_uint_eq(result(0x44), 1);
    ck_assert_uint_eq(result(0x00), 2);          /* no TSC_AUX */
    ck_assert_uint_eq(result(0x14), 1);          /* rdtscp: #UD */
    ck_assert_uint_eq(result(0x08), 0xFFFFFFFFu);
    ck_assert_uint_eq(result(0x18), 0xDEAD);     /* no TSC_ADJUST */
    ck_assert_uint_eq(result(0x1C), 0);
    ck_assert_uint_lt(result(0x20), 0x100000);   /* a TSC write is ignored: the instruction clock */
    ck_assert_uint_eq(result(0x30), 4);          /* clflush, clflushopt, clwb */
    ck_assert_uint_eq(result(0x34), 0);          /* CR4.PKE refused: wrpkru, rdpkru #UD */
    ck_assert_uint_eq(result(0x38), 0);
    ck_assert_uint_eq(result(0x3C), 6); /* syscall: Unicorn only steps over it (left as it was here) */
    ck_assert_uint_eq(result(0x48), 8); /* rdrand, rdseed */
    ck_assert_uint_eq(result(0x40), 6);          /* TSC_AUX x2, TSC_ADJUST x3, CR4.PKE */
}
END_TEST

START_TEST(test_max_enforces_smap_and_smep_in_the_page_walk)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_MAX, "model_smap"), END_HALTED);
    ck_assert_uint_eq(result(0x4C), 1);
    ck_assert_uint_eq(result(0x40), 0);
    ck_assert_uint_eq(result(0x44), 0);
    static const uint32_t pfs[] = {0, 1, 1, 2, 2, 3};
    for (int i = 1; i <= 5; i++)
        ck_assert_msg(result(4u * (uint32_t)i) == pfs[i], "step %d: %u #PFs", i, result(4u * (uint32_t)i));
    ck_assert_uint_eq(result(0x20 + 4), 1);    /* read, present, supervisor */
    ck_assert_uint_eq(result(0x20 + 12), 3);   /* write */
    ck_assert_uint_eq(result(0x20 + 20), 0x11); /* instruction fetch */
    ck_assert_uint_eq(result(0x48), 0x5AFE);
    ck_assert_uint_eq(m.mem.ram[0x300000], 2); /* only the write with AC set landed */
}
END_TEST

START_TEST(test_coreduo_has_no_smap_or_smep)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_COREDUO, "model_smap"), END_HALTED);
    ck_assert_uint_eq(result(0x4C), 1);
    ck_assert_uint_eq(result(0x40), 2); /* both CR4 writes */
    ck_assert_uint_eq(result(0x44), 3); /* clac, stac, clac */
    for (int i = 1; i <= 5; i++)
        ck_assert_uint_eq(result(4u * (uint32_t)i), 0);
}
END_TEST

START_TEST(test_max_umip_refuses_descriptor_table_reads_at_ring_3)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_MAX, "model_umip"), END_HALTED);
    ck_assert_uint_eq(result(0x10), 1);
    ck_assert_uint_eq(result(0x00), 0); /* without UMIP */
    ck_assert_uint_eq(result(0x0C), 0); /* CR4.UMIP loads */
    ck_assert_uint_eq(result(0x04), 0); /* ring 0 */
    ck_assert_uint_eq(result(0x08), 6); /* sgdt sidt sldt str smsw smsw */
}
END_TEST

START_TEST(test_coreduo_has_no_umip)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_COREDUO, "model_umip"), END_HALTED);
    ck_assert_uint_eq(result(0x10), 1);
    ck_assert_uint_eq(result(0x0C), 1); /* CR4.UMIP refused */
    ck_assert_uint_eq(result(0x08), 1);
}
END_TEST

/* The APIC timer's TSC-deadline mode: it fires once, when the TSC reaches the deadline. */
START_TEST(test_max_apic_timer_fires_at_the_tsc_deadline)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_MAX, "model_deadline"), END_HALTED);
    ck_assert_uint_eq(result(0x24), 1);
    ck_assert_uint_eq(result(0x20) & (1u << 24), 1u << 24); /* CPUID.1:ECX.TSC_DEADLINE */
    ck_assert_uint_eq(result(0x00), 0x40 | (2u << 17));
    ck_assert_uint_eq(result(0x04), 0);
    ck_assert_uint_eq(result(0x0C), result(0x08)); /* armed */
    ck_assert_uint_eq(result(0x1C), 0);
    ck_assert_uint_eq(result(0x14), 1);
    uint32_t deadline = result(0x08), at = result(0x10);
    ck_assert_uint_ge(at, deadline); /* not before it... */
    ck_assert_uint_lt(at - deadline, 20); /* ...and at the first instruction boundary after it */
    ck_assert_uint_eq(result(0x18), 0); /* fired: the MSR reads 0 */
}
END_TEST

START_TEST(test_coreduo_has_no_tsc_deadline_timer)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_COREDUO, "model_deadline"), END_HALTED);
    ck_assert_uint_eq(result(0x24), 1);
    ck_assert_uint_eq(result(0x20) & (1u << 24), 0);
    ck_assert_uint_eq(result(0x00), 0x40); /* mode 10b not writable: one-shot */
    ck_assert_uint_eq(result(0x04), 2);    /* wrmsr, rdmsr of 0x6E0 */
    ck_assert_uint_eq(result(0x18), 0xDEAD);
}
END_TEST

/* x2APIC mode (max): entered through IA32_APICBASE.EXTD, the registers are MSRs, the page is
 * gone, and the SDM's refusals and transitions hold (tests/guest/x2apic.asm). */
START_TEST(test_max_x2apic_mode_puts_the_apic_in_msrs)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_MAX, "x2apic"), END_HALTED);
    ck_assert_uint_eq(result(0x1B8), 1);
    ck_assert_uint_eq(result(0x1B4) & (1u << 21), 1u << 21); /* CPUID.1:ECX.x2APIC */
    /* #GPs so far after each slot: the MSRs refused in xAPIC mode, then none until slot 12 */
    static const uint32_t gps[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 12, 13, 13, 14};
    for (int slot = 1; slot < (int)(sizeof gps / sizeof gps[0]); slot++)
        ck_assert_msg(gps_after(slot) == gps[slot], "slot %d: %u #GPs", slot, gps_after(slot));
    for (uint32_t i = 0; i < 14; i++) /* each one a rdmsr (0F 32) or wrmsr (0F 30), error code 0 */
        ck_assert_msg(m.mem.ram[result(0x80 + 4 * i)] == 0x0F && result(0x100 + 4 * i) == 0, "#GP %u", i);
    ck_assert_uint_eq(result(0x180), 0xFEE00D00u); /* EN | EXTD | BSP */
    ck_assert_uint_eq(result(0x184), 0);           /* the x2APIC ID */
    ck_assert_uint_eq(result(0x188), 0x50014);     /* version */
    ck_assert_uint_eq(result(0x18C), 0);
    ck_assert_uint_eq(result(0x190), 1);           /* LDR: cluster 0, bit 0 */
    ck_assert_uint_eq(result(0x194), 0xFFFFFFFFu); /* the page is not decoded... */
    ck_assert_uint_eq(result(0x198), 0xFF);        /* ...and took no write */
    ck_assert_uint_eq(result(0x1A0), 1);           /* SELF IPI */
    ck_assert_uint_eq(result(0x1A4), 1);           /* ICR to 0, not to 0x100 */
    ck_assert_uint_eq(result(0x1A8), 0x41);
    ck_assert_uint_eq(result(0x1AC), 0);
    ck_assert_uint_eq(result(0x1B0), 0x50014);     /* disabled, then xAPIC: the page is back */
}
END_TEST

START_TEST(test_coreduo_has_no_x2apic)
{
    ck_assert_int_eq(run_on(VCPU_MODEL_COREDUO, "x2apic"), END_HALTED);
    ck_assert_uint_eq(result(0x1B8), 1);
    ck_assert_uint_eq(result(0x1B4) & (1u << 21), 0);
    ck_assert_uint_eq(gps_after(2), 2);            /* EXTD is a reserved bit */
    ck_assert_uint_eq(result(0x180), 0xFEE00900u);
    ck_assert_uint_eq(gps_after(3), 3);            /* no x2APIC MSRs */
    ck_assert_uint_eq(result(0x194), 0x50014);     /* the page is still there */
    ck_assert_uint_eq(result(0x1A0), 0);
}
END_TEST

/* A run to any count stops there, also where the block before ended exactly at it and the next
 * one starts with a wrmsr or rdmsr the machine performs (stepped exactly: it used to run one
 * instruction past the target). */
START_TEST(test_max_x2apic_runs_stop_at_every_count)
{
    machine_config c;
    machine_config_defaults(&c);
    c.cpu_model = VCPU_MODEL_MAX;
    ck_assert(tu_load_snippet_with(&m, "x2apic", &c));
    vm_error err = {0};
    snap_disable(&m);
    ck_assert_msg(snap_enable(&m, 50, &err), "%s", err.msg);
    ck_assert_msg(snap_take(&m, &err), "%s", err.msg);
    uint64_t start = machine_insns(&m);
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    uint64_t whole = machine_insns(&m);
    for (uint64_t n = start; n < whole; n++) {
        ck_assert_msg(snap_goto(&m, n, &err), "%s", err.msg);
        ck_assert_msg(machine_insns(&m) == n, "to %llu: at %llu", (unsigned long long)n,
                      (unsigned long long)machine_insns(&m));
    }
}
END_TEST

/* The max model's runs are as deterministic as the default's: the same count, state digest
 * and results when run again and when stepped one instruction at a time. */
START_TEST(test_max_runs_the_same_when_stepped)
{
    const char *snippets[] = {"model_max", "model_smap", "model_umip", "model_deadline", "x2apic"};
    for (size_t s = 0; s < sizeof snippets / sizeof snippets[0]; s++) {
        ck_assert_int_eq(run_on(VCPU_MODEL_MAX, snippets[s]), END_HALTED);
        uint64_t whole = machine_insns(&m);
        uint32_t want[0x50 / 4];
        for (uint32_t i = 0; i < 0x50 / 4; i++)
            want[i] = result(4 * i);
        machine_free(&m);
        machine_config c;
        machine_config_defaults(&c);
        c.cpu_model = VCPU_MODEL_MAX;
        ck_assert(tu_load_snippet_with(&m, snippets[s], &c));
        machine_end end = END_RUNNING;
        for (int guard = 0; end == END_RUNNING && guard < 20000; guard++)
            end = machine_run_until(&m, machine_insns(&m) + 1);
        ck_assert_int_eq(end, END_HALTED);
        ck_assert_uint_eq(machine_insns(&m), whole);
        for (uint32_t i = 0; i < 0x50 / 4; i++) /* clock readings too */
            ck_assert_msg(result(4 * i) == want[i], "%s: result 0x%x", snippets[s], 4 * i);
        machine_free(&m);
    }
    memset(&m, 0, sizeof m);
}
END_TEST

/* Stepping one instruction at a time gives the same faults and count as one run. */
START_TEST(test_refused_instructions_count_the_same_when_stepped)
{
    const char *snippets[] = {"model_msr", "model_cr4", "model_sse_align", "model_unreported"};
    for (size_t s = 0; s < sizeof snippets / sizeof snippets[0]; s++) {
        ck_assert_int_eq(tu_run_snippet(&m, snippets[s]), END_HALTED);
        uint64_t whole = machine_insns(&m);
        uint32_t want[0x60 / 4];
        for (uint32_t i = 0; i < 0x60 / 4; i++)
            want[i] = result(4 * i);
        machine_free(&m);
        ck_assert(tu_load_snippet(&m, snippets[s]));
        machine_end end = END_RUNNING;
        for (int guard = 0; end == END_RUNNING && guard < 2000; guard++)
            end = machine_run_until(&m, machine_insns(&m) + 1);
        ck_assert_int_eq(end, END_HALTED);
        ck_assert_uint_eq(machine_insns(&m), whole);
        for (uint32_t i = 0; i < 0x50 / 4; i++) /* all but the clock readings */
            ck_assert_msg(result(4 * i) == want[i], "%s: result 0x%x", snippets[s], 4 * i);
        machine_free(&m);
    }
    memset(&m, 0, sizeof m);
}
END_TEST

/* Only leaf 7 (OSPKE) depends on CR4, so the machine reads CR4 for it alone. */
START_TEST(test_only_the_leaves_said_to_read_cr4_depend_on_it)
{
    static const uint32_t leaves[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0xB, 0xD, 0x14, 0x40000000u, 0x80000000u,
                                      0x80000001u, 0x80000002u, 0x80000004u, 0x80000008u, 0xFFFFFFFFu};
    for (unsigned id = 0; id < VCPU_MODEL_COUNT; id++)
        for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
            for (uint32_t sub = 0; sub < 3; sub++) {
                uint32_t a[4] = {leaves[i], 0, sub, 0}, b[4] = {leaves[i], 0, sub, 0};
                vcpu_model_cpuid((vcpu_model_id)id, 0, a);
                vcpu_model_cpuid((vcpu_model_id)id, 0xFFFFFFFFu, b);
                if (!vcpu_model_cpuid_reads_cr4(leaves[i]))
                    ck_assert_msg(memcmp(a, b, sizeof a) == 0, "model %u leaf 0x%x.%u depends on CR4", id,
                                  leaves[i], sub);
            }
    uint32_t a[4] = {7, 0, 0, 0}, b[4] = {7, 0, 0, 0};
    vcpu_model_cpuid(VCPU_MODEL_MAX, 0, a);
    vcpu_model_cpuid(VCPU_MODEL_MAX, 1u << 22, b);
    ck_assert(vcpu_model_cpuid_reads_cr4(7) && memcmp(a, b, sizeof a) != 0);
}
END_TEST

/* Guest cpuid for a list of leaves, twice over: the first one goes through Unicorn's helper and
 * vmiemu's hook, the later ones are answered in the wrapped helper (cpu/cpuid_direct.c). Each
 * stores EAX, EBX, ECX, EDX at CPUID_OUT + 16 * i; EBX and EDX hold junk before. */
#define CPUID_CODE TU_SNIPPET_BASE
#define CPUID_OUT 0x00210000u
static const uint32_t cpuid_asks[][2] = {
    {1, 0}, {0, 0}, {2, 0}, {7, 0}, {7, 1}, {0xD, 1}, {0x40000000u, 0}, {0x80000000u, 0}, {0x80000001u, 0},
    {0x80000002u, 0}, {0x80000003u, 0}, {0x80000004u, 0}, {0x80000008u, 0}, {0xFFFFFFFFu, 0xFFFFFFFFu},
};
#define CPUID_ASKS (2 * sizeof cpuid_asks / sizeof cpuid_asks[0])

static size_t put_imm(uint8_t *p, uint8_t op, uint32_t v)
{
    p[0] = op;
    memcpy(p + 1, &v, 4);
    return 5;
}

static size_t put_store(uint8_t *p, uint8_t modrm, uint32_t addr) /* mov [addr], reg */
{
    p[0] = 0x89;
    p[1] = modrm;
    memcpy(p + 2, &addr, 4);
    return 6;
}

static machine_end run_cpuid_code(machine *mm, vcpu_model_id model, bool stepped)
{
    uint8_t code[CPUID_ASKS * 46 + 1], *p = code;
    for (uint32_t i = 0; i < CPUID_ASKS; i++) {
        const uint32_t *ask = cpuid_asks[i % (CPUID_ASKS / 2)];
        p += put_imm(p, 0xB8, ask[0]);          /* mov eax, leaf */
        p += put_imm(p, 0xB9, ask[1]);          /* mov ecx, subleaf */
        p += put_imm(p, 0xBB, 0xBAD0EB00u + i); /* mov ebx, junk */
        p += put_imm(p, 0xBA, 0xBAD0ED00u + i); /* mov edx, junk */
        *p++ = 0x0F, *p++ = 0xA2;               /* cpuid */
        p += put_store(p, 0x05, CPUID_OUT + 16 * i);      /* eax */
        p += put_store(p, 0x1D, CPUID_OUT + 16 * i + 4);  /* ebx */
        p += put_store(p, 0x0D, CPUID_OUT + 16 * i + 8);  /* ecx */
        p += put_store(p, 0x15, CPUID_OUT + 16 * i + 12); /* edx */
    }
    *p++ = 0xF4; /* hlt */
    machine_config c;
    machine_config_defaults(&c);
    c.cpu_model = (uint8_t)model;
    ck_assert(tu_load_code(mm, &c, code, (size_t)(p - code)));
    machine_end end = END_RUNNING;
    if (!stepped)
        return machine_run(mm);
    for (int guard = 0; end == END_RUNNING && guard < 1000; guard++) /* as a debugger's stepi */
        end = machine_run_until(mm, machine_insns(mm) + 1);
    return end;
}

static void check_cpuid_stores(machine *mm)
{
    for (uint32_t i = 0; i < CPUID_ASKS; i++) {
        const uint32_t *ask = cpuid_asks[i % (CPUID_ASKS / 2)];
        uint32_t want[4] = {ask[0], 0, ask[1], 0};
        machine_cpuid(mm, want);
        for (uint32_t r = 0; r < 4; r++) {
            uint32_t got = phys_read32(&mm->mem, CPUID_OUT + 16 * i + 4 * r);
            ck_assert_msg(got == want[r], "%s, cpuid %u (leaf 0x%x.%u): register %u is 0x%x, want 0x%x",
                          vcpu_model_name(vcpu_model(mm->cpu)), i, ask[0], ask[1], r, got, want[r]);
        }
    }
    /* Unicorn 2.1.4: the engine was bound by the first cpuid and answered the others itself */
    ck_assert_msg(vcpu_cpuid_direct_bound(mm->cpu), "cpuid still goes through Unicorn's hook");
}

static void check_cpuid_answers(machine *mm, vcpu_model_id model, bool stepped)
{
    ck_assert_int_eq(run_cpuid_code(mm, model, stepped), END_HALTED);
    check_cpuid_stores(mm);
}

START_TEST(test_cpuid_answers_the_model_through_the_hook_and_directly_coreduo)
{
    check_cpuid_answers(&m, VCPU_MODEL_COREDUO, false);
}
END_TEST

START_TEST(test_cpuid_answers_the_model_through_the_hook_and_directly_max)
{
    check_cpuid_answers(&m, VCPU_MODEL_MAX, false);
}
END_TEST

START_TEST(test_cpuid_answers_the_model_when_stepped)
{
    check_cpuid_answers(&m, VCPU_MODEL_MAX, true);
    machine_free(&m);
    check_cpuid_answers(&m, VCPU_MODEL_COREDUO, true);
}
END_TEST

/* A second machine's engine rebinds; the first one's answers stay its own when it runs again. */
START_TEST(test_cpuid_binding_follows_the_engine_that_runs)
{
    static machine other;
    check_cpuid_answers(&m, VCPU_MODEL_MAX, false);
    check_cpuid_answers(&other, VCPU_MODEL_COREDUO, false);
    ck_assert(!vcpu_cpuid_direct_bound(m.cpu));
    static const uint8_t zeros[16 * CPUID_ASKS];
    ck_assert(phys_write(&m.mem, CPUID_OUT, zeros, sizeof zeros));
    ck_assert(vcpu_set(m.cpu, CPU_EIP, CPUID_CODE));
    m.end = END_RUNNING;
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    check_cpuid_stores(&m);
    ck_assert(!vcpu_cpuid_direct_bound(other.cpu));
    machine_free(&other);
}
END_TEST

/* rdtsc on an engine bound by a cpuid is answered in the wrapped helper (cpu/cpuid_direct.c)
 * without Unicorn's EIP rebuild and hook: the same values as through the hook. The code starts
 * with a cpuid (binds) or `66 90` (one instruction too: nothing binds), then rdtsc in blocks
 * of different lengths, each storing EAX and EDX. */
#define TSC_ROUNDS 6
static machine_end run_rdtsc_code(machine *mm, bool bind, uint32_t *out)
{
    uint8_t code[256], *p = code;
    p += put_imm(p, 0xB8, 0); /* mov eax, 0 */
    if (bind)
        *p++ = 0x0F, *p++ = 0xA2; /* cpuid */
    else
        *p++ = 0x66, *p++ = 0x90;
    for (uint32_t i = 0; i < TSC_ROUNDS; i++) {
        for (uint32_t k = 0; k < i; k++)
            *p++ = 0x90;
        *p++ = 0x0F, *p++ = 0x31;                       /* rdtsc */
        p += put_store(p, 0x05, CPUID_OUT + 8 * i);     /* eax */
        p += put_store(p, 0x15, CPUID_OUT + 8 * i + 4); /* edx */
        if (i & 1)
            *p++ = 0xEB, *p++ = 0x00; /* jmp: a new block */
    }
    *p++ = 0xF4; /* hlt */
    ck_assert_uint_le((size_t)(p - code), sizeof code);
    ck_assert(tu_load_code(mm, NULL, code, (size_t)(p - code)));
    machine_end end = machine_run(mm);
    for (uint32_t i = 0; i < 2 * TSC_ROUNDS; i++)
        out[i] = phys_read32(&mm->mem, CPUID_OUT + 4 * i);
    return end;
}

START_TEST(test_rdtsc_answered_directly_reads_what_the_hook_reads)
{
    uint32_t hooked[2 * TSC_ROUNDS], direct[2 * TSC_ROUNDS];
    ck_assert_int_eq(run_rdtsc_code(&m, false, hooked), END_HALTED);
    ck_assert(!vcpu_cpuid_direct_bound(m.cpu));
    machine_free(&m);
    ck_assert_int_eq(run_rdtsc_code(&m, true, direct), END_HALTED);
    /* Unicorn 2.1.4: bound by the cpuid, so the rdtscs after it were answered in the helper */
    ck_assert_msg(vcpu_cpuid_direct_bound(m.cpu), "the cpuid did not bind the engine");
    for (uint32_t i = 0; i < 2 * TSC_ROUNDS; i++)
        ck_assert_msg(direct[i] == hooked[i], "word %u: 0x%x directly, 0x%x through the hook", i, direct[i],
                      hooked[i]);
    for (uint32_t i = 1; i < TSC_ROUNDS; i++)
        ck_assert_msg(direct[2 * i] > direct[2 * (i - 1)], "rdtsc %u did not advance", i);
}
END_TEST

static Suite *cpu_model_suite(void)
{
    Suite *s = suite_create("cpu_model");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_msrs_the_model_lacks_raise_gp_and_gs_base_does_not_move_gs);
    tcase_add_test(tc, test_time_stamp_counter_msr_reads_the_instruction_clock);
    tcase_add_test(tc, test_platform_id_msr_reads_and_refuses_writes);
    tcase_add_test(tc, test_cr4_bits_of_features_cpuid_lacks_raise_gp_and_keep_cr4);
    tcase_add_test(tc, test_stepping_up_to_a_refused_instruction_stops_before_its_fault);
    tcase_add_test(tc, test_cr4_bits_allowed_follow_the_features_cpuid_reports);
    tcase_add_test(tc, test_misaligned_sse_operands_raise_gp_before_the_access);
    tcase_add_test(tc, test_smsw_to_a_32_bit_register_stores_all_of_cr0);
    tcase_add_test(tc, test_rf_loaded_by_iret_is_gone_after_one_instruction);
    tcase_add_test(tc, test_fault_frames_carry_rf_and_software_interrupt_frames_do_not);
    tcase_add_test(tc, test_instructions_of_unreported_features_raise_ud_and_rdpmc_raises_gp);
    tcase_add_test(tc, test_refused_instructions_count_the_same_when_stepped);
    tcase_add_test(tc, test_max_reports_its_features_and_coreduo_does_not);
    tcase_add_test(tc, test_only_the_leaves_said_to_read_cr4_depend_on_it);
    tcase_add_test(tc, test_cpuid_answers_the_model_through_the_hook_and_directly_coreduo);
    tcase_add_test(tc, test_cpuid_answers_the_model_through_the_hook_and_directly_max);
    tcase_add_test(tc, test_cpuid_answers_the_model_when_stepped);
    tcase_add_test(tc, test_cpuid_binding_follows_the_engine_that_runs);
    tcase_add_test(tc, test_rdtsc_answered_directly_reads_what_the_hook_reads);
    tcase_add_test(tc, test_max_runs_rdtscp_tsc_adjust_flushes_and_pku);
    tcase_add_test(tc, test_coreduo_lacks_what_max_adds);
    tcase_add_test(tc, test_max_enforces_smap_and_smep_in_the_page_walk);
    tcase_add_test(tc, test_coreduo_has_no_smap_or_smep);
    tcase_add_test(tc, test_max_umip_refuses_descriptor_table_reads_at_ring_3);
    tcase_add_test(tc, test_coreduo_has_no_umip);
    tcase_add_test(tc, test_max_apic_timer_fires_at_the_tsc_deadline);
    tcase_add_test(tc, test_coreduo_has_no_tsc_deadline_timer);
    tcase_add_test(tc, test_max_x2apic_mode_puts_the_apic_in_msrs);
    tcase_add_test(tc, test_coreduo_has_no_x2apic);
    tcase_add_test(tc, test_max_x2apic_runs_stop_at_every_count);
    tcase_add_test(tc, test_max_runs_the_same_when_stepped);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(cpu_model_suite)
