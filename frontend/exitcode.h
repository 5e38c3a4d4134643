/* Process exit statuses. Even numbers are vmiemu's own, so they never collide with the
 * exit port's (value << 1) | 1, which is always odd. */
#ifndef VMIEMU_EXITCODE_H
#define VMIEMU_EXITCODE_H

#include "emu/machine.h"

enum {
    EXIT_SHUTDOWN = 0,
    EXIT_USAGE = 2,      /* bad command line or kernel file */
    EXIT_HALTED = 4,
    EXIT_REBOOT = 6,
    EXIT_LIMIT = 8,
    EXIT_CRASH = 10,
    EXIT_EMULATOR = 12,
    EXIT_DIVERGED = 14,  /* a replay differs from its record */
    EXIT_STOPPED = 16,   /* stopped before the guest ended: quit, end of an -x script, gdb kill */
    EXIT_RECORD_CUT = 18, /* a replay matched its record up to where the record ends, cut short */
    EXIT_SIGINT = 130,   /* stopped by SIGINT (Ctrl-C) before the guest ended: 128 + 2, as shells say */
};

int exitcode_for(const machine *m);
/* Does the run's end message already name the instruction count (a crash, a reset)? Then a
 * report does not add " (icount N)" a second time. */
bool exitcode_message_has_icount(const machine *m);

#endif
