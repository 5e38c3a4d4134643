/* The record file format: see emu/record.h for the layout.
 *
 * The writer serialises entries into a chunk buffer that has room for the chunk header in
 * front, so a flush is one write(2) of header and payload together: a process killed between
 * two flushes loses only the unflushed entries, and one killed inside a write leaves one
 * partial chunk at the end, which the reader reports as a truncation.
 *
 * The reader trusts nothing: every length is checked against a fixed cap before anything is
 * allocated or read, a chunk is read whole and verified (CRC, then every entry's structure)
 * before its first entry is handed out, and the first problem stops the reader for good. */
#define _POSIX_C_SOURCE 200809L

#include "emu/record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define REC_MAGIC "VMIEMUREC"
#define REC_MAGIC_LEN 9u
#define REC_HDR_FIXED 86u  /* file header bytes before the command line */
#define REC_HDR_CRC 4u
#define REC_CHUNK_MAGIC "RCHK"
#define REC_CHUNK_HDR 24u  /* chunk header bytes before the payload */
#define REC_CHUNK_CRC_AT 20u
#define REC_ENTRY_MIN 3u   /* kind, a one-byte icount delta, a zero len */
#define REC_KINDS (REC_LAST_KIND + 1)
#define REC_WORDS (REC_MAX_PAYLOAD / 4)
/* The most bytes an entry with a len-byte payload can take encoded: kind, icount and len
 * varints, the word mask, a 5-byte varint per word. */
#define REC_ENTRY_MAX(len) (1u + 10u + 3u + 10u + 5u * (((len) + 3u) / 4u))

/* ---- helpers ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t rec_crc(uint32_t crc, const uint8_t *p, size_t n)
{
    /* crc32_z, not crc32: libunicorn.a carries a slow bytewise crc32 of its own that would win
     * the link; both compute the same CRC-32. */
    return (uint32_t)crc32_z(crc, p, n);
}

uint64_t rec_hash_bytes(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool kind_valid(uint8_t kind) { return kind >= REC_INPUT && kind <= REC_LAST_KIND; }

/* ---- entry coding ----
 * Unsigned LEB128 varints; signed values zigzag-coded first. A payload is coded against the
 * previous payload of the same kind in the chunk (all zero at the chunk's start), as 32-bit
 * little-endian words: a mask of the words that differ, then each one's difference. So a VMI
 * call costs its number and what changed since the call before, and a chunk decodes on its
 * own (a mark can seek to its start). */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* A varint of at most `max` bytes from p[0, avail): its length, or 0 if it runs past avail
 * or max, or does not fit 64 bits. */
static size_t get_varint(const uint8_t *p, size_t avail, unsigned max, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < avail && i < max; i++) {
        if (i == 9 && p[i] > 1)
            return 0;
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static uint64_t zigzag64(uint64_t d) { return (d << 1) ^ (uint64_t)-(int64_t)(d >> 63); }
static uint64_t unzigzag64(uint64_t z) { return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1); }
static uint32_t zigzag32(uint32_t d) { return (d << 1) ^ (uint32_t)-(int32_t)(d >> 31); }
static uint32_t unzigzag32(uint32_t z) { return (z >> 1) ^ (uint32_t)-(int32_t)(z & 1); }

/* Word i of a payload of len bytes, the bytes past len as zero. */
static uint32_t word_at(const uint8_t *p, unsigned len, unsigned i)
{
    unsigned at = 4 * i;
    if (at + 4 <= len) {
        uint32_t w;
        memcpy(&w, p + at, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap32(w);
#endif
        return w;
    }
    uint32_t w = 0;
    for (unsigned k = 0; at + k < len; k++)
        w |= (uint32_t)p[at + k] << (8 * k);
    return w;
}

/* The coding state of a chunk: the last icount, and the words of the last payload of each
 * kind (zero past its length; `words` of them may be non-zero). */
typedef struct rec_coder {
    uint64_t icount;
    uint32_t prev[REC_KINDS][REC_WORDS];
    uint8_t words[REC_KINDS];
} rec_coder;

static void coder_reset(rec_coder *c) { memset(c, 0, sizeof *c); }

/* Encode e at out (room for REC_ENTRY_MAX(e->len)); returns the bytes written. This is the
 * recording's hot path: two passes over the payload's words, no copy of it. */
static size_t encode_entry(rec_coder *c, const rec_entry *e, uint8_t *out)
{
    uint8_t *p = out;
    *p++ = e->kind;
    p += put_varint(p, zigzag64(e->icount - c->icount));
    c->icount = e->icount;
    p += put_varint(p, e->len);
    uint32_t *prev = c->prev[e->kind], cur[REC_WORDS];
    unsigned words = (e->len + 3u) / 4u;
    if (c->words[e->kind] > words) /* the previous payload was longer: its tail goes to zero */
        memset(prev + words, 0, (c->words[e->kind] - words) * sizeof *prev);
    c->words[e->kind] = (uint8_t)words;
    if (e->len == 0)
        return (size_t)(p - out);
    uint64_t mask = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (e->len % 4 == 0) /* whole words (a VMI call's payload): one copy, a loop the compiler unrolls */
        memcpy(cur, e->payload, e->len);
    else
#endif
        for (unsigned i = 0; i < words; i++)
            cur[i] = word_at(e->payload, e->len, i);
    for (unsigned i = 0; i < words; i++)
        mask |= (uint64_t)(cur[i] != prev[i]) << i;
    p += put_varint(p, mask);
    for (uint64_t left = mask; left; left &= left - 1) {
        unsigned i = (unsigned)__builtin_ctzll(left);
        p += put_varint(p, zigzag32(cur[i] - prev[i]));
        prev[i] = cur[i];
    }
    return (size_t)(p - out);
}

/* Decode the entry at p[0, avail) into *e; its size, or 0 with *why set if it is malformed. */
static size_t decode_entry(rec_coder *c, const uint8_t *p, size_t avail, rec_entry *e, const char **why)
{
    uint64_t v;
    size_t at = 1, n;
    if (avail < REC_ENTRY_MIN) {
        *why = "starts past the payload end";
        return 0;
    }
    e->kind = p[0];
    if (!kind_valid(e->kind)) {
        *why = "has an unknown kind";
        return 0;
    }
    if (!(n = get_varint(p + at, avail - at, 10, &v))) {
        *why = "has a bad icount";
        return 0;
    }
    at += n;
    e->icount = c->icount + unzigzag64(v);
    if (!(n = get_varint(p + at, avail - at, 3, &v)) || v > REC_MAX_PAYLOAD) {
        *why = "has a bad payload length";
        return 0;
    }
    at += n;
    e->len = (uint16_t)v;
    uint32_t *prev = c->prev[e->kind];
    unsigned words = (e->len + 3u) / 4u;
    if (c->words[e->kind] > words)
        memset(prev + words, 0, (c->words[e->kind] - words) * sizeof *prev);
    c->words[e->kind] = (uint8_t)words;
    if (e->len > 0) {
        uint64_t mask;
        if (!(n = get_varint(p + at, avail - at, 10, &mask)) || (words < 64 && mask >> words)) {
            *why = "has a bad word mask";
            return 0;
        }
        at += n;
        for (unsigned i = 0; i < words; i++) {
            if (!(mask >> i & 1))
                continue;
            if (!(n = get_varint(p + at, avail - at, 5, &v)) || v > UINT32_MAX) {
                *why = "has a bad word difference";
                return 0;
            }
            at += n;
            prev[i] += unzigzag32((uint32_t)v);
        }
        if (e->len % 4 && prev[words - 1] >> (8 * (e->len % 4))) {
            *why = "has bytes past its payload length";
            return 0;
        }
    }
    c->icount = e->icount;
    memset(e->payload, 0, REC_MAX_PAYLOAD);
    for (unsigned i = 0; i < words; i++)
        put_le(e->payload + 4 * i, prev[i], 4); /* zero past len */
    return at;
}

static char *dup_path(const char *path)
{
    size_t n = strlen(path) + 1;
    char *s = malloc(n);
    if (s)
        memcpy(s, path, n);
    return s;
}

/* ---- writing ---- */

struct rec_writer {
    int fd;
    char *path;
    uint8_t *buf;  /* the current chunk's entries, encoded: up to REC_CHUNK_TARGET bytes */
    uint8_t *out;  /* REC_CHUNK_HDR bytes of room, then the chunk's stored bytes */
    z_stream zs;   /* deflate at level 1, reset for each chunk */
    rec_coder coder;
    size_t used;   /* bytes in buf */
    uint32_t count; /* entries in the current chunk */
    uint32_t index; /* index of the current chunk */
    bool failed;    /* a write failed: the file may end in a partial chunk */
    uint64_t start;   /* file offset of chunk 0 (the header's size) */
    uint64_t written; /* file offset past the last chunk written */
    uint64_t entries; /* entries in the chunks written */
};

/* write(2) until all n bytes are out; a regular file takes them in one call unless the disk
 * is full or a signal interrupts, and then the rest follows at once. */
static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Serialise the file header into out (room for REC_HDR_FIXED + REC_MAX_CMDLINE + REC_MAX_NAME + 4). */
static size_t encode_header(const rec_header *h, size_t cmdlen, size_t namelen, uint8_t *out)
{
    memcpy(out, REC_MAGIC, REC_MAGIC_LEN);
    put_le(out + 9, REC_VERSION, 4);
    put_le(out + 13, h->kernel_hash, 8);
    put_le(out + 21, h->kernel_size, 8);
    put_le(out + 29, h->ram_mib, 4);
    put_le(out + 33, h->cpu_mhz, 4);
    put_le(out + 37, (uint64_t)h->epoch, 8);
    put_le(out + 45, h->max_insns, 8);
    out[53] = h->rom_enabled != 0;
    out[54] = h->reboot_restarts != 0;
    put_le(out + 55, h->snap_every, 8);
    out[63] = h->has_initrd != 0;
    put_le(out + 64, h->has_initrd ? h->initrd_hash : 0, 8);
    put_le(out + 72, h->has_initrd ? h->initrd_size : 0, 8);
    put_le(out + 80, cmdlen, 2);
    put_le(out + 82, namelen, 2);
    out[84] = h->cpu_model;
    out[85] = h->quiet_calls;
    memcpy(out + REC_HDR_FIXED, h->cmdline, cmdlen);
    memcpy(out + REC_HDR_FIXED + cmdlen, h->initrd, namelen);
    size_t n = REC_HDR_FIXED + cmdlen + namelen;
    put_le(out + n, rec_crc(0, out, n), 4);
    return n + REC_HDR_CRC;
}

static void writer_free(rec_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    deflateEnd(&w->zs);
    free(w->buf);
    free(w->out);
    free(w->path);
    free(w);
}

rec_writer *rec_create(const char *path, const rec_header *h, vm_error *err)
{
    size_t cmdlen = strnlen(h->cmdline, sizeof h->cmdline);
    if (cmdlen > REC_MAX_CMDLINE) {
        vm_fail(err, VM_EINVAL, "%s: the command line is longer than %u bytes", path,
                REC_MAX_CMDLINE);
        return NULL;
    }
    size_t namelen = h->has_initrd ? strnlen(h->initrd, sizeof h->initrd) : 0;
    if (namelen > REC_MAX_NAME) {
        vm_fail(err, VM_EINVAL, "%s: the initrd's file name is longer than %u bytes", path,
                REC_MAX_NAME);
        return NULL;
    }
    rec_writer *w = calloc(1, sizeof *w);
    uint8_t *buf = malloc(REC_CHUNK_TARGET);
    uint8_t *out = malloc(REC_CHUNK_HDR + REC_CHUNK_TARGET);
    char *name = dup_path(path);
    if (!w || !buf || !out || !name || deflateInit(&w->zs, Z_BEST_SPEED) != Z_OK) {
        free(w);
        free(buf);
        free(out);
        free(name);
        vm_fail(err, VM_ENOMEM, "%s: cannot allocate the record writer", path);
        return NULL;
    }
    w->buf = buf;
    w->out = out;
    w->path = name;
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        vm_fail(err, VM_EIO, "%s: cannot create: %s", path, strerror(errno));
        writer_free(w);
        return NULL;
    }
    /* The header goes out in one write, like a chunk, through the chunk buffer. */
    size_t n = encode_header(h, cmdlen, namelen, w->out);
    if (!write_all(w->fd, w->out, n)) {
        vm_fail(err, VM_EIO, "%s: cannot write the header: %s", path, strerror(errno));
        writer_free(w);
        return NULL;
    }
    w->start = w->written = n;
    return w;
}

bool rec_flush(rec_writer *w, vm_error *err)
{
    if (w->failed)
        return vm_fail(err, VM_EIO, "%s: an earlier write failed; the record is incomplete",
                       w->path);
    if (w->count == 0)
        return true;
    uint8_t *c = w->out;
    /* Compressed if that makes it smaller, else stored: the reader tells them apart by size. */
    size_t stored = w->used;
    w->zs.next_in = w->buf;
    w->zs.avail_in = (uInt)w->used;
    w->zs.next_out = c + REC_CHUNK_HDR;
    w->zs.avail_out = (uInt)(w->used - 1);
    if (w->used > 1 && deflate(&w->zs, Z_FINISH) == Z_STREAM_END)
        stored = w->zs.total_out;
    else
        memcpy(c + REC_CHUNK_HDR, w->buf, w->used);
    deflateReset(&w->zs);
    memcpy(c, REC_CHUNK_MAGIC, 4);
    put_le(c + 4, w->index, 4);
    put_le(c + 8, w->count, 4);
    put_le(c + 12, stored, 4);
    put_le(c + 16, w->used, 4);
    uint32_t crc = rec_crc(0, c, REC_CHUNK_CRC_AT);
    crc = rec_crc(crc, c + REC_CHUNK_HDR, stored);
    put_le(c + REC_CHUNK_CRC_AT, crc, 4);
    if (!write_all(w->fd, c, REC_CHUNK_HDR + stored)) {
        w->failed = true;
        return vm_fail(err, VM_EIO, "%s: cannot write chunk %" PRIu32 ": %s", w->path, w->index,
                       strerror(errno));
    }
    w->index++;
    w->written += REC_CHUNK_HDR + stored;
    w->entries += w->count;
    w->count = 0;
    w->used = 0;
    return true;
}

bool rec_mark_here(rec_writer *w, rec_mark *mk, vm_error *err)
{
    if (!rec_flush(w, err))
        return false;
    *mk = (rec_mark){.offset = w->written, .chunks = w->index, .entries = w->entries};
    return true;
}

bool rec_rewind(rec_writer *w, const rec_mark *mk, vm_error *err)
{
    rec_mark at = *mk;
    if (at.offset == 0)
        at.offset = w->start;
    if (at.skip != 0 || at.offset < w->start || at.offset > w->written || at.chunks > w->index ||
        at.entries > w->entries + w->count)
        return vm_fail(err, VM_EINVAL, "%s: cannot rewind to byte %" PRIu64 ": not a chunk boundary written here",
                       w->path, at.offset);
    if (w->failed)
        return rec_flush(w, err); /* reports the earlier failure */
    /* Buffered entries are past the mark: they go. Then one ftruncate: before it the file is
     * the longer record, after it the shorter one, both readable. */
    w->count = 0;
    w->used = 0;
    if (at.offset < w->written && ftruncate(w->fd, (off_t)at.offset) != 0) {
        w->failed = true;
        return vm_fail(err, VM_EIO, "%s: cannot cut the record back to byte %" PRIu64 ": %s", w->path, at.offset,
                       strerror(errno));
    }
    w->written = at.offset;
    w->index = (uint32_t)at.chunks;
    w->entries = at.entries;
    return true;
}

bool rec_append(rec_writer *w, const rec_entry *e, vm_error *err)
{
    if (!kind_valid(e->kind))
        return vm_fail(err, VM_EINVAL, "%s: entry kind %u is not a rec_kind", w->path, e->kind);
    if (e->len > REC_MAX_PAYLOAD)
        return vm_fail(err, VM_EINVAL, "%s: entry payload is %u bytes; at most %u", w->path,
                       e->len, REC_MAX_PAYLOAD);
    if (w->failed)
        return rec_flush(w, err); /* reports the earlier failure */
    if (w->used + REC_ENTRY_MAX(e->len) > REC_CHUNK_TARGET && !rec_flush(w, err))
        return false;
    if (w->count == 0 && w->index == UINT32_MAX)
        return vm_fail(err, VM_EINVAL, "%s: the record has the most chunks it can hold",
                       w->path);
    if (w->count == 0)
        coder_reset(&w->coder); /* a chunk decodes on its own */
    w->used += encode_entry(&w->coder, e, w->buf + w->used);
    w->count++;
    return true;
}

bool rec_close(rec_writer *w, vm_error *err)
{
    if (!w)
        return true;
    bool ok = rec_flush(w, err);
    if (close(w->fd) != 0 && ok)
        ok = vm_fail(err, VM_EIO, "%s: close failed: %s", w->path, strerror(errno));
    w->fd = -1;
    writer_free(w);
    return ok;
}

/* ---- reading ---- */

struct rec_reader {
    int fd;
    char *path;
    uint64_t offset; /* file offset of the next byte to read */
    uint8_t *buf;    /* the current chunk's entries, decoded from zbuf */
    size_t cap;
    uint8_t *zbuf;   /* the current chunk's stored bytes */
    size_t zcap;
    size_t raw;      /* entry bytes in buf */
    rec_coder coder; /* the coding state at the next entry */
    size_t pos;      /* offset of the next entry in buf */
    uint32_t left;   /* entries of the current chunk not yet returned */
    rec_position at;
    int state;       /* 1 = reading, 0 = ended cleanly, -1 = stopped by `stop` */
    vm_error stop;
    uint64_t start;       /* file offset of chunk 0 */
    uint64_t chunk_start; /* file offset of the chunk in buf */
    uint32_t chunk_count; /* its entries */
    bool loaded;          /* buf holds a verified chunk */
};

/* Read up to n bytes; *got says how many arrived before end of file. */
static bool read_upto(int fd, uint8_t *p, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t k = read(fd, p + *got, n - *got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return false;
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    return true;
}

static void reader_free(rec_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->zbuf);
    free(r->path);
    free(r);
}

/* A header problem: `what`, or with what == NULL a header cut short at byte `got`. */
static bool header_fail(vm_error *err, const char *path, size_t got, const char *what)
{
    if (what)
        return vm_fail(err, VM_EFORMAT, "%s: %s", path, what);
    return vm_fail(err, VM_EFORMAT,
                   "%s: the record header is truncated (the file ends at byte %zu)", path, got);
}

static bool read_header(rec_reader *r, rec_header *h, vm_error *err)
{
    uint8_t hdr[REC_HDR_FIXED + REC_MAX_CMDLINE + REC_MAX_NAME + REC_HDR_CRC];
    size_t got;
    if (!read_upto(r->fd, hdr, REC_HDR_FIXED, &got))
        return vm_fail(err, VM_EIO, "%s: read failed: %s", r->path, strerror(errno));
    if (got == 0)
        return header_fail(err, r->path, 0, "the file is empty, not a vmiemu record");
    size_t m = got < REC_MAGIC_LEN ? got : REC_MAGIC_LEN;
    if (memcmp(hdr, REC_MAGIC, m) != 0)
        return header_fail(err, r->path, got, "not a vmiemu record (no " REC_MAGIC " magic)");
    if (got < REC_MAGIC_LEN + 4)
        return header_fail(err, r->path, got, NULL);
    uint32_t version = (uint32_t)get_le(hdr + 9, 4);
    if (version > REC_VERSION)
        return vm_fail(err, VM_EFORMAT,
                       "%s: record format version %" PRIu32 " is newer than this vmiemu reads "
                       "(version %u); replay it with a newer vmiemu",
                       r->path, version, REC_VERSION);
    if (version == 0)
        return header_fail(err, r->path, got, "record format version 0 is not valid");
    if (version < REC_VERSION)
        return vm_fail(err, VM_EFORMAT,
                       "%s: record format version %" PRIu32 " is from an older vmiemu; this one "
                       "reads only version %u: record the run again",
                       r->path, version, REC_VERSION);
    if (got < REC_HDR_FIXED)
        return header_fail(err, r->path, got, NULL);
    size_t cmdlen = (size_t)get_le(hdr + 80, 2), namelen = (size_t)get_le(hdr + 82, 2);
    if (cmdlen > REC_MAX_CMDLINE)
        return vm_fail(err, VM_EFORMAT,
                       "%s: the header claims a %zu-byte command line (at most %u): corrupt",
                       r->path, cmdlen, REC_MAX_CMDLINE);
    if (namelen > REC_MAX_NAME)
        return vm_fail(err, VM_EFORMAT,
                       "%s: the header claims a %zu-byte initrd name (at most %u): corrupt",
                       r->path, namelen, REC_MAX_NAME);
    size_t more, tail = cmdlen + namelen;
    if (!read_upto(r->fd, hdr + REC_HDR_FIXED, tail + REC_HDR_CRC, &more))
        return vm_fail(err, VM_EIO, "%s: read failed: %s", r->path, strerror(errno));
    if (more < tail + REC_HDR_CRC)
        return header_fail(err, r->path, REC_HDR_FIXED + more, NULL);
    size_t n = REC_HDR_FIXED + tail;
    uint32_t want = (uint32_t)get_le(hdr + n, 4), crc = rec_crc(0, hdr, n);
    if (crc != want)
        return vm_fail(err, VM_EFORMAT,
                       "%s: header CRC mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
                       "): corrupt",
                       r->path, want, crc);
    /* Covered by the CRC, so only a buggy writer gets these wrong. */
    if (hdr[53] > 1 || hdr[54] > 1 || hdr[63] > 1 || memchr(hdr + REC_HDR_FIXED, 0, tail) ||
        (!hdr[63] && (get_le(hdr + 64, 8) || get_le(hdr + 72, 8) || namelen)))
        return header_fail(err, r->path, n, "the header has a flag above 1, a NUL in the "
                                            "command line or initrd name, or an initrd without "
                                            "its flag: not written by vmiemu");
    memset(h, 0, sizeof *h);
    h->version = version;
    h->kernel_hash = get_le(hdr + 13, 8);
    h->kernel_size = get_le(hdr + 21, 8);
    h->ram_mib = (uint32_t)get_le(hdr + 29, 4);
    h->cpu_mhz = (uint32_t)get_le(hdr + 33, 4);
    h->epoch = (int64_t)get_le(hdr + 37, 8);
    h->max_insns = get_le(hdr + 45, 8);
    h->rom_enabled = hdr[53];
    h->reboot_restarts = hdr[54];
    h->snap_every = get_le(hdr + 55, 8);
    h->has_initrd = hdr[63];
    h->initrd_hash = get_le(hdr + 64, 8);
    h->initrd_size = get_le(hdr + 72, 8);
    h->cpu_model = hdr[84];
    h->quiet_calls = hdr[85];
    memcpy(h->cmdline, hdr + REC_HDR_FIXED, cmdlen);
    memcpy(h->initrd, hdr + REC_HDR_FIXED + cmdlen, namelen);
    r->offset = n + REC_HDR_CRC;
    r->at.bytes = r->offset;
    r->start = r->offset;
    return true;
}

rec_reader *rec_open(const char *path, rec_header *h, vm_error *err)
{
    rec_reader *r = calloc(1, sizeof *r);
    if (r)
        r->path = dup_path(path);
    if (!r || !r->path) {
        free(r);
        vm_fail(err, VM_ENOMEM, "%s: cannot allocate the record reader", path);
        return NULL;
    }
    r->state = 1;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        vm_fail(err, VM_EIO, "%s: cannot open: %s", path, strerror(errno));
        reader_free(r);
        return NULL;
    }
    if (!read_header(r, h, err)) {
        reader_free(r);
        return NULL;
    }
    return r;
}

/* Stop the reader at the chunk starting at `start`: the message names the chunk, says what is
 * wrong (detail starts with its own separator, " is truncated..." or ": CRC..."), and says how
 * much of the record precedes it. Returns -1. */
static int chunk_fail(rec_reader *r, uint64_t start, int code, bool truncated,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int chunk_fail(rec_reader *r, uint64_t start, int code, bool truncated,
                      const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    uint64_t k = r->at.chunks;
    vm_fail(&r->stop, code,
            "%s: chunk %" PRIu64 " at byte %" PRIu64 "%s; %" PRIu64 " complete chunk%s (%" PRIu64
            " entr%s) precede%s it",
            r->path, k, start, detail, k, k == 1 ? "" : "s", r->at.entries,
            r->at.entries == 1 ? "y" : "ies", k == 1 ? "s" : "");
    r->at.truncated = truncated;
    r->state = -1;
    return -1;
}

/* Check that the entries hold exactly `count` well-formed entries (by decoding them). */
static int verify_entries(rec_reader *r, uint64_t start, uint32_t count, size_t len)
{
    rec_coder *c = malloc(sizeof *c);
    if (!c)
        return chunk_fail(r, start, VM_ENOMEM, false, ": cannot allocate a decoder");
    coder_reset(c);
    size_t at = 0;
    rec_entry e;
    for (uint32_t i = 0; i < count; i++) {
        const char *why = "";
        size_t n = decode_entry(c, r->buf + at, len - at, &e, &why);
        if (n == 0) {
            free(c);
            return chunk_fail(r, start, VM_EFORMAT, false, ": entry %" PRIu32 " of %" PRIu32 " %s",
                              i, count, why);
        }
        at += n;
    }
    free(c);
    if (at != len)
        return chunk_fail(r, start, VM_EFORMAT, false,
                          ": its %" PRIu32 " entries fill %zu of its %zu entry bytes", count,
                          at, len);
    return 1;
}

/* Make room for n bytes in *buf. */
static bool reserve(uint8_t **buf, size_t *cap, size_t n)
{
    if (n <= *cap)
        return true;
    uint8_t *nb = realloc(*buf, n);
    if (!nb)
        return false;
    *buf = nb;
    *cap = n;
    return true;
}

/* Read and verify the next chunk: 1 = its entries are ready, 0 = clean end, -1 = stopped. */
static int load_chunk(rec_reader *r)
{
    uint64_t start = r->offset;
    uint8_t c[REC_CHUNK_HDR];
    size_t got;
    if (!read_upto(r->fd, c, sizeof c, &got))
        return chunk_fail(r, start, VM_EIO, false, ": read failed: %s", strerror(errno));
    if (got == 0) {
        r->state = 0;
        return 0;
    }
    if (got < REC_CHUNK_HDR)
        return chunk_fail(r, start, VM_EFORMAT, true,
                          " is truncated (the file ends at byte %" PRIu64
                          " inside its %u-byte header)",
                          start + got, REC_CHUNK_HDR);
    if (memcmp(c, REC_CHUNK_MAGIC, 4) != 0)
        return chunk_fail(r, start, VM_EFORMAT, false, ": no chunk magic: corrupt");
    uint32_t index = (uint32_t)get_le(c + 4, 4), count = (uint32_t)get_le(c + 8, 4);
    uint32_t len = (uint32_t)get_le(c + 12, 4), raw = (uint32_t)get_le(c + 16, 4);
    uint32_t want = (uint32_t)get_le(c + REC_CHUNK_CRC_AT, 4);
    if (index != r->at.chunks)
        return chunk_fail(r, start, VM_EFORMAT, false,
                          ": its index field says %" PRIu32 ": corrupt", index);
    if (len > REC_MAX_CHUNK)
        return chunk_fail(r, start, VM_EFORMAT, false,
                          ": claims %" PRIu32 " payload bytes (at most %u): corrupt", len,
                          REC_MAX_CHUNK);
    if (raw > REC_MAX_CHUNK || raw < len)
        return chunk_fail(r, start, VM_EFORMAT, false,
                          ": claims %" PRIu32 " entry bytes from %" PRIu32
                          " payload bytes (at most %u, at least the payload): corrupt",
                          raw, len, REC_MAX_CHUNK);
    if (count == 0 || count > raw / REC_ENTRY_MIN)
        return chunk_fail(r, start, VM_EFORMAT, false,
                          ": claims %" PRIu32 " entries in %" PRIu32 " bytes: corrupt", count,
                          raw);
    if (!reserve(&r->zbuf, &r->zcap, len) || !reserve(&r->buf, &r->cap, raw))
        return chunk_fail(r, start, VM_ENOMEM, false,
                          ": cannot allocate %" PRIu32 " bytes", len + raw);
    if (!read_upto(r->fd, r->zbuf, len, &got))
        return chunk_fail(r, start, VM_EIO, false, ": read failed: %s", strerror(errno));
    if (got < len)
        return chunk_fail(r, start, VM_EFORMAT, true,
                          " is truncated (needs %" PRIu64 " bytes, the file ends at byte %" PRIu64
                          ")",
                          (uint64_t)REC_CHUNK_HDR + len, start + REC_CHUNK_HDR + got);
    uint32_t crc = rec_crc(rec_crc(0, c, REC_CHUNK_CRC_AT), r->zbuf, len);
    if (crc != want)
        return chunk_fail(r, start, VM_EFORMAT, false,
                          ": CRC mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
                          "): corrupt",
                          want, crc);
    if (len == raw) {
        memcpy(r->buf, r->zbuf, len);
    } else {
        uLongf out = raw;
        uLong in = len;
        if (uncompress2(r->buf, &out, r->zbuf, &in) != Z_OK || out != raw || in != len)
            return chunk_fail(r, start, VM_EFORMAT, false,
                              ": its %" PRIu32 " payload bytes do not inflate to %" PRIu32
                              " entry bytes: corrupt",
                              len, raw);
    }
    if (verify_entries(r, start, count, raw) < 0)
        return -1;
    r->offset = start + REC_CHUNK_HDR + len;
    r->pos = 0;
    r->raw = raw;
    r->left = count;
    coder_reset(&r->coder);
    r->chunk_start = start;
    r->chunk_count = count;
    r->loaded = true;
    r->at.chunks++;
    r->at.bytes = r->offset;
    return 1;
}

int rec_next(rec_reader *r, rec_entry *e, vm_error *err)
{
    while (r->state == 1 && r->left == 0)
        load_chunk(r);
    if (r->state != 1) {
        if (r->state < 0 && err)
            *err = r->stop;
        return r->state;
    }
    const char *why;
    r->pos += decode_entry(&r->coder, r->buf + r->pos, r->raw - r->pos, e, &why); /* verified by load_chunk */
    r->left--;
    r->at.entries++;
    return 1;
}

rec_position rec_reader_position(const rec_reader *r) { return r->at; }

rec_mark rec_reader_mark(const rec_reader *r, bool unread)
{
    if (!r->loaded)
        return (rec_mark){0};
    /* The last entry returned is in the chunk held in buf, however the reader stopped since. */
    uint32_t done = r->chunk_count - r->left;
    return (rec_mark){.offset = r->chunk_start,
                      .chunks = r->at.chunks - 1,
                      .entries = r->at.entries - done,
                      .skip = done - (unread && done > 0)};
}

bool rec_reader_seek(rec_reader *r, const rec_mark *mk, vm_error *err)
{
    uint64_t offset = mk->offset ? mk->offset : r->start;
    if (lseek(r->fd, (off_t)offset, SEEK_SET) < 0)
        return vm_fail(err, VM_EIO, "%s: cannot seek to byte %" PRIu64 ": %s", r->path, offset, strerror(errno));
    r->offset = offset;
    r->left = 0;
    r->pos = 0;
    r->loaded = false;
    r->state = 1;
    memset(&r->stop, 0, sizeof r->stop);
    r->at = (rec_position){.chunks = mk->chunks, .entries = mk->entries, .bytes = offset};
    rec_entry e;
    for (uint32_t i = 0; i < mk->skip; i++)
        if (rec_next(r, &e, err) != 1)
            return err && err->code ? false : vm_fail(err, VM_EFORMAT, "%s: the mark lies past the end", r->path);
    return true;
}

bool rec_last_icount(const char *path, uint64_t *icount)
{
    rec_header h;
    vm_error err = {0};
    rec_reader *r = rec_open(path, &h, &err);
    if (!r)
        return false;
    /* Walk the chunk headers alone (magic, index, stored length) to the last chunk the file
     * holds whole; only that one is read and verified. */
    uint64_t off = r->start, last = 0, chunks = 0, last_chunk = 0;
    uint8_t hdr[REC_CHUNK_HDR];
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        reader_free(r);
        return false;
    }
    while (off + REC_CHUNK_HDR <= (uint64_t)st.st_size && pread(r->fd, hdr, sizeof hdr, (off_t)off) == (ssize_t)sizeof hdr &&
           memcmp(hdr, REC_CHUNK_MAGIC, 4) == 0 && get_le(hdr + 4, 4) == chunks) {
        uint64_t p = get_le(hdr + 12, 4);
        if (p > REC_MAX_CHUNK || off + REC_CHUNK_HDR + p > (uint64_t)st.st_size)
            break;
        last = off;
        last_chunk = chunks++;
        off += REC_CHUNK_HDR + p;
    }
    bool found = false;
    rec_mark mk = {.offset = last, .chunks = last_chunk};
    rec_entry e;
    if (chunks > 0 && rec_reader_seek(r, &mk, &err))
        while (rec_next(r, &e, &err) == 1) {
            *icount = e.icount;
            found = true;
        }
    reader_free(r);
    return found;
}

void rec_close_reader(rec_reader *r)
{
    if (r)
        reader_free(r);
}
