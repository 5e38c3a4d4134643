/* --trace-out FILE: the run's timeline as Chrome/Perfetto trace-event JSON ("JSON Object
 * Format": {"traceEvents": [...]}), written at the end from the event log, so it is the
 * timeline as finally lived (going back in the debugger cuts the log back). Time is the
 * instruction count: a viewer's microsecond is one guest instruction. One track (tid) per kind:
 * VMI calls (complete events, "ph":"X", as long as a native call's slot ran), interrupts,
 * exceptions and software interrupts, guest markers, other events (instant events, "ph":"i"). */
#ifndef VMIEMU_TRACE_H
#define VMIEMU_TRACE_H

#include <stdio.h>

#include "emu/evlog.h"
#include "frontend/symbols.h"
#include "mmu/error.h"

enum { TRACE_TID_CALLS = 1, TRACE_TID_INTERRUPTS, TRACE_TID_EXCEPTIONS, TRACE_TID_MARKERS, TRACE_TID_OTHER };

/* Create path now (so a bad path fails before the run: VM_EIO). */
VM_MUST_CHECK FILE *trace_open(const char *path, vm_error *err);
/* Write every event of log to f and close it; false (VM_EIO) if writing failed. */
VM_MUST_CHECK bool trace_write(FILE *f, const char *path, const evlog *log, const symtab *syms, vm_error *err);

#endif
