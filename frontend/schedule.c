/* Actions at instruction counts (frontend/schedule.h). */
#include "frontend/schedule.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/screenshot.h"

bool sched_add(schedule *s, sched_kind kind, const char *spec, const char *option, vm_error *err)
{
    const char *colon = strchr(spec, ':');
    char *end;
    errno = 0;
    /* Decimal, or hex after 0x, as every number on the command line (010 is ten). */
    int base = spec[0] == '0' && (spec[1] == 'x' || spec[1] == 'X') ? 16 : 10;
    unsigned long long at = isdigit((unsigned char)*spec) ? strtoull(spec, &end, base) : 0;
    if (!colon || !isdigit((unsigned char)*spec) || errno || end != colon || !colon[1])
        return vm_fail(err, VM_EINVAL, "%s: '%s' is not ICOUNT:%s", option, spec,
                       kind == SCHED_SCREENSHOT ? "FILE.png" : "TEXT");
    if (s->n == SCHED_MAX)
        return vm_fail(err, VM_EINVAL, "%s: at most %u actions at instruction counts", option, SCHED_MAX);
    if (kind == SCHED_KEYS) {
        /* Keys not yet taken wait in s->keys while later ones are added: the texts together
         * must fit, or typing would fail in the middle of the run. */
        uint8_t codes[sizeof s->keys];
        size_t n = sched_scancodes(colon + 1, codes, sizeof codes, err);
        if (!n) {
            char why[sizeof err->msg];
            snprintf(why, sizeof why, "%s", err->msg);
            return vm_fail(err, VM_EINVAL, "%s '%.40s%s': %s", option, spec, strlen(spec) > 40 ? "..." : "", why);
        }
        if (n > sizeof s->keys - s->keys_total)
            return vm_fail(err, VM_EINVAL, "%s: the texts of all --keys-at make more than %zu scan codes", option,
                           sizeof s->keys);
        s->keys_total += n;
    }
    /* Insert in order; equal counts keep the command line's order. */
    size_t i = s->n;
    while (i > 0 && s->v[i - 1].icount > at) {
        s->v[i] = s->v[i - 1];
        i--;
    }
    s->v[i] = (sched_action){at, kind, colon + 1};
    s->n++;
    return true;
}

uint64_t sched_next(const schedule *s)
{
    uint64_t next = s->done < s->n ? s->v[s->done].icount : UINT64_MAX;
    if (s->keys_len && s->keys_at < next)
        next = s->keys_at;
    return next;
}

/* Set 1 make codes of the US layout for ASCII; the high bit asks for shift. */
#define SH 0x80u
static const uint8_t us_keys[128] = {
    ['\b'] = 0x0E, ['\t'] = 0x0F, ['\n'] = 0x1C, [27] = 0x01, [' '] = 0x39,
    ['1'] = 0x02, ['2'] = 0x03, ['3'] = 0x04, ['4'] = 0x05, ['5'] = 0x06, ['6'] = 0x07, ['7'] = 0x08,
    ['8'] = 0x09, ['9'] = 0x0A, ['0'] = 0x0B, ['-'] = 0x0C, ['='] = 0x0D,
    ['!'] = SH | 0x02, ['@'] = SH | 0x03, ['#'] = SH | 0x04, ['$'] = SH | 0x05, ['%'] = SH | 0x06,
    ['^'] = SH | 0x07, ['&'] = SH | 0x08, ['*'] = SH | 0x09, ['('] = SH | 0x0A, [')'] = SH | 0x0B,
    ['_'] = SH | 0x0C, ['+'] = SH | 0x0D,
    ['q'] = 0x10, ['w'] = 0x11, ['e'] = 0x12, ['r'] = 0x13, ['t'] = 0x14, ['y'] = 0x15, ['u'] = 0x16,
    ['i'] = 0x17, ['o'] = 0x18, ['p'] = 0x19, ['['] = 0x1A, [']'] = 0x1B, ['{'] = SH | 0x1A, ['}'] = SH | 0x1B,
    ['a'] = 0x1E, ['s'] = 0x1F, ['d'] = 0x20, ['f'] = 0x21, ['g'] = 0x22, ['h'] = 0x23, ['j'] = 0x24,
    ['k'] = 0x25, ['l'] = 0x26, [';'] = 0x27, ['\''] = 0x28, ['`'] = 0x29, [':'] = SH | 0x27,
    ['"'] = SH | 0x28, ['~'] = SH | 0x29, ['\\'] = 0x2B, ['|'] = SH | 0x2B,
    ['z'] = 0x2C, ['x'] = 0x2D, ['c'] = 0x2E, ['v'] = 0x2F, ['b'] = 0x30, ['n'] = 0x31, ['m'] = 0x32,
    [','] = 0x33, ['.'] = 0x34, ['/'] = 0x35, ['<'] = SH | 0x33, ['>'] = SH | 0x34, ['?'] = SH | 0x35,
};
#define LSHIFT 0x2Au
#define BREAK 0x80u

static uint8_t key_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (uint8_t)(SH | us_keys[c - 'A' + 'a']);
    return c < 128 ? us_keys[c] : 0;
}

size_t sched_scancodes(const char *text, uint8_t *out, size_t cap, vm_error *err)
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\' && (p[1] == 'n' || p[1] == 't' || p[1] == '\\'))
            c = (unsigned char)(*++p == 'n' ? '\n' : *p == 't' ? '\t' : '\\');
        uint8_t k = key_of(c);
        if (!k) {
            vm_fail(err, VM_EINVAL, "no key types character 0x%02x ('%c')", c, isprint(c) ? c : '?');
            return 0;
        }
        uint8_t code = k & 0x7Fu;
        uint8_t seq[4] = {code, (uint8_t)(code | BREAK)};
        size_t len = 2;
        if (k & SH) {
            seq[0] = LSHIFT, seq[1] = code, seq[2] = (uint8_t)(code | BREAK), seq[3] = LSHIFT | BREAK;
            len = 4;
        }
        if (n + len > cap) {
            vm_fail(err, VM_EINVAL, "too many keys at once (at most %zu scan codes)", cap);
            return 0;
        }
        memcpy(out + n, seq, len);
        n += len;
    }
    if (n == 0)
        vm_fail(err, VM_EINVAL, "no keys to type");
    return n;
}

/* The length of the key at codes[0]: a shifted one is four bytes (shift make .. shift break). */
static size_t key_len(const uint8_t *codes, size_t n) { return codes[0] == LSHIFT && n >= 4 ? 4 : n >= 2 ? 2 : n; }

size_t sched_push_keys(machine *m, const uint8_t *codes, size_t n)
{
    size_t taken = 0;
    while (taken < n) {
        size_t len = key_len(codes + taken, n - taken);
        if (I8042_QUEUE - m->kbc.kbd.count < len)
            break; /* no room for the whole key: it waits, never half-typed */
        host_input in = {HOST_KEYBOARD, HOST_BYTES, codes + taken, len};
        if (machine_host_input(m, &in) != len)
            break;
        taken += len;
    }
    return taken;
}

static void offer_keys(schedule *s, machine *m)
{
    size_t took = sched_push_keys(m, s->keys, s->keys_len);
    memmove(s->keys, s->keys + took, s->keys_len - took);
    s->keys_len -= took;
    s->keys_at = machine_insns(m) + SCHED_KEY_GAP;
}

bool sched_fire(schedule *s, machine *m, vm_error *err)
{
    bool ended = m->end != END_RUNNING;
    uint64_t now = machine_insns(m);
    while (s->done < s->n && (ended || s->v[s->done].icount <= now)) {
        const sched_action *a = &s->v[s->done++];
        if (a->kind == SCHED_SCREENSHOT) {
            if (!screenshot_png(m, s->panel, a->arg, err))
                return false;
        } else if (ended) {
            fprintf(stderr, "vmiemu: warning: --keys-at %llu: the run ended before it (icount %llu)\n",
                    (unsigned long long)a->icount, (unsigned long long)now);
        } else {
            size_t room = sizeof s->keys - s->keys_len;
            size_t n = sched_scancodes(a->arg, s->keys + s->keys_len, room, err);
            if (!n)
                return false;
            s->keys_len += n;
            s->keys_at = now;
        }
    }
    if (!ended && s->keys_len && s->keys_at <= now)
        offer_keys(s, m);
    return true;
}
