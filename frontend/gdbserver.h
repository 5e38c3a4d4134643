/* The GDB stub's TCP transport: listen, accept one client, move bytes between the socket and
 * frontend/gdbstub until the client detaches, kills or goes away.
 *
 * spec is `tcp:HOST:PORT` (also `tcp::PORT` and `tcp:PORT`). HOST is a numeric IPv4 or IPv6
 * address ([::1]) or `localhost`; an empty HOST means 127.0.0.1 (not every interface, as it
 * does in QEMU). Names that need a lookup are refused, so a non-loopback address is only ever
 * used when the spec spells it out (tcp:0.0.0.0:1234); vmiemu then warns that whoever reaches
 * the port controls the guest. The address it listens on is printed to stderr.
 *
 * The socket is polled, never waited on with the guest running: while continuing, the stub's
 * machine host hook polls the transport every GDBSTUB_SLICE instructions, so a Ctrl-C from gdb
 * stops the guest at the next such boundary and a closed connection ends the session. A client that stops
 * reading for GDBSERVER_SEND_TIMEOUT_MS is treated as gone. */
#ifndef VMIEMU_GDBSERVER_H
#define VMIEMU_GDBSERVER_H

#include <stdbool.h>

#include "emu/debug.h"
#include "frontend/symbols.h"
#include "mmu/error.h"

#define GDBSERVER_SEND_TIMEOUT_MS 30000

/* How a session ended. */
typedef enum gdb_outcome {
    GDB_FAILED = -1,     /* the server could not start (err: VM_EINVAL bad spec, VM_EIO socket) */
    GDB_GUEST_ENDED,     /* the guest ended (before or during the session), or was gone back from
                            its end and the client left: machine->end says how it stands */
    GDB_DETACHED,        /* the client detached or the connection closed (only inside gdbserver.c:
                            the server then runs the guest on and listens for a new client) */
    GDB_KILLED,          /* the client sent k or vKill: the run stops here */
    GDB_INTERRUPTED,     /* SIGINT reached vmiemu (frontend/stopsignal.h): the run stops here */
} gdb_outcome;

/* Serve clients with the guest stopped before its first instruction until the first one has
 * connected (-S). A client that detaches or goes away leaves the guest running and the port
 * listening for the next one; serving ends when a client kills, the guest ends, or a stop
 * signal (SIGINT, SIGTERM, SIGHUP) arrives. The guest
 * is left as it is: what happens to it next is the caller's decision. syms (borrowed, may be
 * NULL) is for the `monitor bt` command. */
gdb_outcome gdb_serve(dbg *d, const symtab *syms, const char *spec, vm_error *err);

/* The same, but the guest runs while no client is connected (--gdb without -S): a client that
 * connects finds it stopped wherever it was. If the guest ends first, that is the outcome. */
gdb_outcome gdb_serve_running(dbg *d, const symtab *syms, const char *spec, vm_error *err);

/* Parse spec into a printable numeric host and a port (0..65535). Exposed for tests. */
VM_MUST_CHECK bool gdb_parse_spec(const char *spec, char *host, unsigned hostlen, unsigned *port, vm_error *err);

#endif
