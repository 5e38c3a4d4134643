/* A hostile guest's VMI arguments: each bad call is refused (logged as failed, or a fault the
 * guest sees) and the emulator carries on to the guest's own end of the run. */
#include <check.h>
#include <string.h>

#include "rom/rom.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u

static machine m;

static void setup(void) { ck_assert_int_eq(tu_run_snippet(&m, "hostile"), END_HALTED); }
static void teardown(void) { machine_free(&m); }

static uint32_t result(int i) { return phys_read32(&m.mem, RESULT + 4u * (uint32_t)i); }

/* The n-th logged call with this number (0-based), or NULL. */
static const vm_event *call(uint16_t num, int n)
{
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        if (tu_event(&m.log, i)->kind == EV_VMI_CALL && tu_event(&m.log, i)->num == num && n-- == 0)
            return tu_event(&m.log, i);
    return NULL;
}

static void assert_failed(uint16_t num, int n)
{
    const vm_event *ev = call(num, n);
    ck_assert_msg(ev != NULL, "call %u #%d not logged", num, n);
    ck_assert_msg(ev->failed, "call %s #%d not marked failed", rom_call_find(num)->name, n);
}

START_TEST(test_the_guest_reaches_its_own_end)
{
    ck_assert_uint_eq(result(3), 0x600d);
    ck_assert_uint_eq(result(4), 0); /* no #GP on the way */
}
END_TEST

START_TEST(test_time_calls_refuse_unknown_counters)
{
    assert_failed(67, 0);
    assert_failed(68, 0);
    ck_assert_uint_eq(result(0), 0);
}
END_TEST

START_TEST(test_periodic_alarm_with_period_zero_fires_once)
{
    const vm_event *ev = call(68, 1);
    ck_assert_ptr_nonnull(ev);
    ck_assert(!ev->failed);
    ck_assert_uint_eq(m.alarms.a[0].fired, 1);
    ck_assert(!m.alarms.a[0].armed);
}
END_TEST

START_TEST(test_page_calls_refuse_frames_outside_ram_and_bad_flags)
{
    assert_failed(44, 0);
    assert_failed(44, 1);
    assert_failed(45, 1);
    ck_assert_uint_eq(m.rom.pt_count, 0);
}
END_TEST

/* Early page tables are never announced, and a HIGHMEM Linux releases one of head_32.S's. */
START_TEST(test_release_of_a_page_never_allocated_is_accepted)
{
    const vm_event *ev = call(45, 0);
    ck_assert_ptr_nonnull(ev);
    ck_assert(!ev->failed);
    ck_assert_uint_eq(ev->args[0], 0x123);
    ck_assert_uint_eq(m.rom.pt_count, 0);
}
END_TEST

START_TEST(test_mapping_mode_apic_and_debug_calls_refuse_nonsense)
{
    assert_failed(48, 0);
    assert_failed(73, 0);
    assert_failed(63, 0);
    assert_failed(64, 0);
    assert_failed(25, 0);
    ck_assert(!m.rom.linear_maps[0].set);
    ck_assert_uint_eq(m.rom.lazy_mode, 0);
}
END_TEST

/* Linux makes its first UpdateKernelStack before it loads TR: accepted, and TR.base + 4 (here
 * physical 4: the reset TR has base 0) is not written. */
START_TEST(test_kernel_stack_before_a_task_register_is_accepted_and_writes_nothing)
{
    const vm_event *ev = call(14, 0);
    ck_assert_ptr_nonnull(ev);
    ck_assert(!ev->failed);
    ck_assert_uint_eq(ev->args[1], 0x1234); /* esp0, for the log */
    ck_assert_uint_ne(phys_read32(&m.mem, 4), 0x1234);
}
END_TEST

START_TEST(test_wrapping_descriptor_table_address_fails)
{
    assert_failed(11, 0);
}
END_TEST

START_TEST(test_rom_chained_through_return_addresses_still_works)
{
    ck_assert_ptr_nonnull(call(65, 0));
    const vm_event *tsc = call(27, 0);
    ck_assert_ptr_nonnull(tsc);
    ck_assert_uint_eq(result(1), (uint32_t)tsc->result);
}
END_TEST

START_TEST(test_set_pxe_through_an_unmapped_pointer_is_a_guest_page_fault)
{
    assert_failed(38, 0);
    ck_assert_uint_eq(result(2), 0x40000000u);
    const vm_event *last = tu_last_event(&m.log, EV_EXCEPTION);
    ck_assert_uint_eq(last->num, 14);
}
END_TEST

START_TEST(test_descriptor_table_from_the_open_bus_is_logged)
{
    size_t reads = 0;
    for (size_t i = 0; i < evlog_count(&m.log); i++)
        reads += tu_event(&m.log, i)->kind == EV_MEMORY && tu_event(&m.log, i)->args[0] >= 0xF0000000u;
    ck_assert_uint_ge(reads, 1); /* lgdt read its 6 bytes from the open bus */
    assert_failed(62, 0);        /* the host does not read AP state from I/O space */
    ck_assert(!m.rom.ap_state_set);
}
END_TEST

/* Markers whose name pointer is MMIO, the VGA windows, the ROM, unterminated at the end of RAM,
 * past RAM or wrapping, odd-sized writes and a flood: logged (or ignored), never fatal, and no
 * device read: the APIC, IO-APIC and HPET keep their state. */
START_TEST(test_hostile_marker_pointers_are_logged_and_harmless)
{
    machine mm;
    ck_assert(tu_load_snippet(&mm, "marker_hostile"));
    ck_assert(phys_write(&mm.mem, mm.mem.size - 8, "ABCDEFGH", 8)); /* no NUL up to the end of RAM */
    ck_assert_int_eq(machine_run(&mm), END_HALTED);
    ck_assert_uint_eq(phys_read32(&mm.mem, RESULT), 0x600d);
    size_t markers = 0;
    bool end_of_ram = false;
    for (size_t i = 0; i < evlog_count(&mm.log); i++) {
        const vm_event *ev = tu_event(&mm.log, i);
        if (ev->kind != EV_MARKER)
            continue;
        markers++;
        char name[EV_MARKER_NAME_MAX + 1];
        ev_marker_name(ev, name);
        if (!strcmp(name, "ABCDEFGH"))
            end_of_ram = true;
    }
    ck_assert_msg(end_of_ram, "the name at the end of RAM is not cut there");
    ck_assert_uint_eq(markers, 5000 + 13); /* the 32-bit writes to 0x4F8 only */
    machine_free(&mm);
}
END_TEST

/* 8- and 16-bit writes to the marker port, and writes to its other three bytes, are no markers:
 * each is logged as a write to an unknown port, with its size and value. */
START_TEST(test_odd_sized_marker_writes_are_logged_as_unknown_port_writes)
{
    machine mm;
    ck_assert(tu_load_snippet(&mm, "marker_hostile"));
    ck_assert_int_eq(machine_run(&mm), END_HALTED);
    uint32_t seen[4][2];
    size_t n = 0;
    for (size_t i = 0; i < evlog_count(&mm.log); i++) {
        const vm_event *ev = tu_event(&mm.log, i);
        if (ev->kind == EV_PORT_OUT && ev->num >= 0x4F8 && ev->num <= 0x4FB) {
            ck_assert_uint_lt(n, 4);
            seen[n][0] = ev->num;
            seen[n][1] = ev->args[0];
            n++;
        }
    }
    ck_assert_uint_eq(n, 4);
    const uint32_t want[4][2] = {{0x4F8, 1}, {0x4F8, 2}, {0x4F9, 1}, {0x4FB, 4}};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(seen[i][0], want[i][0]);
        ck_assert_uint_eq(seen[i][1], want[i][1]);
    }
    machine_free(&mm);
}
END_TEST

/* The VGA's and the i8042's registers written and read with any index and value: the run
 * goes on to the guest's hlt (no reset, no crash), and a screenshot of whatever the registers
 * now say can still be drawn. */
START_TEST(test_vga_and_keyboard_controller_hammered_with_any_value_keep_running)
{
    machine mm;
    ck_assert(tu_load_snippet(&mm, "device_hammer"));
    ck_assert_int_eq(machine_run(&mm), END_HALTED);
    ck_assert_uint_eq(phys_read32(&mm.mem, RESULT), 0x600d);
    static uint32_t rgb[VGA_WIDTH * VGA_HEIGHT];
    machine_render_screen(&mm, true, rgb);
    machine_render_screen(&mm, false, rgb);
    machine_free(&mm);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("guest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_the_guest_reaches_its_own_end);
    tcase_add_test(tc, test_time_calls_refuse_unknown_counters);
    tcase_add_test(tc, test_periodic_alarm_with_period_zero_fires_once);
    tcase_add_test(tc, test_page_calls_refuse_frames_outside_ram_and_bad_flags);
    tcase_add_test(tc, test_release_of_a_page_never_allocated_is_accepted);
    tcase_add_test(tc, test_mapping_mode_apic_and_debug_calls_refuse_nonsense);
    tcase_add_test(tc, test_kernel_stack_before_a_task_register_is_accepted_and_writes_nothing);
    tcase_add_test(tc, test_wrapping_descriptor_table_address_fails);
    tcase_add_test(tc, test_rom_chained_through_return_addresses_still_works);
    tcase_add_test(tc, test_set_pxe_through_an_unmapped_pointer_is_a_guest_page_fault);
    tcase_add_test(tc, test_descriptor_table_from_the_open_bus_is_logged);
    suite_add_tcase(s, tc);
    TCase *dev = tcase_create("devices");
    tcase_set_timeout(dev, 60);
    tcase_add_test(dev, test_hostile_marker_pointers_are_logged_and_harmless);
    tcase_add_test(dev, test_odd_sized_marker_writes_are_logged_as_unknown_port_writes);
    tcase_add_test(dev, test_vga_and_keyboard_controller_hammered_with_any_value_keep_running);
    suite_add_tcase(s, dev);
    return s;
}

SUITE_MAIN(hostile_suite)
