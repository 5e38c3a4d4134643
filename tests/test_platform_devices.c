/* Devices a peer's test suite (kvm-unit-tests) expects of a QEMU PC: fw_cfg, reached through the
 * device table as a guest reaches it, and pc-testdev (its ports and its RAM behind MMIO). */
#include <check.h>
#include <string.h>

#include "emu/device.h"
#include "emu/machine.h"
#include "support/suite_main.h"

static machine M; /* a machine without CPU or RAM: the devices need only its state and config */

static void setup(void)
{
    memset(&M, 0, sizeof M);
    machine_config_defaults(&M.cfg);
    for (size_t i = 0; i < machine_device_count; i++) {
        const device *d = machine_devices[i];
        if (d->init)
            d->init(&M);
        else if (d->reset)
            d->reset(&M);
    }
}

static void out(uint16_t port, int size, uint32_t value)
{
    const device_ports *r = device_find_port(port, NULL);
    ck_assert_ptr_nonnull(r);
    r->write(&M, port, size, value);
}

static uint32_t in(uint16_t port, int size)
{
    const device_ports *r = device_find_port(port, NULL);
    ck_assert_ptr_nonnull(r);
    return r->read(&M, port, size);
}

/* Select fw_cfg item `key` and read `n` bytes of it, little-endian, as kvm-unit-tests does. */
static uint64_t fwcfg_get(uint16_t key, int n)
{
    out(0x510, 2, key);
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)(in(0x511, 1) & 0xFF) << (8 * i);
    return v;
}

START_TEST(test_fwcfg_signature_reads_qemu)
{
    out(0x510, 2, 0x0000);
    char sig[5] = {0};
    for (int i = 0; i < 4; i++)
        sig[i] = (char)in(0x511, 1);
    ck_assert_str_eq(sig, "QEMU");
}
END_TEST

START_TEST(test_fwcfg_says_one_cpu_and_at_most_one)
{
    ck_assert_uint_eq(fwcfg_get(0x0005, 2), 1);
    ck_assert_uint_eq(fwcfg_get(0x000f, 2), 1);
}
END_TEST

START_TEST(test_fwcfg_ram_size_is_the_configured_ram_in_bytes)
{
    M.cfg.ram_mib = 96;
    ck_assert_uint_eq(fwcfg_get(0x0003, 8), 96ull << 20);
}
END_TEST

START_TEST(test_fwcfg_id_offers_the_io_interface_without_dma)
{
    ck_assert_uint_eq(fwcfg_get(0x0001, 4), 1);
}
END_TEST

START_TEST(test_fwcfg_reads_zero_past_an_item_and_for_an_unknown_item)
{
    ck_assert_uint_eq(fwcfg_get(0x0005, 8), 1); /* two bytes, then zeros */
    ck_assert_uint_eq(fwcfg_get(0x0011, 8), 0); /* FW_CFG_MAX_RAM: QEMU has no such item */
    ck_assert_uint_eq(fwcfg_get(0x4000, 8), 0);
}
END_TEST

START_TEST(test_fwcfg_selecting_an_item_again_reads_it_from_its_start)
{
    ck_assert_uint_eq(fwcfg_get(0x0000, 2), 'Q' | 'E' << 8);
    ck_assert_uint_eq(fwcfg_get(0x0000, 1), 'Q');
}
END_TEST

/* As QEMU's I/O interface: the selector takes a 16-bit write, the data port byte reads. */
START_TEST(test_fwcfg_ignores_accesses_of_other_sizes)
{
    out(0x510, 2, 0x0005);
    out(0x510, 1, 0x00); /* not a selection */
    ck_assert_uint_eq(in(0x511, 4), 0xFFFFFFFFu);
    out(0x511, 1, 0x42); /* the data port takes no writes */
    ck_assert_uint_eq(in(0x511, 1), 1);
}
END_TEST

/* ---- pc-testdev ---- */

/* emulator.flat: a 16-bit write, then byte reads of the register. */
START_TEST(test_testdev_register_reads_back_what_was_written)
{
    out(0xE0, 2, 0x9999);
    ck_assert_uint_eq(in(0xE0, 1), 0x99);
    ck_assert_uint_eq(in(0xE0, 4), 0x9999);
    out(0xE0, 4, 0x12345678);
    ck_assert_uint_eq(in(0xE0, 4), 0x12345678);
}
END_TEST

/* As QEMU: an access at 0xE0 + k reaches the register's bytes from k. */
START_TEST(test_testdev_register_bytes_are_addressed_by_port)
{
    out(0xE0, 4, 0x12345678);
    ck_assert_uint_eq(in(0xE2, 2), 0x1234);
    ck_assert_uint_eq(in(0xE3, 1), 0x12);
    out(0xE1, 1, 0xAB);
    ck_assert_uint_eq(in(0xE0, 4), 0x1234AB78);
    ck_assert_uint_eq(in(0xEA, 1), 0x34); /* 0xE8-0xEB: the same register */
    out(0xE8, 4, 0xCAFEF00D);
    ck_assert_uint_eq(in(0xE0, 4), 0xCAFEF00D);
}
END_TEST

START_TEST(test_testdev_flush_page_port_changes_nothing_and_reads_zero)
{
    out(0xE0, 4, 0x11223344);
    out(0xE4, 4, 0x00400000);
    ck_assert_uint_eq(in(0xE4, 4), 0);
    ck_assert_uint_eq(in(0xE0, 4), 0x11223344);
}
END_TEST

START_TEST(test_testdev_interrupt_line_raises_the_pic_input)
{
    out(0x21, 1, 0xFF); /* ICW-less PIC: mask everything, then unmask IRQ 3 */
    out(0x21, 1, 0xF7);
    ck_assert(!pic_has_interrupt(&M.pic));
    out(0x2003, 1, 1);
    ck_assert(pic_has_interrupt(&M.pic));
    ck_assert_uint_eq(in(0x2003, 1), 0);
}
END_TEST

static const device_mmio *testdev_mmio(void)
{
    for (size_t i = 0; i < machine_device_count; i++)
        if (machine_devices[i]->mmio.size && machine_devices[i]->mmio.base == 0xFF000000ull)
            return &machine_devices[i]->mmio;
    ck_abort_msg("no device at 0xFF000000");
    return NULL;
}

START_TEST(test_testdev_ram_behind_mmio_keeps_what_is_written_in_every_width)
{
    const device_mmio *r = testdev_mmio();
    ck_assert_uint_eq(r->size, 0x10000);
    r->write(&M, 0x10, 4, 0xDEADBEEF);
    ck_assert_uint_eq(r->read(&M, 0x10, 4), 0xDEADBEEF);
    ck_assert_uint_eq(r->read(&M, 0x11, 2), 0xADBE);
    r->write(&M, 0x12, 1, 0x55);
    ck_assert_uint_eq(r->read(&M, 0x10, 4), 0xDE55BEEF);
    r->write(&M, 0xFFF, 1, 0xAA); /* the page's last byte, which emulator's cross-page test uses */
    ck_assert_uint_eq(r->read(&M, 0xFFF, 1), 0xAA);
}
END_TEST

START_TEST(test_testdev_ram_beyond_its_first_page_reads_zero)
{
    const device_mmio *r = testdev_mmio();
    r->write(&M, 0x1000, 4, 0xFFFFFFFF);
    ck_assert_uint_eq(r->read(&M, 0x1000, 4), 0);
    r->write(&M, 0xFFE, 4, 0x11223344); /* the part inside the page is kept */
    ck_assert_uint_eq(r->read(&M, 0xFFE, 2), 0x3344);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("platform_devices");
    TCase *tc = tcase_create("fwcfg");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_fwcfg_signature_reads_qemu);
    tcase_add_test(tc, test_fwcfg_says_one_cpu_and_at_most_one);
    tcase_add_test(tc, test_fwcfg_ram_size_is_the_configured_ram_in_bytes);
    tcase_add_test(tc, test_fwcfg_id_offers_the_io_interface_without_dma);
    tcase_add_test(tc, test_fwcfg_reads_zero_past_an_item_and_for_an_unknown_item);
    tcase_add_test(tc, test_fwcfg_selecting_an_item_again_reads_it_from_its_start);
    tcase_add_test(tc, test_fwcfg_ignores_accesses_of_other_sizes);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("pctestdev");
    tcase_add_checked_fixture(td, setup, NULL);
    tcase_add_test(td, test_testdev_register_reads_back_what_was_written);
    tcase_add_test(td, test_testdev_register_bytes_are_addressed_by_port);
    tcase_add_test(td, test_testdev_flush_page_port_changes_nothing_and_reads_zero);
    tcase_add_test(td, test_testdev_interrupt_line_raises_the_pic_input);
    tcase_add_test(td, test_testdev_ram_behind_mmio_keeps_what_is_written_in_every_width);
    tcase_add_test(td, test_testdev_ram_beyond_its_first_page_reads_zero);
    suite_add_tcase(s, td);
    return s;
}

SUITE_MAIN(make_suite)
