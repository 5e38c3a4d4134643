#include "frontend/exitcode.h"

#include <string.h>

int exitcode_for(const machine *m)
{
    switch (m->end) {
    case END_SHUTDOWN: return EXIT_SHUTDOWN;
    case END_EXIT_PORT: return (int)(((m->exit_value & 0x7F) << 1) | 1);
    case END_HALTED: return EXIT_HALTED;
    case END_REBOOT: return EXIT_REBOOT;
    case END_LIMIT: return EXIT_LIMIT;
    case END_CRASH: return EXIT_CRASH;
    case END_DIVERGED: return EXIT_DIVERGED;
    case END_STOPPED: return EXIT_STOPPED;
    case END_RUNNING:
    case END_ERROR: return EXIT_EMULATOR;
    }
    return EXIT_EMULATOR;
}

bool exitcode_message_has_icount(const machine *m) { return strstr(m->end_message, "icount ") != NULL; }
