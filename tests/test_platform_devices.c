/* Devices a peer's test suite (kvm-unit-tests) expects of a QEMU PC: fw_cfg, reached through the
 * device table as a guest reaches it. */
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
    return s;
}

SUITE_MAIN(make_suite)
