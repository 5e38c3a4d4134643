/* SIGINT as a way out of a run. While a run without the interactive shell goes on (a plain
 * run, an -x script, a GDB session), the first SIGINT asks it to stop at the next look (a
 * running guest stops through the debugger's interrupt flag), so that the record gets its end
 * entry and the process its documented status (128 + 2). A second SIGINT before that kills
 * the process as usual (the record then ends at its last flushed chunk). The interactive
 * shell (-d) has its own handler: there Ctrl-C stops the guest and returns to the prompt. */
#ifndef VMIEMU_STOPSIGNAL_H
#define VMIEMU_STOPSIGNAL_H

#include <stdbool.h>

#include "emu/debug.h"

/* Catch SIGINT from now on; d (may be NULL) is interrupted when it arrives. Called again, it
 * only changes d (NULL before d goes away); a SIGINT caught already still counts. */
void stopsig_watch(dbg *d);
/* Let SIGINT do what it did before stopsig_watch. */
void stopsig_unwatch(void);
/* True once SIGINT has arrived since stopsig_watch. */
bool stopsig_raised(void);

#endif
