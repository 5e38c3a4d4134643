/* The descriptor, control-register, flag and page-table calls, made by guest code through the
 * ROM (tests/guest/vmi_calls.asm), have the effects VMI.md gives them, and are logged. */
#include <check.h>
#include <string.h>

#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u

static machine m;

static void setup(void) { ck_assert_int_eq(tu_run_snippet(&m, "vmi_calls"), END_HALTED); }
static void teardown(void) { machine_free(&m); }

static uint32_t result(int i) { return phys_read32(&m.mem, RESULT + 4u * (uint32_t)i); }

static const vm_event *find_call(uint16_t num)
{
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        if (tu_event(&m.log, i)->kind == EV_VMI_CALL && tu_event(&m.log, i)->num == num)
            return tu_event(&m.log, i);
    return NULL;
}

START_TEST(test_snippet_ran_to_its_end)
{
    ck_assert_uint_eq(result(19), 0x600d);
    ck_assert_ptr_null(strstr(m.end_message, "crash"));
}
END_TEST

START_TEST(test_set_and_get_gdt_round_trip)
{
    ck_assert_uint_ge(result(0), TU_SNIPPET_BASE);
    vcpu_table_reg t;
    ck_assert(vcpu_get_table(m.cpu, CPU_GDTR, &t));
    ck_assert_uint_eq(t.base, result(0));
}
END_TEST

START_TEST(test_write_gdt_entry_makes_a_loadable_segment)
{
    ck_assert_uint_eq(result(1), 0xfeedface);
    const vm_event *ev = find_call(11);
    ck_assert_ptr_nonnull(ev);
    ck_assert_uint_eq(ev->args[1], 3);
    ck_assert_uint_eq(ev->args[2], 0x6000FFFF);
}
END_TEST

START_TEST(test_set_idt_loads_the_idt_register)
{
    ck_assert_uint_eq(result(2), 0x250000);
}
END_TEST

START_TEST(test_set_tr_and_update_kernel_stack_leaves_the_tss_to_the_guest)
{
    ck_assert_uint_eq(result(3), 0x20);
    ck_assert_uint_eq(result(4), 0); /* UpdateKernelStack left TSS.esp0 to the guest */
    const vm_event *ev = find_call(14);
    ck_assert(!ev->failed);
    ck_assert_uint_eq(ev->args[1], 0x2ABCD0); /* esp0 in the log */
    ck_assert_uint_eq(find_call(10)->result, 0x20);
}
END_TEST

START_TEST(test_control_register_calls)
{
    ck_assert_uint_eq(result(5) & 8, 0);          /* CLTS cleared TS */
    ck_assert_uint_eq(result(6), 0x12345000);     /* CR2 round trip */
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_CR3), 0x300000);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_CR0) & 0x80000000u, 0x80000000u);
}
END_TEST

START_TEST(test_interrupt_flag_calls_change_only_if)
{
    ck_assert_uint_eq(result(7) & 0x200, 0x200);
    ck_assert_uint_eq(result(8), 0xAAAA);
    ck_assert_uint_eq(result(9) & 0x200, 0);
    ck_assert_uint_eq(result(10) & 0x200, 0x200);
    ck_assert_uint_eq(find_call(31)->result & 0x200, 0);
}
END_TEST

START_TEST(test_set_iopl_mask_sets_iopl)
{
    ck_assert_uint_eq(result(11) & 0x3000, 0x3000);
}
END_TEST

START_TEST(test_paging_built_with_set_pxe_maps_the_high_alias)
{
    ck_assert_uint_eq(result(12), 0xfeedface);
    ck_assert_uint_eq(m.pt_pages[0x300], 0x42);
    ck_assert_uint_eq(m.pt_pages[0x301], 0x41);
    ck_assert_uint_eq(m.rom.pt_count, 2);
}
END_TEST

START_TEST(test_inval_page_and_flush_tlb_make_changes_visible)
{
    ck_assert_uint_eq(result(13), 0x7777);
    ck_assert_uint_eq(result(14), 0xfeedface);
}
END_TEST

START_TEST(test_linear_mapping_and_lazy_mode_are_recorded)
{
    ck_assert(m.rom.linear_maps[0].set);
    ck_assert_uint_eq(m.rom.linear_maps[0].linear, 0xC0000000u);
    ck_assert_uint_eq(m.rom.linear_maps[0].pages, 1024);
    ck_assert_uint_eq(m.rom.lazy_mode, 1);
}
END_TEST

START_TEST(test_rom_called_through_the_high_alias_answers_alias_addresses)
{
    ck_assert_uint_eq(result(15), 0xC00C0000u + 0x100 + 27 * 32);
    ck_assert_uint_eq(result(16) & 0xFF, 1);
    ck_assert_uint_gt(result(17), 1000); /* a TSC value: the call went through */
}
END_TEST

START_TEST(test_rom_called_through_an_alias_off_its_1_mib_window_is_still_a_call)
{
    ck_assert_uint_eq(result(20), 0x6000u + 0x100 + 27 * 32);
    ck_assert_uint_gt(result(21), result(17)); /* a later TSC value, not the 0 put in EAX */
}
END_TEST

START_TEST(test_debug_register_calls)
{
    ck_assert_uint_eq(result(18), 0x1000);
}
END_TEST

START_TEST(test_set_pxe_log_decodes_the_entry)
{
    const vm_event *ev = find_call(38);
    ck_assert_ptr_nonnull(ev);
    char text[512];
    ev_format_text(ev, 0, text, sizeof text);
    ck_assert_msg(strstr(text, "SetPxE(entry=0x00000003 [frame 0x00000000 P RW]"), "%s", text);
    ck_assert_msg(strstr(text, "flags=PT"), "%s", text);
}
END_TEST

START_TEST(test_write_gdt_entry_log_decodes_the_descriptor)
{
    char text[512];
    ev_format_text(find_call(11), 0, text, sizeof text);
    ck_assert_msg(strstr(text, "lo=0x6000ffff [base=0x00006000 limit=0x0000ffff type=0x2 dpl=3 data P 32]"), "%s", text);
}
END_TEST

static Suite *vmi_calls_suite(void)
{
    Suite *s = suite_create("vmi_calls");
    TCase *tc = tcase_create("guest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_snippet_ran_to_its_end);
    tcase_add_test(tc, test_set_and_get_gdt_round_trip);
    tcase_add_test(tc, test_write_gdt_entry_makes_a_loadable_segment);
    tcase_add_test(tc, test_set_idt_loads_the_idt_register);
    tcase_add_test(tc, test_set_tr_and_update_kernel_stack_leaves_the_tss_to_the_guest);
    tcase_add_test(tc, test_control_register_calls);
    tcase_add_test(tc, test_interrupt_flag_calls_change_only_if);
    tcase_add_test(tc, test_set_iopl_mask_sets_iopl);
    tcase_add_test(tc, test_paging_built_with_set_pxe_maps_the_high_alias);
    tcase_add_test(tc, test_inval_page_and_flush_tlb_make_changes_visible);
    tcase_add_test(tc, test_linear_mapping_and_lazy_mode_are_recorded);
    tcase_add_test(tc, test_rom_called_through_the_high_alias_answers_alias_addresses);
    tcase_add_test(tc, test_rom_called_through_an_alias_off_its_1_mib_window_is_still_a_call);
    tcase_add_test(tc, test_debug_register_calls);
    tcase_add_test(tc, test_set_pxe_log_decodes_the_entry);
    tcase_add_test(tc, test_write_gdt_entry_log_decodes_the_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(vmi_calls_suite)
