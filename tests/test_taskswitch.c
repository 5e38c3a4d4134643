/* Hardware task switches (lcall/ljmp to a TSS or task gate, iret with NT, task gates in the
 * IDT), 16-bit gates and real-mode interrupts through the IVT. Each scenario is a guest
 * snippet in tests/guest/ that stores what it saw at RESULT. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "emu/snapshot.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u

static machine m;

static void teardown(void) { machine_free(&m); }

static uint32_t result(int i) { return phys_read32(&m.mem, RESULT + 4u * (uint32_t)i); }

static void run(const char *name)
{
    machine_end e = tu_run_snippet(&m, name);
    ck_assert_msg(e == END_HALTED, "%s ended %d: %s", name, (int)e, m.end_message);
}

START_TEST(test_ljmp_to_a_tss_switches_tasks_and_ljmp_back_resumes_the_first)
{
    run("task_ljmp");
    ck_assert_uint_eq(result(0), 0x30);       /* TR in the new task */
    ck_assert_uint_eq(result(1), 0x5E5E5E5E); /* its registers come from its TSS */
    ck_assert_uint_eq(result(2) & 0x4000, 0); /* a jump does not nest: NT clear */
    ck_assert_uint_eq(result(3), 0x89);       /* the old TSS is available again */
    ck_assert_uint_eq(result(4), 0x8B);       /* the new one busy */
    ck_assert_uint_eq(result(5), 0x1234);     /* the old task's registers saved in its TSS */
    ck_assert_uint_eq(result(6), 0x1234);     /* ...and loaded again when it resumes */
    ck_assert_uint_eq(result(7), 0x28);
    ck_assert_uint_eq(result(8), 0x89);
    ck_assert_uint_eq(result(9), 0);          /* no back link written */
    ck_assert_uint_eq(result(10), 0xD0DE);
}
END_TEST

START_TEST(test_lcall_to_a_tss_nests_the_task_and_its_iret_returns_to_the_caller)
{
    run("task_lcall");
    ck_assert_uint_eq(result(0), 0x30);
    ck_assert_uint_eq(result(1) & 0x4000, 0x4000); /* NT: the task was called */
    ck_assert_uint_eq(result(2), 0x28);            /* back link to the caller */
    ck_assert_uint_eq(result(3), 0x8B);            /* both busy while nested */
    ck_assert_uint_eq(result(4), 0x8B);
    ck_assert_uint_eq(result(5), 0x1234);
    ck_assert_uint_eq(result(6) & 0x4000, 0);
    ck_assert_uint_eq(result(7), 0x89);            /* iret freed the called task */
    ck_assert_uint_eq(result(8), 0x8B);
    ck_assert_uint_eq(result(9), 2);               /* called again: resumed after its iret */
    ck_assert_uint_eq(result(10), 0xD0DE);
}
END_TEST

START_TEST(test_lcall_to_a_task_with_a_conforming_cs_below_its_rpl_runs_it_at_that_rpl)
{
    run("task_conforming");
    ck_assert_uint_eq(result(0), 0x5B); /* CPL 3 in a DPL 0 conforming segment */
    ck_assert_uint_eq(result(1), 0x23);
    ck_assert_uint_eq(result(2), 0xD0DE);
}
END_TEST

START_TEST(test_a_fault_through_an_idt_task_gate_runs_the_task_with_its_error_code_on_the_new_stack)
{
    run("task_gate_idt");
    ck_assert_uint_eq(result(0), 0x30);
    ck_assert_uint_eq(result(1) & 0x4000, 0x4000); /* called as by lcall: NT */
    ck_assert_uint_eq(result(2), 0x28);            /* back link */
    ck_assert_uint_eq(result(3), 0x8B);            /* the interrupted task stays busy */
    ck_assert_uint_eq(result(4), 0x60);            /* #GP's error code: the selector */
    ck_assert_uint_eq(result(5), 0x290000 - 4);    /* pushed on B's stack from its TSS */
}
END_TEST

START_TEST(test_iret_from_an_idt_task_returns_to_the_faulting_instruction)
{
    run("task_gate_idt");
    ck_assert_uint_eq(result(6), 0x10); /* the retried mov ds ran with the EAX B gave A */
    ck_assert_uint_eq(result(7), 0x10);
    ck_assert_uint_eq(result(8) & 0x4000, 0);
    ck_assert_uint_eq(result(9), 0x89);
}
END_TEST

START_TEST(test_int_through_an_idt_task_gate_resumes_after_the_int)
{
    run("task_gate_idt");
    uint32_t saved = result(10);
    ck_assert_uint_eq(m.mem.ram[saved - 2], 0xCD); /* A's saved EIP follows its int 0x40 */
    ck_assert_uint_eq(m.mem.ram[saved - 1], 0x40);
    ck_assert_uint_eq(result(11), 0xD0DE);
}
END_TEST

START_TEST(test_an_idt_task_gate_switches_to_a_16_bit_tss)
{
    run("task_gate_idt16");
    ck_assert_uint_eq(result(0), 0x58);            /* TR: task C */
    ck_assert_uint_eq(result(1) & 0x4000, 0x4000); /* NT */
    ck_assert_uint_eq(result(2), 0x28);            /* back link A */
    ck_assert_uint_eq(result(3), 0x60);            /* #GP's error code, a word */
    ck_assert_uint_eq(result(4), 0x8000 - 2);      /* on C's stack, SP from its TSS */
    ck_assert_uint_eq(result(5), 0xFFFF0000u);     /* BX 0 from the TSS, its high half 0xFFFF */
    ck_assert_uint_eq(result(6), 0x8B);            /* A busy while C runs */
    ck_assert_uint_eq(result(7), 0xFFFF1234u);     /* AX from the TSS */
}
END_TEST

START_TEST(test_an_idt_task_gate_leaves_a_16_bit_task_and_iret_returns_to_it)
{
    run("task_gate_idt16");
    ck_assert_uint_eq(result(8), 0x58);         /* B's back link: 16-bit task C */
    ck_assert_uint_eq(result(9), 0x83);         /* C busy, a 16-bit TSS */
    ck_assert_uint_eq(result(10), result(15));  /* C's IP saved in its 16-bit TSS: after the int */
    ck_assert_uint_eq(result(11), 0x7777);      /* C's BX back from its TSS after B's iret */
    ck_assert_uint_eq(result(12), 0x28);        /* C's iret back to A */
    ck_assert_uint_eq(result(13), 0x10);        /* A retried its mov ds with the EAX C gave it */
    ck_assert_uint_eq(result(14), 0x81);        /* C available again */
}
END_TEST

START_TEST(test_lcall_through_a_tss_or_task_gate_into_and_out_of_16_bit_tasks_nests_them)
{
    run("task16_chain");
    ck_assert_uint_eq(result(0), 0x58);            /* A -> C by lcall to the 16-bit TSS */
    ck_assert_uint_eq(result(1) & 0x4000, 0x4000); /* NT */
    ck_assert_uint_eq(result(2), 0x28);            /* back link A */
    ck_assert_uint_eq(result(3), 0x8B);            /* A busy */
    ck_assert_uint_eq(result(4) & 8, 8);           /* CR0.TS (A had cleared it) */
    ck_assert_uint_eq(result(5), 0x30);            /* C -> B through the task gate */
    ck_assert_uint_eq(result(6), 0x58);            /* B's back link: the 16-bit task */
    ck_assert_uint_eq(result(7), 0x83);            /* C busy, a 16-bit TSS */
    ck_assert_uint_eq(result(10), 0x50);           /* C -> D, 16-bit to 16-bit */
    ck_assert_uint_eq(result(11), 0x58);
    ck_assert_uint_eq(result(12), 0x04);           /* D's DS: an LDT selector */
    ck_assert_uint_eq(result(13), 0x1234);         /* ...read through D's LDT */
}
END_TEST

/* A far pointer in memory outside its segment: #GP(0), no switch; inside it, the switch,
 * which clears DR7's local enables; the new task halts in a code segment with a base. */
START_TEST(test_a_far_pointer_past_its_segment_limit_faults_before_a_16_bit_task_switch)
{
    run("task16_farptr_dr7");
    ck_assert_uint_eq(result(0), 1); /* ljmp m16:32 ending past the limit */
    ck_assert_uint_eq(result(1), 2); /* lcall m16:16 ending past it */
    ck_assert_uint_eq(result(2), 0); /* #GP(0) */
    ck_assert_uint_eq(result(3), 0x28); /* still task A */
    ck_assert_uint_eq(result(4), 0x58); /* the pointer inside the limit switched to C */
    ck_assert_uint_eq(result(5), 1);
    ck_assert_uint_eq(result(6) & 0x1FF, 0x102); /* L0-L3 cleared, G0 and LE kept */
}
END_TEST

START_TEST(test_iret_from_and_to_16_bit_tasks_returns_to_the_caller_with_its_registers)
{
    run("task16_chain");
    ck_assert_uint_eq(result(8), 0x5A5A);      /* B's iret back to C: C's BX from its TSS */
    ck_assert_uint_eq(result(9), 0x89);        /* B available again */
    ck_assert_uint_eq(result(14), 0);          /* D's iret back to C: C's LDT (none) */
    ck_assert_uint_eq(result(15), 0x81);       /* D available again */
    ck_assert_uint_eq(result(16), 0x28);       /* C's iret back to A */
    ck_assert_uint_eq(result(17) & 0x4000, 0); /* NT clear in A */
    ck_assert_uint_eq(result(18), 0x81);       /* C available again */
    ck_assert_uint_eq(result(19), result(20)); /* C's IP saved in its 16-bit TSS: after its iret */
    ck_assert_uint_eq(result(21), 0xCAFEF00D); /* nothing written past C's 44-byte TSS */
}
END_TEST

START_TEST(test_ljmp_through_memory_into_and_out_of_a_16_bit_task_does_not_nest)
{
    run("task16_chain");
    ck_assert_uint_eq(result(22), 0x58);       /* A -> C by ljmp m16:32 */
    ck_assert_uint_eq(result(23) & 0x4000, 0); /* NT clear */
    ck_assert_uint_eq(result(24), 0x89);       /* A available: a jump frees the task it leaves */
    ck_assert_uint_eq(result(25), 0xA0A0A0A0); /* C -> A by ljmp m16:16: A's EBX from its TSS */
    ck_assert_uint_eq(result(26), 0x28);
    ck_assert_uint_eq(result(27), 0x81);       /* C available */
    ck_assert_uint_eq(result(28), 0xD0DE);
}
END_TEST

START_TEST(test_a_16_bit_interrupt_gate_pushes_a_frame_of_words_and_clears_if)
{
    run("gate16");
    ck_assert_uint_eq(result(0), result(4) - 6); /* ESP moved by three words */
    ck_assert_uint_eq(result(1), result(6) & 0xFFFF); /* IP: the low half of the return address */
    ck_assert_uint_eq(result(2), 0x08);
    ck_assert_uint_eq(result(3) & 0x200, 0x200);      /* FLAGS had IF */
    ck_assert_uint_eq(result(5) & 0x200, 0);          /* an interrupt gate clears it */
}
END_TEST

START_TEST(test_real_mode_int_goes_through_the_ivt_and_iret_returns)
{
    run("realmode_ivt");
    ck_assert_uint_eq(result(0), result(7));     /* IP pushed: after the int */
    ck_assert_uint_eq(result(1), 0);             /* CS */
    ck_assert_uint_eq(result(2) & 0x200, 0x200); /* FLAGS had IF */
    ck_assert_uint_eq(result(3) & 0x200, 0);     /* cleared for the handler */
    ck_assert_uint_eq(result(4), 0x7000);        /* iret popped the three words */
}
END_TEST

START_TEST(test_a_real_mode_exception_goes_through_the_ivt_with_the_faulting_ip)
{
    run("realmode_ivt");
    ck_assert_uint_eq(result(6), result(8)); /* #DE saves the div's own IP, no error code */
    ck_assert_uint_eq(result(5), 0xD0DE);    /* the handler skipped it and returned */
}
END_TEST

START_TEST(test_a_multiboot_kernel_finds_the_pic_ivt_and_timer_a_bios_leaves)
{
    run("bios_timer");
    ck_assert_uint_eq(result(0), 0xB8);                    /* master: IRQ 0, 1, 2, 6 open */
    ck_assert_uint_eq(result(1), 0x8E);                    /* slave: IRQ 8, 12, 13, 14 open */
    ck_assert_uint_eq(result(2) >> 16, 0xF000);            /* IVT[8]: the BIOS area */
    ck_assert_uint_eq(phys_read32(&m.mem, (result(2) >> 16) * 16 + (result(2) & 0xFFFF)) & 0xFF, 0x50);
    ck_assert_uint_eq(result(5) >> 16, 0xF000);            /* IVT[0x72] too */
    ck_assert_uint_eq(result(3), 0xA11CE);                 /* sti; hlt was woken (IRQ 0) */
    ck_assert_uint_eq(result(4), 0);                       /* and its handler sent the EOI */
}
END_TEST

/* Run `name` to its end, then go back to each of its last 120 instruction counts and run to the end
 * again: the same results and the same end, whether the switches run in whole blocks or are
 * reached by exact stepping from a snapshot. */
static void assert_same_from_every_count(const char *name)
{
    vm_error err = {0};
    ck_assert(tu_load_snippet(&m, name));
    snap_disable(&m);
    ck_assert_msg(snap_enable(&m, 50, &err), "%s", err.msg);
    ck_assert_msg(snap_take(&m, &err), "%s", err.msg);
    uint64_t start = machine_insns(&m);
    ck_assert_int_eq(machine_run(&m), END_HALTED);
    uint64_t end = machine_insns(&m);
    uint32_t want[12];
    for (int i = 0; i < 12; i++)
        want[i] = result(i);
    for (uint64_t n = end - 120 > start ? end - 120 : start; n < end; n++) { /* past the page-table loop */
        ck_assert_msg(snap_goto(&m, n, &err), "%s", err.msg);
        ck_assert_uint_eq(machine_insns(&m), n);
        ck_assert_int_eq(machine_run(&m), END_HALTED);
        ck_assert_msg(machine_insns(&m) == end, "%s from %llu: ends at %llu, not %llu", name, (unsigned long long)n, (unsigned long long)machine_insns(&m), (unsigned long long)end);
        for (int i = 0; i < 12; i++)
            ck_assert_msg(result(i) == want[i], "%s from %llu: result %d is 0x%x, not 0x%x", name,
                          (unsigned long long)n, i, result(i), want[i]);
    }
}

START_TEST(test_going_back_to_any_count_around_lcall_and_iret_switches_gives_the_same_run)
{
    assert_same_from_every_count("task_lcall");
}
END_TEST

START_TEST(test_going_back_to_any_count_around_a_finished_conforming_switch_gives_the_same_run)
{
    assert_same_from_every_count("task_conforming");
}
END_TEST

START_TEST(test_going_back_to_any_count_around_a_refused_far_pointer_and_dr7_gives_the_same_run)
{
    assert_same_from_every_count("task16_farptr_dr7");
}
END_TEST

START_TEST(test_going_back_to_any_count_around_idt_task_switches_gives_the_same_run)
{
    assert_same_from_every_count("task_gate_idt");
}
END_TEST

START_TEST(test_going_back_to_any_count_around_16_bit_task_switches_gives_the_same_run)
{
    assert_same_from_every_count("task16_chain");
}
END_TEST

static Suite *taskswitch_suite(void)
{
    Suite *s = suite_create("taskswitch");
    TCase *tc = tcase_create("tasks");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ljmp_to_a_tss_switches_tasks_and_ljmp_back_resumes_the_first);
    tcase_add_test(tc, test_lcall_to_a_tss_nests_the_task_and_its_iret_returns_to_the_caller);
    tcase_add_test(tc, test_lcall_to_a_task_with_a_conforming_cs_below_its_rpl_runs_it_at_that_rpl);
    tcase_add_test(tc, test_a_fault_through_an_idt_task_gate_runs_the_task_with_its_error_code_on_the_new_stack);
    tcase_add_test(tc, test_iret_from_an_idt_task_returns_to_the_faulting_instruction);
    tcase_add_test(tc, test_int_through_an_idt_task_gate_resumes_after_the_int);
    tcase_add_test(tc, test_an_idt_task_gate_switches_to_a_16_bit_tss);
    tcase_add_test(tc, test_an_idt_task_gate_leaves_a_16_bit_task_and_iret_returns_to_it);
    tcase_add_test(tc, test_lcall_through_a_tss_or_task_gate_into_and_out_of_16_bit_tasks_nests_them);
    tcase_add_test(tc, test_iret_from_and_to_16_bit_tasks_returns_to_the_caller_with_its_registers);
    tcase_add_test(tc, test_ljmp_through_memory_into_and_out_of_a_16_bit_task_does_not_nest);
    tcase_add_test(tc, test_a_16_bit_interrupt_gate_pushes_a_frame_of_words_and_clears_if);
    tcase_add_test(tc, test_real_mode_int_goes_through_the_ivt_and_iret_returns);
    tcase_add_test(tc, test_a_real_mode_exception_goes_through_the_ivt_with_the_faulting_ip);
    tcase_add_test(tc, test_a_multiboot_kernel_finds_the_pic_ivt_and_timer_a_bios_leaves);
    tcase_add_test(tc, test_going_back_to_any_count_around_lcall_and_iret_switches_gives_the_same_run);
    tcase_add_test(tc, test_going_back_to_any_count_around_idt_task_switches_gives_the_same_run);
    tcase_add_test(tc, test_going_back_to_any_count_around_a_finished_conforming_switch_gives_the_same_run);
    tcase_add_test(tc, test_going_back_to_any_count_around_16_bit_task_switches_gives_the_same_run);
    tcase_add_test(tc, test_a_far_pointer_past_its_segment_limit_faults_before_a_16_bit_task_switch);
    tcase_add_test(tc, test_going_back_to_any_count_around_a_refused_far_pointer_and_dr7_gives_the_same_run);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(taskswitch_suite)
