/* The command line of vmiemu. */
#ifndef VMIEMU_OPTIONS_H
#define VMIEMU_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "emu/machine.h"
#include "emu/whatif.h"
#include "frontend/schedule.h"
#include "mmu/error.h"

typedef enum serial_mode { SERIAL_STDIO, SERIAL_NONE, SERIAL_FILE } serial_mode;

typedef struct options {
    machine_config machine;
    const char *kernel;
    serial_mode serial;
    const char *serial_path; /* SERIAL_FILE */
    const char *trace_path;  /* --trace-out: trace-event JSON written at the end, or NULL */
    const char *log_path;    /* NULL: no log; "-": text on stderr; else JSON Lines file */
    const char *record_path; /* --record FILE */
    const char *replay_path; /* --replay FILE */
    const char *symbols_path; /* --symbols FILE */
    bool replay_any_kernel;
    bool override_given;     /* --override SPEC */
    whatif override;
    struct query *query;     /* `vmiemu query`: collect during the replay, answer after it (frontend/query.h) */
    bool shell;              /* -d / --shell: start stopped at the debugger prompt */
    const char *script;      /* -x SCRIPT: run debugger commands without a terminal */
    const char *gdb_spec;    /* --gdb tcp:HOST:PORT (-s = tcp:127.0.0.1:1234) */
    bool gdb_wait;           /* -S: wait stopped for gdb before the first instruction */
    unsigned machine_given;  /* OPT_GIVEN(...) bits: the options given that shape the machine */
    bool help, version;
    bool display_sdl;        /* --display sdl */
    bool panel;              /* --panel: the hypercall panel beside the screen (window, screenshots) */
    schedule sched;          /* --screenshot-at, --keys-at */
} options;

/* Options that shape the machine, as bits of options.machine_given: a replay takes those not
 * given from the record (and the recording's inputs must equal the replay's, emu/recplay.h). */
typedef enum machine_opt {
    MOPT_RAM, MOPT_APPEND, MOPT_INITRD, MOPT_MAX_INSNS, MOPT_CPU_MHZ, MOPT_EPOCH, MOPT_SNAP_EVERY, MOPT_NO_ROM,
    MOPT_REBOOT_RESTARTS, MOPT_CPU, MOPT_QUIET_CALLS,
} machine_opt;
#define OPT_GIVEN(o, which) (((o)->machine_given >> (which)) & 1u)

/* A replay's machine: the options given on its command line, the rest as recorded (cfg holds
 * the record's, e.g. from recplay_config). The initrd is never taken from the record: like the
 * kernel it is a file the replay is given again. */
void options_merge_recorded(options *o, const machine_config *recorded);

/* One option of the command line. The table of these (options_rows) is the only list:
 * getopt_long's tables, --help and the man page are made from it. */
typedef struct option_row {
    const char *name;         /* long name without "--"; NULL for a short-only option */
    int key;                  /* the short letter, or a number above 255 for a long-only option */
    const char *arg;          /* the value's name in --help (MiB, FILE, N); NULL: takes none */
    const char *help;         /* a printf format for the numbers n[] (a percent sign is %%) */
    unsigned long long n[3];  /* defaults and limits the help text shows */
} option_row;

const option_row *options_rows(size_t *n);

/* Parse argv with getopt_long (argv may be permuted); false with a message in err for anything
 * wrong. Long options are taken only as spelled in the table, never abbreviated. */
VM_MUST_CHECK bool options_parse(options *o, int argc, char **argv, vm_error *err);
/* --help: the options, their help and the exit statuses. */
void options_usage(FILE *f, const char *prog);
/* The man page vmiemu(1), in roff, from the same table. */
void options_man(FILE *f);

#endif
