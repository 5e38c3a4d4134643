/* The screen from the command line and the shell: PNG screenshots at instruction counts
 * (--screenshot-at, `screenshot`) checked pixel by pixel, and keys typed at instruction counts
 * (--keys-at, `sendkey`) reaching the guest's IRQ 1 handler, recorded and replayed. The guest
 * is testkernels/vgatext. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/vga.h"
#include "support/picture.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define END "99999999999" /* a count the run never reaches: the screenshot shows its end */
#define KEYS_AT "3000000"  /* after vgatext has drawn its screen and opened IRQ 1 */

/* The IBM VGA's 8x16 'H'. */
static const uint8_t glyph_H[16] = {0x00, 0x00, 0xc6, 0xc6, 0xc6, 0xc6, 0xfe, 0xc6,
                                    0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00};
#define BLUE 0x0000AAu
#define YELLOW 0xFFFF55u
#define LIGHT_GREY 0xAAAAAAu
#define LIGHT_GREEN 0x55FF55u

static run_result r;

/* tu_tmp's buffer is reused by the next call (tu_run makes some): keep a copy. */
static const char *tmp(const char *stem)
{
    static char paths[4][512];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s", tu_tmp(stem));
    return p;
}

static void teardown(void) { tu_free(&r); }

START_TEST(test_screenshot_at_the_end_shows_the_glyph_in_its_colours_at_its_cell)
{
    const char *png = tmp("end.png");
    const char *args[] = {"--screenshot-at", NULL, tu_kernel("vgatext"), NULL};
    char spec[512];
    snprintf(spec, sizeof spec, END ":%s", png);
    args[1] = spec;
    r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    picture p = picture_load(png);
    ck_assert_uint_eq(p.w, VGA_WIDTH);
    ck_assert_uint_eq(p.h, VGA_HEIGHT);
    for (unsigned y = 0; y < 16; y++) /* 'H' at row 1, column 0 */
        for (unsigned x = 0; x < 8; x++)
            ck_assert_msg(picture_at(&p, x, 16 + y) == (glyph_H[y] & (0x80 >> x) ? YELLOW : BLUE), "pixel %u,%u: %06x", x, y,
                          picture_at(&p, x, 16 + y));
    free(p.rgb);
}
END_TEST

START_TEST(test_screenshot_shows_the_block_cursor_in_its_cells_colour)
{
    const char *png = tmp("cursor.png");
    char spec[512];
    snprintf(spec, sizeof spec, END ":%s", png);
    const char *args[] = {"--screenshot-at", spec, tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    picture p = picture_load(png);
    for (unsigned y = 0; y < 16; y++) /* rows 0-15 of cell (1, 3) */
        ck_assert_uint_eq(picture_at(&p, 3 * 8 + 4, 16 + y), LIGHT_GREY);
    ck_assert_uint_eq(picture_at(&p, 4 * 8 + 4, 16 + 8), 0); /* the next cell is black */
    free(p.rgb);
}
END_TEST

START_TEST(test_screenshot_at_icount_0_is_taken_before_the_guest_draws)
{
    const char *first = tmp("zero.png");
    char spec[512];
    snprintf(spec, sizeof spec, "0:%s", first);
    const char *args[] = {"--screenshot-at", spec, tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    picture p = picture_load(first);
    ck_assert_uint_eq(picture_at(&p, 4, 16 + 8), 0); /* no 'H' yet: the text buffer is empty */
    free(p.rgb);
}
END_TEST

START_TEST(test_screenshot_at_a_bad_spec_is_a_usage_error)
{
    const char *args[] = {"--screenshot-at", "12", tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "ICOUNT:FILE.png"));
}
END_TEST

START_TEST(test_screenshot_to_an_unwritable_path_is_an_emulator_error)
{
    const char *args[] = {"--screenshot-at", "0:/nonexistent/dir/x.png", tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 12);
    ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/dir/x.png"));
}
END_TEST

START_TEST(test_keys_at_reach_the_guests_irq1_handler_as_set_1_scan_codes)
{
    const char *args[] = {"--append", "keys=6", "--keys-at", KEYS_AT ":hA", tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    ck_assert_msg(strstr(r.out, "scancode 0x23\nvgatext: scancode 0xa3\n"           /* h */
                                "vgatext: scancode 0x2a\nvgatext: scancode 0x1e\n" /* shift, a */
                                "vgatext: scancode 0x9e\nvgatext: scancode 0xaa\n"),
                  "%s", r.out);
}
END_TEST

START_TEST(test_typed_keys_show_on_the_guests_screen)
{
    const char *png = tmp("keys.png");
    char spec[512];
    snprintf(spec, sizeof spec, END ":%s", png);
    const char *args[] = {"--append", "keys=2", "--keys-at", KEYS_AT ":h", "--screenshot-at", spec,
                          tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    picture p = picture_load(png);
    bool green = false; /* "23" in light green at row 3 */
    for (unsigned y = 48; y < 64; y++)
        for (unsigned x = 0; x < 16; x++)
            green |= picture_at(&p, x, y) == LIGHT_GREEN;
    ck_assert(green);
    free(p.rgb);
}
END_TEST

/* Run `args` (which record to `rec`) to vgatext's PASS, then replay `rec`: the same output. */
static void record_then_replay_identically(const char **args, const char *rec)
{
    r = tu_run(args);
    ck_assert_int_eq(r.status, 33);
    char *recorded = strdup(r.out);
    tu_free(&r);
    const char *again[] = {"--replay", rec, tu_kernel("vgatext"), NULL};
    r = tu_run(again);
    ck_assert_msg(r.status == 33, "%d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, recorded);
    free(recorded);
}

START_TEST(test_keys_at_are_recorded_and_replay_identically)
{
    const char *rec = tmp("keys.rec");
    const char *args[] = {"--append", "keys=6", "--keys-at", KEYS_AT ":hA", "--record", rec, tu_kernel("vgatext"), NULL};
    record_then_replay_identically(args, rec);
}
END_TEST

/* Keys typed at a count where a snapshot is also due (here 3·10^6, a multiple of --snap-every):
 * the record has the snapshot's digest before the keys, as a replay meets them. (The keys used
 * to come first in the record, the run being paused there before the snapshot was taken, and
 * the replay diverged.) */
START_TEST(test_keys_at_a_snapshots_count_replay_identically)
{
    const char *rec = tmp("keys-snap.rec");
    const char *args[] = {"--append", "keys=6", "--snap-every", "1000000", "--keys-at", KEYS_AT ":hA",
                          "--record", rec, tu_kernel("vgatext"), NULL};
    record_then_replay_identically(args, rec);
}
END_TEST

START_TEST(test_keys_at_with_replay_is_refused)
{
    const char *args[] = {"--replay", "x.rec", "--keys-at", "5:a", tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--keys-at"));
}
END_TEST

START_TEST(test_keys_at_a_character_without_a_key_is_a_usage_error)
{
    const char *args[] = {"--keys-at", "5:\x01", tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "no key"));
}
END_TEST

/* Each text fits the keyboard's waiting room, both together do not: refused before the run
 * (it used to fail at the second count, status 12, "a failed --screenshot-at"). */
START_TEST(test_keys_at_texts_that_together_overflow_are_a_usage_error)
{
    static char a[1100], b[1100];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    strcpy(a, "0:");
    strcpy(b, "5:");
    memset(a + 2, 'A', 1000); /* shifted: 4 scan codes each, 4000 of the 4096 */
    memset(b + 2, 'A', 1000);
    const char *args[] = {"--keys-at", a, "--keys-at", b, tu_kernel("hello"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 2, "%d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "--keys-at: the texts of all --keys-at make more than 4096 scan codes"), "%s", r.err);
    ck_assert_msg(!strstr(r.out, "hello:"), "the run started: %s", r.out);
}
END_TEST

START_TEST(test_shell_sendkey_and_screenshot)
{
    const char *png = tmp("shell.png");
    const char *script = tmp("screen.gdb");
    char text[1024];
    snprintf(text, sizeof text, "stepi " KEYS_AT "\nsendkey h\ncontinue\nscreenshot %s\n", png);
    tu_write_text(script, text);
    const char *args[] = {"--append", "keys=2", "-x", script, tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "%d: %s %s", r.status, r.out, r.err);
    ck_assert_msg(strstr(r.out, "vgatext: scancode 0x23\nvgatext: scancode 0xa3\n"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "Sent 2 scan code bytes at icount " KEYS_AT), "%s", r.out);
    picture p = picture_load(png);
    ck_assert_uint_eq(picture_at(&p, 0, 16 + 8), YELLOW); /* the left stroke of the H */
    ck_assert_uint_eq(picture_at(&p, 3, 16 + 8), BLUE);
    free(p.rgb);
}
END_TEST

/* The shell's `screen` prints the text screen: blank before the guest draws (25 empty lines),
 * then its "HiA" on row 1 and the typed key's code "23" on row 3; the run is not touched. */
START_TEST(test_shell_screen_prints_the_text_screen)
{
    const char *script = tmp("text.gdb");
    tu_write_text(script, "screen\nstepi " KEYS_AT "\nsendkey h\ncontinue\nscreen\n");
    const char *args[] = {"--append", "keys=2", "-x", script, tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "%d: %s %s", r.status, r.out, r.err);
    char blank[26] = "";
    memset(blank, '\n', 25);
    ck_assert_msg(strncmp(r.out, blank, 25) == 0, "not a blank screen first: %s", r.out);
    const char *shown = strstr(r.out, "\nHiA\n\n23\n");
    ck_assert_msg(shown, "no HiA on row 1 and 23 on row 3: %s", r.out);
    int rows_after = 0; /* the rest of the screen: 21 more empty rows, then the end of the output */
    for (const char *p = shown + strlen("\nHiA\n\n23\n"); *p == '\n'; p++)
        rows_after++;
    ck_assert_int_eq(rows_after, 21);
    ck_assert_msg(strstr(r.out, "vgatext: PASS"), "%s", r.out);
}
END_TEST

START_TEST(test_shell_screen_takes_no_argument)
{
    const char *script = tmp("text.gdb");
    tu_write_text(script, "screen now\n");
    const char *args[] = {"-x", script, tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_msg(strstr(r.err, "usage: screen"), "%s", r.err);
}
END_TEST

/* sendkey's text is the rest of the line, blanks included (two words were refused: "sendkey
 * takes at most 1 argument"). */
START_TEST(test_shell_sendkey_types_the_blanks_between_words)
{
    const char *script = tmp("blanks.gdb");
    tu_write_text(script, "stepi " KEYS_AT "\nsendkey h  h\ncontinue\n");
    const char *args[] = {"--append", "keys=8", "-x", script, tu_kernel("vgatext"), NULL};
    r = tu_run(args);
    ck_assert_msg(r.status == 33, "%d: %s %s", r.status, r.out, r.err);
    ck_assert_msg(strstr(r.out, "Sent 8 scan code bytes at icount " KEYS_AT), "%s", r.out);
    ck_assert_msg(strstr(r.out, "scancode 0x23\nvgatext: scancode 0xa3\n"         /* h */
                                "vgatext: scancode 0x39\nvgatext: scancode 0xb9\n" /* space, twice */
                                "vgatext: scancode 0x39\nvgatext: scancode 0xb9\n"
                                "vgatext: scancode 0x23\nvgatext: scancode 0xa3\n"),
                  "%s", r.out);
}
END_TEST

static Suite *screen_suite(void)
{
    Suite *s = suite_create("screen");
    TCase *shots = tcase_create("screenshots");
    tcase_add_checked_fixture(shots, NULL, teardown);
    tcase_set_timeout(shots, 120);
    tcase_add_test(shots, test_screenshot_at_the_end_shows_the_glyph_in_its_colours_at_its_cell);
    tcase_add_test(shots, test_screenshot_shows_the_block_cursor_in_its_cells_colour);
    tcase_add_test(shots, test_screenshot_at_icount_0_is_taken_before_the_guest_draws);
    tcase_add_test(shots, test_shell_screen_prints_the_text_screen);
    tcase_add_test(shots, test_shell_screen_takes_no_argument);
    tcase_add_test(shots, test_screenshot_at_a_bad_spec_is_a_usage_error);
    tcase_add_test(shots, test_screenshot_to_an_unwritable_path_is_an_emulator_error);
    suite_add_tcase(s, shots);
    TCase *keys = tcase_create("keys");
    tcase_add_checked_fixture(keys, NULL, teardown);
    tcase_set_timeout(keys, 120);
    tcase_add_test(keys, test_keys_at_reach_the_guests_irq1_handler_as_set_1_scan_codes);
    tcase_add_test(keys, test_typed_keys_show_on_the_guests_screen);
    tcase_add_test(keys, test_keys_at_are_recorded_and_replay_identically);
    tcase_add_test(keys, test_keys_at_a_snapshots_count_replay_identically);
    tcase_add_test(keys, test_keys_at_with_replay_is_refused);
    tcase_add_test(keys, test_keys_at_a_character_without_a_key_is_a_usage_error);
    tcase_add_test(keys, test_keys_at_texts_that_together_overflow_are_a_usage_error);
    tcase_add_test(keys, test_shell_sendkey_types_the_blanks_between_words);
    tcase_add_test(keys, test_shell_sendkey_and_screenshot);
    suite_add_tcase(s, keys);
    return s;
}

SUITE_MAIN(screen_suite)
