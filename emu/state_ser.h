/* The machine state as a stable byte stream: each device writes its fields one by one, in
 * little-endian order, so the stream (and the digest a record stores) depends only on the
 * values, never on the compiler's struct layout, padding or pointers. A change of what is
 * written or in which order moves STATE_SER_VERSION, which leads the stream; the record
 * format version (emu/record.h) moves with it, since records hold digests.
 *
 * The writer hashes what it is given as it goes (FNV-1a over 64-bit little-endian words,
 * the trailing bytes one by one) and, if given a buffer, also keeps a copy of the bytes, for
 * tests that pin the stream. It never allocates. */
#ifndef VMIEMU_STATE_SER_H
#define VMIEMU_STATE_SER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_SER_VERSION 10u /* 10: the local APIC's initial ID and x2APIC mode; 9: the CPU's IA32_TSC_ADJUST; 8: the VGA's registers; 7: the local APIC's NMI and global enable, the CPU's NMI blocking, the IO-APIC, the HPET; 6: fw_cfg, pc-testdev; 5: the 16550A UART's FIFO and interrupt state; 4: ACPI PM, i8042, port 0x92, PCI, ELCR; 2: devices in table order */
#define STATE_SER_CHUNK 512u /* a multiple of 8: whole words reach the hash */

typedef struct state_writer {
    uint8_t chunk[STATE_SER_CHUNK];
    size_t fill;     /* bytes in chunk, not hashed yet */
    uint64_t hash;
    uint8_t *out;    /* optional copy of the stream, out_cap bytes at most */
    size_t out_cap;
    size_t total;    /* bytes written so far (also beyond out_cap) */
} state_writer;

/* Start a stream (out may be NULL); the stream's first field is STATE_SER_VERSION. */
void state_writer_init(state_writer *w, uint8_t *out, size_t out_cap);
void state_put_u8(state_writer *w, uint8_t v);
void state_put_bool(state_writer *w, bool v);
void state_put_u16(state_writer *w, uint16_t v);
void state_put_u32(state_writer *w, uint32_t v);
void state_put_u64(state_writer *w, uint64_t v);
void state_put_bytes(state_writer *w, const void *data, size_t len);
/* The digest of everything written; the stream is finished. */
uint64_t state_writer_finish(state_writer *w);

#endif
