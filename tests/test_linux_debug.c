/* Debugging the real Linux 2.6.32 VMI kernel with its symbols: `vmiemu -x SCRIPT bzImage` finds
 * the vmlinux beside the bzImage (or takes --symbols), and the debugger script breaks at
 * start_kernel and do_fork, walks the stack of a kernel built without frame pointers, answers
 * `info symbol`, and names callers in `calls` and the event log. The guest comes from the
 * shared directory ($VMIEMU_GUESTS, else ../shared/guests beside the source tree); without it
 * the suite reports SKIPPED (exit 77). */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/suite_main.h"
#include "support/testutil.h"


static char bzimage[TU_GUEST_PATH], initramfs[TU_GUEST_PATH], vmlinux[TU_GUEST_PATH], sysmap[TU_GUEST_PATH];

static run_result r;
static char script[4096];

static void teardown(void) { tu_free(&r); }

/* Run the debugger script `text` on the Linux guest (with extra options before the kernel). */
static void debug(const char *text, const char *opt, const char *optval, const char *kernel)
{
    snprintf(script, sizeof script, "%s", tu_tmp("linux.gdb"));
    tu_write_text(script, text);
    const char *args[] = {"--serial", "none", "--initrd", initramfs, "--append", "console=ttyS0", "-x", script,
                          opt ? opt : kernel, opt ? optval : NULL, opt ? kernel : NULL, NULL};
    r = tu_run(args);
    unlink(script);
}

static void has(const char *needle)
{
    ck_assert_msg(strstr(r.out, needle), "no '%s' in:\n%s\nstderr: %s", needle, r.out, r.err);
}

START_TEST(test_break_start_kernel_stops_at_its_virtual_address)
{
    debug("break start_kernel\ncontinue\n", NULL, NULL, bzimage);
    ck_assert_int_eq(r.status, 16);
    has("Breakpoint 1 at 0xc119e3ad <start_kernel>\n");
    has("Breakpoint 1, 0xc119e3ad <start_kernel> (icount ");
    has("=> 0xc119e3ad <start_kernel>: push ebx\n");
}
END_TEST

START_TEST(test_bt_at_do_fork_walks_back_to_start_kernel_without_frame_pointers)
{
    debug("break do_fork\ncontinue\nbt\n", NULL, NULL, bzimage);
    ck_assert_int_eq(r.status, 16);
    has("Breakpoint 1, 0xc1019a80 <do_fork> (icount ");
    has("#0  0xc1019a80 <do_fork>\n"
        "#1  0xc1001464 <kernel_thread+0x94>\n"
        "#2  0xc111f3b9 <rest_init+0x16>\n"
        "#3  0xc119e619 <start_kernel+0x26c>\n");
}
END_TEST

START_TEST(test_bt_from_a_vmi_call_starts_in_the_rom_and_names_the_kernel_callers)
{
    debug("break vmi SetPxE\ncontinue\nbt 3\n", NULL, NULL, bzimage);
    has("Breakpoint 1, VMI call SetPxE (#38) at ");
    has("#1  0xc1010002 <vmi_set_pte+0x12>\n#2  0xc11a8f1e <__early_set_fixmap+0x57>\n");
    ck_assert_ptr_null(strstr(r.out, "#3 "));
}
END_TEST

START_TEST(test_info_symbol_names_a_kernel_address)
{
    debug("info symbol 0xc1019a90\ninfo symbol do_fork\ninfo symbol 0x100\n", NULL, NULL, bzimage);
    has("do_fork + 16 (0xc1019a90)\n");
    has("do_fork (0xc1019a80)\n");
    has("No symbol matches 0x00000100.\n");
}
END_TEST

START_TEST(test_calls_and_the_log_name_the_caller_in_the_kernel)
{
    debug("break start_kernel\ncontinue\nbreak vmi SetPxE\ncontinue\ncalls 0 0\n", "--log", "-", bzimage);
    has("#0 icount=");
    has(" eip=0xc11a79a5 <vmi_activate+0x24> vmi Init() = 0x00000000\n");
    ck_assert_msg(strstr(r.err, "#0 icount=") && strstr(r.err, " eip=0xc11a79a5 <vmi_activate+0x24> vmi Init()"), "%s",
                  r.err);
}
END_TEST

START_TEST(test_symbols_from_the_system_map_work_as_well)
{
    debug("break do_fork\ncontinue\nbt 2\n", "--symbols", sysmap, bzimage);
    has("Breakpoint 1, 0xc1019a80 <do_fork> (icount ");
    has("#1  0xc1001464 <kernel_thread+0x94>\n");
}
END_TEST

/* The default is the vmlinux beside the bzImage: a bzImage alone has no symbols. */
START_TEST(test_a_bzimage_without_a_vmlinux_beside_it_has_no_symbols)
{
    char alone[4096];
    snprintf(alone, sizeof alone, "%s", tu_tmp("alone"));
    ck_assert_int_eq(mkdir(alone, 0700), 0);
    char link[4200];
    snprintf(link, sizeof link, "%s/bzImage", alone);
    ck_assert_int_eq(symlink(bzimage, link), 0);
    debug("break start_kernel\n", NULL, NULL, link);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "'start_kernel' is not a number, register ($eax) or symbol"), "%s", r.err);
    unlink(link);
    rmdir(alone);
}
END_TEST

/* A vmlinux of another kernel beside the bzImage is not used: its symbols would mislead. */
START_TEST(test_a_vmlinux_of_another_kernel_is_refused_with_a_warning)
{
    char other[4096], link[4200], copy[4200];
    snprintf(other, sizeof other, "%s", tu_tmp("other"));
    ck_assert_int_eq(mkdir(other, 0700), 0);
    snprintf(link, sizeof link, "%s/bzImage", other);
    snprintf(copy, sizeof copy, "%s/vmlinux", other);
    ck_assert_int_eq(symlink(bzimage, link), 0);
    FILE *f = fopen(vmlinux, "rb");
    ck_assert_ptr_nonnull(f);
    static char data[8 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    char *banner = NULL;
    for (size_t i = 0; i + 14 < n && !banner; i++)
        if (memcmp(data + i, "Linux version ", 14) == 0)
            banner = data + i;
    ck_assert_ptr_nonnull(banner);
    banner[14] = '9'; /* "Linux version 9.6.32.69 ..." */
    f = fopen(copy, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    debug("info symbol 0xc1019a90\n", NULL, NULL, link);
    ck_assert_msg(strstr(r.err, "warning: no kernel symbols: ") && strstr(r.err, "is 'Linux version 9.6.32.69") &&
                      strstr(r.err, "but the kernel is '2.6.32.69"),
                  "%s", r.err);
    has("No symbol matches 0xc1019a90.\n");
    unlink(copy);
    unlink(link);
    rmdir(other);
}
END_TEST

static Suite *linux_debug_suite(void)
{
    Suite *s = suite_create("linux_debug");
    TCase *tc = tcase_create("debug");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_break_start_kernel_stops_at_its_virtual_address);
    tcase_add_test(tc, test_bt_at_do_fork_walks_back_to_start_kernel_without_frame_pointers);
    tcase_add_test(tc, test_bt_from_a_vmi_call_starts_in_the_rom_and_names_the_kernel_callers);
    tcase_add_test(tc, test_info_symbol_names_a_kernel_address);
    tcase_add_test(tc, test_calls_and_the_log_name_the_caller_in_the_kernel);
    tcase_add_test(tc, test_symbols_from_the_system_map_work_as_well);
    tcase_add_test(tc, test_a_bzimage_without_a_vmlinux_beside_it_has_no_symbols);
    tcase_add_test(tc, test_a_vmlinux_of_another_kernel_is_refused_with_a_warning);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!tu_linux_guest_files(bzimage, "bzImage", initramfs, "initramfs.cpio.gz", vmlinux, "vmlinux", sysmap, "System.map", NULL))
        return TU_SKIP;
    return suite_run(linux_debug_suite());
}
