/* cpu/blockcache.c: block instruction counts kept per address space, the hook's one-compare
 * lookup and the costs that route blocks to its slow path, and a guest whose two
 * address spaces hold different code of the same size at the same linear address
 * (tests/guest/address_spaces.asm). */
#include <check.h>
#include <stdint.h>

#include "cpu/blockcache.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define RESULT 0x5000u
#define ROOT_A 0x10000u
#define ROOT_B 0x11000u

static blockcache bc;

static void setup(void) { ck_assert(blockcache_init(&bc)); }
static void teardown(void) { blockcache_free(&bc); }

static int count_of(uint32_t pc, uint32_t size)
{
    const blockcache_entry *e = blockcache_get(&bc, pc, size);
    return e ? (int)blockcache_count(e) : -1;
}

START_TEST(test_each_address_space_keeps_its_own_counts)
{
    blockcache_set_space(&bc, ROOT_A);
    ck_assert(blockcache_put(&bc, 0x400000, 5, 5, 0, 0));
    blockcache_set_space(&bc, ROOT_B);
    ck_assert_int_eq(count_of(0x400000, 5), -1); /* A's block is not B's */
    ck_assert(blockcache_put(&bc, 0x400000, 5, 3, 0, 0));
    blockcache_set_space(&bc, ROOT_A);
    ck_assert_int_eq(count_of(0x400000, 5), 5);
    blockcache_set_space(&bc, ROOT_B);
    ck_assert_int_eq(count_of(0x400000, 5), 3);
}
END_TEST

START_TEST(test_a_released_root_is_counted_afresh)
{
    blockcache_set_space(&bc, ROOT_A);
    ck_assert(blockcache_put(&bc, 0x1000, 4, 2, 0, 0));
    blockcache_set_space(&bc, ROOT_B);
    ck_assert(blockcache_put(&bc, 0x1000, 4, 1, 0, 0));
    blockcache_forget_space(&bc, ROOT_A);
    blockcache_set_space(&bc, ROOT_A);
    ck_assert_int_eq(count_of(0x1000, 4), -1);
    blockcache_set_space(&bc, ROOT_B);
    ck_assert_int_eq(count_of(0x1000, 4), 1); /* the others stay */
    blockcache_forget_space(&bc, ROOT_B | 0x18); /* the current root, named by any address in its page */
    ck_assert_int_eq(count_of(0x1000, 4), -1);
}
END_TEST

START_TEST(test_a_linear_page_mapping_another_physical_page_is_seen_as_moved)
{
    blockcache_set_space(&bc, ROOT_A);
    ck_assert(!blockcache_page_moved(&bc, 0x400123, 0x310000)); /* nothing counted there yet */
    ck_assert(blockcache_note_page(&bc, 0x400000, 0x310000));
    ck_assert(!blockcache_page_moved(&bc, 0x400FFF, 0x310000));
    ck_assert(blockcache_page_moved(&bc, 0x400000, 0x311000));
    ck_assert(!blockcache_page_moved(&bc, 0x401000, 0x311000)); /* the next page is another */
    blockcache_set_space(&bc, ROOT_B);
    ck_assert(!blockcache_page_moved(&bc, 0x400000, 0x311000)); /* per address space */
}
END_TEST

START_TEST(test_dropping_a_space_drops_its_counts_and_pages_only)
{
    blockcache_set_space(&bc, ROOT_B);
    ck_assert(blockcache_put(&bc, 0x400000, 3, 2, 0, 0));
    blockcache_set_space(&bc, ROOT_A);
    for (uint32_t i = 0; i < 200; i++) /* past the page map's first size */
        ck_assert(blockcache_note_page(&bc, 0x400000 + i * 0x1000, 0x310000));
    ck_assert(blockcache_put(&bc, 0x400000, 3, 3, 0, 0));
    ck_assert(blockcache_page_moved(&bc, 0x4C7000, 0x311000));
    blockcache_clear_current(&bc);
    ck_assert_int_eq(count_of(0x400000, 3), -1);
    ck_assert(!blockcache_page_moved(&bc, 0x4C7000, 0x311000));
    blockcache_set_space(&bc, ROOT_B);
    ck_assert_int_eq(count_of(0x400000, 3), 2);
}
END_TEST

START_TEST(test_the_least_recently_used_space_makes_room)
{
    for (uint32_t i = 0; i < BLOCKCACHE_SPACES; i++) {
        blockcache_set_space(&bc, 0x100000 + i * 0x1000);
        ck_assert(blockcache_put(&bc, 0x2000, 8, i + 1, 0, 0));
    }
    blockcache_set_space(&bc, 0x100000); /* now the most recently used */
    blockcache_set_space(&bc, 0x900000); /* takes over 0x101000's table */
    ck_assert_int_eq(count_of(0x2000, 8), -1);
    blockcache_set_space(&bc, 0x100000);
    ck_assert_int_eq(count_of(0x2000, 8), 1);
    blockcache_set_space(&bc, 0x102000);
    ck_assert_int_eq(count_of(0x2000, 8), 3);
    blockcache_set_space(&bc, 0x101000); /* back, but counted afresh */
    ck_assert_int_eq(count_of(0x2000, 8), -1);
}
END_TEST

START_TEST(test_clear_empties_every_space_and_tables_grow)
{
    blockcache_set_space(&bc, ROOT_A);
    for (uint32_t pc = 0; pc < 40000; pc++)
        ck_assert(blockcache_put(&bc, 0x10000 + pc * 16, 16, pc & 0xFF, 0, 0));
    for (uint32_t pc = 0; pc < 40000; pc += 997)
        ck_assert_int_eq(count_of(0x10000 + pc * 16, 16), (int)(pc & 0xFF));
    blockcache_set_space(&bc, ROOT_B);
    ck_assert(blockcache_put(&bc, 0x10000, 16, 7, 0, 0));
    blockcache_clear(&bc);
    ck_assert_int_eq(count_of(0x10000, 16), -1);
    blockcache_set_space(&bc, ROOT_A);
    ck_assert_int_eq(count_of(0x10000, 16), -1);
}
END_TEST

START_TEST(test_a_colliding_entry_moves_home_when_found)
{
    /* Sizes 2^14 apart share a home slot in the initial 2^14-slot table. */
    ck_assert(blockcache_put(&bc, 0x1000, 16, 1, 0, 0));
    ck_assert(blockcache_put(&bc, 0x1000, 16 + (1u << 14), 2, 0, 0));
    ck_assert_ptr_null(blockcache_at_home(&bc, 0x1000, 16 + (1u << 14)));
    ck_assert_uint_eq(blockcache_count(blockcache_at_home(&bc, 0x1000, 16)), 1);
    ck_assert_int_eq(count_of(0x1000, 16 + (1u << 14)), 2);
    const blockcache_entry *moved = blockcache_at_home(&bc, 0x1000, 16 + (1u << 14));
    ck_assert_ptr_nonnull(moved);
    ck_assert_uint_eq(blockcache_count(moved), 2);
    ck_assert_ptr_null(blockcache_at_home(&bc, 0x1000, 16));
    ck_assert_int_eq(count_of(0x1000, 16), 1); /* still found, one slot on */
}
END_TEST

START_TEST(test_costs_flag_the_blocks_the_hook_must_look_at)
{
    ck_assert(blockcache_put(&bc, 0x1000, 10, 4, 0, 0));
    ck_assert(blockcache_put(&bc, 0x2000, 10, 4, 3, 0)); /* port I/O, third instruction */
    ck_assert(blockcache_put(&bc, 0xC0100, 10, 4, 0, BLOCKCACHE_ROM));
    const blockcache_entry *plain = blockcache_get(&bc, 0x1000, 10);
    const blockcache_entry *io = blockcache_get(&bc, 0x2000, 10);
    const blockcache_entry *rom = blockcache_get(&bc, 0xC0100, 10);
    ck_assert_uint_eq(plain->cost, 4);
    ck_assert_uint_eq(io->cost, 4 | BLOCKCACHE_SLOW);
    ck_assert_uint_eq(io->first_io, 3);
    ck_assert(blockcache_rom(rom) && (rom->cost & BLOCKCACHE_SLOW) && blockcache_count(rom) == 4);
    ck_assert(!blockcache_rom(plain) && !blockcache_rom(io));
}
END_TEST

START_TEST(test_guest_code_is_counted_in_its_own_address_space)
{
    machine m;
    machine_end end = tu_run_snippet(&m, "address_spaces");
    ck_assert_msg(end == END_HALTED, "%s", m.end_message);
    /* rdtsc, mov, call, the code at 0x400000 (A: 5 instructions, B: 3), then rdtsc again */
    for (int i = 0; i < 12; i += 2) {
        ck_assert_uint_eq(phys_read32(&m.mem, RESULT + 4u * (uint32_t)i), 3 + 5);
        ck_assert_uint_eq(phys_read32(&m.mem, RESULT + 4u * (uint32_t)i + 4), 3 + 3);
    }
    ck_assert_uint_eq(phys_read32(&m.mem, RESULT + 48), 3 + 4); /* B's directory released, then C */
    machine_free(&m);
}
END_TEST

static Suite *blockcache_suite(void)
{
    Suite *s = suite_create("blockcache");
    TCase *unit = tcase_create("spaces");
    tcase_add_checked_fixture(unit, setup, teardown);
    tcase_add_test(unit, test_each_address_space_keeps_its_own_counts);
    tcase_add_test(unit, test_a_released_root_is_counted_afresh);
    tcase_add_test(unit, test_the_least_recently_used_space_makes_room);
    tcase_add_test(unit, test_clear_empties_every_space_and_tables_grow);
    tcase_add_test(unit, test_a_colliding_entry_moves_home_when_found);
    tcase_add_test(unit, test_costs_flag_the_blocks_the_hook_must_look_at);
    tcase_add_test(unit, test_a_linear_page_mapping_another_physical_page_is_seen_as_moved);
    tcase_add_test(unit, test_dropping_a_space_drops_its_counts_and_pages_only);
    suite_add_tcase(s, unit);
    TCase *guest = tcase_create("guest");
    tcase_set_timeout(guest, 60);
    tcase_add_test(guest, test_guest_code_is_counted_in_its_own_address_space);
    suite_add_tcase(s, guest);
    return s;
}

SUITE_MAIN(blockcache_suite)
