/* SIGINT, SIGTERM and SIGHUP as ways out of a run. While a run without the interactive shell
 * goes on (a plain run, an -x script, a GDB session), the first of them asks it to stop at the
 * next look (a running guest stops through the debugger's interrupt flag), so that the serial
 * file and the log are flushed, the record gets its end entry and the process its documented
 * status (128 + the signal's number: 130, 143, 129). The same signal a second time before that
 * kills the process as usual (the record then ends at its last flushed chunk). The interactive
 * shell (-d) has its own handler: there Ctrl-C stops the guest and returns to the prompt. */
#ifndef VMIEMU_STOPSIGNAL_H
#define VMIEMU_STOPSIGNAL_H

#include <stdbool.h>

#include "emu/debug.h"

/* Catch the stop signals from now on; d (may be NULL) is interrupted when it arrives. Called again, it
 * only changes d (NULL before d goes away); a SIGINT caught already still counts. */
void stopsig_watch(dbg *d);
/* Let the stop signals do what they did before stopsig_watch. */
void stopsig_unwatch(void);
/* True once a stop signal has arrived since stopsig_watch. */
bool stopsig_raised(void);
/* The first stop signal's number (0 if none) and its name ("SIGINT" if none). */
int stopsig_signal(void);
const char *stopsig_name(void);

#endif
