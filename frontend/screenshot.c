/* PNG screenshots of the text screen (frontend/screenshot.h), written with libpng. */
#include "frontend/screenshot.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool screenshot_write_png(const char *path, const uint32_t *rgb, unsigned w, unsigned h, vm_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return vm_fail(err, VM_EIO, "screenshot %s: %s", path, strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)w * 3);
    if (!png || !info || !row) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return vm_fail(err, VM_ENOMEM, "screenshot %s: out of memory", path);
    }
    /* libpng reports its errors by longjmp; nothing below allocates between setjmp and it. */
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        remove(path);
        return vm_fail(err, VM_EIO, "screenshot %s: libpng could not write it", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            uint32_t p = rgb[(size_t)y * w + x];
            row[x * 3] = (uint8_t)(p >> 16);
            row[x * 3 + 1] = (uint8_t)(p >> 8);
            row[x * 3 + 2] = (uint8_t)p;
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    if (fclose(f) != 0) {
        remove(path);
        return vm_fail(err, VM_EIO, "screenshot %s: %s", path, strerror(errno));
    }
    return true;
}

bool screenshot_png(const machine *m, panel *pn, const char *path, vm_error *err)
{
    unsigned w = VGA_WIDTH + (pn ? PANEL_WIDTH : 0);
    uint32_t *rgb = malloc(sizeof *rgb * w * VGA_HEIGHT);
    if (!rgb)
        return vm_fail(err, VM_ENOMEM, "screenshot %s: out of memory", path);
    if (pn) {
        panel_update(pn, m, m->end == END_RUNNING ? "stopped" : machine_end_name(m->end));
        panel_render_beside(pn, m, true, rgb);
    } else {
        machine_render_screen(m, true, rgb);
    }
    bool ok = screenshot_write_png(path, rgb, w, VGA_HEIGHT, err);
    free(rgb);
    return ok;
}
