/* The vmiemu command as a user runs it: options, exit statuses, messages, --log and --serial. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/suite_main.h"
#include "support/testutil.h"

#define RUN(...) TU_RUN(r, __VA_ARGS__)

static run_result r;

static void teardown(void) { tu_free(&r); }

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(r.err, needle), "stderr lacks '%s': %s", needle, r.err);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_help_lists_every_option_and_exits_zero)
{
    RUN("--help");
    ck_assert_int_eq(r.status, 0);
    const char *opts[] = {"-m MiB", "--append", "--serial", "--log", "--max-insns", "--no-rom", "--cpu-mhz",
                          "--epoch", "--reboot-restarts", "--snap-every", "--log-mem", "--symbols", "--version"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        ck_assert_msg(strstr(r.out, opts[i]), "--help lacks %s", opts[i]);
}
END_TEST

START_TEST(test_version_prints_the_version)
{
    RUN("--version");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "vmiemu " VMIEMU_VERSION));
}
END_TEST

START_TEST(test_hello_prints_on_serial_and_exits_33)
{
    RUN(tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_ptr_nonnull(strstr(r.out, "hello: PASS"));
    ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(test_each_ending_has_its_own_exit_status)
{
    static const struct { const char *word; int status; const char *msg; } cases[] = {
        {"shutdown", 0, NULL},
        {"halt", 4, "guest halted with no pending events"},
        {"reboot", 6, "guest requested a reboot"},
    };
    for (size_t i = 0; i < 3; i++) {
        RUN("--serial", "none", "--append", cases[i].word, tu_kernel("hello"));
        ck_assert_int_eq(r.status, cases[i].status);
        if (cases[i].msg)
            assert_err(cases[i].msg);
        tu_free(&r);
    }
}
END_TEST

/* The demo's ending (scripts/run.sh) is a clean Shutdown, status 0, only when the kernel passes:
 * a wall clock before 2000 fails hello's check, and it ends through the exit port as FAIL. */
START_TEST(test_hello_fails_through_the_exit_port_even_when_asked_to_shut_down)
{
    RUN("--append", "shutdown", "--epoch", "0", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 35);
    ck_assert_ptr_nonnull(strstr(r.out, "hello: FAIL (wall clock is before 2000-01-01)"));
    ck_assert_ptr_nonnull(strstr(r.out, "ending: exit"));
}
END_TEST

START_TEST(test_max_insns_stops_with_status_8)
{
    RUN("--serial", "none", "--max-insns", "5000", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 8);
    assert_err("instruction limit reached (5000 instructions)");
}
END_TEST

/* Numbers are decimal or 0x hex: a leading zero is not octal (010 was 8). */
START_TEST(test_numbers_with_a_leading_zero_are_decimal)
{
    RUN("--serial", "none", "--max-insns", "010", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 8);
    assert_err("instruction limit reached (10 instructions)");
    tu_free(&r);
    RUN("--serial", "none", "--max-insns", "0x10", tu_kernel("hello"));
    assert_err("instruction limit reached (16 instructions)");
    tu_free(&r);
    RUN("--serial", "none", "--max-insns", "09", tu_kernel("hello")); /* was refused: not octal */
    assert_err("instruction limit reached (9 instructions)");
    tu_free(&r);
    RUN("--serial", "none", "--log", "-", "--keys-at", "010:a", "--max-insns", "20", tu_kernel("hello"));
    assert_err("#0 icount=10 ");
}
END_TEST

/* A --log or --serial file:PATH whose writes fail (here: past RLIMIT_FSIZE) is said on stderr
 * whatever the guest's status; a success becomes 12. The log used to be cut without a word
 * when the guest ended with its own status. */
START_TEST(test_a_log_or_serial_file_that_cannot_be_written_is_reported)
{
    /* No ck_assert while the limit holds: Check writes its own progress to a file. */
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit small = {8192, old.rlim_max}, tiny = {512, old.rlim_max}; /* hello prints 667 bytes */
    char log[600], ser[600]; /* copies: tu_run takes temporary names too */
    snprintf(log, sizeof log, "%s", tu_tmp("lost.jsonl"));
    snprintf(ser, sizeof ser, "file:%s", tu_tmp("lost.txt"));
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG */
    int set = setrlimit(RLIMIT_FSIZE, &small);
    run_result a = tu_run((const char *[]){"--serial", "none", "--log", log, tu_kernel("hello"), NULL});
    run_result b = tu_run((const char *[]){"--serial", "none", "--log", log, "--append", "shutdown", tu_kernel("hello"), NULL});
    set |= setrlimit(RLIMIT_FSIZE, &tiny);
    run_result c = tu_run((const char *[]){"--serial", ser, tu_kernel("hello"), NULL});
    set |= setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, was);
    ck_assert_int_eq(set, 0);
    ck_assert_msg(a.status == 33 && strstr(a.err, "--log ") && strstr(a.err, "cannot write the event log"), "%d %.300s",
                  a.status, a.err);
    ck_assert_msg(b.status == 12 && strstr(b.err, "cannot write the event log"), "%d %.300s", b.status, b.err);
    ck_assert_msg(c.status == 33 && strstr(c.err, "some of the serial output could not be written"), "%d %.300s", c.status,
                  c.err);
    tu_free(&a);
    tu_free(&b);
    tu_free(&c);
}
END_TEST

/* A guest spinning with interrupts off never returns to the host on its own: the limit ends it. */
START_TEST(test_max_insns_stops_a_tight_loop_with_interrupts_off)
{
    RUN("--serial", "none", "--max-insns", "100000", tu_fixture("spin"));
    ck_assert_int_eq(r.status, 8);
    assert_err("instruction limit reached (100000 instructions)");
}
END_TEST

/* The guest reads one byte per 10000 instructions; stdin offers 256 bytes per host boundary
 * (10^6 instructions), so the UART's 4096-byte wire fills: the rest waits on stdin. */
START_TEST(test_serial_input_faster_than_the_guest_reads_is_held_back_not_lost)
{
    enum { N = 7000 };
    char *in = malloc(N + 2), *want = malloc(N + 2);
    memset(in, 'a', N);
    memset(want, 'A', N);
    strcpy(in + N, "q");
    strcpy(want + N, "\n");
    const char *args[] = {"--max-insns", "1000000000", tu_fixture("slowecho"), NULL};
    r = tu_run_input(args, in);
    ck_assert_msg(r.status == 33, "status %d: %s", r.status, r.err);
    ck_assert_uint_eq(strlen(r.out), N + 1);
    ck_assert_str_eq(r.out, want);
    free(in);
    free(want);
}
END_TEST

/* Output without a newline (a shell's prompt) reaches stdout while the guest waits for input,
 * not only once the next line comes: the echo fixture answers "ab" with "AB" and then waits;
 * the test reads "AB" before it types the 'q' that ends the run. (Until flushed at the host
 * boundaries, the prompt of Debian's shell waited in stdio's buffer for the echo of the next
 * command.) The 60 s bound only keeps a failure from hanging. */
START_TEST(test_serial_output_without_a_newline_is_not_held_back)
{
    int to_guest[2], from_guest[2];
    ck_assert_int_eq(pipe(to_guest), 0);
    ck_assert_int_eq(pipe(from_guest), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to_guest[0], 0);
        dup2(from_guest[1], 1);
        close(to_guest[1]);
        close(from_guest[0]);
        execl(VMIEMU_BINARY, VMIEMU_BINARY, "--max-insns", "100000000000", tu_fixture("echo"), (char *)NULL);
        _exit(127);
    }
    close(to_guest[0]);
    close(from_guest[1]);
    ck_assert_int_eq(write(to_guest[1], "ab", 2), 2);
    char got[64] = "";
    size_t len = 0;
    struct pollfd p = {.fd = from_guest[0], .events = POLLIN};
    while (len < 2 && poll(&p, 1, 60000) > 0) {
        ssize_t n = read(from_guest[0], got + len, sizeof got - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    got[len] = 0;
    bool seen = strcmp(got, "AB") == 0;
    ck_assert_int_eq(write(to_guest[1], "q", 1), 1); /* ends the run either way */
    close(to_guest[1]);
    int st = 0;
    waitpid(pid, &st, 0);
    close(from_guest[0]);
    ck_assert_msg(seen, "stdout before more input: '%s', want 'AB'", got);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 33, "status %#x", st);
}
END_TEST

START_TEST(test_unknown_option_is_a_usage_error)
{
    RUN("--frobnicate", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 2);
    assert_err("unknown option '--frobnicate'");
}
END_TEST

START_TEST(test_bad_option_values_are_usage_errors)
{
    static const char *const cases[][2] = {
        {"-m", "1"}, {"-m", "99999"}, {"-m", "12x"}, {"--cpu-mhz", "0"}, {"--max-insns", "-5"},
        {"--epoch", "soon"}, {"--serial", "tcp:1"}, {"--serial", "file:"}, {"--snap-every", "5"},
        {"--log-mem", "0"}, {"-m", " 64"}, {"-m", "+64"}, {"--max-insns", " 5"}, {"--epoch", " 5"},
        {"--cpu-mhz", "\t100"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        RUN(cases[i][0], cases[i][1], tu_kernel("hello"));
        ck_assert_msg(r.status == 2, "%s %s gave %d", cases[i][0], cases[i][1], r.status);
        ck_assert_msg(strstr(r.err, cases[i][0]), "message for %s %s: %s", cases[i][0], cases[i][1], r.err);
        tu_free(&r);
    }
}
END_TEST

/* The reset's message names its instruction count: the CLI and the shell do not add another. */
START_TEST(test_an_ending_that_names_its_icount_is_reported_with_one_icount)
{
    RUN("--serial", "none", tu_fixture("crash"));
    ck_assert_int_eq(r.status, 6);
    const char *first = strstr(r.err, "icount");
    ck_assert_msg(first && !strstr(first + 1, "icount"), "%s", r.err);
    tu_free(&r);
    char script[4096], kernel[4096];
    snprintf(script, sizeof script, "%s", tu_tmp("script"));
    snprintf(kernel, sizeof kernel, "%s", tu_fixture("crash"));
    tu_write_text(script, "continue\n");
    RUN("--serial", "none", "-x", script, kernel);
    first = strstr(r.out, "icount");
    ck_assert_msg(first && !strstr(first + 1, "icount"), "%s", r.out);
    unlink(script);
}
END_TEST

START_TEST(test_option_missing_its_value_is_a_usage_error)
{
    RUN(tu_kernel("hello"), "--append");
    ck_assert_int_eq(r.status, 2);
    assert_err("--append needs a value");
}
END_TEST

START_TEST(test_no_kernel_is_a_usage_error)
{
    RUN("--serial", "none");
    ck_assert_int_eq(r.status, 2);
    assert_err("no kernel given");
}
END_TEST

START_TEST(test_missing_kernel_file_names_the_file)
{
    RUN("/nonexistent/kernel.elf");
    ck_assert_int_eq(r.status, 2);
    assert_err("/nonexistent/kernel.elf");
}
END_TEST

START_TEST(test_garbage_kernel_file_is_rejected_with_status_2)
{
    const char *path = tu_tmp("garbage");
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 5000; i++)
        fputc((i * 7919) & 0xFF, f);
    fclose(f);
    RUN(p);
    ck_assert_int_eq(r.status, 2);
    assert_err(p);
    assert_err("not an ELF file");
    unlink(p);
}
END_TEST

START_TEST(test_serial_file_receives_the_console)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("serial"));
    char opt[4200];
    snprintf(opt, sizeof opt, "file:%s", p);
    RUN("--serial", opt, tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_str_eq(r.out, "");
    char *text = read_file(p);
    ck_assert_ptr_nonnull(strstr(text, "hello: PASS"));
    free(text);
    unlink(p);
}
END_TEST

START_TEST(test_symbols_from_a_missing_file_is_a_usage_error_naming_it)
{
    RUN("--serial", "none", "--symbols", "/nonexistent/vmlinux", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 2);
    assert_err("/nonexistent/vmlinux");
}
END_TEST

START_TEST(test_symbols_from_a_garbage_file_is_a_usage_error_saying_why)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("garbage"));
    tu_write_text(p, "this is not a symbol file\n");
    RUN("--serial", "none", "--symbols", p, tu_kernel("hello"));
    ck_assert_int_eq(r.status, 2);
    assert_err("nor a System.map line");
    unlink(p);
}
END_TEST

START_TEST(test_symbols_from_a_system_map_name_callers_in_the_text_log)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("map"));
    tu_write_text(p, "00100000 T whole_kernel\n");
    RUN("--serial", "none", "--symbols", p, "--log", "-", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    /* The caller is named by its offset from the one symbol, wherever hello's code lies. */
    const char *line = strstr(r.err, " eip=0x");
    unsigned eip = 0, off = 0;
    ck_assert_msg(line && sscanf(line, " eip=0x%x <whole_kernel+0x%x> vmi Init()", &eip, &off) == 2, "%.300s",
                  r.err);
    ck_assert_uint_eq(off, eip - 0x100000);
    ck_assert_ptr_nonnull(strstr(line, "> vmi Init()"));
    unlink(p);
}
END_TEST

START_TEST(test_the_json_log_names_the_caller_from_the_kernels_own_symbols)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("log"));
    RUN("--serial", "none", "--log", p, tu_kernel("hello"));
    char *text = read_file(p);
    char *first = strtok(text, "\n");
    json_error_t jerr;
    json_t *ev = json_loads(first, 0, &jerr);
    ck_assert_msg(ev, "%s: %s", jerr.text, first);
    ck_assert_str_eq(json_string_value(json_object_get(ev, "call")), "Init");
    ck_assert_msg(strncmp(json_string_value(json_object_get(ev, "caller")), "vmi_init+0x", 11) == 0, "%s", first);
    json_decref(ev);
    free(text);
    unlink(p);
}
END_TEST

START_TEST(test_log_file_is_json_lines_one_event_each)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("log"));
    RUN("--serial", "none", "--log", p, tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    char *text = read_file(p);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        size_t n = strlen(line);
        while (n > 0 && line[n - 1] == ' ') /* padding that keeps lines inside a page */
            n--;
        ck_assert_msg(line[0] == '{' && line[n - 1] == '}', "not a JSON object: %s", line);
        ck_assert_ptr_nonnull(strstr(line, "\"icount\":"));
        ck_assert_ptr_nonnull(strstr(line, "\"kind\":"));
    }
    ck_assert_int_eq(lines, 1 + 74 + 13 + 1);
    free(text);
    unlink(p);
}
END_TEST

START_TEST(test_log_json_decodes_arguments_and_results)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("log"));
    RUN("--serial", "none", "--log", p, tu_kernel("hello"));
    char *text = read_file(p);
    ck_assert_ptr_nonnull(strstr(text, "\"call\":\"GetRelocationInfo\",\"num\":257,\"args\":{\"call\":\"CPUID\"},"
                                       "\"result\":\"CALL_REL 0x000c0100\""));
    ck_assert_ptr_nonnull(strstr(text, "\"call\":\"GetCycleCounter\",\"num\":67,\"args\":{\"counter\":\"stolen\"},\"result\":0"));
    ck_assert_ptr_nonnull(strstr(text, "\"kind\":\"end\",\"reason\":\"exit-port\",\"value\":16"));
    free(text);
    unlink(p);
}
END_TEST

/* Each line of the JSON Lines file at path through jansson's strict decoder; returns the
 * objects as one array (the caller frees it). */
static json_t *parse_json_lines(const char *path)
{
    char *text = read_file(path);
    json_t *all = json_array();
    int lineno = 1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lineno++) {
        json_error_t e;
        json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &e);
        ck_assert_msg(obj, "line %d is not JSON (%s at column %d): %s", lineno, e.text, e.column, line);
        ck_assert_msg(json_is_object(obj), "line %d is not an object: %s", lineno, line);
        ck_assert_msg(json_is_integer(json_object_get(obj, "seq")), "line %d has no seq", lineno);
        ck_assert_int_eq(json_integer_value(json_object_get(obj, "seq")), lineno - 1);
        ck_assert_msg(json_is_integer(json_object_get(obj, "icount")), "line %d has no icount", lineno);
        ck_assert_msg(json_is_integer(json_object_get(obj, "eip")), "line %d has no eip", lineno);
        ck_assert_msg(json_is_string(json_object_get(obj, "kind")), "line %d has no kind", lineno);
        json_array_append_new(all, obj);
    }
    free(text);
    return all;
}

static json_t *first_of_kind(json_t *events, const char *kind)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
        if (strcmp(json_string_value(json_object_get(ev, "kind")), kind) == 0)
            return ev;
    ck_abort_msg("no %s event in the log", kind);
    return NULL;
}

START_TEST(test_log_of_every_event_kind_parses_as_strict_json)
{
    char p[4096], elf[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("log"));
    snprintf(elf, sizeof elf, "%s/events.elf", VMIEMU_GUEST_DIR);
    const char *args[] = {"--log", p, elf, NULL};
    /* a quote, a backslash, control characters, a byte above 0x7F, a newline */
    r = tu_run_input(args, "a\"b\\c\x01\xff\tz\nq");
    json_t *events = parse_json_lines(p);
    json_t *in = first_of_kind(events, "input");
    ck_assert_int_eq(json_integer_value(json_object_get(in, "bytes")), 11);
    ck_assert_str_eq(json_string_value(json_object_get(in, "text")), "a\"b\\c\x01\xc3\xbf\tz\nq"); /* 0xFF is U+00FF */
    json_t *pin = first_of_kind(events, "port-in"), *pout = first_of_kind(events, "port-out");
    ck_assert_int_eq(json_integer_value(json_object_get(pin, "port")), 0x99);
    ck_assert_int_eq(json_integer_value(json_object_get(pout, "size")), 1);
    json_t *mem = first_of_kind(events, "memory");
    ck_assert_int_eq(json_integer_value(json_object_get(mem, "address")), 0xF0000000);
    ck_assert_str_eq(json_string_value(json_object_get(mem, "access")), "r");
    json_t *ex = first_of_kind(events, "exception");
    ck_assert_int_eq(json_integer_value(json_object_get(ex, "vector")), 6);
    ck_assert(json_is_false(json_object_get(ex, "delivered")));
    json_t *end = first_of_kind(events, "end");
    ck_assert_str_eq(json_string_value(json_object_get(end, "reason")), "reboot"); /* ud2 with no IDT: a triple fault resets */
    json_decref(events);
    unlink(p);
}
END_TEST

START_TEST(test_log_of_vmi_calls_parses_as_strict_json)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", tu_tmp("log"));
    RUN("--serial", "none", "--log", p, tu_kernel("hello"));
    json_t *events = parse_json_lines(p);
    ck_assert_uint_eq(json_array_size(events), 1 + 74 + 13 + 1);
    json_t *reloc = json_array_get(events, 1);
    ck_assert_str_eq(json_string_value(json_object_get(reloc, "call")), "GetRelocationInfo");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(reloc, "args"), "call")), "CPUID");
    ck_assert_str_eq(json_string_value(json_object_get(reloc, "result")), "CALL_REL 0x000c0100");
    json_decref(events);
    unlink(p);
}
END_TEST

/* A million calls with a 1 MiB cap on the log: older chunks go to the spill file, and `calls`
 * and `goto call N` still find a call deep inside them. */
START_TEST(test_calls_deep_in_a_capped_log_are_listed_and_reached)
{
    char script[4096];
    snprintf(script, sizeof script, "%s", tu_tmp("script"));
    FILE *f = fopen(script, "w");
    fputs("continue\ncalls 500000 500000\ngoto call 500000\nquit 0\n", f);
    fclose(f);
    RUN("--log-mem", "1", "--serial", "none", "--append", "iters=1000000", "-x", script, tu_kernel("callloop"));
    ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
    const char *line = strstr(r.out, "#500000 icount=");
    ck_assert_msg(line, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(line, "vmi GetCycleCounter(counter=real)"));
    char at[64];
    snprintf(at, sizeof at, "At icount %llu", strtoull(line + strlen("#500000 icount="), NULL, 10));
    ck_assert_msg(strstr(r.out, at), "no '%s' in %s", at, r.out);
    unlink(script);
}
END_TEST

/* Reaching a memory budget is said once, with what happens from then on; the run goes on. */
START_TEST(test_snapshots_reaching_their_budget_are_thinned_with_a_note)
{
    RUN("--serial", "none", "--snap-every", "1000", "--snap-mem", "1", "--append", "iters=300000", tu_kernel("callloop"));
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    const char *note = strstr(r.err, "vmiemu: note: snapshots reached --snap-mem (1 MiB) at icount ");
    ck_assert_msg(note && strstr(note, "thinned out"), "%s", r.err);
    ck_assert_msg(!strstr(note + 40, "snapshots reached"), "said twice: %s", r.err);
}
END_TEST

START_TEST(test_an_event_log_reaching_its_budget_spills_with_a_note)
{
    RUN("--serial", "none", "--log-mem", "1", "--append", "iters=1000000", tu_kernel("callloop"));
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    const char *note = strstr(r.err, "vmiemu: note: the event log reached --log-mem (1 MiB) at icount ");
    ck_assert_msg(note && strstr(note, "temporary file"), "%s", r.err);
    ck_assert_msg(!strstr(note + 40, "event log reached"), "said twice: %s", r.err);
}
END_TEST

START_TEST(test_a_run_within_its_budgets_says_nothing_of_them)
{
    RUN("--serial", "none", "--append", "iters=100000", tu_kernel("callloop"));
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    ck_assert_msg(!strstr(r.err, "note:"), "%s", r.err);
}
END_TEST

/* The spill file cannot grow (a 64 KiB file size limit, SIGXFSZ ignored so writes fail with
 * EFBIG): the log cannot take more events, and the run ends with an error instead of going on
 * with a hole in its history. */
START_TEST(test_an_event_log_that_cannot_spill_ends_the_run_with_an_error)
{
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 64 << 10;
    signal(SIGXFSZ, SIG_IGN); /* inherited by vmiemu across exec */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    RUN("--log-mem", "1", "--serial", "none", "--append", "iters=1000000", tu_kernel("callloop"));
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    ck_assert_msg(r.status != 0, "status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "the event log cannot hold event"), "%s", r.err);
}
END_TEST

START_TEST(test_log_dash_writes_text_to_stderr)
{
    RUN("--serial", "none", "--log", "-", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_ptr_nonnull(strstr(r.err, "vmi Init() = 0x00000000"));
    ck_assert_ptr_nonnull(strstr(r.err, "vmi GetWallclockTime() = "));
}
END_TEST

START_TEST(test_unwritable_log_is_reported_before_running)
{
    RUN("--log", "/nonexistent/dir/log.json", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 2);
    assert_err("/nonexistent/dir/log.json");
    ck_assert_str_eq(r.out, "");
}
END_TEST

START_TEST(test_two_processes_give_byte_identical_output_and_logs)
{
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s", tu_tmp("log1"));
    snprintf(p2, sizeof p2, "%s", tu_tmp("log2"));
    RUN("--log", p1, tu_kernel("hello"));
    char *out1 = strdup(r.out);
    tu_free(&r);
    RUN("--log", p2, tu_kernel("hello"));
    ck_assert_str_eq(out1, r.out);
    char *l1 = read_file(p1), *l2 = read_file(p2);
    ck_assert_str_eq(l1, l2);
    free(out1);
    free(l1);
    free(l2);
    unlink(p1);
    unlink(p2);
}
END_TEST

START_TEST(test_no_rom_boots_natively)
{
    RUN("--no-rom", tu_kernel("hello"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_ptr_nonnull(strstr(r.out, "running natively"));
}
END_TEST

START_TEST(test_append_reaches_the_kernel)
{
    RUN("--append", "iters=1234", tu_kernel("loop"));
    ck_assert_int_eq(r.status, 33);
    ck_assert_ptr_nonnull(strstr(r.out, "loop: 1234 iterations"));
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("command");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_help_lists_every_option_and_exits_zero);
    tcase_add_test(tc, test_version_prints_the_version);
    tcase_add_test(tc, test_hello_prints_on_serial_and_exits_33);
    tcase_add_test(tc, test_each_ending_has_its_own_exit_status);
    tcase_add_test(tc, test_hello_fails_through_the_exit_port_even_when_asked_to_shut_down);
    tcase_add_test(tc, test_max_insns_stops_with_status_8);
    tcase_add_test(tc, test_numbers_with_a_leading_zero_are_decimal);
    tcase_add_test(tc, test_a_log_or_serial_file_that_cannot_be_written_is_reported);
    tcase_add_test(tc, test_max_insns_stops_a_tight_loop_with_interrupts_off);
    tcase_add_test(tc, test_serial_input_faster_than_the_guest_reads_is_held_back_not_lost);
    tcase_add_test(tc, test_serial_output_without_a_newline_is_not_held_back);
    tcase_add_test(tc, test_an_ending_that_names_its_icount_is_reported_with_one_icount);
    tcase_add_test(tc, test_unknown_option_is_a_usage_error);
    tcase_add_test(tc, test_bad_option_values_are_usage_errors);
    tcase_add_test(tc, test_option_missing_its_value_is_a_usage_error);
    tcase_add_test(tc, test_no_kernel_is_a_usage_error);
    tcase_add_test(tc, test_missing_kernel_file_names_the_file);
    tcase_add_test(tc, test_garbage_kernel_file_is_rejected_with_status_2);
    tcase_add_test(tc, test_serial_file_receives_the_console);
    tcase_add_test(tc, test_log_file_is_json_lines_one_event_each);
    tcase_add_test(tc, test_log_json_decodes_arguments_and_results);
    tcase_add_test(tc, test_log_of_every_event_kind_parses_as_strict_json);
    tcase_add_test(tc, test_log_of_vmi_calls_parses_as_strict_json);
    tcase_add_test(tc, test_log_dash_writes_text_to_stderr);
    tcase_add_test(tc, test_calls_deep_in_a_capped_log_are_listed_and_reached);
    tcase_add_test(tc, test_an_event_log_that_cannot_spill_ends_the_run_with_an_error);
    tcase_add_test(tc, test_snapshots_reaching_their_budget_are_thinned_with_a_note);
    tcase_add_test(tc, test_an_event_log_reaching_its_budget_spills_with_a_note);
    tcase_add_test(tc, test_a_run_within_its_budgets_says_nothing_of_them);
    tcase_add_test(tc, test_unwritable_log_is_reported_before_running);
    tcase_add_test(tc, test_two_processes_give_byte_identical_output_and_logs);
    tcase_add_test(tc, test_no_rom_boots_natively);
    tcase_add_test(tc, test_append_reaches_the_kernel);
    tcase_add_test(tc, test_symbols_from_a_missing_file_is_a_usage_error_naming_it);
    tcase_add_test(tc, test_symbols_from_a_garbage_file_is_a_usage_error_saying_why);
    tcase_add_test(tc, test_symbols_from_a_system_map_name_callers_in_the_text_log);
    tcase_add_test(tc, test_the_json_log_names_the_caller_from_the_kernels_own_symbols);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(cli_suite)
