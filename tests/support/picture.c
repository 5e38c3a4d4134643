#include "support/picture.h"

#include <check.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

picture picture_load(const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    img.format = PNG_FORMAT_RGB;
    picture p = {malloc(PNG_IMAGE_SIZE(img)), img.width, img.height};
    ck_assert_ptr_nonnull(p.rgb);
    ck_assert_msg(png_image_finish_read(&img, NULL, p.rgb, 0, NULL), "%s: %s", path, img.message);
    return p;
}

uint32_t picture_at(const picture *p, unsigned x, unsigned y)
{
    const uint8_t *q = p->rgb + ((size_t)y * p->w + x) * 3;
    return (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
}
