/* Guest markers: name a moment of the run for vmiemu's log, record, timeline (--trace-out),
 * `calls` and `goto marker NAME`. The linear address of the NUL-terminated name goes to port
 * 0x4F8 (vmiemu's marker port; its first 32 bytes are kept). Elsewhere (QEMU, Bochs) the port
 * is unclaimed and the write does nothing, so a kernel may leave its markers in. Inline, so
 * the event's EIP (and caller symbol) is the marking function's. */
#ifndef TK_MARKER_H
#define TK_MARKER_H

#include <stdint.h>

#include "io.h"

#define TK_MARKER_PORT 0x4F8

static inline void marker(const char *name) { outl(TK_MARKER_PORT, (uint32_t)(uintptr_t)name); }

#endif
