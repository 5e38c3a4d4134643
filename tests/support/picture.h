/* A PNG screenshot read back as RGB pixels, for tests that check what vmiemu drew. */
#ifndef VMIEMU_TEST_PICTURE_H
#define VMIEMU_TEST_PICTURE_H

#include <stdint.h>

typedef struct picture {
    uint8_t *rgb;
    unsigned w, h;
} picture;

/* The PNG at path (a Check failure if it cannot be read); free p.rgb after. */
picture picture_load(const char *path);

/* The pixel at x, y as 0xRRGGBB. */
uint32_t picture_at(const picture *p, unsigned x, unsigned y);

#endif
