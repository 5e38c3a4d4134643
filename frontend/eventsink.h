/* Writes the event log as it grows: JSON Lines to a file, or text to stderr. */
#ifndef VMIEMU_EVENTSINK_H
#define VMIEMU_EVENTSINK_H

#include <stdbool.h>
#include <stdio.h>

#include "emu/evlog.h"
#include "mmu/error.h"

typedef struct eventsink {
    FILE *f;
    bool json, owns;
    size_t index;
} eventsink;

/* path "-" = text on stderr; anything else = JSON Lines file (created or truncated). */
VM_MUST_CHECK bool eventsink_open(eventsink *s, const char *path, vm_error *err);
void eventsink_write(void *ctx, const vm_event *ev);
VM_MUST_CHECK bool eventsink_close(eventsink *s, vm_error *err);

#endif
