/* The record file: what --record writes and --replay reads. A versioned, append-only file of
 * typed entries {kind, icount, payload} in CRC-checked chunks. This module knows only the
 * format; what a payload holds is the caller's business.
 *
 * A chunk reaches the file in one write(2), so a run killed with SIGKILL leaves every flushed
 * chunk intact and at most one partial chunk at the end: the file reads back up to its last
 * complete chunk, then reports where it stops. Every byte of the file is covered by a CRC
 * (the header's or a chunk's), and every length is checked against a fixed cap before it is
 * used, so a truncated or corrupted file gives an error naming the chunk, never a crash.
 * Entries are delta-coded against the entry before and the chunk compressed (below): a record
 * costs bytes per VMI call, not a hundred.
 *
 * Layout (all integers little-endian, written byte by byte):
 *
 *   file header (90 + L + N bytes)
 *     0   9  magic "VMIEMUREC"
 *     9   4  version (REC_VERSION)
 *     13  8  kernel_hash          29  4  ram_mib     37  8  epoch (two's complement)
 *     21  8  kernel_size          33  4  cpu_mhz     45  8  max_insns
 *     53  1  rom_enabled (0/1)    54  1  reboot_restarts (0/1)
 *     55  8  snap_every
 *     63  1  has_initrd (0/1)     64  8  initrd_hash 72  8  initrd_size (both 0 without one)
 *     80  2  L = command line length (at most REC_MAX_CMDLINE)
 *     82  2  N = initrd name length (at most REC_MAX_NAME; 0 without one)
 *     84  1  cpu_model (a vcpu_model_id, cpu/model.h: 0 coreduo, 1 max)
 *     85  1  quiet_calls (MACHINE_QUIET_* bits, --quiet-calls: calls left out of the event log)
 *     86  L  the command line, no NUL
 *     86+L N the initrd's file name as given when recording, no NUL (for messages only: a
 *            replay is given the initrd again and checked by hash and size, like the kernel)
 *     86+L+N 4 CRC32 of bytes [0, 86 + L + N)
 *   chunk k = 0, 1, 2, ... (24 + P bytes)
 *     0   4  magic "RCHK"
 *     4   4  chunk index k
 *     8   4  entry count (at least 1)
 *     12  4  P = payload bytes (at most REC_MAX_CHUNK)
 *     16  4  U = entry bytes (P <= U <= REC_MAX_CHUNK)
 *     20  4  CRC32 of chunk bytes [0, 20) followed by the P payload bytes
 *     24  P  the entry bytes: stored as they are if P == U, else a zlib stream (RFC 1950) that
 *            inflates to exactly U bytes. They hold the entries back to back, exactly filling U:
 *              kind      1 byte, a rec_kind
 *              icount    varint: zigzag(icount - the previous entry's icount in the chunk, or 0)
 *              len       varint, at most REC_MAX_PAYLOAD
 *              if len > 0:
 *              mask      varint: bit i set if 32-bit word i of the payload (little-endian, the
 *                        last one zero-padded) differs from word i of the previous payload of
 *                        the same kind in the chunk (all zero before the first, and past its len)
 *              words     for each bit set, in order: varint zigzag(word - previous word), mod 2^32
 *            Varints are unsigned LEB128 (7 bits a byte, low first); zigzag(d) = (d << 1) ^
 *            (d >> 63), or >> 31 for words, on two's complement. A chunk decodes on its own.
 *            So an entry costs what changed since the last one of its kind: a VMI call in a
 *            loop a few bytes before compression, well under one after.
 *
 * The file ends cleanly after the header or after a complete chunk. CRC32 is zlib's crc32. */
#ifndef VMIEMU_RECORD_H
#define VMIEMU_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

/* 19: interrupt-flag calls are not in the record (kind 6, REC_IFCALL, is no longer written
 * and read as a bad entry): every REC_CALL, REC_MARKER, REC_HASH and REC_END payload carries
 * how many were logged since the entry before that carries the count (emu/recplay.c).
 * 18: REC_IFCALL entries: an interrupt-flag call is recorded in five words, without the
 * registers after it (they follow from the state before, which the replay reproduces); the
 * header's byte 85 says which calls --quiet-calls left out.
 * 17: the state stream (STATE_SER_VERSION 10) has the local APIC's initial ID and x2APIC mode.
 * 16: the header names the CPU model (--cpu), and the state stream (STATE_SER_VERSION 9) has
 * IA32_TSC_ADJUST. 15: Multiboot kernels start on the machine a BIOS leaves (emu/firmware.h: the PIT running,
 * IRQ 0 open, a real-mode interrupt table), so a Multiboot record made before replays another run.
 * 14: the state stream (STATE_SER_VERSION 8) has the VGA's registers.
 * 13: REC_MARKER entries (guest markers, port 0x4F8), checked by a replay like calls.
 * 12: the state stream (STATE_SER_VERSION 7) has NMI state, the IO-APIC and the HPET.
 * 11: a REC_INPUT's payload starts with its device (host_device: 0 COM1, 1 keyboard), then the
 * bytes. 10: a REC_CALL's payload adds the instructions a native call's slot ran (the call was
 * entered that many instructions before the entry's icount, where it was logged).
 * 9: the state stream (STATE_SER_VERSION 6) has fw_cfg and pc-testdev too.
 * 8: the header identifies the initrd (hash, size, name), so --record works with --initrd.
 * 7: the state stream (STATE_SER_VERSION 5) also covers the 16550A UART's FIFO, interrupt and
 * modem state. 6: the state stream covers both the ACPI PM registers and the keyboard controller, port 0x92,
 * PCI configuration and the PICs' ELCR (STATE_SER_VERSION 4). 5: one of those two sets (two
 * branches' builds). 4: the state stream's devices in the order of the device table
 * (STATE_SER_VERSION 2). 3: snapshot digests hash the versioned field-by-field state stream (emu/state_ser.h), not
 * raw struct bytes. 2: compact entries (changes since the previous entry of the kind), compressed chunks, and a
 * native VMI call's REC_CALL written once its ROM slot has returned, with the registers after
 * it. 1: fixed-size entries, native calls before their slot ran (refused). */
#define REC_VERSION 19u
#define REC_MAX_PAYLOAD 256u          /* bytes in one entry's payload */
#define REC_MAX_CMDLINE 1023u         /* bytes of command line, without the NUL */
#define REC_MAX_NAME 1023u            /* bytes of the initrd's file name, without the NUL */
#define REC_CHUNK_TARGET (64u * 1024) /* the writer flushes before a chunk's U grows past this */
#define REC_MAX_CHUNK (1024u * 1024)  /* the reader refuses chunks claiming a larger P or U */

typedef struct rec_header {
    uint32_t version; /* ignored by rec_create (it writes REC_VERSION); set by rec_open */
    uint64_t kernel_hash; /* caller-computed, e.g. rec_hash_bytes of the kernel file */
    uint64_t kernel_size;
    uint32_t ram_mib;
    uint32_t cpu_mhz;
    uint8_t cpu_model; /* a vcpu_model_id */
    uint8_t quiet_calls; /* MACHINE_QUIET_* bits (emu/machine.h): calls not logged (nor counted) */
    int64_t epoch;
    uint64_t max_insns;
    uint8_t rom_enabled;     /* written as 0 or 1 */
    uint8_t reboot_restarts; /* written as 0 or 1 */
    uint64_t snap_every;   /* snapshot interval: state hashes are taken at snapshots */
    uint8_t has_initrd;    /* written as 0 or 1; without it the hash, size and name are zero */
    uint64_t initrd_hash;  /* rec_hash_bytes of the initrd file */
    uint64_t initrd_size;
    char cmdline[REC_MAX_CMDLINE + 1]; /* NUL-terminated, may be empty */
    char initrd[REC_MAX_NAME + 1];     /* the initrd's file name as given, NUL-terminated */
} rec_header;

typedef enum rec_kind { /* what an entry is; the payload layout is the caller's */
    REC_INPUT = 1,      /* a host input: its device (one byte), then its bytes */
    REC_CALL = 2,       /* a VMI call as logged */
    REC_HASH = 3,       /* a full machine-state hash */
    REC_END = 4,        /* how the run ended */
    REC_MARKER = 5,     /* a guest marker (port 0x4F8) as logged */
    /* 6 was REC_IFCALL (version 18): unused, a reader refuses it like any unknown kind */
} rec_kind;
#define REC_LAST_KIND REC_MARKER

typedef struct rec_entry {
    uint8_t kind; /* a rec_kind */
    uint64_t icount;
    uint16_t len; /* payload bytes, at most REC_MAX_PAYLOAD */
    uint8_t payload[REC_MAX_PAYLOAD]; /* rec_next zeroes the bytes past len */
} rec_entry;

/* FNV-1a 64 of data, e.g. for rec_header.kernel_hash. */
uint64_t rec_hash_bytes(const void *data, size_t len);

/* ---- writing ---- */

typedef struct rec_writer rec_writer;

/* Create (or truncate) path and write the header. NULL on failure (err: VM_EINVAL for a
 * command line longer than REC_MAX_CMDLINE or an initrd name longer than REC_MAX_NAME,
 * VM_EIO, VM_ENOMEM). */
VM_MUST_CHECK rec_writer *rec_create(const char *path, const rec_header *h, vm_error *err);
/* Add an entry to the current chunk; flushes first if the entry would take the chunk past
 * REC_CHUNK_TARGET. VM_EINVAL for an unknown kind or len > REC_MAX_PAYLOAD (nothing added).
 * After any write error the writer refuses everything but rec_close. */
VM_MUST_CHECK bool rec_append(rec_writer *w, const rec_entry *e, vm_error *err);
/* Write the current chunk, if it holds any entry, with one write(2). Once this returns true the
 * entries survive the process being killed (not a host crash: there is no fsync). */
VM_MUST_CHECK bool rec_flush(rec_writer *w, vm_error *err);
/* Flush and close; frees w even when it fails. NULL is accepted and does nothing. */
VM_MUST_CHECK bool rec_close(rec_writer *w, vm_error *err);

/* A place in a record, between two entries: the chunk that holds the next entry (its file
 * offset, how many chunks and entries precede it) and how many of that chunk's entries come
 * before the place. The all-zero mark is the start of the record, just after the header. */
typedef struct rec_mark {
    uint64_t offset;
    uint64_t chunks;
    uint64_t entries;
    uint32_t skip;
} rec_mark;

/* Flush, and mark the end of what is written (a chunk boundary: skip is 0). */
VM_MUST_CHECK bool rec_mark_here(rec_writer *w, rec_mark *mk, vm_error *err);
/* Cut the record back to a mark rec_mark_here gave (or the zero mark): unflushed entries are
 * dropped and the file is truncated with one ftruncate(2), so at every moment it holds a
 * readable record (a run killed just after still replays up to the mark). Appending goes on
 * from there. Fails with VM_EINVAL for a mark that is not a chunk boundary of this file. */
VM_MUST_CHECK bool rec_rewind(rec_writer *w, const rec_mark *mk, vm_error *err);

/* ---- reading ---- */

typedef struct rec_reader rec_reader;

/* Open path and read its header into *h. NULL on failure: VM_EIO if it cannot be opened or
 * read, VM_EFORMAT if it is empty, not a record, from a newer vmiemu, or its header is
 * truncated or corrupt. */
VM_MUST_CHECK rec_reader *rec_open(const char *path, rec_header *h, vm_error *err);
/* The next entry: 1 = *e filled; 0 = clean end of file; -1 = the file stops inside a chunk or
 * a chunk is corrupt (VM_EFORMAT; VM_EIO for a read error; VM_ENOMEM). Every entry of every
 * complete chunk before the bad one has been returned; none of the bad chunk's entries is.
 * Messages name the chunk and what precedes it, e.g. "rec.vmr: chunk 7 at byte 81234 is
 * truncated (needs 65556 bytes, the file ends at byte 81300); 7 complete chunks (5120 entries)
 * precede it". After 0 or -1, further calls return the same (and the same error). */
VM_MUST_CHECK int rec_next(rec_reader *r, rec_entry *e, vm_error *err);

/* How far a reader has got. */
typedef struct rec_position {
    uint64_t chunks;  /* complete, verified chunks read so far */
    uint64_t entries; /* entries returned so far */
    uint64_t bytes;   /* file offset just past the last verified chunk (or the header) */
    bool truncated;   /* rec_next failed because the file ends inside a chunk (a killed run),
                         rather than because a chunk is corrupt */
} rec_position;

rec_position rec_reader_position(const rec_reader *r);
/* The place just after the last entry rec_next returned, or, with unread, just before it (an
 * entry peeked at but not consumed). */
rec_mark rec_reader_mark(const rec_reader *r, bool unread);
/* Go back (or forward) to a mark this reader gave, or to the zero mark. Reading starts again
 * from there, also after an end or an error; chunks are verified again as they are read. */
VM_MUST_CHECK bool rec_reader_seek(rec_reader *r, const rec_mark *mk, vm_error *err);
/* Close and free; NULL is accepted. */
void rec_close_reader(rec_reader *r);

/* The instruction count of the last entry in the record at path (a whole record's end entry:
 * how long the recorded run was), for a progress display. Walks the chunk headers and decodes
 * only the last chunk the file holds whole. false if the file is no record or has no entry. */
bool rec_last_icount(const char *path, uint64_t *icount);

#endif
