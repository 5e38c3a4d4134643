/* The SDL2 window (--display sdl): the VGA text screen, scaled and resizable, with the kernel's
 * name and the run's state in its title, and the keyboard typed into it.
 *
 * Nothing in the run depends on the window: it reads guest memory and registers only (the
 * screen at the current instruction count, also while going back in time). Keys typed into it
 * wait in the display until the next host boundary (display_poll from the host hook, not at a
 * stop), where they become keyboard inputs (machine_host_input, HOST_KEYBOARD) and so are
 * logged and recorded; a replay types what its record holds and ignores the window's keys. */
#ifndef VMIEMU_DISPLAY_H
#define VMIEMU_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"
#include "frontend/panel.h"
#include "mmu/error.h"

typedef struct display display;

/* Open the window (SDL video); title names the kernel. NULL with err if SDL cannot. */
display *display_open(const char *kernel, vm_error *err);
/* The hypercall panel (borrowed) the window shows beside the screen when `shown`; Ctrl+Alt+P
 * in the window shows or hides it (those keys are the window's, not typed to the guest). */
void display_set_panel(display *d, panel *p, bool shown);
void display_close(display *d);

/* From the host hook: take the window's events, hand typed keys to the keyboard (only at a
 * boundary, at_stop false, and while the machine makes new history), redraw now and then.
 * Returns true if the window was closed. */
bool display_poll(display *d, machine *m, bool at_stop);

/* While the machine is stopped (the shell's prompt): events and a redraw, keys kept for later.
 * state says how the run stands ("stopped", ...). Returns true if the window was closed. */
bool display_idle(display *d, machine *m, const char *state);

#endif
