/* The live hypercall panel (--panel, or Ctrl+Alt+P in the window): beside the VGA screen, an
 * 80x25 text page of the VMI calls as they happen. The latest calls (icount, decoded call with
 * its arguments and result as the event log writes it, the caller's symbol), per-call counters
 * with calls per million instructions, and the guest's interrupt flag, CPL and CR3.
 *
 * It reads the event log (emu/evlog.h), the CPU's registers and the symbol table only: nothing
 * of the run depends on it, and after going back in time it shows the log as far as the
 * machine is now (the log is cut back on a restore). The page is text cells (character and VGA
 * attribute, as the screen's) drawn with the VGA font, so tests can read the text and
 * screenshots carry the same pixels as the window. */
#ifndef VMIEMU_PANEL_H
#define VMIEMU_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/evlog.h"
#include "emu/machine.h"
#include "emu/vga.h"
#include "frontend/symbols.h"

#define PANEL_COLS 80
#define PANEL_ROWS VGA_TEXT_ROWS
#define PANEL_WIDTH (PANEL_COLS * VGA_CELL_W) /* 640: the screen and the panel are 1280x400 */
#define PANEL_CALLS 10                        /* latest calls listed */
#define PANEL_KINDS 22                        /* counters listed (2 columns of 11), most called first */
#define PANEL_NUMS (EV_NUM_RELOC + 1)         /* call numbers, Init and GetRelocationInfo */

typedef struct panel {
    const symtab *syms;        /* callers as symbol+offset; NULL or empty: addresses */
    size_t counted;            /* events of the log already in counts */
    vm_event last;             /* the last one counted: a log cut back and regrown is recounted */
    uint64_t counts[PANEL_NUMS];
    uint64_t calls;            /* all of them */
    uint16_t cells[PANEL_ROWS * PANEL_COLS]; /* character | attribute << 8 */
} panel;

void panel_init(panel *p, const symtab *syms);

/* Fill the page from the machine as it is now; state says how the run stands ("running",
 * "stopped", an end's name). Reads only. */
void panel_update(panel *p, const machine *m, const char *state);

/* Row r of the page as text (PANEL_COLS characters, trailing spaces cut); returns buf. */
const char *panel_row(const panel *p, unsigned row, char *buf, size_t len);

/* The screen with the page beside it: rgb is (VGA_WIDTH + PANEL_WIDTH) x VGA_HEIGHT. */
void panel_render_beside(const panel *p, const machine *m, bool blink_on, uint32_t *rgb);

#endif
