/* What the fuzz targets share: a machine booted from the hello test kernel (the stage every
 * machine-level target starts from), a temporary file for parsers that read from a path, and
 * a little-endian cursor over the input. Set-up failures of the harness itself abort: they
 * are bugs in the harness or the build, never in the input. */
#ifndef VMIEMU_FUZZUTIL_H
#define VMIEMU_FUZZUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Boot hello.elf with `ram_mib`, snapshots every `snap_every` instructions (0 = none) and an
 * instruction bound of `max_insns` for the whole run; serial output discarded. Aborts if it
 * cannot (the kernel was not built). */
void fz_boot_hello(machine *m, uint32_t ram_mib, uint64_t snap_every, uint64_t max_insns);

/* Make this process's scratch file hold exactly data and return its path (the same every call). */
const char *fz_scratch_file(const uint8_t *data, size_t size);

/* Reads from the input; past its end every read gives zeros. */
typedef struct fz_cursor {
    const uint8_t *data;
    size_t size, pos;
} fz_cursor;

uint8_t fz_u8(fz_cursor *c);
uint16_t fz_u16(fz_cursor *c);
uint32_t fz_u32(fz_cursor *c);
/* n bytes (fewer if the input ends first: *got says how many). */
const uint8_t *fz_bytes(fz_cursor *c, size_t n, size_t *got);
static inline bool fz_done(const fz_cursor *c) { return c->pos >= c->size; }

#endif
