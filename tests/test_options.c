/* The option table (frontend/options.c) as the one list of options: everything getopt_long
 * accepts is in it, and every row is in --help and in the man page. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/model.h"
#include "frontend/options.h"
#include "support/suite_main.h"

static char *text_of(void (*write)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    write(f);
    fclose(f);
    return buf;
}

static void write_usage(FILE *f) { options_usage(f, "vmiemu"); }
static void write_man(FILE *f) { options_man(f); }

/* Parse "vmiemu ARGS..."; the message on failure, "" on success (static buffer). */
static const char *parse(const char *a1, const char *a2)
{
    static vm_error err;
    char *argv[] = {"vmiemu", (char *)a1, (char *)a2, NULL};
    options o;
    memset(&err, 0, sizeof err);
    return options_parse(&o, a2 ? 3 : 2, argv, &err) ? "" : err.msg;
}

/* An option as the user writes it: "--name" or "-c". */
static void spellings(const option_row *r, char longs[64], char shorts[8])
{
    snprintf(longs, 64, "--%s", r->name ? r->name : "");
    snprintf(shorts, 8, "-%c", r->key < 256 ? r->key : '?');
}

START_TEST(test_help_shows_every_option_in_the_table_with_its_value)
{
    size_t n;
    const option_row *rows = options_rows(&n);
    char *help = text_of(write_usage);
    for (size_t i = 0; i < n; i++) {
        char l[64], s[8], with_arg[96];
        spellings(&rows[i], l, s);
        const char *shown = rows[i].name ? l : s;
        ck_assert_msg(strstr(help, shown), "--help lacks %s", shown);
        if (rows[i].key < 256 && rows[i].name) {
            snprintf(with_arg, sizeof with_arg, "%s, %s", s, l);
            ck_assert_msg(strstr(help, with_arg), "--help lacks %s", with_arg);
        }
        if (rows[i].arg) {
            snprintf(with_arg, sizeof with_arg, "%s %s", shown, rows[i].arg);
            ck_assert_msg(strstr(help, with_arg), "--help lacks '%s'", with_arg);
        }
    }
    free(help);
}
END_TEST

START_TEST(test_help_fills_in_the_defaults)
{
    char *help = text_of(write_usage);
    ck_assert_ptr_nonnull(strstr(help, "guest RAM (default 128, 2..3072)"));
    ck_assert_ptr_null(strstr(help, "%"));
    free(help);
}
END_TEST

/* In roff a hyphen is "\-": the page names each option as man(1) shows it. */
START_TEST(test_the_man_page_has_every_option_in_the_table)
{
    size_t n;
    const option_row *rows = options_rows(&n);
    char *man = text_of(write_man);
    ck_assert_ptr_nonnull(strstr(man, ".TH VMIEMU 1"));
    ck_assert_ptr_nonnull(strstr(man, ".SH OPTIONS"));
    ck_assert_ptr_nonnull(strstr(man, ".SH EXIT STATUS"));
    for (size_t i = 0; i < n; i++) {
        char want[128] = "";
        if (rows[i].name) { /* every hyphen of a long name is escaped */
            char *w = want;
            w += sprintf(w, "\\-\\-");
            for (const char *c = rows[i].name; *c; c++)
                w += *c == '-' ? sprintf(w, "\\-") : sprintf(w, "%c", *c);
        } else {
            snprintf(want, sizeof want, "\\fB\\-%c\\fR", rows[i].key);
        }
        ck_assert_msg(strstr(man, want), "the man page lacks %s", want);
    }
    free(man);
}
END_TEST

START_TEST(test_the_man_page_has_no_unescaped_request_in_text)
{
    char *man = text_of(write_man);
    for (char *line = man; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (*line == '.' || *line == '\'')
            ck_assert_msg(strchr("TSBPIRn\\", line[1]) != NULL, "not a known request: %.40s", line);
    free(man);
}
END_TEST

/* getopt_long is built from the table: each row's option is known, with or without a value. */
START_TEST(test_getopt_knows_every_option_in_the_table)
{
    size_t n;
    const option_row *rows = options_rows(&n);
    for (size_t i = 0; i < n; i++) {
        char l[64], s[8];
        spellings(&rows[i], l, s);
        const char *forms[] = {rows[i].name ? l : NULL, rows[i].key < 256 ? s : NULL};
        for (int f = 0; f < 2; f++) {
            if (!forms[f])
                continue;
            const char *msg = parse(forms[f], NULL);
            ck_assert_msg(!strstr(msg, "unknown option"), "%s: %s", forms[f], msg);
            if (rows[i].arg)
                ck_assert_msg(strstr(msg, "needs a value"), "%s without a value: '%s'", forms[f], msg);
        }
    }
}
END_TEST

static bool is_long_name(const option_row *rows, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].name && strlen(rows[i].name) == len && !strncmp(rows[i].name, name, len))
            return true;
    return false;
}

/* Nothing outside the table: no other letter, and no abbreviation of a long name (getopt_long
 * would take a unique prefix). */
START_TEST(test_getopt_takes_no_option_outside_the_table)
{
    size_t n;
    const option_row *rows = options_rows(&n);
    for (int c = 1; c < 128; c++) {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known |= rows[i].key == c;
        if (known || c == '-')
            continue;
        char opt[3] = {'-', (char)c, 0};
        ck_assert_msg(strstr(parse(opt, "kernel"), "unknown option"), "-%c (%d) was taken", c, c);
    }
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].name)
            continue;
        for (size_t len = 1; len < strlen(rows[i].name); len++) {
            if (is_long_name(rows, n, rows[i].name, len))
                continue;
            char opt[64];
            snprintf(opt, sizeof opt, "--%.*s", (int)len, rows[i].name);
            const char *msg = parse(opt, "kernel");
            ck_assert_msg(strstr(msg, "unknown option"), "%s was taken: '%s'", opt, msg);
        }
    }
    ck_assert_str_eq(parse("--serial-x", "kernel"), "unknown option '--serial-x' (try --help)");
}
END_TEST

START_TEST(test_a_flag_given_a_value_is_refused)
{
    ck_assert_str_eq(parse("--no-rom=1", "kernel"), "--no-rom takes no value");
}
END_TEST

START_TEST(test_cpu_takes_a_model_name)
{
    char *argv[] = {"vmiemu", "--cpu", "max", "k", NULL};
    options o;
    vm_error err = {0};
    ck_assert_msg(options_parse(&o, 4, argv, &err), "%s", err.msg);
    ck_assert_uint_eq(o.machine.cpu_model, VCPU_MODEL_MAX);
    ck_assert_uint_eq(o.machine_given, 1u << MOPT_CPU);
    char *argv2[] = {"vmiemu", "k", NULL};
    ck_assert_msg(options_parse(&o, 2, argv2, &err), "%s", err.msg);
    ck_assert_uint_eq(o.machine.cpu_model, VCPU_MODEL_COREDUO); /* the default */
    ck_assert_str_eq(parse("--cpu=skylake", "k"), "--cpu: 'skylake' is not a CPU model (coreduo, max)");
}
END_TEST

START_TEST(test_values_come_attached_or_as_the_next_word)
{
    char *argv[] = {"vmiemu", "-m64", "--append=a b", "--log", "--x", "k", NULL};
    options o;
    vm_error err = {0};
    ck_assert_msg(options_parse(&o, 6, argv, &err), "%s", err.msg);
    ck_assert_uint_eq(o.machine.ram_mib, 64);
    ck_assert_str_eq(o.machine.cmdline, "a b");
    ck_assert_str_eq(o.log_path, "--x");
    ck_assert_str_eq(o.kernel, "k");
    ck_assert_uint_eq(o.machine_given, (1u << MOPT_RAM) | (1u << MOPT_APPEND));
}
END_TEST

START_TEST(test_a_kernel_may_come_first_or_after_a_double_dash)
{
    char *argv[] = {"vmiemu", "k", "--no-rom", NULL};
    options o;
    vm_error err = {0};
    ck_assert_msg(options_parse(&o, 3, argv, &err), "%s", err.msg);
    ck_assert_str_eq(o.kernel, "k");
    ck_assert(!o.machine.rom_enabled);
    char *argv2[] = {"vmiemu", "--", "-k", NULL};
    ck_assert_msg(options_parse(&o, 3, argv2, &err), "%s", err.msg);
    ck_assert_str_eq(o.kernel, "-k");
    ck_assert_str_eq(parse("--", "--no-rom"), "");
    ck_assert_str_eq(parse("a", "b"), "more than one kernel given ('a' and 'b')");
}
END_TEST

static Suite *options_suite(void)
{
    Suite *s = suite_create("options");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_help_shows_every_option_in_the_table_with_its_value);
    tcase_add_test(tc, test_help_fills_in_the_defaults);
    tcase_add_test(tc, test_the_man_page_has_every_option_in_the_table);
    tcase_add_test(tc, test_the_man_page_has_no_unescaped_request_in_text);
    tcase_add_test(tc, test_getopt_knows_every_option_in_the_table);
    tcase_add_test(tc, test_getopt_takes_no_option_outside_the_table);
    tcase_add_test(tc, test_a_flag_given_a_value_is_refused);
    tcase_add_test(tc, test_cpu_takes_a_model_name);
    tcase_add_test(tc, test_values_come_attached_or_as_the_next_word);
    tcase_add_test(tc, test_a_kernel_may_come_first_or_after_a_double_dash);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(options_suite)
