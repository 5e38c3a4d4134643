/* cpu/disasm.c: block instruction counts, port I/O positions, and which instructions may be
 * stepped by a host-set trap flag. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "cpu/disasm.h"
#include "support/suite_main.h"

static disasm *d;

static void setup(void)
{
    vm_error e;
    d = disasm_open(&e);
    ck_assert_msg(d != NULL, "%s", e.msg);
}

static void teardown(void) { disasm_close(d); }

/* Two plain instructions, then `tail` (one instruction), then a plain one. */
static bool safe_with(const uint8_t *tail, size_t n, uint32_t count)
{
    uint8_t code[32] = {0x01, 0xd0, 0x49}; /* add %edx,%eax; dec %ecx */
    memcpy(code + 3, tail, n);
    code[3 + n] = 0x90; /* nop */
    return disasm_trap_step_safe(d, code, 4 + n, 0x1000, count);
}

START_TEST(test_counts_whole_instructions_and_finds_the_first_port_access)
{
    /* mov $1,%eax; out %al,$0x80; in $0x60,%al; jmp . */
    const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0xe6, 0x80, 0xe4, 0x60, 0xeb, 0xfe};
    uint32_t first_io = 0;
    ck_assert_uint_eq(disasm_scan(d, code, sizeof code, 0x1000, &first_io), 4);
    ck_assert_uint_eq(first_io, 2);
    ck_assert_uint_eq(disasm_count(d, code, 6, 0x1000), 1); /* `out` cut in half does not count */
    ck_assert_uint_eq(disasm_count_until(d, code, sizeof code, 0x1000, 0x1007), 2);
}
END_TEST

START_TEST(test_plain_instructions_may_be_trap_stepped)
{
    const uint8_t mov_load[] = {0x8b, 0x45, 0x08};          /* mov 8(%ebp),%eax */
    const uint8_t lock_add[] = {0xf0, 0x01, 0x03};          /* lock add %eax,(%ebx) */
    const uint8_t jcc[] = {0x75, 0xf0};                     /* jnz */
    const uint8_t call_ind[] = {0xff, 0xd0};                /* call *%eax */
    const uint8_t out[] = {0xe6, 0x80};                     /* out %al,$0x80 */
    const uint8_t mov_ds[] = {0x8e, 0xd8};                  /* mov %eax,%ds */
    ck_assert(safe_with(mov_load, sizeof mov_load, 4));
    ck_assert(safe_with(lock_add, sizeof lock_add, 4));
    ck_assert(safe_with(jcc, sizeof jcc, 4));
    ck_assert(safe_with(call_ind, sizeof call_ind, 4));
    ck_assert(safe_with(out, sizeof out, 4));
    ck_assert(safe_with(mov_ds, sizeof mov_ds, 4));
}
END_TEST

START_TEST(test_instructions_that_would_show_or_miscount_the_trap_flag_are_refused)
{
    static const struct {
        const char *what;
        uint8_t bytes[4];
        size_t n;
    } refused[] = {
        {"pushf", {0x9c}, 1},          {"popf", {0x9d}, 1},
        {"iret", {0xcf}, 1},           {"int3", {0xcc}, 1},
        {"int $0x80", {0xcd, 0x80}, 2}, {"into", {0xce}, 1},
        {"int1", {0xf1}, 1},           {"pop %ss", {0x17}, 1},
        {"mov %eax,%ss", {0x8e, 0xd0}, 2}, {"sti", {0xfb}, 1},
        {"hlt", {0xf4}, 1},            {"rep movsb", {0xf3, 0xa4}, 2},
        {"repne scasb", {0xf2, 0xae}, 2}, {"o16 pushf", {0x66, 0x9c}, 2},
        {"mov %dr7,%eax", {0x0f, 0x21, 0xf8}, 3}, {"mov %eax,%dr6", {0x0f, 0x23, 0xf0}, 3},
        {"sysenter", {0x0f, 0x34}, 2}, {"sysexit", {0x0f, 0x35}, 2},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(!safe_with(refused[i].bytes, refused[i].n, 4), "%s was accepted", refused[i].what);
        /* Only the first n instructions matter: stepping the two before it is fine. */
        ck_assert_msg(safe_with(refused[i].bytes, refused[i].n, 2), "%s refused too early", refused[i].what);
    }
}
END_TEST

START_TEST(test_undecodable_bytes_are_never_trap_stepped)
{
    const uint8_t code[] = {0x01, 0xd0, 0x0f, 0x0b}; /* add; ud2 */
    ck_assert(disasm_trap_step_safe(d, code, sizeof code, 0x1000, 1));
    ck_assert(!disasm_trap_step_safe(d, code, 2, 0x1000, 2)); /* runs out of bytes */
}
END_TEST

static Suite *disasm_suite(void)
{
    Suite *s = suite_create("disasm");
    TCase *tc = tcase_create("decode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_counts_whole_instructions_and_finds_the_first_port_access);
    tcase_add_test(tc, test_plain_instructions_may_be_trap_stepped);
    tcase_add_test(tc, test_instructions_that_would_show_or_miscount_the_trap_flag_are_refused);
    tcase_add_test(tc, test_undecodable_bytes_are_never_trap_stepped);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(disasm_suite)
