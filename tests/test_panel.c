/* The live hypercall panel (frontend/panel.h): its text page through the shell's `panel`
 * command, checked against the log as `calls` lists it (counters, the latest calls, after going
 * back in time too) and against the registers; `--panel` screenshots show it beside the screen
 * in the VGA font; and nothing of the run depends on it (event logs with and without it are
 * identical). Guests: testkernels/callloop (a known number of GetCycleCounter calls), paging
 * (CR3 set), vgatext (a screen). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/vga.h"
#include "frontend/panel.h"
#include "support/picture.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define ITERS 500 /* callloop's GetCycleCounter calls */
#define BACK "60000" /* an icount in the middle of callloop's calls */

static run_result r;
static void teardown(void) { tu_free(&r); }

/* tu_tmp's buffer is reused by the next call: keep a copy. */
static const char *tmp(const char *stem)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s", tu_tmp(stem));
    return p;
}

/* The figures of one panel page printed by `panel` (starting at its title line), and of the
 * `calls` listing after it (up to the next "VMI calls" title or the end). */
typedef struct page {
    unsigned long long calls;      /* "calls N," */
    unsigned long long counter;    /* the GetCycleCounter row's count (0 if none) */
    unsigned long long last_icount;/* the icount of the page's last listed call */
    unsigned long long listed, listed_gcc, listed_last_icount; /* from `calls` */
    char cpu[PANEL_COLS + 1];      /* the IF/CPL/CR3 line */
    char last_row[PANEL_COLS + 1]; /* the page's last listed call */
} page;

static const char *parse_page(const char *text, page *pg)
{
    memset(pg, 0, sizeof *pg);
    const char *title = strstr(text, " VMI calls - ");
    ck_assert_msg(title, "no panel in: %s", text);
    const char *line = strchr(title, '\n') + 1;
    const char *eol = strchr(line, '\n');
    snprintf(pg->cpu, sizeof pg->cpu, "%.*s", (int)(eol - line), line);
    const char *c = strstr(line, "calls ");
    ck_assert_ptr_nonnull(c);
    pg->calls = strtoull(c + 6, NULL, 10);
    line = strchr(eol + 1, '\n') + 1; /* past the calls' heading */
    for (int i = 0; i < PANEL_CALLS; i++, line = strchr(line, '\n') + 1) {
        unsigned long long ic;
        if (sscanf(line, "%llu", &ic) == 1) {
            pg->last_icount = ic;
            snprintf(pg->last_row, sizeof pg->last_row, "%.*s", (int)(strchr(line, '\n') - line), line);
        }
    }
    line = strchr(line, '\n') + 1; /* past the counters' heading */
    const char *end = strstr(line, " VMI calls - ");
    for (const char *k = line; *k && (!end || k < end); k = strchr(k, '\n') + 1) {
        const char *g = strstr(k, " GetCycleCounter ");
        const char *nl = strchr(k, '\n');
        if (g && g < nl)
            pg->counter = strtoull(g + strlen(" GetCycleCounter "), NULL, 10);
        const char *ic = strstr(k, " icount=");
        if (ic && ic < nl && strstr(k, " vmi ") && strstr(k, " vmi ") < nl) {
            pg->listed++;
            pg->listed_last_icount = strtoull(ic + 8, NULL, 10);
            const char *v = strstr(k, " vmi GetCycleCounter(");
            if (v && v < nl)
                pg->listed_gcc++;
        }
        if (!nl)
            break;
    }
    return end ? end : text + strlen(text);
}

START_TEST(test_panel_counts_and_latest_calls_are_the_logs_also_after_going_back)
{
    const char *script = tmp("panel.gdb");
    tu_write_text(script, "continue\npanel\ncalls\ngoto icount " BACK "\npanel\ncalls\n");
    char iters[32];
    snprintf(iters, sizeof iters, "iters=%d", ITERS);
    const char *args[] = {"--serial", "none", "--append", iters, "-x", script, tu_kernel("callloop"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 16, "%d: %s", r.status, r.err); /* left stopped in the past */
    page end, back;
    const char *next = parse_page(r.out, &end);
    parse_page(next, &back);
    ck_assert_ptr_nonnull(strstr(r.out, " VMI calls - exit-port"));
    /* At the end: every call the log lists is counted, the GetCycleCounter loop's among them. */
    ck_assert_uint_eq(end.calls, end.listed);
    ck_assert_uint_eq(end.counter, end.listed_gcc);
    ck_assert_uint_ge(end.counter, ITERS);
    ck_assert_uint_eq(end.last_icount, end.listed_last_icount);
    /* The last call decoded as the log writes it, and its caller by symbol (the ELF's own). */
    ck_assert_msg(strstr(end.last_row, " GetCycleCounter(counter=real) = ") && strstr(end.last_row, " kmain+0x"), "%s",
                  end.last_row);
    /* Gone back: the page is the log as far as the machine is now, fewer calls. */
    ck_assert_ptr_nonnull(strstr(next, " VMI calls - stopped"));
    ck_assert_ptr_nonnull(strstr(next, "icount " BACK "\n"));
    ck_assert_uint_eq(back.calls, back.listed);
    ck_assert_uint_eq(back.counter, back.listed_gcc);
    ck_assert_uint_eq(back.last_icount, back.listed_last_icount);
    ck_assert_uint_lt(back.calls, end.calls);
    ck_assert_uint_lt(back.counter, end.counter);
    ck_assert_uint_lt(back.last_icount, strtoull(BACK, NULL, 10));
}
END_TEST

START_TEST(test_panel_shows_the_guests_interrupt_flag_cpl_and_cr3)
{
    const char *script = tmp("cpu.gdb");
    tu_write_text(script, "stepi 300000\npanel\nprint $cr3\nprint $eflags\nprint $cs\n");
    const char *args[] = {"--serial", "none", "-x", script, tu_kernel("paging"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 16, "%d: %s", r.status, r.err);
    page pg;
    parse_page(r.out, &pg);
    const char *cr3 = strstr(r.out, "$cr3 = "), *fl = strstr(r.out, "$eflags = "), *cs = strstr(r.out, "$cs = ");
    ck_assert(cr3 && fl && cs);
    unsigned long v_cr3 = strtoul(cr3 + 7, NULL, 10), v_fl = strtoul(fl + 10, NULL, 10), v_cs = strtoul(cs + 6, NULL, 10);
    ck_assert_uint_ne(v_cr3, 0); /* paging is on by then: a CR3 worth showing */
    char want[128];
    snprintf(want, sizeof want, " IF %lu   CPL %lu   CR3 0x%08lx   calls ", v_fl >> 9 & 1, v_cs & 3, v_cr3);
    ck_assert_msg(strncmp(pg.cpu, want, strlen(want)) == 0, "'%s' is not '%s...'", pg.cpu, want);
}
END_TEST

/* The IBM VGA's 8x16 'V'. */
static const uint8_t glyph_V[16] = {0x00, 0x00, 0xc6, 0xc6, 0xc6, 0xc6, 0xc6, 0xc6,
                                    0xc6, 0x6c, 0x38, 0x10, 0x00, 0x00, 0x00, 0x00};
#define WHITE 0xFFFFFFu
#define BLUE 0x0000AAu

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_panel_screenshot_shows_it_beside_the_screen_and_changes_nothing_of_the_run)
{
    const char *with = tmp("with.png"), *without = tmp("without.png");
    const char *log_with = tmp("with.jsonl"), *log_without = tmp("without.jsonl");
    char spec_with[600], spec_without[600];
    snprintf(spec_with, sizeof spec_with, "99999999999:%s", with);
    snprintf(spec_without, sizeof spec_without, "99999999999:%s", without);
    const char *a1[] = {"--serial", "none", "--panel", "--screenshot-at", spec_with, "--screenshot-at", "2000000:/dev/null",
                        "--log", log_with, tu_kernel("vgatext"), NULL};
    r = tu_run(a1);
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    tu_free(&r);
    const char *a2[] = {"--serial", "none", "--screenshot-at", spec_without, "--screenshot-at", "2000000:/dev/null",
                        "--log", log_without, tu_kernel("vgatext"), NULL};
    r = tu_run(a2);
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    char *l1 = read_all(log_with), *l2 = read_all(log_without);
    ck_assert_msg(strlen(l1) > 0 && strcmp(l1, l2) == 0, "the event logs differ");
    free(l1);
    free(l2);
    picture p = picture_load(with), q = picture_load(without);
    ck_assert_uint_eq(p.w, VGA_WIDTH + PANEL_WIDTH);
    ck_assert_uint_eq(p.h, VGA_HEIGHT);
    ck_assert_uint_eq(q.w, VGA_WIDTH);
    for (unsigned y = 0; y < VGA_HEIGHT; y++) /* the screen is the one without the panel */
        for (unsigned x = 0; x < VGA_WIDTH; x++)
            ck_assert_uint_eq(picture_at(&p, x, y), picture_at(&q, x, y));
    /* The panel's title " VMI calls - exit-port": 'V' at its column 1, white on blue. */
    for (unsigned y = 0; y < VGA_CELL_H; y++)
        for (unsigned x = 0; x < VGA_CELL_W; x++)
            ck_assert_msg(picture_at(&p, VGA_WIDTH + VGA_CELL_W + x, y) == (glyph_V[y] & (0x80 >> x) ? WHITE : BLUE),
                          "pixel %u,%u: %06x", x, y, picture_at(&p, VGA_WIDTH + VGA_CELL_W + x, y));
    free(p.rgb);
    free(q.rgb);
}
END_TEST

static Suite *panel_suite(void)
{
    Suite *s = suite_create("panel");
    TCase *tc = tcase_create("panel");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_panel_counts_and_latest_calls_are_the_logs_also_after_going_back);
    tcase_add_test(tc, test_panel_shows_the_guests_interrupt_flag_cpl_and_cr3);
    tcase_add_test(tc, test_panel_screenshot_shows_it_beside_the_screen_and_changes_nothing_of_the_run);
    suite_add_tcase(s, tc);
    return s;
}

SUITE_MAIN(panel_suite)
