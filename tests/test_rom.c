/* The VMI ROM image matches VMI.md byte for byte, and the call table is consistent. */
#include <check.h>
#include <string.h>

#include "rom/rom.h"
#include "support/suite_main.h"

static uint8_t rom[ROM_IMAGE_SIZE];

static void build(void) { rom_build_image(rom); }

static uint16_t rd16(uint32_t off) { return (uint16_t)(rom[off] | rom[off + 1] << 8); }
static uint32_t rd32(uint32_t off) { return rd16(off) | (uint32_t)rd16(off + 2) << 16; }

START_TEST(test_header_has_option_rom_and_vmi_signatures)
{
    ck_assert_uint_eq(rom[0], 0x55);
    ck_assert_uint_eq(rom[1], 0xAA);
    ck_assert_uint_eq(rd32(0x08), 0x696d5663u);
    ck_assert_mem_eq(rom + 8, "cVmi", 4);
}
END_TEST

START_TEST(test_header_declares_api_3_0_and_slot_count)
{
    ck_assert_uint_eq(rom[0x0D], 3);
    ck_assert_uint_eq(rom[0x0C], 0);
    ck_assert_uint_eq(rom[0x0E], ROM_NUM_CALLS);
    ck_assert_uint_eq(rd32(0x10), 0); /* virtual_top: reserve nothing */
}
END_TEST

START_TEST(test_length_byte_covers_the_image_in_512_byte_units)
{
    ck_assert_uint_eq(rom[2] * 512u, ROM_IMAGE_SIZE);
}
END_TEST

START_TEST(test_bios_init_entry_is_a_far_return)
{
    ck_assert_uint_eq(rom[3], 0xCB);
}
END_TEST

START_TEST(test_image_bytes_sum_to_zero)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < ROM_IMAGE_SIZE; i++)
        sum = (uint8_t)(sum + rom[i]);
    ck_assert_uint_eq(sum, 0);
}
END_TEST

START_TEST(test_license_is_gpl_v2)
{
    uint16_t off = rd16(0x16);
    ck_assert_uint_ne(off, 0);
    ck_assert_str_eq((const char *)rom + off, "GPL v2");
}
END_TEST

START_TEST(test_pci_structure_names_vmware_vmi_device)
{
    uint16_t off = rd16(0x18);
    ck_assert_uint_ne(off, 0);
    ck_assert_mem_eq(rom + off, "PCIR", 4);
    ck_assert_uint_eq(rd16(off + 4), 0x15AD);
    ck_assert_uint_eq(rd16(off + 6), 0x0801);
    ck_assert_uint_eq(rd16(off + 0x0A), 24);
    ck_assert_uint_eq(rd16(off + 0x10) * 512u, ROM_IMAGE_SIZE);
    ck_assert_uint_eq(rom[off + 0x13], 3); /* ROM version major */
    ck_assert_uint_eq(rom[off + 0x15] & 0x80, 0x80); /* last image */
}
END_TEST

START_TEST(test_pnp_header_points_at_manufacturer_and_product)
{
    uint16_t off = rd16(0x1A);
    ck_assert_uint_ne(off, 0);
    ck_assert_mem_eq(rom + off, "$PnP", 4);
    uint16_t manu = rd16(off + 0x0E), prod = rd16(off + 0x10);
    ck_assert_str_eq((const char *)rom + manu, "vmiemu");
    ck_assert_ptr_nonnull(strstr((const char *)rom + prod, "VMI ROM"));
    uint8_t sum = 0;
    for (int i = 0; i < rom[off + 5] * 16; i++)
        sum = (uint8_t)(sum + rom[off + i]);
    ck_assert_uint_eq(sum, 0);
}
END_TEST

START_TEST(test_init_and_relocation_entries_are_a_ret_padded_with_int3)
{
    ck_assert_uint_eq(rom[0x80], 0xC3);
    ck_assert_uint_eq(rom[0x81], 0xCC);
    ck_assert_uint_eq(rom[0x88], 0xC3);
    ck_assert_uint_eq(rom[0x89], 0xCC);
}
END_TEST

START_TEST(test_iret_and_sysexit_slots_hold_the_real_instructions)
{
    ck_assert_uint_eq(rom[ROM_SLOT_BASE + 33 * ROM_SLOT_SIZE], 0xCF);
    const uint8_t sysexit[] = {0xFB, 0x0F, 0x35};
    ck_assert_mem_eq(rom + ROM_SLOT_BASE + 34 * ROM_SLOT_SIZE, sysexit, 3);
}
END_TEST

START_TEST(test_entry_at_maps_offsets_to_calls)
{
    ck_assert_ptr_eq(rom_entry_at(0x80), &rom_entry_init);
    ck_assert_ptr_eq(rom_entry_at(0x88), &rom_entry_reloc);
    ck_assert_str_eq(rom_entry_at(ROM_SLOT_BASE + 67 * ROM_SLOT_SIZE)->name, "GetCycleCounter");
    ck_assert_ptr_null(rom_entry_at(ROM_SLOT_BASE + 67 * ROM_SLOT_SIZE + 1));
    ck_assert_ptr_null(rom_entry_at(0x84));
    ck_assert_ptr_null(rom_entry_at(ROM_SLOT_BASE + 50 * ROM_SLOT_SIZE)); /* undefined number */
}
END_TEST

START_TEST(test_table_numbers_match_their_index_and_names_are_unique)
{
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++) {
        const rom_call *c = rom_call_find(n);
        if (!c)
            continue;
        ck_assert_uint_eq(c->num, n);
        ck_assert_ptr_eq(rom_call_by_name(c->name), c);
        ck_assert_ptr_nonnull(c->spec);
    }
}
END_TEST

START_TEST(test_table_check_passes_and_the_enum_has_vmi_md_numbers)
{
    ck_assert(rom_table_check());
    ck_assert_int_eq(VMI_CALL_CPUID, 0);
    ck_assert_int_eq(VMI_CALL_SetPxE, 38);
    ck_assert_int_eq(VMI_CALL_SetLinearMapping, 48);
    ck_assert_int_eq(VMI_CALL_SetIOPLMask, 61);
    ck_assert_int_eq(VMI_CALL_SetLazyMode, 73);
    ck_assert_str_eq(rom_call_find(VMI_CALL_SetPxE)->name, "SetPxE");
    ck_assert_uint_eq(rom_entry_init.num, ROM_NUM_INIT);
    ck_assert_uint_eq(rom_entry_reloc.num, ROM_NUM_RELOC);
}
END_TEST

START_TEST(test_undefined_numbers_have_no_entry_and_answer_none)
{
    for (uint32_t n = 49; n <= 60; n++) {
        ck_assert_ptr_null(rom_call_find(n));
        ck_assert_int_eq(rom_reloc_of(n), ROM_RELOC_NONE);
    }
    ck_assert_ptr_null(rom_call_find(72));
    ck_assert_int_eq(rom_reloc_of(72), ROM_RELOC_NONE);
    ck_assert_int_eq(rom_reloc_of(74), ROM_RELOC_NONE);
    ck_assert_int_eq(rom_reloc_of(0xFFFFFFFFu), ROM_RELOC_NONE);
}
END_TEST

START_TEST(test_foundation_calls_are_call_rel_and_iret_sysexit_jump_rel)
{
    const char *call_rel[] = {"CPUID", "RDTSC", "GetCycleFrequency", "GetCycleCounter", "GetWallclockTime",
                              "WallclockUpdated", "IODelay", "Halt", "Shutdown", "Reboot"};
    for (size_t i = 0; i < sizeof call_rel / sizeof call_rel[0]; i++)
        ck_assert_int_eq(rom_reloc_of(rom_call_by_name(call_rel[i])->num), ROM_RELOC_CALL_REL);
    ck_assert_int_eq(rom_reloc_of(33), ROM_RELOC_JUMP_REL);
    ck_assert_int_eq(rom_reloc_of(34), ROM_RELOC_JUMP_REL);
}
END_TEST

START_TEST(test_unimplemented_calls_answer_none)
{
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++) {
        const rom_call *c = rom_call_find(n);
        if (c && !rom_call_implemented(c))
            ck_assert_int_eq(rom_reloc_of(n), ROM_RELOC_NONE);
    }
}
END_TEST

static Suite *rom_suite(void)
{
    Suite *s = suite_create("rom");
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, build, NULL);
    tcase_add_test(tc, test_header_has_option_rom_and_vmi_signatures);
    tcase_add_test(tc, test_header_declares_api_3_0_and_slot_count);
    tcase_add_test(tc, test_length_byte_covers_the_image_in_512_byte_units);
    tcase_add_test(tc, test_bios_init_entry_is_a_far_return);
    tcase_add_test(tc, test_image_bytes_sum_to_zero);
    tcase_add_test(tc, test_license_is_gpl_v2);
    tcase_add_test(tc, test_pci_structure_names_vmware_vmi_device);
    tcase_add_test(tc, test_pnp_header_points_at_manufacturer_and_product);
    tcase_add_test(tc, test_init_and_relocation_entries_are_a_ret_padded_with_int3);
    tcase_add_test(tc, test_iret_and_sysexit_slots_hold_the_real_instructions);
    suite_add_tcase(s, tc);
    TCase *table = tcase_create("table");
    tcase_add_test(table, test_entry_at_maps_offsets_to_calls);
    tcase_add_test(table, test_table_numbers_match_their_index_and_names_are_unique);
    tcase_add_test(table, test_table_check_passes_and_the_enum_has_vmi_md_numbers);
    tcase_add_test(table, test_undefined_numbers_have_no_entry_and_answer_none);
    tcase_add_test(table, test_foundation_calls_are_call_rel_and_iret_sysexit_jump_rel);
    tcase_add_test(table, test_unimplemented_calls_answer_none);
    suite_add_tcase(s, table);
    return s;
}

SUITE_MAIN(rom_suite)
