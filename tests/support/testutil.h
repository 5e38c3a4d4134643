/* Helpers shared by the Check suites: kernel paths, running the vmiemu binary, and booting a
 * machine in-process with its serial output captured. */
#ifndef VMIEMU_TESTUTIL_H
#define VMIEMU_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "emu/machine.h"

typedef struct run_result {
    int status;   /* exit status, or 128 + signal */
    char *out;    /* stdout, NUL-terminated */
    char *err;    /* stderr, NUL-terminated */
} run_result;

/* Path of a built test kernel ("hello" -> .../testkernels/hello.elf); static buffer. */
const char *tu_kernel(const char *name);

/* Run the vmiemu binary with argv (NULL-terminated, without argv[0]); stdin is /dev/null. */
run_result tu_run(const char *const *args);
void tu_free(run_result *r);
/* tu_run on a literal argument list into `res`, freeing what `res` held first. */
#define TU_RUN(res, ...)                           \
    do {                                           \
        const char *argv_[] = {__VA_ARGS__, NULL}; \
        tu_free(&(res));                           \
        (res) = tu_run(argv_);                     \
    } while (0)
/* The same with `input` on stdin. */
run_result tu_run_input(const char *const *args, const char *input);

/* A machine booted in-process, serial captured in `serial`. */
typedef struct tu_machine {
    machine m;
    char serial[65536];
    size_t serial_len;
} tu_machine;

/* Boot `kernel` with cfg (NULL = defaults) and run to the end. false if init failed (err). */
bool tu_boot_and_run(tu_machine *t, const machine_config *cfg, const char *kernel, vm_error *err);

/* Boot `kernel` in-process (snapshot every 1000 instructions, serial discarded) recording to
 * `rec`, not yet run; calloc'ed, fails the test if it cannot start. */
tu_machine *tu_start_recording(const char *kernel, const char *rec);

/* Boot hello for 1000 instructions, then load tests/guest/NAME.asm's binary at TU_SNIPPET_BASE,
 * point EIP at it and run to the end. The event log is cleared before the snippet runs. */
#define TU_SNIPPET_BASE 0x00200000u
machine_end tu_run_snippet(machine *m, const char *name);
/* The same without running it: the machine is at the snippet's first instruction. */
bool tu_load_snippet(machine *m, const char *name);
/* The same with a machine configuration (NULL = defaults; max_insns is overridden). */
bool tu_load_snippet_with(machine *m, const char *name, const machine_config *cfg);
/* The same with the snippet's bytes given. */
bool tu_load_code(machine *m, const machine_config *cfg, const uint8_t *code, size_t size);

/* Text of the whole event log, one event per line (malloc'ed). */
char *tu_log_text(const machine *m);
/* Event i of a log (which must exist): a copy in a ring of 16, so a few can be held at once. */
const vm_event *tu_event(const evlog *log, size_t i);
/* The last event of `kind` in a log (which must have one), as tu_event returns it. */
const vm_event *tu_last_event(const evlog *log, uint16_t kind);

/* Path of a built fixture kernel ("echo" -> .../guest/echo.elf, from tests/fixtures/); static buffer. */
const char *tu_fixture(const char *name);

/* Write `text` to the file at `path` (created or truncated); fails the test if it cannot. */
void tu_write_text(const char *path, const char *text);

/* A temporary file path under the build tree (static buffer, unique per call). */
const char *tu_tmp(const char *stem);

/* The path of FILE in the shared Linux guest's directory ($VMIEMU_GUESTS, else ../shared/guests
 * beside the source tree) into out; false if it does not exist (the test then skips). */
bool tu_linux_guest_file(char *out, size_t size, const char *file);

/* ctest's SKIP_RETURN_CODE: a suite whose guest is absent exits with it. */
#define TU_SKIP 77
#define TU_GUEST_PATH 4096

/* Several files of the shared Linux guest: pairs (char out[TU_GUEST_PATH], const char *file)
 * ended by NULL. False, after printing the suite's SKIPPED line naming the first missing
 * file, if any is absent. */
bool tu_linux_guest_files(char *out, const char *file, ...);

#endif
