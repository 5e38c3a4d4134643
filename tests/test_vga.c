/* The VGA (emu/vga.c): its registers driven through the ports as Linux's vgacon drives them,
 * and the text screen drawn from them and the text buffer. */
#include <check.h>
#include <string.h>

#include "emu/vga.h"
#include "support/suite_main.h"
#include "support/testutil.h"

static vga V;
static uint8_t text[VGA_TEXT_WINDOW];
static uint32_t screen[VGA_WIDTH * VGA_HEIGHT];

static void setup(void)
{
    vga_init(&V);
    memset(text, 0, sizeof text);
}

static void crtc(uint8_t index, uint8_t value)
{
    vga_write(&V, VGA_CRTC_INDEX, index);
    vga_write(&V, VGA_CRTC_DATA, value);
}

static void put(unsigned row, unsigned col, char ch, uint8_t attr)
{
    text[(row * VGA_TEXT_COLS + col) * 2] = (uint8_t)ch;
    text[(row * VGA_TEXT_COLS + col) * 2 + 1] = attr;
}

static uint32_t pixel(unsigned x, unsigned y) { return screen[y * VGA_WIDTH + x]; }

/* The IBM VGA's 8x16 'H', as its ROM (and the VGA16 PSF fonts) have it. */
static const uint8_t glyph_H[16] = {0x00, 0x00, 0xc6, 0xc6, 0xc6, 0xc6, 0xfe, 0xc6,
                                    0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00};

/* The standard text colours as the BIOS's DAC has them (6-bit 42/21 scaled to 8 bits). */
#define BLACK 0x000000u
#define BLUE 0x0000AAu
#define RED 0xAA0000u
#define BROWN 0xAA5500u
#define LIGHT_GREY 0xAAAAAAu
#define YELLOW 0xFFFF55u
#define WHITE 0xFFFFFFu

START_TEST(test_cursor_position_reads_back_through_crtc_0x0e_and_0x0f)
{
    crtc(VGA_CRTC_CURSOR_HI, 0x01);
    crtc(VGA_CRTC_CURSOR_LO, 0x2C);
    vga_write(&V, VGA_CRTC_INDEX, VGA_CRTC_CURSOR_HI);
    ck_assert_uint_eq(vga_read(&V, VGA_CRTC_DATA), 0x01);
    vga_write(&V, VGA_CRTC_INDEX, VGA_CRTC_CURSOR_LO);
    ck_assert_uint_eq(vga_read(&V, VGA_CRTC_DATA), 0x2C);
    ck_assert_uint_eq(vga_cursor_cell(&V), 0x12C);
}
END_TEST

START_TEST(test_cursor_shape_comes_from_crtc_0x0a_and_0x0b_and_bit_5_hides_it)
{
    ck_assert(vga_cursor_visible(&V)); /* mode 3: rows 13-14 */
    ck_assert_uint_eq(V.crtc[VGA_CRTC_CURSOR_START], 0x0D);
    ck_assert_uint_eq(V.crtc[VGA_CRTC_CURSOR_END], 0x0E);
    crtc(VGA_CRTC_CURSOR_START, 0x20);
    ck_assert(!vga_cursor_visible(&V));
}
END_TEST

START_TEST(test_cursor_cell_counts_from_the_screen_start_address)
{
    crtc(VGA_CRTC_START_HI, 0x00);
    crtc(VGA_CRTC_START_LO, 80);
    crtc(VGA_CRTC_CURSOR_HI, 0x00);
    crtc(VGA_CRTC_CURSOR_LO, 85);
    ck_assert_uint_eq(vga_start_cell(&V), 80);
    ck_assert_uint_eq(vga_cursor_cell(&V), 5);
}
END_TEST

START_TEST(test_attribute_port_alternates_index_and_data_until_input_status_resets_it)
{
    vga_read(&V, VGA_INPUT_STATUS_1);
    vga_write(&V, VGA_ATTR_PORT, 0x01); /* index */
    vga_write(&V, VGA_ATTR_PORT, 0x3F); /* data */
    vga_write(&V, VGA_ATTR_PORT, 0x02); /* index again */
    ck_assert_uint_eq(V.attr[1], 0x3F);
    ck_assert_uint_eq(vga_read(&V, VGA_ATTR_PORT), 0x02);
    vga_read(&V, VGA_INPUT_STATUS_1); /* back to index: 0x03 is not written as data */
    vga_write(&V, VGA_ATTR_PORT, 0x23);
    ck_assert_uint_eq(V.attr[2], 0x02);
    ck_assert_uint_eq(vga_read(&V, VGA_ATTR_PORT), 0x23);
    ck_assert_uint_eq(vga_read(&V, VGA_ATTR_READ), V.attr[3]);
}
END_TEST

START_TEST(test_input_status_1_alternates_retrace_and_display)
{
    uint8_t a = vga_read(&V, VGA_INPUT_STATUS_1), b = vga_read(&V, VGA_INPUT_STATUS_1);
    ck_assert_uint_ne(a & 0x08, b & 0x08);
}
END_TEST

START_TEST(test_dac_takes_three_components_per_entry_and_reads_them_back)
{
    vga_write(&V, VGA_DAC_WRITE_INDEX, 7);
    vga_write(&V, VGA_DAC_DATA, 1);
    vga_write(&V, VGA_DAC_DATA, 2);
    vga_write(&V, VGA_DAC_DATA, 3);
    vga_write(&V, VGA_DAC_DATA, 0x7F); /* entry 8's red, 6 bits kept */
    vga_write(&V, VGA_DAC_READ_INDEX, 7);
    ck_assert_uint_eq(vga_read(&V, VGA_DAC_READ_INDEX), 0x03);
    uint8_t got[4];
    for (int i = 0; i < 4; i++)
        got[i] = vga_read(&V, VGA_DAC_DATA);
    ck_assert_uint_eq(got[0], 1);
    ck_assert_uint_eq(got[1], 2);
    ck_assert_uint_eq(got[2], 3);
    ck_assert_uint_eq(got[3], 0x3F);
}
END_TEST

START_TEST(test_glyph_is_drawn_with_its_foreground_on_its_background)
{
    put(3, 10, 'H', 0x1E); /* yellow on blue */
    vga_render(&V, text, true, screen);
    for (unsigned y = 0; y < 16; y++)
        for (unsigned x = 0; x < 8; x++) {
            uint32_t want = glyph_H[y] & (0x80 >> x) ? YELLOW : BLUE;
            ck_assert_msg(pixel(10 * 8 + x, 3 * 16 + y) == want, "row %u col %u: %06x", y, x,
                          pixel(10 * 8 + x, 3 * 16 + y));
        }
}
END_TEST

START_TEST(test_colour_6_is_brown_through_the_bios_palette)
{
    put(0, 0, ' ', 0x60);
    vga_render(&V, text, true, screen);
    ck_assert_uint_eq(pixel(0, 0), BROWN);
}
END_TEST

START_TEST(test_blink_bit_hides_the_foreground_in_the_off_phase)
{
    put(0, 0, ' ', 0x8F); /* white, blinking, on black */
    text[0] = 0xDB;      /* the full block */
    vga_render(&V, text, true, screen);
    ck_assert_uint_eq(pixel(3, 8), WHITE);
    vga_render(&V, text, false, screen);
    ck_assert_uint_eq(pixel(3, 8), BLACK);
}
END_TEST

START_TEST(test_without_blink_mode_bit_7_is_background_intensity)
{
    V.attr[VGA_ATTR_MODE] &= (uint8_t)~0x08;
    put(0, 0, ' ', 0xC0); /* light red background */
    vga_render(&V, text, false, screen);
    ck_assert_uint_eq(pixel(0, 0), 0xFF5555u);
}
END_TEST

START_TEST(test_cursor_fills_its_rows_in_the_cells_foreground)
{
    put(1, 2, ' ', 0x07);
    crtc(VGA_CRTC_CURSOR_LO, 1 * 80 + 2);
    vga_render(&V, text, true, screen);
    ck_assert_uint_eq(pixel(2 * 8 + 4, 16 + 12), BLACK);      /* above the cursor */
    ck_assert_uint_eq(pixel(2 * 8 + 4, 16 + 13), LIGHT_GREY); /* rows 13 and 14 */
    ck_assert_uint_eq(pixel(2 * 8 + 4, 16 + 14), LIGHT_GREY);
    ck_assert_uint_eq(pixel(2 * 8 + 4, 16 + 15), BLACK);
    vga_render(&V, text, false, screen);
    ck_assert_uint_eq(pixel(2 * 8 + 4, 16 + 13), BLACK); /* the off phase */
}
END_TEST

START_TEST(test_screen_starts_at_the_crtc_start_address)
{
    put(1, 0, 'H', 0x4F);
    crtc(VGA_CRTC_START_LO, 80); /* scrolled by one line, as vgacon scrolls */
    vga_render(&V, text, true, screen);
    ck_assert_uint_eq(pixel(0, 0), RED);
}
END_TEST

START_TEST(test_attribute_index_without_bit_5_blanks_the_screen)
{
    put(0, 0, ' ', 0x70);
    vga_read(&V, VGA_INPUT_STATUS_1);
    vga_write(&V, VGA_ATTR_PORT, 0x00);
    vga_render(&V, text, true, screen);
    ck_assert_uint_eq(pixel(0, 0), BLACK);
}
END_TEST

START_TEST(test_a_palette_entry_rewritten_through_the_attribute_controller_changes_the_colour)
{
    put(0, 0, ' ', 0x10);
    vga_read(&V, VGA_INPUT_STATUS_1);
    vga_write(&V, VGA_ATTR_PORT, 0x01);
    vga_write(&V, VGA_ATTR_PORT, 0x04); /* EGA red */
    vga_write(&V, VGA_ATTR_PORT, 0x20);
    vga_render(&V, text, true, screen);
    ck_assert_uint_eq(pixel(0, 0), RED);
}
END_TEST

/* ---- the device in the machine, driven by a guest ---- */

static machine M;

static void machine_teardown(void) { machine_free(&M); }

START_TEST(test_guest_text_and_cursor_reach_the_screen)
{
    ck_assert_int_eq(tu_run_snippet(&M, "vga_text"), END_HALTED);
    ck_assert_uint_eq(phys_read32(&M.mem, 0x5000), (2 * 80 + 8) & 0xFF);
    ck_assert_uint_eq(vga_cursor_cell(&M.vga), 2 * 80 + 8);
    ck_assert_uint_eq(M.vga.crtc[VGA_CRTC_CURSOR_START], 0);
    ck_assert_uint_eq(M.vga.crtc[VGA_CRTC_CURSOR_END], 15);
    machine_render_screen(&M, true, screen);
    for (unsigned y = 0; y < 16; y++) /* 'H' yellow on the re-programmed bright blue */
        for (unsigned x = 0; x < 8; x++)
            ck_assert_uint_eq(pixel(5 * 8 + x, 2 * 16 + y), glyph_H[y] & (0x80 >> x) ? YELLOW : 0x5555FFu);
    ck_assert_uint_eq(pixel(8 * 8 + 3, 2 * 16 + 7), LIGHT_GREY); /* the block cursor, cell's grey */
}
END_TEST

static Suite *vga_suite(void)
{
    Suite *s = suite_create("vga");
    TCase *regs = tcase_create("registers");
    tcase_add_checked_fixture(regs, setup, NULL);
    tcase_add_test(regs, test_cursor_position_reads_back_through_crtc_0x0e_and_0x0f);
    tcase_add_test(regs, test_cursor_shape_comes_from_crtc_0x0a_and_0x0b_and_bit_5_hides_it);
    tcase_add_test(regs, test_cursor_cell_counts_from_the_screen_start_address);
    tcase_add_test(regs, test_attribute_port_alternates_index_and_data_until_input_status_resets_it);
    tcase_add_test(regs, test_input_status_1_alternates_retrace_and_display);
    tcase_add_test(regs, test_dac_takes_three_components_per_entry_and_reads_them_back);
    suite_add_tcase(s, regs);
    TCase *draw = tcase_create("screen");
    tcase_add_checked_fixture(draw, setup, NULL);
    tcase_add_test(draw, test_glyph_is_drawn_with_its_foreground_on_its_background);
    tcase_add_test(draw, test_colour_6_is_brown_through_the_bios_palette);
    tcase_add_test(draw, test_blink_bit_hides_the_foreground_in_the_off_phase);
    tcase_add_test(draw, test_without_blink_mode_bit_7_is_background_intensity);
    tcase_add_test(draw, test_cursor_fills_its_rows_in_the_cells_foreground);
    tcase_add_test(draw, test_screen_starts_at_the_crtc_start_address);
    tcase_add_test(draw, test_attribute_index_without_bit_5_blanks_the_screen);
    tcase_add_test(draw, test_a_palette_entry_rewritten_through_the_attribute_controller_changes_the_colour);
    suite_add_tcase(s, draw);
    TCase *guest = tcase_create("guest");
    tcase_add_checked_fixture(guest, NULL, machine_teardown);
    tcase_add_test(guest, test_guest_text_and_cursor_reach_the_screen);
    suite_add_tcase(s, guest);
    return s;
}

SUITE_MAIN(vga_suite)
