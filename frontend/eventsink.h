/* Writes the event log as it grows: JSON Lines to a file, or text to stderr. The JSON file
 * holds whole lines after a kill at any point (SIGKILL): lines gather in a buffer that goes
 * out with write(2) ending at a line's end, and no line shorter than a page crosses a page
 * boundary of the file (the line before is padded with spaces), since Linux may cut a write
 * there when the process is killed. So the file is always a prefix of the log, each line a
 * JSON object; only a line longer than a page (none in practice) could be left cut. */
#ifndef VMIEMU_EVENTSINK_H
#define VMIEMU_EVENTSINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/evlog.h"
#include "frontend/symbols.h"
#include "mmu/error.h"

#define EVENTSINK_BUF (64u * 1024)
#define EVENTSINK_PAGE 4096u /* Linux cuts a killed write only at multiples of this */

typedef struct eventsink {
    FILE *f;
    bool json, owns;
    bool failed;        /* a write failed: reported by eventsink_close */
    int write_errno;
    size_t used;        /* bytes of whole lines waiting in buf (JSON file only) */
    size_t last_start;  /* where the last line in buf starts */
    uint64_t written;   /* file offset of buf[0] */
    char *buf;
    size_t index;
    const symtab *syms; /* set: the caller's EIP also as <symbol+offset> (text) or "caller" (JSON) */
} eventsink;

/* ev_format_text, with " <symbol+0x1b>" after the EIP when syms knows it (syms may be NULL). */
size_t eventsink_format_text(const vm_event *ev, size_t index, const symtab *syms, char *buf, size_t len);

/* path "-" = text on stderr; anything else = JSON Lines file (created or truncated). */
VM_MUST_CHECK bool eventsink_open(eventsink *s, const char *path, vm_error *err);
void eventsink_write(void *ctx, const vm_event *ev);
/* A line of another kind (the checker's findings) into the same file, kept whole like the
 * events' lines; `text` has no newline. Not counted as an event (the "seq" numbers go on). */
void eventsink_put_line(eventsink *s, const char *text, size_t n);
VM_MUST_CHECK bool eventsink_close(eventsink *s, vm_error *err);

#endif
