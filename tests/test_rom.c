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
                              "WallclockUpdated", "Halt", "Shutdown", "Reboot"};
    for (size_t i = 0; i < sizeof call_rel / sizeof call_rel[0]; i++)
        ck_assert_int_eq(rom_reloc_of(rom_call_by_name(call_rel[i])->num), ROM_RELOC_CALL_REL);
    /* A delay is meaningless where time is instructions: the guest drops it (its entry still
     * works for a guest that calls it anyway). */
    ck_assert_int_eq(rom_reloc_of(VMI_CALL_IODelay), ROM_RELOC_NOP);
    ck_assert(rom_call_implemented(rom_call_find(VMI_CALL_IODelay)));
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

/* A stand-in machine for rom_dispatch: flat memory (4 pages at 0), ring 0, a fixed clock. */
static uint8_t stub_mem[0x4000];
static uint64_t stub_cycles = 1234567;
static uint32_t stub_get(void *o, rom_reg r) { (void)o, (void)r; return 0; }
static bool stub_set(void *o, rom_reg r, uint32_t v) { (void)o, (void)r, (void)v; return true; }
static bool stub_read(void *o, uint32_t at, void *dst, uint32_t n)
{
    (void)o;
    if ((uint64_t)at + n > sizeof stub_mem)
        return false;
    memcpy(dst, stub_mem + at, n);
    return true;
}
static bool stub_write(void *o, uint32_t at, const void *src, uint32_t n) { (void)o, (void)at, (void)src, (void)n; return false; }
static bool stub_translate(void *o, uint32_t at, bool w, uint64_t *phys) { (void)o, (void)w; *phys = at; return true; }
static bool stub_table(void *o, rom_table t, uint32_t *b, uint32_t *l, uint16_t *sel) { (void)o, (void)t, (void)b, (void)l, (void)sel; return false; }
static uint32_t stub_cpl(void *o) { (void)o; return 0; }
static bool stub_io(void *o, uint16_t p, int n) { (void)o, (void)p, (void)n; return false; }
static uint64_t stub_clock(void *o) { (void)o; return stub_cycles; }
static void stub_cpuid(void *o, uint32_t r[4]) { (void)o, (void)r; }
static bool stub_alarm_set(void *o, uint32_t f, uint64_t e, uint64_t p) { (void)o, (void)f, (void)e, (void)p; return false; }
static bool stub_alarm_cancel(void *o, uint32_t f) { (void)o, (void)f; return false; }
static bool stub_apic_write(void *o, uint32_t r, uint32_t v) { (void)o, (void)r, (void)v; return false; }
static bool stub_apic_read(void *o, uint32_t r, uint32_t *v) { (void)o, (void)r, (void)v; return false; }
static void stub_forget(void *o, uint32_t root) { (void)o, (void)root; }
static void stub_request(void *o, rom_request w) { (void)o, (void)w; }
static bool stub_break(void *o, uint16_t n) { (void)o, (void)n; return false; }
/* as the test set them */
static void stub_call_regs(void *o, uint32_t regs[ROM_CALL_REGS], uint32_t want) { (void)o, (void)regs, (void)want; }
static const rom_services stub_services = {
    stub_get, stub_set, stub_read, stub_write, stub_translate, stub_table, stub_cpl, stub_io, stub_clock,
    stub_clock, stub_clock, stub_cpuid, stub_alarm_set, stub_alarm_cancel, stub_apic_write, stub_apic_read,
    stub_forget, stub_request, stub_break, stub_call_regs, NULL, NULL, NULL,
};

START_TEST(test_dispatch_needs_only_a_rom_ctx_and_returns_the_call_record)
{
    rom_state st;
    uint8_t pt_pages[4] = {0};
    memset(&st, 0, sizeof st);
    uint32_t ret = 0x1005;
    memcpy(stub_mem + 0x3000, &ret, 4);
    stub_mem[0x1000] = 0xE8; /* call rel32 at 0x1000 returns to 0x1005 */
    rom_ctx x = {&stub_services, NULL, &st, pt_pages, 4, {0}};
    x.regs[ROM_ESP] = 0x3000;
    rom_record r;
    memset(&r, 0xA5, sizeof r); /* dispatch writes every field a DONE record is read for */
    rom_dispatch(&x, ROM_PHYS_BASE + ROM_SLOT_BASE + VMI_CALL_RDTSC * ROM_SLOT_SIZE, &r);
    ck_assert_int_eq(r.action, ROM_ACT_DONE);
    ck_assert(r.is_call);
    ck_assert_uint_eq(r.num, VMI_CALL_RDTSC);
    ck_assert_uint_eq(r.result, stub_cycles);
    ck_assert_uint_eq(r.out_mask, 1u << ROM_EAX | 1u << ROM_EDX);
    ck_assert_uint_eq(r.out[ROM_EAX], (uint32_t)stub_cycles);
    ck_assert_uint_eq(r.eip, 0x1000);
    ck_assert_uint_eq(r.ret_eip, 0x1005);
    ck_assert_uint_eq(r.ret_esp, 0x3004);
    ck_assert(!r.failed);
    ck_assert_uint_eq(r.extra[0], 0);
    ck_assert_uint_eq(r.args[0], 0);
    ck_assert_int_eq(r.error, ROM_ERR_NONE);
}
END_TEST

START_TEST(test_a_native_call_waits_in_rom_state_until_its_return)
{
    rom_state st;
    uint8_t pt_pages[4] = {0};
    memset(&st, 0, sizeof st);
    uint32_t ret = 0x1005;
    memcpy(stub_mem + 0x3000, &ret, 4);
    rom_ctx x = {&stub_services, NULL, &st, pt_pages, 4, {0}};
    x.regs[ROM_ESP] = 0x3000;
    uint32_t slot = ROM_PHYS_BASE + ROM_SLOT_BASE + VMI_CALL_GetCR0 * ROM_SLOT_SIZE;
    rom_record r;
    rom_dispatch(&x, slot, &r);
    ck_assert_int_eq(r.action, ROM_ACT_NATIVE);
    ck_assert_uint_eq(st.npending, 1);
    ck_assert_int_eq(rom_native_returned(&st, 0x1005, 0x3000), -1); /* ESP not yet popped */
    ck_assert_int_eq(rom_native_faulted(&st, slot + 1), 0);
    ck_assert_int_eq(rom_native_returned(&st, 0x1005, 0x3004), 0);
    uint32_t after[ROM_CALL_REGS] = {[ROM_EAX] = 0x80000011u};
    r = rom_native_finish(&x, 0, after, false);
    ck_assert_uint_eq(st.npending, 0);
    ck_assert_uint_eq(r.num, VMI_CALL_GetCR0);
    ck_assert_uint_eq(r.result, 0x80000011u);
    ck_assert(!r.failed);
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
    TCase *dispatch = tcase_create("dispatch");
    tcase_add_test(dispatch, test_dispatch_needs_only_a_rom_ctx_and_returns_the_call_record);
    tcase_add_test(dispatch, test_a_native_call_waits_in_rom_state_until_its_return);
    suite_add_tcase(s, dispatch);
    return s;
}

SUITE_MAIN(rom_suite)
