/* The record file: what is written reads back exactly, across chunks and flushes; a file cut
 * at any byte or with any byte changed reads back its intact chunks and then stops with an
 * error naming the chunk (or ends cleanly, when cut between chunks); a process killed while
 * recording leaves every flushed entry readable. The expected layout (header size, where chunks
 * start) is computed here from emu/record.h's description, not asked of the module; the
 * entries' coding is checked by round trips and by chunks made by hand. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "emu/record.h"
#include "support/suite_main.h"

#ifndef VMIEMU_TEST_TMPDIR
#define VMIEMU_TEST_TMPDIR "/tmp"
#endif

/* Layout sizes from emu/record.h. */
#define HDR_FIXED 86u
#define HDR_CRC 4u
#define CHUNK_HDR 24u
#define CHUNK_CRC_AT 20u
#define ENTRY_MAX(len) (1u + 10u + 3u + 10u + 5u * (((len) + 3u) / 4u)) /* the most an entry codes to */

#define CMDLINE "console=ttyS0 quiet"
#define INITRD "guests/initramfs.cpio.gz"

static char path[512], path2[512];
static vm_error err;

static void temp_path(char *p, size_t cap)
{
    snprintf(p, cap, "%s/record_XXXXXX", VMIEMU_TEST_TMPDIR);
    int fd = mkstemp(p);
    ck_assert_msg(fd >= 0, "mkstemp %s: %s", p, strerror(errno));
    close(fd);
}

static void setup(void)
{
    temp_path(path, sizeof path);
    temp_path(path2, sizeof path2);
    memset(&err, 0, sizeof err);
}

static void teardown(void)
{
    unlink(path);
    unlink(path2);
}

/* ---- building and reading records ---- */

static const uint16_t entry_lens[] = {0, 5, REC_MAX_PAYLOAD, 17, 58};
#define NLENS (sizeof entry_lens / sizeof entry_lens[0])

static uint16_t entry_len(uint32_t i) { return entry_lens[i % NLENS]; }

/* Entry i of every test record: all kinds, empty and full payloads, icounts with high bits. */
static void make_entry(uint32_t i, rec_entry *e)
{
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)(REC_INPUT + i % 4);
    e->icount = (uint64_t)i * 1000003u + (i % 7 == 3 ? UINT64_C(1) << 63 : 0);
    e->len = entry_len(i);
    for (unsigned j = 0; j < e->len; j++)
        e->payload[j] = (uint8_t)(i * 31u + j * 7u + 1u);
}

static void assert_entry(const rec_entry *got, uint32_t i)
{
    rec_entry want;
    make_entry(i, &want);
    ck_assert_msg(got->kind == want.kind && got->icount == want.icount && got->len == want.len,
                  "entry %u: kind %u icount %llu len %u, want %u %llu %u", i, got->kind,
                  (unsigned long long)got->icount, got->len, want.kind,
                  (unsigned long long)want.icount, want.len);
    ck_assert_mem_eq(got->payload, want.payload, REC_MAX_PAYLOAD); /* tail zeroed too */
}

static void make_header(rec_header *h)
{
    memset(h, 0, sizeof *h);
    h->kernel_hash = 0x0123456789ABCDEFull;
    h->kernel_size = 0x1234567890ull;
    h->ram_mib = 128;
    h->cpu_mhz = 1000;
    h->cpu_model = 1;
    h->quiet_calls = 1;
    h->epoch = -1234567890123LL;
    h->max_insns = UINT64_MAX;
    h->rom_enabled = 1;
    h->reboot_restarts = 0;
    h->snap_every = 0xFEDCBA9876543210ull;
    h->has_initrd = 1;
    h->initrd_hash = 0x8877665544332211ull;
    h->initrd_size = 3425;
    strcpy(h->cmdline, CMDLINE);
    strcpy(h->initrd, INITRD);
}

/* The header make_header's fields code to, with this command line. */
static size_t header_size(const char *cmdline) { return HDR_FIXED + strlen(cmdline) + strlen(INITRD) + HDR_CRC; }

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static rec_writer *create(const char *p)
{
    rec_header h;
    make_header(&h);
    rec_writer *w = rec_create(p, &h, &err);
    ck_assert_msg(w != NULL, "rec_create: %s", err.msg);
    return w;
}

static void append(rec_writer *w, uint32_t i)
{
    rec_entry e;
    make_entry(i, &e);
    ck_assert_msg(rec_append(w, &e, &err), "rec_append %u: %s", i, err.msg);
}

static void flush(rec_writer *w) { ck_assert_msg(rec_flush(w, &err), "rec_flush: %s", err.msg); }

static void close_writer(rec_writer *w)
{
    ck_assert_msg(rec_close(w, &err), "rec_close: %s", err.msg);
}

/* A record of entries 0..n-1 whose chunks end after entries ends[0] - 1, ends[1] - 1, ...
 * (nchunks of them; ends[nchunks - 1] == n). bounds[k] is the file offset where chunk k starts,
 * bounds[nchunks] the file size; firsts[k] the first entry of chunk k. */
typedef struct layout {
    unsigned nchunks;
    uint32_t n;
    size_t bounds[8];
    uint32_t firsts[8];
} layout;

static uint8_t *slurp(const char *p, size_t *size);

static layout write_chunked(const char *p, const uint32_t *ends, unsigned nchunks)
{
    layout l = {.nchunks = nchunks};
    rec_writer *w = create(p);
    uint32_t i = 0;
    for (unsigned k = 0; k < nchunks; k++) {
        l.firsts[k] = i;
        for (; i < ends[k]; i++)
            append(w, i);
        flush(w);
    }
    l.firsts[nchunks] = i;
    l.n = i;
    close_writer(w);
    /* Where the chunks start: each one's header gives its payload size. */
    size_t size;
    uint8_t *buf = slurp(p, &size);
    l.bounds[0] = header_size(CMDLINE);
    for (unsigned k = 0; k < nchunks; k++) {
        ck_assert_uint_le(l.bounds[k] + CHUNK_HDR, size);
        ck_assert_mem_eq(buf + l.bounds[k], "RCHK", 4);
        ck_assert_uint_eq(get32(buf + l.bounds[k] + 8), ends[k] - l.firsts[k]);
        l.bounds[k + 1] = l.bounds[k] + CHUNK_HDR + get32(buf + l.bounds[k] + 12);
    }
    free(buf);
    return l;
}

/* The small record the cut and corruption tests work on: 3 chunks, 8 entries. */
static layout write_small(const char *p)
{
    static const uint32_t ends[] = {3, 5, 8};
    return write_chunked(p, ends, 3);
}

/* Read every entry of p (which must open), checking entry k is make_entry(k); returns
 * rec_next's last result, with *n = entries read and *pos the final position. */
static int read_all(const char *p, uint32_t *n, rec_position *pos)
{
    rec_header h;
    rec_reader *r = rec_open(p, &h, &err);
    ck_assert_msg(r != NULL, "rec_open: %s", err.msg);
    rec_entry e;
    int rc;
    uint32_t k = 0;
    while ((rc = rec_next(r, &e, &err)) == 1)
        assert_entry(&e, k++);
    *n = k;
    if (pos)
        *pos = rec_reader_position(r);
    rec_close_reader(r);
    return rc;
}

static uint8_t *slurp(const char *p, size_t *size)
{
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    *size = (size_t)st.st_size;
    uint8_t *buf = malloc(*size + 1);
    ck_assert_ptr_nonnull(buf);
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(buf, 1, *size, f), *size);
    fclose(f);
    return buf;
}

static void spew(const char *p, const void *data, size_t size)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute the CRC of the chunk at off, so a test can make a chunk that is well-formed on
 * the outside but wrong inside. */
static void fix_chunk_crc(uint8_t *buf, size_t off)
{
    uint32_t len = get32(buf + off + 12);
    uLong crc = crc32(0, buf + off, CHUNK_CRC_AT);
    crc = crc32(crc, buf + off + CHUNK_HDR, len);
    put32(buf + off + CHUNK_CRC_AT, (uint32_t)crc);
}

/* err is a one-line VM_EFORMAT "PATH: ..." message containing needle. */
static void assert_error(const char *p, int code, const char *needle)
{
    ck_assert_int_eq(err.code, code);
    size_t n = strlen(p);
    ck_assert_msg(strncmp(err.msg, p, n) == 0 && strncmp(err.msg + n, ": ", 2) == 0,
                  "no path prefix: %s", err.msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "message has a newline: %s", err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err.msg,
                  needle);
}

static void assert_open_fails(const char *p, int code, const char *needle)
{
    rec_header h;
    rec_reader *r = rec_open(p, &h, &err);
    ck_assert_msg(r == NULL, "opened %s", p);
    assert_error(p, code, needle);
}

/* ---- round trips ---- */

START_TEST(test_header_round_trips_every_field)
{
    rec_header h, got;
    make_header(&h);
    h.version = 99; /* ignored: the writer writes REC_VERSION */
    rec_writer *w = rec_create(path, &h, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    close_writer(w);
    memset(&got, 0xAA, sizeof got);
    rec_reader *r = rec_open(path, &got, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_uint_eq(got.version, REC_VERSION);
    ck_assert_uint_eq(got.kernel_hash, h.kernel_hash);
    ck_assert_uint_eq(got.kernel_size, h.kernel_size);
    ck_assert_uint_eq(got.ram_mib, h.ram_mib);
    ck_assert_uint_eq(got.cpu_mhz, h.cpu_mhz);
    ck_assert_uint_eq(got.cpu_model, 1);
    ck_assert_uint_eq(got.quiet_calls, 1);
    ck_assert_int_eq(got.epoch, h.epoch);
    ck_assert_uint_eq(got.max_insns, h.max_insns);
    ck_assert_uint_eq(got.rom_enabled, 1);
    ck_assert_uint_eq(got.reboot_restarts, 0);
    ck_assert_uint_eq(got.snap_every, h.snap_every);
    ck_assert_str_eq(got.cmdline, CMDLINE);
    ck_assert_uint_eq(got.has_initrd, 1);
    ck_assert_uint_eq(got.initrd_hash, h.initrd_hash);
    ck_assert_uint_eq(got.initrd_size, h.initrd_size);
    ck_assert_str_eq(got.initrd, INITRD);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_header_without_an_initrd_reads_back_none)
{
    rec_header h, got;
    make_header(&h);
    h.has_initrd = 0; /* the hash, size and name are then not written */
    close_writer(rec_create(path, &h, &err));
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, HDR_FIXED + strlen(CMDLINE) + HDR_CRC);
    memset(&got, 0xAA, sizeof got);
    rec_reader *r = rec_open(path, &got, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_uint_eq(got.has_initrd, 0);
    ck_assert_uint_eq(got.initrd_hash | got.initrd_size, 0);
    ck_assert_str_eq(got.initrd, "");
    rec_close_reader(r);
}
END_TEST

START_TEST(test_longest_initrd_name_round_trips)
{
    rec_header h, got;
    make_header(&h);
    memset(h.initrd, 'y', REC_MAX_NAME);
    h.initrd[REC_MAX_NAME] = 0;
    memset(h.cmdline, 'x', REC_MAX_CMDLINE);
    h.cmdline[REC_MAX_CMDLINE] = 0;
    close_writer(rec_create(path, &h, &err));
    rec_reader *r = rec_open(path, &got, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_str_eq(got.initrd, h.initrd);
    ck_assert_str_eq(got.cmdline, h.cmdline);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_header_flags_are_written_as_zero_or_one)
{
    rec_header h, got;
    make_header(&h);
    h.rom_enabled = 0;
    h.reboot_restarts = 0x80;
    close_writer(rec_create(path, &h, &err));
    rec_reader *r = rec_open(path, &got, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_uint_eq(got.rom_enabled, 0);
    ck_assert_uint_eq(got.reboot_restarts, 1);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_longest_command_line_round_trips)
{
    rec_header h, got;
    make_header(&h);
    memset(h.cmdline, 'x', REC_MAX_CMDLINE);
    h.cmdline[REC_MAX_CMDLINE] = 0;
    rec_writer *w = rec_create(path, &h, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    close_writer(w);
    rec_reader *r = rec_open(path, &got, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_str_eq(got.cmdline, h.cmdline);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_empty_command_line_round_trips)
{
    rec_header h, got;
    make_header(&h);
    h.cmdline[0] = 0;
    close_writer(rec_create(path, &h, &err));
    rec_reader *r = rec_open(path, &got, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    ck_assert_str_eq(got.cmdline, "");
    rec_close_reader(r);
}
END_TEST

START_TEST(test_many_entries_round_trip_across_several_chunks)
{
    enum { N = 5000 };
    rec_writer *w = create(path);
    for (uint32_t i = 0; i < N; i++)
        append(w, i);
    close_writer(w);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), 0);
    ck_assert_uint_eq(n, N);
    ck_assert_uint_eq(pos.entries, N);
    /* about 78 bytes an entry: 390 KB in 64 KiB chunks */
    ck_assert_uint_ge(pos.chunks, 6);
    ck_assert(!pos.truncated);
}
END_TEST

START_TEST(test_full_and_empty_payloads_round_trip)
{
    rec_writer *w = create(path);
    rec_entry e = {.kind = REC_HASH, .icount = 7, .len = REC_MAX_PAYLOAD};
    memset(e.payload, 0xFF, sizeof e.payload);
    ck_assert(rec_append(w, &e, &err));
    rec_entry empty = {.kind = REC_END, .icount = 8, .len = 0};
    ck_assert(rec_append(w, &empty, &err));
    close_writer(w);
    rec_header h;
    rec_reader *r = rec_open(path, &h, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    rec_entry got;
    ck_assert_int_eq(rec_next(r, &got, &err), 1);
    ck_assert_uint_eq(got.kind, REC_HASH);
    ck_assert_uint_eq(got.len, REC_MAX_PAYLOAD);
    ck_assert_mem_eq(got.payload, e.payload, REC_MAX_PAYLOAD);
    memset(got.payload, 0x55, sizeof got.payload);
    ck_assert_int_eq(rec_next(r, &got, &err), 1);
    ck_assert_uint_eq(got.kind, REC_END);
    ck_assert_uint_eq(got.icount, 8);
    ck_assert_uint_eq(got.len, 0);
    ck_assert_uint_eq(got.payload[0], 0); /* the bytes past len are zeroed */
    ck_assert_int_eq(rec_next(r, &got, &err), 0);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_clean_end_is_reported_and_keeps_being_reported)
{
    rec_writer *w = create(path);
    append(w, 0);
    close_writer(w);
    rec_header h;
    rec_reader *r = rec_open(path, &h, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    rec_entry e;
    ck_assert_int_eq(rec_next(r, &e, &err), 1);
    ck_assert_int_eq(rec_next(r, &e, &err), 0);
    ck_assert_int_eq(rec_next(r, &e, &err), 0);
    ck_assert_int_eq(rec_next(r, &e, NULL), 0);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_entries_appended_after_a_flush_follow_the_flushed_ones)
{
    rec_writer *w = create(path);
    append(w, 0);
    append(w, 1);
    flush(w);
    append(w, 2);
    flush(w);
    append(w, 3);
    append(w, 4);
    close_writer(w);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(pos.chunks, 3);
}
END_TEST

START_TEST(test_flushed_entries_are_readable_before_the_writer_closes)
{
    rec_writer *w = create(path);
    append(w, 0);
    append(w, 1);
    flush(w);
    append(w, 2); /* not flushed: not in the file yet */
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), 0);
    ck_assert_uint_eq(n, 2);
    close_writer(w);
    ck_assert_int_eq(read_all(path, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(test_flushing_an_empty_chunk_writes_nothing)
{
    rec_writer *w = create(path);
    flush(w);
    flush(w);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, header_size(CMDLINE));
    close_writer(w);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, header_size(CMDLINE));
}
END_TEST

START_TEST(test_writer_flushes_by_itself_before_a_chunk_passes_64_kib)
{
    rec_writer *w = create(path);
    struct stat st;
    uint32_t i = 0;
    do { /* until the first chunk goes out by itself */
        append(w, i++);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_lt(i, 100000);
    } while ((uint64_t)st.st_size == header_size(CMDLINE));
    size_t size;
    uint8_t *buf = slurp(path, &size);
    size_t at = header_size(CMDLINE);
    ck_assert_uint_eq(size, at + CHUNK_HDR + get32(buf + at + 12)); /* one whole chunk */
    ck_assert_uint_eq(get32(buf + at + 8), i - 1); /* the entry that did not fit waits */
    uint32_t raw = get32(buf + at + 16);
    ck_assert_uint_le(raw, REC_CHUNK_TARGET);
    ck_assert_uint_gt(raw + ENTRY_MAX(entry_len(i - 1)), REC_CHUNK_TARGET);
    free(buf);
    close_writer(w);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), 0);
    ck_assert_uint_eq(n, i);
    ck_assert_uint_eq(pos.chunks, 2);
}
END_TEST

/* A call loop's entries (what changes from one to the next is the same each time) cost well
 * under a byte each once coded and compressed. */
START_TEST(test_entries_that_change_alike_take_under_a_byte_each)
{
    enum { N = 100000 };
    rec_writer *w = create(path);
    rec_entry e = {.kind = REC_CALL, .len = 88};
    for (uint32_t i = 0; i < N; i++) {
        e.icount = 51u * i;
        put32(e.payload + 28, 51u * i); /* a result */
        put32(e.payload + 48, 51u * i); /* a register */
        put32(e.payload + 52, N - i);   /* a counter */
        ck_assert(rec_append(w, &e, &err));
    }
    close_writer(w);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_lt((uint64_t)st.st_size - header_size(CMDLINE), N);
    rec_header h;
    rec_reader *r = rec_open(path, &h, &err);
    rec_entry got;
    for (uint32_t i = 0; i < N; i++) {
        ck_assert_int_eq(rec_next(r, &got, &err), 1);
        ck_assert_uint_eq(got.icount, 51u * i);
        ck_assert_uint_eq(get32(got.payload + 52), N - i);
    }
    ck_assert_int_eq(rec_next(r, &got, &err), 0);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_position_counts_chunks_entries_and_bytes)
{
    layout l = write_small(path);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), 0);
    ck_assert_uint_eq(pos.chunks, l.nchunks);
    ck_assert_uint_eq(pos.entries, l.n);
    ck_assert_uint_eq(pos.bytes, l.bounds[l.nchunks]);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, l.bounds[l.nchunks]); /* the layout is as documented */
}
END_TEST

START_TEST(test_file_with_only_a_header_has_no_entries)
{
    close_writer(create(path));
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(pos.chunks, 0);
    ck_assert_uint_eq(pos.bytes, header_size(CMDLINE));
}
END_TEST

START_TEST(test_create_truncates_an_existing_file)
{
    write_small(path);
    rec_writer *w = create(path);
    append(w, 0);
    close_writer(w);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_hash_bytes_is_fnv1a_64)
{
    ck_assert_uint_eq(rec_hash_bytes("", 0), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(rec_hash_bytes("a", 1), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(rec_hash_bytes("foobar", 6), 0x85944171f73967e8ull);
}
END_TEST

/* ---- the writer refuses what it cannot write ---- */

START_TEST(test_create_refuses_a_command_line_without_a_nul)
{
    rec_header h;
    make_header(&h);
    memset(h.cmdline, 'x', sizeof h.cmdline);
    ck_assert_ptr_null(rec_create(path, &h, &err));
    assert_error(path, VM_EINVAL, "command line is longer than 1023 bytes");
}
END_TEST

START_TEST(test_create_reports_a_missing_directory)
{
    rec_header h;
    make_header(&h);
    ck_assert_ptr_null(rec_create("/nonexistent/run.vmr", &h, &err));
    ck_assert_int_eq(err.code, VM_EIO);
    ck_assert_str_eq(err.msg, "/nonexistent/run.vmr: cannot create: No such file or directory");
}
END_TEST

START_TEST(test_append_refuses_a_payload_over_the_maximum_and_keeps_working)
{
    rec_writer *w = create(path);
    rec_entry e;
    make_entry(0, &e);
    e.len = REC_MAX_PAYLOAD + 1;
    ck_assert(!rec_append(w, &e, &err));
    assert_error(path, VM_EINVAL, "payload is 257 bytes; at most 256");
    append(w, 0);
    close_writer(w);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), 0);
    ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_append_refuses_an_unknown_kind)
{
    rec_writer *w = create(path);
    rec_entry e;
    make_entry(0, &e);
    e.kind = 0;
    ck_assert(!rec_append(w, &e, &err));
    assert_error(path, VM_EINVAL, "kind 0 is not a rec_kind");
    e.kind = 6; /* REC_IFCALL in version 18: no longer a kind */
    ck_assert(!rec_append(w, &e, &err));
    assert_error(path, VM_EINVAL, "kind 6 is not a rec_kind");
    close_writer(w);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* ---- files that are not (whole) records ---- */

START_TEST(test_rejects_an_empty_file)
{
    spew(path, "", 0);
    assert_open_fails(path, VM_EFORMAT, "the file is empty, not a vmiemu record");
}
END_TEST

START_TEST(test_rejects_a_file_without_the_magic)
{
    static const char elf[] = "\x7f" "ELF\x01\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x03\0";
    spew(path, elf, sizeof elf - 1);
    assert_open_fails(path, VM_EFORMAT, "not a vmiemu record (no VMIEMUREC magic)");
    spew(path, "VMI", 3); /* the start of the magic: a header cut short */
    assert_open_fails(path, VM_EFORMAT, "truncated");
    spew(path, "hello", 5);
    assert_open_fails(path, VM_EFORMAT, "not a vmiemu record");
}
END_TEST

START_TEST(test_rejects_a_record_from_a_future_version)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + 9, REC_VERSION + 1);
    spew(path, buf, size);
    free(buf);
    char want[128];
    snprintf(want, sizeof want, "record format version %u is newer than this vmiemu reads (version %u)",
             REC_VERSION + 1, REC_VERSION);
    assert_open_fails(path, VM_EFORMAT, want);
}
END_TEST

START_TEST(test_rejects_a_record_with_raw_struct_digests_naming_its_version)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + 9, 2); /* digests of raw struct bytes: they never match this vmiemu's */
    spew(path, buf, size);
    free(buf);
    char want[160];
    snprintf(want, sizeof want,
             "record format version 2 is from an older vmiemu; this one reads only version %u: "
             "record the run again",
             REC_VERSION);
    assert_open_fails(path, VM_EFORMAT, want);
}
END_TEST

START_TEST(test_rejects_a_record_without_the_initrd_naming_its_version)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + 9, 7); /* the header had no initrd: a run with one could not be recorded */
    spew(path, buf, size);
    free(buf);
    char want[160];
    snprintf(want, sizeof want,
             "record format version 7 is from an older vmiemu; this one reads only version %u: "
             "record the run again",
             REC_VERSION);
    assert_open_fails(path, VM_EFORMAT, want);
}
END_TEST

START_TEST(test_rejects_a_record_from_an_older_version_naming_it)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + 9, 1); /* fixed-size entries, before compact coding */
    spew(path, buf, size);
    free(buf);
    char want[160];
    snprintf(want, sizeof want,
             "record format version 1 is from an older vmiemu; this one reads only version %u: "
             "record the run again",
             REC_VERSION);
    assert_open_fails(path, VM_EFORMAT, want);
}
END_TEST

START_TEST(test_rejects_version_zero)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + 9, 0);
    spew(path, buf, size);
    free(buf);
    assert_open_fails(path, VM_EFORMAT, "version 0 is not valid");
}
END_TEST

START_TEST(test_rejects_a_header_with_a_bad_crc)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    buf[30] ^= 0x40; /* ram_mib */
    spew(path, buf, size);
    free(buf);
    assert_open_fails(path, VM_EFORMAT, "header CRC mismatch");
}
END_TEST

START_TEST(test_rejects_a_header_claiming_an_overlong_command_line)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    buf[80] = 0xFF;
    buf[81] = 0xFF;
    spew(path, buf, size);
    free(buf);
    assert_open_fails(path, VM_EFORMAT,
                      "the header claims a 65535-byte command line (at most 1023): corrupt");
}
END_TEST

START_TEST(test_rejects_a_header_claiming_an_overlong_initrd_name)
{
    write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    buf[82] = 0x00;
    buf[83] = 0x04; /* 1024 */
    spew(path, buf, size);
    free(buf);
    assert_open_fails(path, VM_EFORMAT,
                      "the header claims a 1024-byte initrd name (at most 1023): corrupt");
}
END_TEST

START_TEST(test_create_refuses_an_initrd_name_without_a_nul)
{
    rec_header h;
    make_header(&h);
    memset(h.initrd, 'x', sizeof h.initrd);
    ck_assert_ptr_null(rec_create(path, &h, &err));
    assert_error(path, VM_EINVAL, "initrd's file name is longer than 1023 bytes");
}
END_TEST

START_TEST(test_reports_a_nonexistent_path)
{
    assert_open_fails("/nonexistent/run.vmr", VM_EIO, "cannot open");
    ck_assert_str_eq(err.msg, "/nonexistent/run.vmr: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_reports_a_directory)
{
    assert_open_fails(VMIEMU_TEST_TMPDIR, VM_EIO, "read failed: Is a directory");
}
END_TEST

/* ---- damaged chunks ---- */

START_TEST(test_truncated_chunk_names_the_chunk_the_file_end_and_what_precedes_it)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    size_t cut = l.bounds[2] + CHUNK_HDR + 5; /* inside chunk 2's payload */
    spew(path, buf, cut);
    free(buf);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), -1);
    ck_assert_uint_eq(n, l.firsts[2]);
    char want[1024];
    snprintf(want, sizeof want,
             "%s: chunk 2 at byte %zu is truncated (needs %zu bytes, the file ends at byte %zu); "
             "2 complete chunks (%u entries) precede it",
             path, l.bounds[2], l.bounds[3] - l.bounds[2], cut, l.firsts[2]);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(err.code, VM_EFORMAT);
    ck_assert(pos.truncated);
    ck_assert_uint_eq(pos.chunks, 2);
    ck_assert_uint_eq(pos.bytes, l.bounds[2]);
}
END_TEST

START_TEST(test_chunk_with_a_crc_mismatch_names_the_chunk)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    buf[l.bounds[1] + CHUNK_HDR + 3] ^= 0x10; /* chunk 1's first entry's icount */
    spew(path, buf, size);
    free(buf);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), -1);
    ck_assert_uint_eq(n, l.firsts[1]);
    char want[1024];
    snprintf(want, sizeof want, "%s: chunk 1 at byte %zu: CRC mismatch (stored 0x", path,
             l.bounds[1]);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
    snprintf(want, sizeof want, "): corrupt; 1 complete chunk (%u entries) precedes it",
             l.firsts[1]);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s", err.msg);
    ck_assert(!pos.truncated);
}
END_TEST

START_TEST(test_error_is_repeated_by_later_calls)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    spew(path, buf, l.bounds[1] + 1);
    free(buf);
    rec_header h;
    rec_reader *r = rec_open(path, &h, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    rec_entry e;
    while (rec_next(r, &e, &err) == 1)
        ;
    vm_error first = err, again = {0};
    ck_assert_int_eq(rec_next(r, &e, &again), -1);
    ck_assert_int_eq(again.code, first.code);
    ck_assert_str_eq(again.msg, first.msg);
    ck_assert_int_eq(rec_next(r, &e, NULL), -1);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_chunk_claiming_a_huge_length_is_refused_without_reading_it)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + l.bounds[1] + 12, 0xFFFFFFF0u);
    spew(path, buf, size);
    free(buf);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), -1);
    ck_assert_uint_eq(n, l.firsts[1]);
    assert_error(path, VM_EFORMAT, "chunk 1 at byte");
    assert_error(path, VM_EFORMAT, ": claims 4294967280 payload bytes (at most 1048576): corrupt");
    ck_assert(!pos.truncated);
}
END_TEST

START_TEST(test_chunk_claiming_more_entries_than_fit_is_corrupt)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    put32(buf + l.bounds[0] + 8, 0x40000000u);
    spew(path, buf, size);
    free(buf);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    ck_assert_uint_eq(n, 0);
    assert_error(path, VM_EFORMAT, "chunk 0 at byte");
    assert_error(path, VM_EFORMAT, ": claims 1073741824 entries in");
    assert_error(path, VM_EFORMAT, "; 0 complete chunks (0 entries) precede it");
}
END_TEST

START_TEST(test_chunk_copied_from_elsewhere_has_the_wrong_index)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    size_t c0 = l.bounds[1] - l.bounds[0];
    uint8_t *twice = malloc(l.bounds[1] + c0);
    ck_assert_ptr_nonnull(twice);
    memcpy(twice, buf, l.bounds[1]);
    memcpy(twice + l.bounds[1], buf + l.bounds[0], c0); /* chunk 0 again as chunk 1 */
    spew(path, twice, l.bounds[1] + c0);
    free(twice);
    free(buf);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    ck_assert_uint_eq(n, l.firsts[1]);
    assert_error(path, VM_EFORMAT, "chunk 1 at byte");
    assert_error(path, VM_EFORMAT, ": its index field says 0: corrupt");
}
END_TEST

START_TEST(test_garbage_after_the_last_chunk_is_corrupt)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    uint8_t *more = malloc(size + 40);
    ck_assert_ptr_nonnull(more);
    memcpy(more, buf, size);
    memset(more + size, 'z', 40);
    spew(path, more, size + 40);
    free(more);
    free(buf);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    ck_assert_uint_eq(n, l.n);
    assert_error(path, VM_EFORMAT, "chunk 3 at byte");
    assert_error(path, VM_EFORMAT, ": no chunk magic: corrupt");
}
END_TEST

/* The next chunks are made by hand, with valid CRCs: only inflating them or walking their
 * entries can catch them. A file of the header and one chunk 0 holding `len` bytes (stored as
 * they are, or compressed) that claims `count` entries. */
static void write_hand_chunk(const uint8_t *bytes, uint32_t len, uint32_t count, bool compress)
{
    close_writer(create(path));
    size_t hsize;
    uint8_t *head = slurp(path, &hsize);
    uint8_t *buf = malloc(hsize + CHUNK_HDR + len + 64);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, hsize);
    free(head);
    uint8_t *c = buf + hsize;
    uLongf stored = len;
    if (compress) {
        stored = len + 64;
        ck_assert_int_eq(compress2(c + CHUNK_HDR, &stored, bytes, len, 9), Z_OK);
        ck_assert_uint_lt(stored, len);
    } else {
        memcpy(c + CHUNK_HDR, bytes, len);
    }
    memcpy(c, "RCHK", 4);
    put32(c + 4, 0);
    put32(c + 8, count);
    put32(c + 12, (uint32_t)stored);
    put32(c + 16, len);
    fix_chunk_crc(buf, hsize);
    spew(path, buf, hsize + CHUNK_HDR + stored);
    free(buf);
}

/* Two entries: a call at icount 5 with a 4-byte payload 0x00000007, then one at icount 6 with
 * nothing changed. */
static const uint8_t two_entries[] = {REC_CALL, 10, 4, 1, 14, REC_CALL, 2, 4, 0};

START_TEST(test_hand_made_entries_decode_as_documented)
{
    write_hand_chunk(two_entries, sizeof two_entries, 2, false);
    rec_header h;
    rec_reader *r = rec_open(path, &h, &err);
    ck_assert_msg(r != NULL, "%s", err.msg);
    rec_entry e;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(rec_next(r, &e, &err), 1);
        ck_assert_uint_eq(e.kind, REC_CALL);
        ck_assert_uint_eq(e.icount, 5u + (unsigned)i);
        ck_assert_uint_eq(e.len, 4);
        ck_assert_uint_eq(get32(e.payload), 7);
    }
    ck_assert_int_eq(rec_next(r, &e, &err), 0);
    rec_close_reader(r);
}
END_TEST

START_TEST(test_entry_of_unknown_kind_in_a_chunk_with_a_valid_crc_is_corrupt)
{
    uint8_t bytes[sizeof two_entries];
    memcpy(bytes, two_entries, sizeof bytes);
    bytes[5] = 9; /* the second entry's kind */
    write_hand_chunk(bytes, sizeof bytes, 2, false);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    ck_assert_uint_eq(n, 0); /* not even the chunk's good first entry */
    assert_error(path, VM_EFORMAT, "chunk 0 at byte");
    assert_error(path, VM_EFORMAT, ": entry 1 of 2 has an unknown kind");
}
END_TEST

START_TEST(test_entry_count_disagreeing_with_the_entries_is_corrupt)
{
    write_hand_chunk(two_entries, sizeof two_entries, 1, false);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    ck_assert_uint_eq(n, 0);
    assert_error(path, VM_EFORMAT, "chunk 0 at byte");
    assert_error(path, VM_EFORMAT, ": its 1 entries fill 5 of its 9 entry bytes");
    write_hand_chunk(two_entries, sizeof two_entries, 3, false);
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    assert_error(path, VM_EFORMAT, ": entry 2 of 3 starts past the payload end");
}
END_TEST

START_TEST(test_entry_with_a_word_past_its_mask_or_length_is_corrupt)
{
    static const uint8_t past_mask[] = {REC_CALL, 0, 4, 2, 2}; /* word 1 of a 1-word payload */
    write_hand_chunk(past_mask, sizeof past_mask, 1, false);
    uint32_t n;
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    assert_error(path, VM_EFORMAT, ": entry 0 of 1 has a bad word mask");
    static const uint8_t past_len[] = {REC_CALL, 0, 3, 1, 0x80, 0x80, 0x80, 0x10}; /* byte 3 set */
    write_hand_chunk(past_len, sizeof past_len, 1, false);
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    assert_error(path, VM_EFORMAT, ": entry 0 of 1 has bytes past its payload length");
    static const uint8_t long_len[] = {REC_CALL, 0, 0x81, 0x02, 0}; /* len 257 */
    write_hand_chunk(long_len, sizeof long_len, 1, false);
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    assert_error(path, VM_EFORMAT, ": entry 0 of 1 has a bad payload length");
}
END_TEST

START_TEST(test_compressed_chunk_round_trips_and_one_that_does_not_inflate_is_corrupt)
{
    uint8_t bytes[40 * sizeof two_entries];
    for (size_t i = 0; i < 40; i++) {
        memcpy(bytes + i * sizeof two_entries, two_entries, sizeof two_entries);
        bytes[i * sizeof two_entries + 1] = i ? 2 : 10; /* icount 5, 6, ... */
    }
    write_hand_chunk(bytes, sizeof bytes, 80, true);
    uint32_t n = 0;
    rec_header h;
    rec_reader *r = rec_open(path, &h, &err);
    rec_entry e;
    while (rec_next(r, &e, &err) == 1)
        ck_assert_uint_eq(e.icount, 5u + n++);
    ck_assert_uint_eq(n, 80);
    rec_close_reader(r);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    size_t at = header_size(CMDLINE);
    put32(buf + at + 16, get32(buf + at + 16) + 1); /* one entry byte more than it inflates to */
    fix_chunk_crc(buf, at);
    spew(path, buf, size);
    free(buf);
    ck_assert_int_eq(read_all(path, &n, NULL), -1);
    assert_error(path, VM_EFORMAT, "entry bytes: corrupt");
    assert_error(path, VM_EFORMAT, "do not inflate to");
}
END_TEST

/* Chunks of random entry bytes with valid CRCs, stored and compressed: the reader decodes what
 * is well-formed and stops with an error naming chunk 0 at the rest, and never reads outside
 * its buffers (the sanitizer build checks that). */
START_TEST(test_random_entry_bytes_with_a_valid_crc_give_entries_or_an_error)
{
    uint32_t seed = 12345;
    int good = 0, bad = 0;
    for (int round = 0; round < 400; round++) {
        uint8_t bytes[200];
        uint32_t len = 0, count = 0;
        if (round % 2) { /* bytes shaped like entries: most decode */
            for (; count < 1 + (uint32_t)round % 9; count++) {
                seed = seed * 1103515245u + 12345u;
                uint32_t x = seed >> 8, plen = x % 9, words = (plen + 3) / 4;
                bytes[len++] = (uint8_t)(1 + x % 4);
                bytes[len++] = (uint8_t)(x >> 4 & 0x7f);
                bytes[len++] = (uint8_t)plen;
                if (plen) {
                    uint32_t mask = (x >> 12) & ((1u << words) - 1);
                    bytes[len++] = (uint8_t)mask;
                    for (uint32_t wd = 0; wd < words; wd++)
                        if (mask >> wd & 1)
                            bytes[len++] = (uint8_t)(x >> (16 + wd) & 0x3f);
                }
            }
        } else { /* random bytes: most are refused */
            len = 3 + (uint32_t)round % 90;
            for (uint32_t i = 0; i < len; i++) {
                seed = seed * 1103515245u + 12345u;
                uint8_t b = (uint8_t)(seed >> 16);
                bytes[i] = i % 7 == 0 ? (uint8_t)(1 + b % 4) : round % 4 ? b & 0x8f : b;
            }
            count = 1 + (uint32_t)round % (len / 3);
        }
        write_hand_chunk(bytes, len, count, false);
        uint32_t n = 0;
        rec_header h;
        rec_reader *r = rec_open(path, &h, &err);
        ck_assert_msg(r != NULL, "%s", err.msg);
        rec_entry e;
        int rc;
        while ((rc = rec_next(r, &e, &err)) == 1) {
            ck_assert(e.len <= REC_MAX_PAYLOAD && e.kind >= REC_INPUT && e.kind <= REC_LAST_KIND);
            n++;
        }
        rec_close_reader(r);
        ck_assert_msg(rc == 0 ? n == count : rc == -1 && n == 0, "round %d: rc %d, %u entries", round, rc, n);
        if (rc == -1)
            assert_error(path, VM_EFORMAT, "chunk 0 at byte");
        good += rc == 0;
        bad += rc == -1;
    }
    ck_assert_msg(good > 0 && bad > 0, "%d chunks decoded, %d refused", good, bad); /* both paths ran */
}
END_TEST

/* ---- every cut, every corrupted byte ---- */

/* Cut the small record at every length 0..size: before the end of the header the open fails;
 * at a chunk boundary the file ends cleanly with the chunks before it; anywhere else the
 * chunks before the cut chunk read back and the cut chunk is reported truncated. */
START_TEST(test_every_cut_gives_a_clean_end_or_an_error_naming_the_cut_chunk)
{
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    ck_assert_uint_eq(size, l.bounds[l.nchunks]);
    for (size_t cut = 0; cut <= size; cut++) {
        spew(path2, buf, cut);
        memset(&err, 0, sizeof err);
        if (cut < l.bounds[0]) {
            assert_open_fails(path2, VM_EFORMAT, cut == 0 ? "empty" : "truncated");
            continue;
        }
        unsigned k = 0;
        while (k < l.nchunks && cut >= l.bounds[k + 1])
            k++;
        uint32_t n;
        rec_position pos;
        int rc = read_all(path2, &n, &pos);
        ck_assert_msg(n == l.firsts[k], "cut %zu: %u entries, want %u", cut, n, l.firsts[k]);
        ck_assert_uint_eq(pos.chunks, k);
        if (cut == l.bounds[k]) {
            ck_assert_msg(rc == 0, "cut %zu at a chunk boundary: %s", cut, err.msg);
            continue;
        }
        ck_assert_msg(rc == -1, "cut %zu: rec_next returned %d", cut, rc);
        char want[128];
        snprintf(want, sizeof want, "chunk %u at byte %zu is truncated", k, l.bounds[k]);
        assert_error(path2, VM_EFORMAT, want);
        ck_assert(pos.truncated);
    }
    free(buf);
}
END_TEST

/* Change every byte of the small record in three ways: every change is caught, by the open
 * when it hits the header, else by rec_next at the chunk it hits, after exactly the chunks
 * before it. */
START_TEST(test_every_changed_byte_is_detected_at_its_chunk)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    layout l = write_small(path);
    size_t size;
    uint8_t *buf = slurp(path, &size);
    for (size_t at = 0; at < size; at++) {
        for (unsigned m = 0; m < sizeof masks; m++) {
            buf[at] ^= masks[m];
            spew(path2, buf, size);
            buf[at] ^= masks[m];
            memset(&err, 0, sizeof err);
            if (at < l.bounds[0]) {
                rec_header h;
                rec_reader *r = rec_open(path2, &h, &err);
                ck_assert_msg(r == NULL, "byte %zu ^ 0x%02x in the header not caught", at,
                              masks[m]);
                assert_error(path2, VM_EFORMAT, "");
                continue;
            }
            unsigned k = 0;
            while (at >= l.bounds[k + 1])
                k++;
            uint32_t n;
            int rc = read_all(path2, &n, NULL);
            ck_assert_msg(rc == -1, "byte %zu ^ 0x%02x in chunk %u not caught", at, masks[m], k);
            ck_assert_msg(n == l.firsts[k], "byte %zu ^ 0x%02x: %u entries, want %u", at,
                          masks[m], n, l.firsts[k]);
            char want[64];
            snprintf(want, sizeof want, "chunk %u at byte %zu", k, l.bounds[k]);
            assert_error(path2, VM_EFORMAT, want);
        }
    }
    free(buf);
}
END_TEST

/* ---- killed recorders ---- */

static void wait_for_sigkill(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status 0x%x",
                  status);
}

/* In a child: a failure exits with status 1 instead of unwinding into Check. */
static void child_append(rec_writer *w, uint32_t i)
{
    rec_entry e;
    make_entry(i, &e);
    if (!rec_append(w, &e, NULL))
        _exit(1);
}

START_TEST(test_child_killed_after_flushes_leaves_every_flushed_entry)
{
    enum { CHUNKS = 4, PER_CHUNK = 25, UNFLUSHED = 10 };
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        rec_header h;
        make_header(&h);
        rec_writer *w = rec_create(path, &h, NULL);
        if (!w)
            _exit(1);
        uint32_t i = 0;
        for (int k = 0; k < CHUNKS; k++) {
            for (int j = 0; j < PER_CHUNK; j++)
                child_append(w, i++);
            if (!rec_flush(w, NULL))
                _exit(1);
        }
        for (int j = 0; j < UNFLUSHED; j++)
            child_append(w, i++);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    wait_for_sigkill(pid);
    uint32_t n;
    rec_position pos;
    ck_assert_int_eq(read_all(path, &n, &pos), 0);
    ck_assert_uint_eq(n, CHUNKS * PER_CHUNK);
    ck_assert_uint_eq(pos.chunks, CHUNKS);
}
END_TEST

/* The child records as fast as it can; it is killed at some moment while writing. Whatever
 * that moment, the file reads back as a prefix of what was appended: whole chunks, then a
 * clean end or a truncated last chunk. */
START_TEST(test_child_killed_while_recording_leaves_a_readable_prefix)
{
    enum { FLUSH_EVERY = 37, LIMIT = 60000 };
    int sync[2];
    ck_assert_int_eq(pipe(sync), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sync[0]);
        rec_header h;
        make_header(&h);
        rec_writer *w = rec_create(path, &h, NULL);
        if (!w)
            _exit(1);
        for (uint32_t i = 0;; i++) {
            if (i < LIMIT)
                child_append(w, i);
            if (i < LIMIT && i % FLUSH_EVERY == FLUSH_EVERY - 1 && !rec_flush(w, NULL))
                _exit(1);
            if (i == FLUSH_EVERY) /* the first chunk is out */
                (void)!write(sync[1], "x", 1);
            if (i >= LIMIT)
                pause(); /* wrote everything before the kill came: wait for it */
        }
    }
    close(sync[1]);
    char c;
    ck_assert_int_eq(read(sync[0], &c, 1), 1);
    close(sync[0]);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    wait_for_sigkill(pid);
    uint32_t n;
    rec_position pos;
    int rc = read_all(path, &n, &pos);
    ck_assert_msg(rc == 0 || (rc == -1 && pos.truncated), "rec_next %d: %s", rc, err.msg);
    ck_assert_uint_ge(n, FLUSH_EVERY);
    ck_assert_uint_eq(n % FLUSH_EVERY, 0); /* whole chunks only */
}
END_TEST

static Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *trip = tcase_create("round_trip");
    tcase_set_timeout(trip, 60); /* 10^5 entries each way: over Check's 4 s in a sanitizer build
                                  * sharing the machine with the Linux boots */
    tcase_add_checked_fixture(trip, setup, teardown);
    tcase_add_test(trip, test_header_round_trips_every_field);
    tcase_add_test(trip, test_header_flags_are_written_as_zero_or_one);
    tcase_add_test(trip, test_longest_command_line_round_trips);
    tcase_add_test(trip, test_empty_command_line_round_trips);
    tcase_add_test(trip, test_header_without_an_initrd_reads_back_none);
    tcase_add_test(trip, test_longest_initrd_name_round_trips);
    tcase_add_test(trip, test_many_entries_round_trip_across_several_chunks);
    tcase_add_test(trip, test_full_and_empty_payloads_round_trip);
    tcase_add_test(trip, test_clean_end_is_reported_and_keeps_being_reported);
    tcase_add_test(trip, test_entries_appended_after_a_flush_follow_the_flushed_ones);
    tcase_add_test(trip, test_flushed_entries_are_readable_before_the_writer_closes);
    tcase_add_test(trip, test_flushing_an_empty_chunk_writes_nothing);
    tcase_add_test(trip, test_writer_flushes_by_itself_before_a_chunk_passes_64_kib);
    tcase_add_test(trip, test_entries_that_change_alike_take_under_a_byte_each);
    tcase_add_test(trip, test_position_counts_chunks_entries_and_bytes);
    tcase_add_test(trip, test_file_with_only_a_header_has_no_entries);
    tcase_add_test(trip, test_create_truncates_an_existing_file);
    tcase_add_test(trip, test_hash_bytes_is_fnv1a_64);
    suite_add_tcase(s, trip);

    TCase *writer = tcase_create("writer");
    tcase_add_checked_fixture(writer, setup, teardown);
    tcase_add_test(writer, test_create_refuses_a_command_line_without_a_nul);
    tcase_add_test(writer, test_create_refuses_an_initrd_name_without_a_nul);
    tcase_add_test(writer, test_create_reports_a_missing_directory);
    tcase_add_test(writer, test_append_refuses_a_payload_over_the_maximum_and_keeps_working);
    tcase_add_test(writer, test_append_refuses_an_unknown_kind);
    suite_add_tcase(s, writer);

    TCase *header = tcase_create("bad_header");
    tcase_add_checked_fixture(header, setup, teardown);
    tcase_add_test(header, test_rejects_an_empty_file);
    tcase_add_test(header, test_rejects_a_file_without_the_magic);
    tcase_add_test(header, test_rejects_a_record_from_a_future_version);
    tcase_add_test(header, test_rejects_version_zero);
    tcase_add_test(header, test_rejects_a_record_from_an_older_version_naming_it);
    tcase_add_test(header, test_rejects_a_record_without_the_initrd_naming_its_version);
    tcase_add_test(header, test_rejects_a_record_with_raw_struct_digests_naming_its_version);
    tcase_add_test(header, test_rejects_a_header_with_a_bad_crc);
    tcase_add_test(header, test_rejects_a_header_claiming_an_overlong_command_line);
    tcase_add_test(header, test_rejects_a_header_claiming_an_overlong_initrd_name);
    tcase_add_test(header, test_reports_a_nonexistent_path);
    tcase_add_test(header, test_reports_a_directory);
    suite_add_tcase(s, header);

    TCase *chunks = tcase_create("bad_chunks");
    tcase_add_checked_fixture(chunks, setup, teardown);
    tcase_set_timeout(chunks, 60); /* the property tests write thousands of files: slow on a loaded disk */
    tcase_add_test(chunks, test_truncated_chunk_names_the_chunk_the_file_end_and_what_precedes_it);
    tcase_add_test(chunks, test_chunk_with_a_crc_mismatch_names_the_chunk);
    tcase_add_test(chunks, test_error_is_repeated_by_later_calls);
    tcase_add_test(chunks, test_chunk_claiming_a_huge_length_is_refused_without_reading_it);
    tcase_add_test(chunks, test_chunk_claiming_more_entries_than_fit_is_corrupt);
    tcase_add_test(chunks, test_chunk_copied_from_elsewhere_has_the_wrong_index);
    tcase_add_test(chunks, test_garbage_after_the_last_chunk_is_corrupt);
    tcase_add_test(chunks, test_hand_made_entries_decode_as_documented);
    tcase_add_test(chunks, test_entry_of_unknown_kind_in_a_chunk_with_a_valid_crc_is_corrupt);
    tcase_add_test(chunks, test_entry_with_a_word_past_its_mask_or_length_is_corrupt);
    tcase_add_test(chunks, test_compressed_chunk_round_trips_and_one_that_does_not_inflate_is_corrupt);
    tcase_add_test(chunks, test_random_entry_bytes_with_a_valid_crc_give_entries_or_an_error);
    tcase_add_test(chunks, test_entry_count_disagreeing_with_the_entries_is_corrupt);
    tcase_add_test(chunks, test_every_cut_gives_a_clean_end_or_an_error_naming_the_cut_chunk);
    tcase_add_test(chunks, test_every_changed_byte_is_detected_at_its_chunk);
    tcase_set_timeout(chunks, 120); /* a file written per byte: Check's 4 s is too short on a busy disk */
    suite_add_tcase(s, chunks);

    TCase *killed = tcase_create("killed");
    tcase_add_checked_fixture(killed, setup, teardown);
    tcase_add_test(killed, test_child_killed_after_flushes_leaves_every_flushed_entry);
    tcase_add_test(killed, test_child_killed_while_recording_leaves_a_readable_prefix);
    suite_add_tcase(s, killed);
    return s;
}

SUITE_MAIN(record_suite)
