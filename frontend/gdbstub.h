/* The GDB remote serial protocol as a byte-fed state machine: bytes from the client go in
 * through gdbstub_feed, bytes for the client come out of gdbstub_output. It knows nothing about
 * sockets; frontend/gdbserver.c is one transport, the tests feed it directly.
 *
 * Commands dispatch from a table (gdbstub.c) onto the debugging API (emu/debug.h). Reverse
 * execution (bs, bc) is advertised only when the machine keeps snapshots, since that is what
 * makes it work.
 *
 * A run (c, s, vCont, bs, bc) happens inside gdbstub_feed. A continue runs the guest in slices;
 * between slices it calls the poll hook, where a transport moves bytes both ways: it sends what
 * gdbstub_output holds (the ack of the continue, promptly) and feeds what arrived. While the
 * guest runs, gdbstub_feed takes a Ctrl-C byte (0x03) as dbg_interrupt, so the run stops at the
 * end of the slice with a T02 stop reply; other bytes wait until the run is over. */
#ifndef VMIEMU_GDBSTUB_H
#define VMIEMU_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/debug.h"
#include "frontend/symbols.h"

#define GDBSTUB_PACKET_SIZE 0x4000u  /* the largest packet either side sends (qSupported) */
#define GDBSTUB_SLICE 1000000u       /* instructions between polls while continuing (host hook) */

typedef struct gdbstub gdbstub;

/* How the session stands. Anything but GDBSTUB_ACTIVE means the transport should close. */
typedef enum gdbstub_state {
    GDBSTUB_ACTIVE,
    GDBSTUB_DETACHED, /* the client sent D: the guest is left as it is */
    GDBSTUB_KILLED,   /* the client sent k or vKill */
    GDBSTUB_HUNGUP,   /* the transport told gdbstub_hangup */
} gdbstub_state;

/* Called between slices of a running guest; may call gdbstub_feed and gdbstub_hangup. */
typedef void (*gdbstub_poll_fn)(void *ctx);

/* A stub serving `d` (which it does not own). NULL if out of memory. */
gdbstub *gdbstub_new(dbg *d);
void gdbstub_free(gdbstub *s);

/* Bytes from the client. Safe to call from the poll hook while the guest runs. */
void gdbstub_feed(gdbstub *s, const uint8_t *bytes, size_t n);

/* Bytes for the client: the unsent ones, and how many the transport has sent. */
const uint8_t *gdbstub_output(const gdbstub *s, size_t *len);
void gdbstub_consume(gdbstub *s, size_t n);

/* Symbols for `monitor bt` (borrowed; NULL = none). gdb has its own from `file vmlinux`. */
void gdbstub_set_symbols(gdbstub *s, const symtab *syms);
void gdbstub_set_poll(gdbstub *s, gdbstub_poll_fn poll, void *ctx);
/* Instructions between polls while continuing: the interval of the machine host hook the stub
 * puts in for a continue (0 = GDBSTUB_SLICE). */
void gdbstub_set_slice(gdbstub *s, uint64_t insns);

/* The transport closed: a running guest stops at the end of its slice. */
void gdbstub_hangup(gdbstub *s);
gdbstub_state gdbstub_get_state(const gdbstub *s);
bool gdbstub_running(const gdbstub *s);

/* The exit status a W stop reply reports: the exit port's value for END_EXIT_PORT, else the
 * status vmiemu exits with (frontend/exitcode.h). */
int gdbstub_exit_status(const machine *m);

#endif
