/* The device contract (emu/device.h): the machine knows its devices only through the table,
 * so the table itself must be consistent, and timers must reach the machine through it. */
#include <check.h>
#include <string.h>

#include "emu/device.h"
#include "emu/machine.h"
#include "support/suite_main.h"

static machine M; /* a machine without CPU or RAM: the devices need only its state and clock */

static void power_on_devices(machine *m)
{
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        if (d->init)
            d->init(m);
        else if (d->reset)
            d->reset(m);
    }
}

static void setup(void)
{
    memset(&M, 0, sizeof M);
    machine_config_defaults(&M.cfg);
    power_on_devices(&M);
}

static void port_out(uint16_t port, uint32_t value)
{
    const device_ports *r = device_find_port(port, NULL);
    ck_assert_ptr_nonnull(r);
    r->write(&M, port, 1, value);
}

static uint64_t device_digest(const device *d)
{
    state_writer w;
    state_writer_init(&w, NULL, 0);
    d->serialise(&M, &w);
    return state_writer_finish(&w);
}

START_TEST(test_no_two_devices_claim_the_same_port)
{
    char why[128] = "";
    ck_assert_msg(device_table_check(why, sizeof why), "%s", why);
    for (unsigned port = 0; port < 0x10000; port++) {
        int claims = 0;
        for (size_t i = 0; i < machine_device_count; i++) {
            const device *d = machine_devices[i];
            for (int r = 0; r < DEVICE_MAX_PORTS && d->ports[r].len; r++)
                claims += (uint16_t)(port - d->ports[r].base) < d->ports[r].len;
        }
        ck_assert_msg(claims <= 1, "port 0x%x is claimed %d times", port, claims);
    }
}
END_TEST

START_TEST(test_every_port_range_and_mmio_range_has_both_handlers)
{
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        ck_assert_ptr_nonnull(d->name);
        for (int r = 0; r < DEVICE_MAX_PORTS && d->ports[r].len; r++)
            ck_assert_msg(d->ports[r].read && d->ports[r].write, "%s: a port range lacks a handler", d->name);
        ck_assert_msg(!d->mmio.size || (d->mmio.read && d->mmio.write), "%s: its MMIO lacks a handler", d->name);
        ck_assert_msg(!d->irq_pending == !d->irq_acknowledge, "%s: half an interrupt source", d->name);
        ck_assert_msg(!d->next_event == !d->advance, "%s: a timer without advance, or the reverse", d->name);
    }
}
END_TEST

/* Whatever state a device was left in, its power-on writes every field it serialises. */
START_TEST(test_every_device_powers_on_to_the_same_serialised_state_twice)
{
    uint64_t first[64];
    ck_assert_uint_le(machine_device_count, 64);
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->serialise)
            first[i] = device_digest(machine_devices[i]);
    memset(&M.state, 0x5A, sizeof M.state);
    power_on_devices(&M);
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->serialise)
            ck_assert_msg(device_digest(machine_devices[i]) == first[i], "%s powers on to another state",
                          machine_devices[i]->name);
}
END_TEST

/* The same for a reboot, for the devices a reboot resets. */
START_TEST(test_every_device_a_reboot_resets_resets_to_the_same_serialised_state_twice)
{
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        if (!d->reset || !d->serialise)
            continue;
        memset(&M.state, 0x5A, sizeof M.state);
        d->reset(&M);
        uint64_t h = device_digest(d);
        memset(&M.state, 0xA5, sizeof M.state);
        d->reset(&M);
        ck_assert_msg(device_digest(d) == h, "%s resets to another state", d->name);
    }
}
END_TEST

/* Only the writes that can change what gets delivered make the CPU stop and re-plan: the PICs
 * and their ELCR, the PIT and its gate, the keyboard controller (its command byte enables IRQ
 * 1/12, its replies raise them), pc-testdev's interrupt lines. (The UART asks for a re-plan
 * itself when a write raises its line.) */
START_TEST(test_only_interrupt_relevant_ports_are_flagged_to_replan)
{
    for (unsigned port = 0; port < 0x10000; port++) {
        const device_ports *r = device_find_port((uint16_t)port, NULL);
        bool want = (port >= 0x20 && port <= 0x21) || (port >= 0xA0 && port <= 0xA1) ||
                    (port >= 0x40 && port <= 0x43) || port == 0x61 || port == 0x4D0 || port == 0x4D1 ||
                    port == 0x60 || port == 0x64 || (port >= 0x2000 && port <= 0x2017); /* pc-testdev's lines */
        ck_assert_msg((r && r->affects_interrupts) == want, "port 0x%x", port);
    }
}
END_TEST

/* The PIC's two ranges reach its two chips: 0x21 the master's mask, 0xA1 the slave's. */
START_TEST(test_the_pic_ports_reach_master_and_slave)
{
    const device *owner = NULL;
    ck_assert_ptr_nonnull(device_find_port(0xA1, &owner));
    ck_assert_str_eq(owner->name, "pic");
    port_out(0xA1, 0x5A);
    port_out(0x21, 0xF0);
    ck_assert_uint_eq(M.pic.chip[PIC_SLAVE].imr, 0x5A);
    ck_assert_uint_eq(M.pic.chip[PIC_MASTER].imr, 0xF0);
    ck_assert_uint_eq(device_find_port(0xA1, NULL)->read(&M, 0xA1, 1), 0x5A);
    ck_assert_ptr_null(device_find_port(0xA2, NULL));
}
END_TEST

START_TEST(test_a_port_nobody_claims_finds_no_device)
{
    const device *owner = NULL;
    ck_assert_ptr_null(device_find_port(0x3F0, &owner));
    ck_assert_ptr_nonnull(device_find_port(0x3F8, &owner));
    ck_assert_str_eq(owner->name, "com1");
}
END_TEST

/* At power-on only the PIT's channel 0 runs (18.2 Hz, as the BIOS leaves it). */
START_TEST(test_at_power_on_the_next_event_is_the_pits)
{
    ck_assert_uint_ne(pit_next_event(&M.pit), UINT64_MAX);
    ck_assert_uint_eq(machine_next_event(&M), pit_next_event(&M.pit));
}
END_TEST

/* A PIT count written through the table's ports becomes the machine's next event, and
 * advancing the machine to it raises IRQ 0 at the PIC. */
START_TEST(test_a_pit_count_written_through_the_table_is_the_next_event_and_raises_irq0)
{
    port_out(0x21, 0xFE); /* unmask IRQ 0 only */
    port_out(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    port_out(0x40, 100);
    port_out(0x40, 0);
    uint64_t next = machine_next_event(&M);
    ck_assert_uint_ne(next, UINT64_MAX);
    ck_assert_uint_eq(next, pit_next_event(&M.pit));
    ck_assert(!pic_has_interrupt(&M.pic));
    M.idle_cycles = next - 1;
    machine_fire_due(&M);
    ck_assert(!pic_has_interrupt(&M.pic));
    M.idle_cycles = next;
    machine_fire_due(&M);
    ck_assert(pic_has_interrupt(&M.pic));
    ck_assert_uint_gt(machine_next_event(&M), next); /* periodic: the next period is planned */
}
END_TEST

/* A VMI alarm (no ports at all) drives the next event through the table too, before the PIT's. */
START_TEST(test_an_armed_alarm_is_the_next_event)
{
    ck_assert(alarms_set(&M.alarms, 0, 5000, 0));
    ck_assert_uint_eq(machine_next_event(&M), 5000);
    ck_assert_uint_gt(pit_next_event(&M.pit), 5000);
    M.idle_cycles = 5000;
    machine_fire_due(&M);
    ck_assert_uint_eq(M.alarms.a[0].fired, 1);
    ck_assert_uint_eq(machine_next_event(&M), pit_next_event(&M.pit)); /* the one-shot is spent */
}
END_TEST

/* Above RAM: the IO-APIC, the HPET, the local APIC and pc-testdev's RAM window, each once. */
START_TEST(test_mmio_ranges_are_the_ioapic_hpet_lapic_and_testdev_window)
{
    static const struct { const char *name; uint64_t base; } want[] = {
        {"lapic", 0xFEE00000}, {"ioapic", 0xFEC00000}, {"pc-testdev", 0xFF000000}, {"hpet", 0xFED00000}};
    size_t n = 0;
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        if (!d->mmio.size)
            continue;
        ck_assert_uint_lt(n, sizeof want / sizeof want[0]);
        ck_assert_str_eq(d->name, want[n].name);
        ck_assert_uint_eq(d->mmio.base, want[n].base);
        ck_assert_uint_eq(d->mmio.base & 0xFFF, 0); /* whole pages: Unicorn maps no less */
        ck_assert_uint_eq(d->mmio.size & 0xFFF, 0);
        n++;
    }
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
}
END_TEST

/* ISA IRQ 0 (the PIT) reaches the IO-APIC's pin 2, as the MADT's override says: routed there,
 * the PIT's tick becomes a local APIC vector with the PIC masked. */
START_TEST(test_the_pit_reaches_ioapic_pin_2)
{
    port_out(0x21, 0xFF); /* PIC: all masked */
    ck_assert_int_eq(apic_write(&M.lapic, 0, APIC_SVR, 0x1FF), APIC_OK);
    ioapic_write(&M.ioapic, &M.lapic, 0x00, 0x10 + 2 * 2);
    ioapic_write(&M.ioapic, &M.lapic, 0x10, 0x30); /* pin 2: edge, vector 0x30 */
    port_out(0x43, 0x34);
    port_out(0x40, 100);
    port_out(0x40, 0);
    M.idle_cycles = machine_next_event(&M);
    machine_fire_due(&M);
    ck_assert(!pic_has_interrupt(&M.pic));
    ck_assert_int_eq(apic_pending_vector(&M.lapic), 0x30);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("device_table");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_no_two_devices_claim_the_same_port);
    tcase_add_test(tc, test_every_port_range_and_mmio_range_has_both_handlers);
    tcase_add_test(tc, test_mmio_ranges_are_the_ioapic_hpet_lapic_and_testdev_window);
    tcase_add_test(tc, test_the_pit_reaches_ioapic_pin_2);
    tcase_add_test(tc, test_every_device_powers_on_to_the_same_serialised_state_twice);
    tcase_add_test(tc, test_every_device_a_reboot_resets_resets_to_the_same_serialised_state_twice);
    tcase_add_test(tc, test_only_interrupt_relevant_ports_are_flagged_to_replan);
    tcase_add_test(tc, test_the_pic_ports_reach_master_and_slave);
    tcase_add_test(tc, test_a_port_nobody_claims_finds_no_device);
    tcase_add_test(tc, test_at_power_on_the_next_event_is_the_pits);
    tcase_add_test(tc, test_a_pit_count_written_through_the_table_is_the_next_event_and_raises_irq0);
    tcase_add_test(tc, test_an_armed_alarm_is_the_next_event);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(make_suite)
