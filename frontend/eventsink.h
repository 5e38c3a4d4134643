/* Writes the event log as it grows: JSON Lines to a file, or text to stderr. */
#ifndef VMIEMU_EVENTSINK_H
#define VMIEMU_EVENTSINK_H

#include <stdbool.h>
#include <stdio.h>

#include "emu/evlog.h"
#include "frontend/symbols.h"
#include "mmu/error.h"

typedef struct eventsink {
    FILE *f;
    bool json, owns;
    size_t index;
    const symtab *syms; /* set: the caller's EIP also as <symbol+offset> (text) or "caller" (JSON) */
} eventsink;

/* ev_format_text, with " <symbol+0x1b>" after the EIP when syms knows it (syms may be NULL). */
size_t eventsink_format_text(const vm_event *ev, size_t index, const symtab *syms, char *buf, size_t len);

/* path "-" = text on stderr; anything else = JSON Lines file (created or truncated). */
VM_MUST_CHECK bool eventsink_open(eventsink *s, const char *path, vm_error *err);
void eventsink_write(void *ctx, const vm_event *ev);
VM_MUST_CHECK bool eventsink_close(eventsink *s, vm_error *err);

#endif
