/* What the guest does that the machine cannot continue from, and unknown hardware: each ends
 * the run (or is logged) with a clear reason and an event, never a crash of the emulator.
 * At instruction 1000 the hello kernel has not loaded an IDT yet, so exceptions cannot be
 * delivered (delivery itself is tested in test_deliver.c). */
#include <check.h>
#include <string.h>

#include "rom/rom.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define CODE TU_SNIPPET_BASE

static machine m;

/* Boot hello a little, then point the CPU at `code` and run it to the end. */
static machine_end run_code(const uint8_t *code, size_t len)
{
    ck_assert(tu_load_code(&m, NULL, code, len));
    return machine_run(&m);
}

static void teardown(void) { machine_free(&m); }

static const vm_event *find(ev_kind kind)
{
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        if (tu_event(&m.log, i)->kind == kind)
            return tu_event(&m.log, i);
    return NULL;
}

START_TEST(test_unknown_ports_are_logged_and_read_all_ones)
{
    /* in al, 0x99; mov bl, al; mov al, 0x5a; out 0x98, al; hlt */
    const uint8_t code[] = {0xE4, 0x99, 0x88, 0xC3, 0xB0, 0x5A, 0xE6, 0x98, 0xF4};
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBX) & 0xFF, 0xFF);
    const vm_event *in = find(EV_PORT_IN), *out = find(EV_PORT_OUT);
    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(in->num, 0x99);
    ck_assert_uint_eq(in->eip, CODE);
    ck_assert_uint_eq(in->icount, 1000);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(out->num, 0x98);
    ck_assert_uint_eq(out->args[1], 0x5A);
    ck_assert_uint_eq(out->icount, 1003);
    ck_assert_ptr_nonnull(strstr(m.end_message, "halted"));
}
END_TEST

/* Without an IDT every exception ends in a triple fault, which resets a PC: END_REBOOT (these
 * three were END_CRASH before issue 14). */
START_TEST(test_invalid_opcode_before_the_guest_has_an_idt_is_a_triple_fault)
{
    const uint8_t code[] = {0x90, 0x90, 0x0F, 0x0B}; /* nop; nop; ud2 */
    ck_assert_int_eq(run_code(code, sizeof code), END_REBOOT);
    const vm_event *ex = find(EV_EXCEPTION);
    ck_assert_ptr_nonnull(ex);
    ck_assert_uint_eq(ex->num, 6);
    ck_assert_uint_eq(ex->eip, CODE + 2);
    ck_assert_uint_eq(ex->icount, 1002);
    ck_assert(ex->failed);
    ck_assert_ptr_nonnull(strstr(m.end_message, "triple fault"));
}
END_TEST

START_TEST(test_software_interrupt_before_the_guest_has_an_idt_resets)
{
    const uint8_t code[] = {0xCD, 0x80}; /* int 0x80 */
    ck_assert_int_eq(run_code(code, sizeof code), END_REBOOT);
    const vm_event *ex = find(EV_EXCEPTION);
    ck_assert_ptr_nonnull(ex);
    ck_assert_uint_eq(ex->num, 0x80);
    ck_assert_ptr_nonnull(strstr(m.end_message, "vector 128"));
}
END_TEST

START_TEST(test_general_protection_fault_without_an_idt_resets_after_vector_13)
{
    const uint8_t code[] = {0x66, 0xB8, 0x23, 0x00, 0x8E, 0xD8}; /* mov ax, 0x23; mov ds, ax */
    ck_assert_int_eq(run_code(code, sizeof code), END_REBOOT);
    const vm_event *ex = find(EV_EXCEPTION);
    ck_assert_ptr_nonnull(ex);
    ck_assert_uint_eq(ex->num, 13);
    ck_assert_uint_eq(ex->eip, CODE + 4);
}
END_TEST

START_TEST(test_memory_above_ram_is_an_open_bus_and_logged)
{
    /* mov eax, [0xF0000000]; mov [0xF0000010], eax; hlt */
    const uint8_t code[] = {0xA1, 0x00, 0x00, 0x00, 0xF0, 0xA3, 0x10, 0x00, 0x00, 0xF0, 0xF4};
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 0xFFFFFFFFu);
    const vm_event *ev = find(EV_MEMORY);
    ck_assert_ptr_nonnull(ev);
    ck_assert_uint_eq(ev->args[0], 0xF0000000u);
    ck_assert_uint_eq(ev->args[1], 'r');
    ck_assert_uint_eq(tu_event(&m.log, 1)->args[0], 0xF0000010u);
    ck_assert_uint_eq(tu_event(&m.log, 1)->args[1], 'w');
}
END_TEST

START_TEST(test_local_apic_page_answers_natively)
{
    const uint8_t code[] = {0xA1, 0x30, 0x00, 0xE0, 0xFE, 0xF4}; /* mov eax, [0xFEE00030]; hlt */
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    uint32_t version = 0;
    apic_read(&m.lapic, machine_cycles(&m), 0x30, &version);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), version);
    ck_assert_uint_ne(version, 0);
}
END_TEST

START_TEST(test_writing_the_rom_crashes_and_leaves_it_intact)
{
    const uint8_t code[] = {0xC6, 0x05, 0x00, 0x00, 0x0C, 0x00, 0x00}; /* mov byte [0xC0000], 0 */
    ck_assert_int_eq(run_code(code, sizeof code), END_CRASH);
    ck_assert_uint_eq(m.mem.ram[PHYS_ROM_BASE], 0x55);
    ck_assert_ptr_nonnull(strstr(m.end_message, "read-only"));
}
END_TEST

START_TEST(test_rdtsc_instruction_reads_the_exact_instruction_count)
{
    const uint8_t code[] = {0x90, 0x90, 0x90, 0x0F, 0x31, 0xF4}; /* nop x3; rdtsc; hlt */
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 1003);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX), 0);
}
END_TEST

START_TEST(test_cpuid_instruction_answers_the_machine_cpuid)
{
    const uint8_t code[] = {0x31, 0xC0, 0x0F, 0xA2, 0xF4}; /* xor eax, eax; cpuid; hlt */
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 1);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBX), 0x756e6547); /* "Genu" */
}
END_TEST

START_TEST(test_guest_call_into_the_rom_returns_to_the_caller_with_the_result)
{
    const uint8_t code[] = {0x90, 0xE8, 0, 0, 0, 0, 0xF4}; /* nop; call slot27; hlt */
    uint8_t patched[sizeof code];
    memcpy(patched, code, sizeof code);
    uint32_t target = PHYS_ROM_BASE + ROM_SLOT_BASE + 27 * ROM_SLOT_SIZE, next = CODE + 6;
    uint32_t rel = target - next;
    memcpy(patched + 2, &rel, 4);
    ck_assert_int_eq(run_code(patched, sizeof patched), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 1002);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), CODE + 7);
}
END_TEST

START_TEST(test_cpuid_reports_the_local_apic_linux_looks_for)
{
    const uint8_t code[] = {0x31, 0xC0, 0x40, 0x0F, 0xA2, 0xF4}; /* xor eax, eax; inc eax; cpuid; hlt */
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX) >> 8 & 0xF, 6); /* family 6: Linux's detect_init_APIC */
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EDX) & (1u << 9), 1u << 9);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBX) >> 24, 0); /* initial APIC ID = the APIC's ID */
}
END_TEST

/* mov ecx, 0x1b; rdmsr; mov esi, eax; rdtsc; hlt: the rdmsr counts as one instruction. */
START_TEST(test_rdmsr_of_the_apic_base_answers_0xfee00900)
{
    const uint8_t code[] = {0xB9, 0x1B, 0, 0, 0, 0x0F, 0x32, 0x89, 0xC6, 0x0F, 0x31, 0xF4};
    ck_assert_int_eq(run_code(code, sizeof code), END_HALTED);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_ESI), 0xFEE00900u);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EAX), 1003);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), CODE + sizeof code);
}
END_TEST

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("guest");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unknown_ports_are_logged_and_read_all_ones);
    tcase_add_test(tc, test_invalid_opcode_before_the_guest_has_an_idt_is_a_triple_fault);
    tcase_add_test(tc, test_software_interrupt_before_the_guest_has_an_idt_resets);
    tcase_add_test(tc, test_general_protection_fault_without_an_idt_resets_after_vector_13);
    tcase_add_test(tc, test_memory_above_ram_is_an_open_bus_and_logged);
    tcase_add_test(tc, test_local_apic_page_answers_natively);
    tcase_add_test(tc, test_writing_the_rom_crashes_and_leaves_it_intact);
    tcase_add_test(tc, test_rdtsc_instruction_reads_the_exact_instruction_count);
    tcase_add_test(tc, test_cpuid_instruction_answers_the_machine_cpuid);
    tcase_add_test(tc, test_cpuid_reports_the_local_apic_linux_looks_for);
    tcase_add_test(tc, test_rdmsr_of_the_apic_base_answers_0xfee00900);
    tcase_add_test(tc, test_guest_call_into_the_rom_returns_to_the_caller_with_the_result);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(faults_suite)
