/* The command line of vmiemu. */
#ifndef VMIEMU_OPTIONS_H
#define VMIEMU_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "emu/machine.h"
#include "mmu/error.h"

typedef enum serial_mode { SERIAL_STDIO, SERIAL_NONE, SERIAL_FILE } serial_mode;

typedef struct options {
    machine_config machine;
    const char *kernel;
    serial_mode serial;
    const char *serial_path; /* SERIAL_FILE */
    const char *log_path;    /* NULL: no log; "-": text on stderr; else JSON Lines file */
    const char *record_path; /* --record FILE */
    const char *replay_path; /* --replay FILE */
    const char *symbols_path; /* --symbols FILE */
    bool replay_any_kernel;
    bool shell;              /* -d / --shell: start stopped at the debugger prompt */
    const char *script;      /* -x SCRIPT: run debugger commands without a terminal */
    const char *gdb_spec;    /* --gdb tcp:HOST:PORT (-s = tcp:127.0.0.1:1234) */
    bool gdb_wait;           /* -S: wait stopped for gdb before the first instruction */
    const char *machine_option; /* the first option given that shapes the machine, if any */
    bool help, version;
} options;

/* Parse argv; false with a message in err for anything wrong. */
VM_MUST_CHECK bool options_parse(options *o, int argc, char **argv, vm_error *err);
void options_usage(FILE *f, const char *prog);

#endif
