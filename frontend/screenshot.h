/* Screenshots: the VGA text screen (emu/vga.h) as a PNG file, drawn with the VGA font from guest
 * memory and registers as they are now; the run is not touched. */
#ifndef VMIEMU_SCREENSHOT_H
#define VMIEMU_SCREENSHOT_H

#include <stdint.h>

#include "emu/machine.h"
#include "frontend/panel.h"
#include "mmu/error.h"

/* Write the screen as an 8-bit RGB PNG of VGA_WIDTH x VGA_HEIGHT to path. Blinking text and the
 * cursor show (a still picture shows the "on" phase of the blink). With a panel (--panel; NULL:
 * none) the picture is VGA_WIDTH + PANEL_WIDTH wide, the panel as it is now beside the screen. */
VM_MUST_CHECK bool screenshot_png(const machine *m, panel *pn, const char *path, vm_error *err);

/* Write any 0x00RRGGBB picture as a PNG. */
VM_MUST_CHECK bool screenshot_write_png(const char *path, const uint32_t *rgb, unsigned w, unsigned h,
                                        vm_error *err);

#endif
