/* Exceptions and interrupts reach the guest's handlers through its IDT the way the CPU
 * delivers them. Each scenario is a guest snippet in tests/guest/. */
#include <check.h>
#include <string.h>

#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
#define BASE TU_SNIPPET_BASE

static machine m;

static void teardown(void) { machine_free(&m); }

static uint32_t result(int i) { return phys_read32(&m.mem, RESULT + 4u * (uint32_t)i); }

static size_t count_kind(ev_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        n += tu_event(&m.log, i)->kind == k;
    return n;
}

START_TEST(test_invalid_opcode_reaches_its_handler_with_a_fault_frame)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_basic"), END_HALTED);
    uint32_t ud_eip = result(0);
    ck_assert_uint_ge(ud_eip, BASE);
    ck_assert_uint_eq(phys_read32(&m.mem, ud_eip) & 0xFFFF, 0x0B0F); /* the saved EIP is the ud2 */
    ck_assert_uint_eq(result(1) & 0x200, 0x200); /* IF was set when it happened */
    ck_assert_uint_eq(result(2) & 0x200, 0);     /* an interrupt gate clears it */
}
END_TEST

START_TEST(test_general_protection_fault_pushes_the_selector_error_code)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_basic"), END_HALTED);
    ck_assert_uint_eq(result(3), 0x20);
    uint32_t gp_eip = result(4);
    ck_assert_uint_eq(phys_read32(&m.mem, gp_eip) & 0xFFFF, 0xD98E); /* mov ds, cx */
}
END_TEST

START_TEST(test_software_interrupts_save_the_next_instruction_and_trap_gates_keep_if)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_basic"), END_HALTED);
    uint32_t bp_eip = result(5);
    ck_assert_uint_eq(m.mem.ram[bp_eip - 1], 0xCC);
    ck_assert_uint_eq(result(6) & 0x200, 0x200);
    uint32_t sys_eip = result(7);
    ck_assert_uint_eq(m.mem.ram[sys_eip - 2], 0xCD);
    ck_assert_uint_eq(m.mem.ram[sys_eip - 1], 0x80);
    ck_assert_uint_eq(result(8), 0x5ca11);
    ck_assert_uint_eq(count_kind(EV_EXCEPTION), 4);
}
END_TEST

START_TEST(test_repeated_faults_are_not_escalated_to_double_faults)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_repeat"), END_HALTED);
    ck_assert_uint_eq(result(0), 4);
    ck_assert_uint_eq(result(1), 0);
}
END_TEST

START_TEST(test_fault_while_delivering_a_fault_becomes_a_double_fault)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_double"), END_HALTED);
    ck_assert_uint_eq(result(2), 0xdf);
    ck_assert_uint_eq(result(0), 0);
    ck_assert_uint_eq(result(1), 0);
    const vm_event *ev = tu_event(&m.log, 0);
    ck_assert_uint_eq(ev->kind, EV_EXCEPTION);
    ck_assert_uint_eq(ev->num, 13);
    ck_assert_uint_eq(ev->result, 8); /* what was finally delivered */
}
END_TEST

/* A triple fault resets a PC (the chipset answers the CPU's shutdown cycle with a reset): the run
 * ends as a reboot, not a crash (it was END_CRASH before issue 14; Linux's last restart resort
 * is exactly this). */
START_TEST(test_no_usable_idt_ends_in_a_triple_fault_that_reboots_with_a_message)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_triple"), END_REBOOT);
    ck_assert_ptr_nonnull(strstr(m.end_message, "triple fault"));
    ck_assert_uint_eq(tu_event(&m.log, 0)->kind, EV_EXCEPTION);
    ck_assert(tu_event(&m.log, 0)->failed);
}
END_TEST

START_TEST(test_page_faults_report_cr2_and_error_code)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_pagefault"), END_HALTED);
    ck_assert_uint_eq(result(0), 0x0);        /* not present, read, supervisor */
    ck_assert_uint_eq(result(1), 0x40000010u);
    ck_assert_uint_eq(result(2), 0x2);        /* not present, write, supervisor */
    ck_assert_uint_eq(result(3), 0x40000020u);
    ck_assert_uint_eq(tu_event(&m.log, 0)->args[1], 0x40000010u); /* the log carries CR2 */
}
END_TEST

/* fetch_fault(_pae): four instruction-fetch faults, 16 bytes of results each. */
static void assert_fetch_fault(int i, uint32_t error, uint32_t cr2, uint32_t cs)
{
    ck_assert_uint_eq(result(4 * i), error);
    ck_assert_uint_eq(result(4 * i + 1), cr2);
    ck_assert_uint_eq(result(4 * i + 2), cr2); /* the saved EIP is the target that was not there */
    ck_assert_uint_eq(result(4 * i + 3), cs);
    const vm_event *ev = tu_event(&m.log, (size_t)i);
    ck_assert_uint_eq(ev->kind, EV_EXCEPTION);
    ck_assert_uint_eq(ev->num, 14);
    ck_assert_uint_eq(ev->result, 14); /* delivered as #PF, not escalated to #DF */
}

START_TEST(test_call_into_an_absent_page_raises_a_page_fault)
{
    ck_assert_int_eq(tu_run_snippet(&m, "fetch_fault"), END_HALTED);
    assert_fetch_fault(0, 0x0, 0x6000, 0x08); /* not present, read, supervisor: no fetch bit without NX */
}
END_TEST

START_TEST(test_call_through_a_null_pointer_raises_a_page_fault)
{
    ck_assert_int_eq(tu_run_snippet(&m, "fetch_fault"), END_HALTED);
    assert_fetch_fault(1, 0x0, 0x0, 0x08);
}
END_TEST

START_TEST(test_fetch_faults_from_ring3_report_a_user_access)
{
    ck_assert_int_eq(tu_run_snippet(&m, "fetch_fault"), END_HALTED);
    assert_fetch_fault(2, 0x4, 0x6000, 0x1B);
    assert_fetch_fault(3, 0x4, 0x0, 0x1B);
    ck_assert_uint_eq(count_kind(EV_EXCEPTION), 4);
}
END_TEST

START_TEST(test_fetch_faults_with_nx_paging_set_the_fetch_bit)
{
    ck_assert_int_eq(tu_run_snippet(&m, "fetch_fault_pae"), END_HALTED);
    assert_fetch_fault(0, 0x10, 0x6000, 0x08);
    assert_fetch_fault(1, 0x10, 0x0, 0x08);
    assert_fetch_fault(2, 0x14, 0x6000, 0x1B);
    assert_fetch_fault(3, 0x14, 0x0, 0x1B);
}
END_TEST

START_TEST(test_code_at_address_zero_runs_after_jmp_ret_and_call)
{
    ck_assert_int_eq(tu_run_snippet(&m, "address0"), END_HALTED);
    ck_assert_uint_eq(result(0), 4); /* jmp 0, ret to 0, call 0 with paging off; jmp 0 with paging on */
}
END_TEST

START_TEST(test_jmp_to_an_absent_page_zero_raises_a_page_fault)
{
    ck_assert_int_eq(tu_run_snippet(&m, "address0"), END_HALTED);
    ck_assert_uint_eq(result(1), 0x0); /* not present, supervisor */
    ck_assert_uint_eq(result(2), 0x0); /* CR2 */
    ck_assert_uint_eq(result(3), 0x0); /* saved EIP */
    ck_assert_uint_eq(count_kind(EV_EXCEPTION), 1);
}
END_TEST

START_TEST(test_stores_to_code_drop_its_translations)
{
    ck_assert_int_eq(tu_run_snippet(&m, "smc"), END_HALTED);
    ck_assert_uint_eq(result(0), 1);
    ck_assert_uint_eq(result(1), 2); /* patched in place after it ran */
    ck_assert_uint_eq(result(2), 3); /* stored into a data page, then run */
    ck_assert_uint_eq(result(3), 4); /* and patched there */
}
END_TEST

START_TEST(test_system_call_from_ring3_switches_to_the_tss_stack)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_ring3"), END_HALTED);
    ck_assert_uint_eq(result(0), 0x280000u - 20); /* five words on the ring-0 stack */
    ck_assert_uint_eq(result(1), 0x1B);
    ck_assert_uint_eq(result(2), 0x290000u);
    ck_assert_uint_eq(result(3), 0x23);
    ck_assert_uint_eq(result(4) & 3, 0); /* the handler ran at ring 0 */
}
END_TEST

/* Linux's vDSO enters the kernel with sysenter and leaves with sysexit (every system call of
 * a 6.1 kernel's userland); the selectors come from SYSENTER_CS. */
START_TEST(test_sysenter_and_sysexit_switch_rings_through_the_msrs)
{
    ck_assert_int_eq(tu_run_snippet(&m, "sysenter_ring3"), END_HALTED);
    ck_assert_uint_eq(result(0), 0x08);      /* CS = SYSENTER_CS */
    ck_assert_uint_eq(result(1), 0x10);      /* SS = SYSENTER_CS + 8 */
    ck_assert_uint_eq(result(2), 0x280000u); /* ESP = SYSENTER_ESP */
    ck_assert_uint_eq(result(3), 2);         /* both calls reached the handler */
    ck_assert_uint_eq(result(4), 101);       /* and came back with their results */
    ck_assert_uint_eq(result(5), 0x1B);      /* at ring 3 */
    ck_assert_uint_eq(result(6), 102);
    ck_assert_uint_eq(m.mem.ram[result(7)], 0xFA); /* the #GP is the cli's */
    ck_assert_uint_eq(result(8), 0x1B);
}
END_TEST

/* Delivery from ring 3 loads the ring-0 SS, reading the GDT, before it loads CS: the GDT's page
 * is supervisor-only in every real kernel, and judging that read by CS's RPL refused it. Unicorn
 * then left the hook and raised the int again, forever, at the same instruction count. */
START_TEST(test_system_call_from_ring3_reaches_a_gdt_on_a_supervisor_page)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_ring3_kgdt"), END_HALTED);
    ck_assert_uint_eq(result(0), 1);    /* one call reached the handler */
    ck_assert_uint_eq(result(1), 0x1B); /* from ring 3 */
    ck_assert_uint_eq(result(2), 7);    /* and returned to ring 3 with its result */
}
END_TEST

START_TEST(test_privileged_instruction_at_ring3_faults_to_ring0)
{
    ck_assert_int_eq(tu_run_snippet(&m, "deliver_ring3"), END_HALTED);
    ck_assert_uint_eq(result(5), 0);    /* #GP(0) */
    ck_assert_uint_eq(result(6), 0x1B); /* raised by ring-3 code */
    ck_assert_uint_eq(result(7), 0x280000u - 24);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_CS) & 3, 0);
}
END_TEST

START_TEST(test_ring3_port_io_follows_the_tss_io_bitmap)
{
    ck_assert_int_eq(tu_run_snippet(&m, "io_ring3"), END_HALTED);
    ck_assert_uint_eq(result(0), 1);        /* the allowed out ran */
    ck_assert_uint_eq(result(1), 0);        /* the denied one did not */
    ck_assert_uint_eq(m.mem.ram[result(2)], 0x66); /* #GP at the 16-bit out dx, ax */
    ck_assert_uint_eq(result(3), 0);
    ck_assert_uint_eq(result(4), 0x1B);
    for (size_t i = 0; i < evlog_count(&m.log); i++) /* port 0x80 is the POST port: no unknown-port event */
        ck_assert_uint_ne(tu_event(&m.log, i)->kind, EV_PORT_OUT);
}
END_TEST

/* Unicorn 2.1.4 reads IA32_APICBASE as 0 and has no hook for rdmsr/wrmsr: the CPU stops before
 * each one and the machine answers the APIC base; other MSRs stay Unicorn's. */
START_TEST(test_apic_base_msr_reads_the_enabled_bsp_apic_and_refuses_reserved_bits)
{
    ck_assert_int_eq(tu_run_snippet(&m, "msr_apicbase"), END_HALTED);
    ck_assert_uint_eq(result(9), 1);            /* ran to its end */
    ck_assert_uint_eq(result(0), 0xFEE00900u);  /* base 0xFEE00000, enabled, BSP */
    ck_assert_uint_eq(result(1), 0);
    ck_assert_uint_eq(result(2), 0xFEE00900u);  /* disabled, then enabled (the move ignored) */
    ck_assert_uint_eq(result(3), 0);
    ck_assert_uint_eq(result(4), 2);            /* x2APIC bit and a bit above 36: #GP each */
    ck_assert_uint_eq(result(5), 0);            /* #GP(0) */
    ck_assert_uint_eq(m.mem.ram[result(6)], 0x0F); /* at the wrmsr */
    ck_assert_uint_eq(m.mem.ram[result(6) + 1], 0x30);
    ck_assert_uint_eq(result(7), 0x60);         /* SYSENTER_CS written and read by Unicorn */
    ck_assert_uint_eq(result(8), 0x5a5a5a5a);   /* registers the MSR accesses do not name kept */
    ck_assert_uint_eq(result(10), 0xFEE00900u); /* VMI RDMSR runs the same rdmsr in its slot */
    const vm_event *rd = NULL;
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        if (tu_event(&m.log, i)->kind == EV_VMI_CALL && tu_event(&m.log, i)->num == 2)
            rd = tu_event(&m.log, i);
    ck_assert_ptr_nonnull(rd);
    ck_assert(!rd->failed);
    ck_assert_uint_eq((uint32_t)rd->result, 0xFEE00900u);
}
END_TEST

START_TEST(test_apic_base_msr_read_at_the_end_of_a_page_before_an_absent_one_is_answered)
{
    ck_assert_int_eq(tu_run_snippet(&m, "msr_page_end"), END_HALTED);
    ck_assert_uint_eq(result(2), 1);
    ck_assert_uint_eq(result(1), 0x400000); /* the fetch after the rdmsr faulted */
    ck_assert_uint_eq(result(0), 0xFEE00900u);
}
END_TEST

/* Stepping one instruction at a time crosses the MSR accesses with the same count and results
 * as running the snippet in one go. */
START_TEST(test_apic_base_msr_accesses_count_one_instruction_each_when_stepped)
{
    ck_assert_int_eq(tu_run_snippet(&m, "msr_apicbase"), END_HALTED);
    uint64_t whole = machine_insns(&m);
    uint32_t want[11];
    for (int i = 0; i < 11; i++)
        want[i] = result(i);
    machine_free(&m);
    ck_assert(tu_load_snippet(&m, "msr_apicbase"));
    machine_end end = END_RUNNING;
    for (int guard = 0; end == END_RUNNING && guard < 1000; guard++)
        end = machine_run_until(&m, machine_insns(&m) + 1);
    ck_assert_int_eq(end, END_HALTED);
    ck_assert_uint_eq(machine_insns(&m), whole);
    for (int i = 0; i < 11; i++)
        ck_assert_uint_eq(result(i), want[i]);
}
END_TEST

/* The two stores of SetPxELong in native PAE order, seen through a fault at the high half:
 * a clear has stored its low half when the high one faults, a present entry nothing yet. */
START_TEST(test_set_pxe_long_clears_the_low_half_first_and_sets_the_high_half_first)
{
    ck_assert_int_eq(tu_run_snippet(&m, "setpxelong_order"), END_HALTED);
    ck_assert_uint_eq(result(2), 2);          /* both calls faulted at 0x400000 */
    ck_assert_uint_eq(result(0), 0);          /* the clear: low half (P=0) stored first */
    ck_assert_uint_eq(result(1), 0xAAAAAAAAu); /* present: the high half first, low untouched */
}
END_TEST

/* An NMI IPI to self is taken through vector 2 with IF clear; a second one sent from its
 * handler waits for the handler's iret (NMI blocking) and is taken right after it, at the
 * instruction the first returned to. */
START_TEST(test_nmi_ipi_is_taken_with_if_clear_and_blocked_until_the_handlers_iret)
{
    ck_assert_int_eq(tu_run_snippet(&m, "nmi_ipi"), END_HALTED);
    ck_assert_uint_eq(result(5), 1);            /* ran to its end */
    ck_assert_uint_eq(result(0), 2);            /* both NMIs taken */
    ck_assert_uint_eq(result(3), 1);            /* the second not inside the first's handler */
    ck_assert_uint_eq(result(2), result(1));    /* ... but right after its iret */
    ck_assert_uint_eq(result(4) & 0x200, 0);    /* IF was clear */
}
END_TEST

/* The same, stepped one instruction at a time: the same count and NMIs. (Where the first is
 * taken is not: a whole block runs after the ICR write before the machine looks, as for every
 * interrupt a write makes pending; stepped, that is the next instruction.) */
START_TEST(test_nmi_blocking_ends_at_the_same_instruction_when_stepped)
{
    ck_assert_int_eq(tu_run_snippet(&m, "nmi_ipi"), END_HALTED);
    uint64_t whole = machine_insns(&m);
    uint32_t want[6];
    for (int i = 0; i < 6; i++)
        want[i] = result(i);
    machine_free(&m);
    ck_assert(tu_load_snippet(&m, "nmi_ipi"));
    machine_end end = END_RUNNING;
    for (int guard = 0; end == END_RUNNING && guard < 1000; guard++)
        end = machine_run_until(&m, machine_insns(&m) + 1);
    ck_assert_int_eq(end, END_HALTED);
    ck_assert_uint_eq(machine_insns(&m), whole);
    ck_assert_uint_eq(result(0), want[0]);
    ck_assert_uint_eq(result(3), want[3]);
    ck_assert_uint_eq(result(5), want[5]);
    ck_assert_uint_eq(result(2), result(1));
}
END_TEST

/* NMI state is machine state: going back to any instruction from the first NMI on (inside
 * either handler, with the nested NMI pending and blocked, at the iret that unblocks it) and
 * running on ends exactly as the straight run. (Not before it: between the ICR write and the
 * end of its block, where the straight run takes the NMI, a run resumed from there takes it
 * at once; that holds for every interrupt a guest write makes pending, docs/ARCHITECTURE.md.) */
START_TEST(test_nmi_blocking_survives_going_back_to_every_instruction)
{
    machine_config c;
    machine_config_defaults(&c);
    c.snap_every = 5;
    ck_assert(tu_load_snippet_with(&m, "nmi_ipi", &c));
    uint64_t start = machine_insns(&m);
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    uint64_t end = machine_insns(&m), hash = machine_state_hash(&m);
    uint32_t want[6];
    for (int i = 0; i < 6; i++)
        want[i] = result(i);
    uint64_t first_nmi = 0;
    for (size_t i = 0; i < evlog_count(&m.log) && !first_nmi; i++)
        if (tu_event(&m.log, i)->kind == EV_EXCEPTION && tu_event(&m.log, i)->num == 2)
            first_nmi = tu_event(&m.log, i)->icount;
    ck_assert_uint_gt(first_nmi, start);
    for (uint64_t p = first_nmi; p < end; p++) {
        vm_error err = {0};
        ck_assert_msg(snap_goto(&m, p, &err), "%s", err.msg);
        ck_assert_int_eq(machine_run(&m), END_HALTED);
        ck_assert_uint_eq(machine_insns(&m), end);
        for (int i = 0; i < 6; i++)
            ck_assert_msg(result(i) == want[i], "result %d after going back to %llu", i, (unsigned long long)p);
        ck_assert_uint_eq(machine_state_hash(&m), hash);
    }
}
END_TEST

START_TEST(test_apicbase_global_disable_hides_the_apic_from_cpuid_and_mmio)
{
    ck_assert_int_eq(tu_run_snippet(&m, "apic_disable"), END_HALTED);
    ck_assert_uint_eq(result(6), 1);
    ck_assert_uint_eq(result(0) & (1u << 9), 0);   /* CPUID: no APIC */
    ck_assert_uint_eq(result(1), 0xFFFFFFFFu);     /* the page is open bus */
    ck_assert_uint_eq(result(2), 0xFEE00100u);     /* BSP, base, enable clear */
    ck_assert_uint_eq(result(3) & (1u << 9), 1u << 9);
    ck_assert_uint_eq(result(4), APIC_VERSION);
    ck_assert_uint_eq(result(5), 0);               /* the write while gone was lost */
}
END_TEST

/* pc-testdev's lines reach the IO-APIC (16-23 reach nothing else); an edge entry interrupts once
 * per rising edge, a level entry again after each EOI while its line stays high. */
START_TEST(test_ioapic_delivers_testdev_lines_edge_and_level_with_eoi_broadcast)
{
    ck_assert_int_eq(tu_run_snippet(&m, "ioapic_testdev"), END_HALTED);
    ck_assert_uint_eq(result(3), 1);
    ck_assert_uint_eq(result(0), 1);
    ck_assert_uint_eq(result(1), 2);
    ck_assert_uint_eq(result(2), 0); /* remote IRR clear: the last EOI found the line low */
}
END_TEST

static Suite *deliver_suite(void)
{
    Suite *s = suite_create("deliver");
    TCase *tc = tcase_create("idt");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_invalid_opcode_reaches_its_handler_with_a_fault_frame);
    tcase_add_test(tc, test_general_protection_fault_pushes_the_selector_error_code);
    tcase_add_test(tc, test_software_interrupts_save_the_next_instruction_and_trap_gates_keep_if);
    tcase_add_test(tc, test_repeated_faults_are_not_escalated_to_double_faults);
    tcase_add_test(tc, test_fault_while_delivering_a_fault_becomes_a_double_fault);
    tcase_add_test(tc, test_no_usable_idt_ends_in_a_triple_fault_that_reboots_with_a_message);
    tcase_add_test(tc, test_page_faults_report_cr2_and_error_code);
    tcase_add_test(tc, test_call_into_an_absent_page_raises_a_page_fault);
    tcase_add_test(tc, test_call_through_a_null_pointer_raises_a_page_fault);
    tcase_add_test(tc, test_fetch_faults_from_ring3_report_a_user_access);
    tcase_add_test(tc, test_fetch_faults_with_nx_paging_set_the_fetch_bit);
    tcase_add_test(tc, test_code_at_address_zero_runs_after_jmp_ret_and_call);
    tcase_add_test(tc, test_jmp_to_an_absent_page_zero_raises_a_page_fault);
    tcase_add_test(tc, test_stores_to_code_drop_its_translations);
    tcase_add_test(tc, test_system_call_from_ring3_switches_to_the_tss_stack);
    tcase_add_test(tc, test_sysenter_and_sysexit_switch_rings_through_the_msrs);
    tcase_add_test(tc, test_apic_base_msr_reads_the_enabled_bsp_apic_and_refuses_reserved_bits);
    tcase_add_test(tc, test_nmi_ipi_is_taken_with_if_clear_and_blocked_until_the_handlers_iret);
    tcase_add_test(tc, test_nmi_blocking_ends_at_the_same_instruction_when_stepped);
    tcase_add_test(tc, test_nmi_blocking_survives_going_back_to_every_instruction);
    tcase_add_test(tc, test_apicbase_global_disable_hides_the_apic_from_cpuid_and_mmio);
    tcase_add_test(tc, test_ioapic_delivers_testdev_lines_edge_and_level_with_eoi_broadcast);
    tcase_add_test(tc, test_apic_base_msr_accesses_count_one_instruction_each_when_stepped);
    tcase_add_test(tc, test_apic_base_msr_read_at_the_end_of_a_page_before_an_absent_one_is_answered);
    tcase_add_test(tc, test_set_pxe_long_clears_the_low_half_first_and_sets_the_high_half_first);
    tcase_add_test(tc, test_system_call_from_ring3_reaches_a_gdt_on_a_supervisor_page);
    tcase_add_test(tc, test_privileged_instruction_at_ring3_faults_to_ring0);
    tcase_add_test(tc, test_ring3_port_io_follows_the_tss_io_bitmap);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(deliver_suite)
