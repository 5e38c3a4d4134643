/* The debugger shell: each command against the hello kernel, the command parser's errors, and a
 * batch script end to end through the vmiemu binary. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/shell.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static tu_machine *t;
static shell sh;
static char *outbuf;
static size_t outlen;
static vm_error err;
static const char *kernel = "hello";

static void setup(void)
{
    t = calloc(1, sizeof *t);
    machine_config c;
    machine_config_defaults(&c);
    c.ram_mib = 16;
    c.snap_every = 5000;
    memset(&err, 0, sizeof err);
    ck_assert_msg(machine_init(&t->m, &c, tu_kernel(kernel), &err), "%s", err.msg);
    machine_set_serial_out(&t->m, NULL, NULL);
    FILE *out = open_memstream(&outbuf, &outlen);
    ck_assert(shell_init(&sh, &t->m, out, &err));
}

static void teardown(void)
{
    fclose(sh.out);
    free(outbuf);
    shell_free(&sh);
    machine_free(&t->m);
    free(t);
}

/* Run a command; return what it printed (since the last call). */
static const char *run(const char *line)
{
    fflush(sh.out);
    size_t start = outlen;
    memset(&err, 0, sizeof err);
    bool ok = shell_exec(&sh, line, &err);
    ck_assert_msg(ok, "'%s' failed: %s", line, err.msg);
    fflush(sh.out);
    return outbuf + start;
}

static void fails(const char *line, const char *needle)
{
    memset(&err, 0, sizeof err);
    ck_assert_msg(!shell_exec(&sh, line, &err), "'%s' should fail", line);
    ck_assert_msg(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", line, err.msg, needle);
}

START_TEST(test_break_on_a_symbol_and_continue_stops_there)
{
    ck_assert_ptr_nonnull(strstr(run("break kmain"), "Breakpoint 1 at 0x"));
    const char *o = run("continue");
    ck_assert_msg(strstr(o, "Breakpoint 1, 0x") && strstr(o, "<kmain>"), "%s", o);
    ck_assert_ptr_nonnull(strstr(run("bt"), "#0  0x"));
}
END_TEST

START_TEST(test_info_symbol_names_the_symbol_and_the_offset)
{
    const char *o = run("info symbol kmain+3");
    ck_assert_msg(strncmp(o, "kmain + 3 (0x", 13) == 0, "%s", o);
    ck_assert_str_eq(run("info symbol 0"), "No symbol matches 0x00000000.\n");
    fails("info symbol", "usage: info symbol ADDR");
}
END_TEST

START_TEST(test_bt_at_a_function_entry_names_its_caller)
{
    run("break kmain");
    run("continue");
    const char *o = run("bt");
    ck_assert_msg(strstr(o, "#0  0x") && strstr(o, " <kmain>\n#1  0x") && strstr(o, " <_start+0x"), "%s", o);
    fails("bt 0", "frame count");
}
END_TEST

START_TEST(test_bt_inside_a_function_names_its_caller)
{
    run("break kmain");
    run("continue");
    run("stepi 6"); /* past kmain's prologue */
    const char *o = run("bt");
    ck_assert_msg(strstr(o, "#0  0x") && strstr(o, " <kmain+0x") && strstr(o, "\n#1  0x") && strstr(o, " <_start+0x"),
                  "%s", o);
}
END_TEST

/* Registers a guest (or a user) made up: the walk ends cleanly wherever the stack leads. */
START_TEST(test_bt_survives_wild_stack_and_frame_pointers)
{
    static const uint32_t wild[][3] = {
        {0xFFFFFFFCu, 0xFFFFFFF8u, 0x00100050u}, {0xFFFFFFFEu, 0x00000000u, 0x00100060u},
        {0x00000000u, 0xFFFFFFFFu, 0x00000000u}, {0xDEADBEEFu, 0xDEADBEEFu, 0xDEADBEEFu},
        {0x00001000u, 0x00001004u, 0x00100053u},
    };
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        ck_assert(dbg_set_reg(&sh.d, CPU_ESP, wild[i][0]));
        ck_assert(dbg_set_reg(&sh.d, CPU_EBP, wild[i][1]));
        ck_assert(dbg_set_reg(&sh.d, CPU_EIP, wild[i][2]));
        const char *o = run("bt 256");
        ck_assert_msg(strncmp(o, "#0  0x", 6) == 0, "%s", o);
    }
}
END_TEST

START_TEST(test_calls_name_the_callers_function)
{
    run("break vmi RDTSC");
    run("continue");
    const char *o = run("calls 0 0");
    ck_assert_msg(strstr(o, "#0 icount=") && strstr(o, " <vmi_init+0x") && strstr(o, "> vmi Init()"), "%s", o);
}
END_TEST

START_TEST(test_symbols_from_elsewhere_replace_the_kernels_own)
{
    symtab map;
    const char *text = "00100050 T entry_of_kmain\n";
    ck_assert(symtab_from_map(&map, text, strlen(text), "map", &err));
    shell_set_symbols(&sh, &map);
    ck_assert_ptr_nonnull(strstr(run("break entry_of_kmain"), "Breakpoint 1 at 0x00100050 <entry_of_kmain>"));
    fails("break kmain", "not a number, register ($eax) or symbol");
    shell_set_symbols(&sh, NULL);
    ck_assert_ptr_nonnull(strstr(run("break kmain"), "<kmain>"));
    symtab_free(&map);
}
END_TEST

START_TEST(test_stepi_and_reverse_stepi_move_one_instruction)
{
    run("stepi 100");
    uint64_t at = dbg_icount(&sh.d);
    run("stepi");
    ck_assert_uint_eq(dbg_icount(&sh.d), at + 1);
    run("reverse-stepi");
    ck_assert_uint_eq(dbg_icount(&sh.d), at);
    ck_assert_ptr_nonnull(strstr(run("info registers"), "icount   100"));
}
END_TEST

START_TEST(test_vmi_call_breakpoint_and_calls_listing)
{
    ck_assert_ptr_nonnull(strstr(run("break vmi RDTSC"), "Breakpoint 1 before VMI call RDTSC (#27)"));
    ck_assert_ptr_nonnull(strstr(run("continue"), "Breakpoint 1, VMI call RDTSC (#27) at 0x000c0460"));
    const char *o = run("calls 0 0");
    ck_assert_msg(strstr(o, "vmi Init() = 0x00000000"), "%s", o);
    ck_assert_ptr_nonnull(strstr(run("info breakpoints"), "vmi-break   RDTSC (hit 1 times)"));
}
END_TEST

START_TEST(test_examine_print_disassemble_and_page_walk)
{
    ck_assert_ptr_nonnull(strstr(run("x/2xb 0xc0000"), "0x000c0000: 0x55 0xaa"));
    ck_assert_ptr_nonnull(strstr(run("x/1xw 0xc0008"), "0x696d5663"));
    ck_assert_ptr_nonnull(strstr(run("print 0x10"), "= 16"));
    ck_assert_ptr_nonnull(strstr(run("disassemble 0xc0080 2"), "ret"));
    ck_assert_ptr_nonnull(strstr(run("pt 0x100000"), "paging is off"));
    ck_assert_ptr_nonnull(strstr(run("info rom"), "VMI ROM present"));
}
END_TEST

START_TEST(test_goto_and_explain_a_call)
{
    run("goto icount 1000");
    ck_assert_uint_eq(dbg_icount(&sh.d), 1000);
    run("continue"); /* to the end: every call is in the log */
    const char *o = run("explain 0");
    ck_assert_msg(strstr(o, "Init (rom+0x80)") && strstr(o, "Changed:") && strstr(o, "eip"), "%s", o);
    ck_assert_int_ne(t->m.end, END_RUNNING); /* explain returned to where we were: the end */
}
END_TEST

START_TEST(test_reverse_continue_to_a_vmi_breakpoint_names_the_call)
{
    run("break vmi RDTSC");
    run("continue");
    run("stepi"); /* performs the call */
    const char *o = run("reverse-continue");
    ck_assert_msg(strstr(o, "Breakpoint 1, VMI call RDTSC (#27) at 0x000c0460"), "%s", o);
}
END_TEST

START_TEST(test_a_get_relocation_info_breakpoint_names_the_entry)
{
    ck_assert_ptr_nonnull(strstr(run("break vmi GetRelocationInfo"), "before VMI call GetRelocationInfo (rom+0x88)"));
    const char *o = run("continue");
    ck_assert_msg(strstr(o, "Breakpoint 1, VMI call GetRelocationInfo (rom+0x88) at 0x000c0088"), "%s", o);
    ck_assert_ptr_nonnull(strstr(run("break vmi Init"), "before VMI call Init (rom+0x80)"));
}
END_TEST

/* linuxlike makes native calls (SetPxE: mov [edx], eax; ret in its slot). */
static void setup_native(void)
{
    kernel = "linuxlike";
    setup();
}

static void teardown_native(void)
{
    teardown();
    kernel = "hello";
}

/* The number of the first SetPxE among the calls in the log. */
static size_t first_set_pxe(void)
{
    size_t n = 0;
    for (size_t i = 0; i < evlog_count(&t->m.log); i++) {
        const vm_event *ev = tu_event(&t->m.log, i);
        if (ev->kind == EV_VMI_CALL && ev->num == 38)
            return n;
        n += ev->kind == EV_VMI_CALL;
    }
    ck_abort_msg("no SetPxE");
    return 0;
}

START_TEST(test_goto_call_on_a_native_call_stops_where_break_vmi_does)
{
    run("continue");
    char line[64];
    snprintf(line, sizeof line, "goto call %zu", first_set_pxe());
    run(line);
    uint64_t went = dbg_icount(&sh.d);
    teardown_native();
    setup_native();
    run("break vmi SetPxE");
    const char *o = run("continue");
    ck_assert_msg(strstr(o, "Breakpoint 1, VMI call SetPxE (#38) at 0x000c05c0"), "%s", o);
    ck_assert_uint_eq(dbg_icount(&sh.d), went);
}
END_TEST

START_TEST(test_explain_a_native_call_shows_it_and_what_its_slot_changed)
{
    run("continue");
    char line[64];
    snprintf(line, sizeof line, "explain %zu", first_set_pxe());
    const char *o = run(line);
    ck_assert_msg(strstr(o, "vmi SetPxE(") && strstr(o, "insns=2") && strstr(o, "Changed:") && strstr(o, "  memory 0x"),
                  "%s", o);
}
END_TEST

START_TEST(test_snapshot_and_restore)
{
    run("stepi 12345");
    ck_assert_ptr_nonnull(strstr(run("snapshot"), "at icount 12345"));
    run("stepi 1000"); /* the next automatic snapshot is at 15000 */
    ck_assert_ptr_nonnull(strstr(run("restore"), "icount 12345"));
    ck_assert_uint_eq(dbg_icount(&sh.d), 12345);
    ck_assert_ptr_nonnull(strstr(run("restore 0"), "icount 0"));
    fails("restore 99", "no snapshot #99");
}
END_TEST

START_TEST(test_watch_stops_after_the_write)
{
    run("break kmain");
    run("continue");
    uint32_t esp = dbg_reg(&sh.d, CPU_ESP);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "watch 0x%x 4", esp - 4); /* the first push in kmain */
    ck_assert_ptr_nonnull(strstr(run(cmd), "Watchpoint 2"));
    const char *o = run("continue");
    ck_assert_msg(strstr(o, "Watchpoint 2: write to"), "%s", o);
}
END_TEST

START_TEST(test_bad_commands_say_what_is_wrong)
{
    fails("contnue", "did you mean 'continue'");
    fails("x/4q 0", "unknown format");
    fails("goto somewhere 3", "usage: goto");
    fails("break no_such_symbol", "not a number, register");
    fails("break vmi NoSuchCall", "not a VMI call");
    fails("stepi -3", "not a positive count");
    fails("info nothing", "usage: info");
    fails("delete 99", "no breakpoint number 99");
    fails("source /nonexistent/script", "/nonexistent/script");
    ck_assert_ptr_nonnull(strstr(run("help stepi"), "run N instructions"));
}
END_TEST

/* Words beyond what a command takes are an error, never dropped: "stepi 1 000" is not stepi 1. */
START_TEST(test_a_command_given_more_words_than_it_takes_says_so)
{
    fails("stepi 1 000", "stepi takes at most 1 argument, not 2 (usage: stepi [N])");
    fails("continue now", "continue takes at most 0 arguments, not 1");
    fails("x/4x 0 1", "x takes at most 1 argument");
    fails("goto call 1 2", "goto takes at most 2 arguments, not 3");
    fails("b 1 2 3 4 5 6 7 8 9 10", "break takes at most 2 arguments, not 10");
    ck_assert_ptr_nonnull(strstr(run("watch 0x1000 4 phys"), "Watchpoint"));
    run("calls 0 1");
    ck_assert_ptr_nonnull(strstr(run("help goto"), "goto icount N"));
}
END_TEST

START_TEST(test_batch_script_runs_and_reports_the_failing_line)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_tmp("script"));
    FILE *f = fopen(path, "w");
    fputs("# a comment\nbreak kmain\ncontinue\ninfo registers\nbogus\nquit\n", f);
    fclose(f);
    const char *args[] = {"-x", path, tu_kernel("hello"), NULL};
    run_result r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.out, "Breakpoint 1, 0x"));
    char want[4200];
    snprintf(want, sizeof want, "%s:5: unknown command 'bogus'", path);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    tu_free(&r);
    f = fopen(path, "w");
    fputs("break kmain\ncontinue\nquit\n", f);
    fclose(f);
    r = tu_run(args);
    ck_assert_int_eq(r.status, 16); /* the guest has not ended: stopped by the user */
    tu_free(&r);
    f = fopen(path, "w");
    fputs("break kmain\ncontinue\nquit 0\n", f);
    fclose(f);
    r = tu_run(args);
    ck_assert_int_eq(r.status, 0);
    tu_free(&r);
    unlink(path);
}
END_TEST

START_TEST(test_a_script_line_longer_than_1023_bytes_stays_one_command)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_tmp("script"));
    FILE *f = fopen(path, "w");
    fputs("print 1", f);
    for (int i = 0; i < 1100; i++)
        fputc(' ', f);
    fputs("stepi 5\n", f);
    fclose(f);
    const char *args[] = {"--serial", "none", "-x", path, tu_kernel("hello"), NULL};
    run_result r = tu_run(args);
    /* One command of four words, which print refuses as a whole. */
    ck_assert_msg(strstr(r.err, "print takes at most 1 argument, not 3"), "%s", r.err);
    ck_assert_msg(!strstr(r.out, "=> "), "the tail of the line ran as a command: %s", r.out);
    tu_free(&r);
    unlink(path);
}
END_TEST

/* A line is read whole, but not without bound: past 1 MiB the script fails at that line
 * (a file of one endless line would otherwise be read into memory whole). */
START_TEST(test_a_script_line_longer_than_a_mebibyte_fails_the_script)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_tmp("script"));
    FILE *f = fopen(path, "w");
    fputs("stepi\n", f);
    for (int i = 0; i < (3 << 20); i++)
        fputc('x', f);
    fclose(f);
    const char *args[] = {"--serial", "none", "-x", path, tu_kernel("hello"), NULL};
    run_result r = tu_run(args);
    ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, ":2: line longer than 1048576 bytes"), "%s", r.err);
    tu_free(&r);
    unlink(path);
}
END_TEST

START_TEST(test_a_script_that_is_a_directory_is_a_usage_error)
{
    const char *args[] = {"--serial", "none", "-x", "/", tu_kernel("hello"), NULL};
    run_result r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "/: Is a directory"), "%s", r.err);
    tu_free(&r);
}
END_TEST

START_TEST(test_an_error_in_a_nested_script_names_only_its_own_line)
{
    char outer[4096], inner[4096], text[4200];
    snprintf(outer, sizeof outer, "%s", tu_tmp("outer"));
    snprintf(inner, sizeof inner, "%s", tu_tmp("inner"));
    tu_write_text(inner, "# nothing\nbogus\n");
    snprintf(text, sizeof text, "source %s\n", inner);
    tu_write_text(outer, text);
    snprintf(text, sizeof text, "source %s", outer);
    fails(text, "unknown command 'bogus'");
    snprintf(text, sizeof text, "%s:2: unknown command 'bogus'", inner);
    ck_assert_msg(strcmp(err.msg, text) == 0 || strncmp(err.msg, text, strlen(text)) == 0, "%s", err.msg);
    unlink(outer);
    unlink(inner);
}
END_TEST

START_TEST(test_a_long_unknown_command_suggests_nothing)
{
    char name[80];
    memset(name, 'q', 70);
    name[70] = 0;
    fails(name, "unknown command");
    ck_assert_msg(!strstr(err.msg, "(null)") && !strstr(err.msg, "did you mean"), "%s", err.msg);
}
END_TEST

START_TEST(test_examine_reads_up_to_the_end_of_ram)
{
    /* the machine has 16 MiB: a string or an instruction may run into its end */
    const char *o = run("x/s 0xfffff8");
    ck_assert_msg(strncmp(o, "0x00fffff8: \"", 13) == 0, "%s", o);
    o = run("x/i 0xfffffe");
    ck_assert_msg(strstr(o, "0x00fffffe"), "%s", o);
}
END_TEST

START_TEST(test_read_watchpoint_on_the_rom_signature)
{
    ck_assert_ptr_nonnull(strstr(run("rwatch 0xc0000 2"), "Read watchpoint 1"));
    const char *o = run("continue");
    ck_assert_msg(strstr(o, "Watchpoint 1: read of 0x000c000"), "%s", o);
}
END_TEST

static Suite *shell_suite(void)
{
    Suite *s = suite_create("shell");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_break_on_a_symbol_and_continue_stops_there);
    tcase_add_test(tc, test_stepi_and_reverse_stepi_move_one_instruction);
    tcase_add_test(tc, test_vmi_call_breakpoint_and_calls_listing);
    tcase_add_test(tc, test_examine_print_disassemble_and_page_walk);
    tcase_add_test(tc, test_goto_and_explain_a_call);
    tcase_add_test(tc, test_watch_stops_after_the_write);
    tcase_add_test(tc, test_snapshot_and_restore);
    tcase_add_test(tc, test_read_watchpoint_on_the_rom_signature);
    tcase_add_test(tc, test_info_symbol_names_the_symbol_and_the_offset);
    tcase_add_test(tc, test_bt_at_a_function_entry_names_its_caller);
    tcase_add_test(tc, test_bt_inside_a_function_names_its_caller);
    tcase_add_test(tc, test_bt_survives_wild_stack_and_frame_pointers);
    tcase_add_test(tc, test_calls_name_the_callers_function);
    tcase_add_test(tc, test_symbols_from_elsewhere_replace_the_kernels_own);
    tcase_add_test(tc, test_bad_commands_say_what_is_wrong);
    tcase_add_test(tc, test_a_command_given_more_words_than_it_takes_says_so);
    tcase_add_test(tc, test_batch_script_runs_and_reports_the_failing_line);
    tcase_add_test(tc, test_a_script_line_longer_than_1023_bytes_stays_one_command);
    tcase_add_test(tc, test_a_script_line_longer_than_a_mebibyte_fails_the_script);
    tcase_add_test(tc, test_a_script_that_is_a_directory_is_a_usage_error);
    tcase_add_test(tc, test_an_error_in_a_nested_script_names_only_its_own_line);
    tcase_add_test(tc, test_a_long_unknown_command_suggests_nothing);
    tcase_add_test(tc, test_examine_reads_up_to_the_end_of_ram);
    tcase_add_test(tc, test_reverse_continue_to_a_vmi_breakpoint_names_the_call);
    tcase_add_test(tc, test_a_get_relocation_info_breakpoint_names_the_entry);
    suite_add_tcase(s, tc);
    tc = tcase_create("native");
    tcase_add_checked_fixture(tc, setup_native, teardown_native);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_goto_call_on_a_native_call_stops_where_break_vmi_does);
    tcase_add_test(tc, test_explain_a_native_call_shows_it_and_what_its_slot_changed);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(shell_suite)
