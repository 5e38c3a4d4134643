#include "frontend/eventsink.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool eventsink_open(eventsink *s, const char *path, vm_error *err)
{
    memset(s, 0, sizeof *s);
    if (strcmp(path, "-") == 0) {
        s->f = stderr;
        return true;
    }
    s->f = fopen(path, "w");
    if (!s->f)
        return vm_fail(err, VM_EIO, "--log %s: %s", path, strerror(errno));
    if (!(s->buf = malloc(EVENTSINK_BUF))) {
        fclose(s->f);
        s->f = NULL;
        return vm_fail(err, VM_ENOMEM, "--log %s: out of memory", path);
    }
    s->json = true;
    s->owns = true;
    return true;
}

#define EIP_FIELD " eip=0x00000000" /* as ev_format_text writes it */

size_t eventsink_format_text(const vm_event *ev, size_t index, const symtab *syms, char *buf, size_t len)
{
    size_t n = ev_format_text(ev, index, buf, len);
    char sym[128];
    char *at = len ? strstr(buf, " eip=0x") : NULL;
    if (!syms || !at || strlen(at) < strlen(EIP_FIELD) || !symtab_describe(syms, ev->eip, sym, sizeof sym))
        return n;
    at += strlen(EIP_FIELD);
    char *rest = strdup(at);
    if (!rest)
        return n;
    snprintf(at, len - (size_t)(at - buf), " <%s>%s", sym, rest);
    free(rest);
    return n + strlen(sym) + 3; /* the whole line's length, as ev_format_text counts it */
}

/* ev_format_json's object with "caller": "symbol+0x1b" added when syms knows the EIP. */
static size_t format_json(const vm_event *ev, size_t index, const symtab *syms, char *buf, size_t len)
{
    size_t n = ev_format_json(ev, index, buf, len);
    char sym[128];
    if (!syms || n >= len || n < 2 || buf[n - 1] != '}' || !symtab_describe(syms, ev->eip, sym, sizeof sym))
        return n;
    json_t *name = json_string(sym); /* escaped by jansson: a symbol file's names are not trusted */
    char *quoted = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
    json_decref(name);
    if (!quoted)
        return n;
    int k = snprintf(buf + n - 1, len - (n - 1), ",\"caller\":%s}", quoted);
    free(quoted);
    return k < 0 ? n : n - 1 + (size_t)k;
}

/* All of p, with write(2) (retried after a partial write or EINTR); false on an error. */
static bool write_all(eventsink *s, const char *p, size_t n)
{
    while (n > 0 && !s->failed) {
        ssize_t k = write(fileno(s->f), p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            s->failed = true;
            s->write_errno = k < 0 ? errno : EIO;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
    return !s->failed;
}

/* Write out the buffer up to `upto` bytes (whole lines, ending at a line's end) and keep the
 * rest at its front. */
static void flush_lines(eventsink *s, size_t upto)
{
    (void)write_all(s, s->buf, upto);
    memmove(s->buf, s->buf + upto, s->used - upto);
    s->written += upto;
    s->used -= upto;
    s->last_start = s->last_start > upto ? s->last_start - upto : 0;
}

/* One whole line (text, then a newline) into the JSON file's buffer.
 *
 * Why the padding: a write(2) to a file is not atomic against SIGKILL; Linux copies it a page
 * at a time and stops between two pages when the process is being killed. So every line
 * shorter than a page is kept inside one page of the file: a line that would cross a page
 * boundary starts at the boundary, the line before it padded with spaces before its newline
 * (whitespace after a JSON value is still the same JSON). Then wherever a write is cut, it is
 * cut between lines. The line before is always still in the buffer to be padded: a flush
 * keeps the last line back. A line longer than a page cannot be kept whole that way; it
 * starts at a boundary, and only such a line can be cut. */
static void put_line(eventsink *s, const char *text, size_t n)
{
    size_t len = n + 1;
    if (len > EVENTSINK_BUF / 2) { /* a very long line goes out on its own */
        flush_lines(s, s->used);
        char *line = malloc(len);
        if (!line) {
            s->failed = true;
            s->write_errno = ENOMEM;
            return;
        }
        memcpy(line, text, n);
        line[n] = '\n';
        (void)write_all(s, line, len);
        s->written += len;
        free(line);
        return;
    }
    if (s->used + EVENTSINK_PAGE + len > EVENTSINK_BUF)
        flush_lines(s, s->last_start);
    uint64_t at = s->written + s->used, in_page = at % EVENTSINK_PAGE;
    if (s->used > 0 && in_page > 0 && in_page + (len < EVENTSINK_PAGE ? len : EVENTSINK_PAGE) > EVENTSINK_PAGE) {
        size_t pad = EVENTSINK_PAGE - (size_t)in_page;
        memset(s->buf + s->used - 1, ' ', pad); /* over the previous line's newline */
        s->used += pad;
        s->buf[s->used - 1] = '\n';
    }
    s->last_start = s->used;
    memcpy(s->buf + s->used, text, n);
    s->buf[s->used + n] = '\n';
    s->used += len;
}

void eventsink_write(void *ctx, const vm_event *ev)
{
    eventsink *s = ctx;
    char line[1024], *big = NULL, *text = line;
    size_t n = s->json ? format_json(ev, s->index, s->syms, line, sizeof line)
                       : eventsink_format_text(ev, s->index, s->syms, line, sizeof line);
    size_t cap = sizeof line;
    while (n >= cap && s->json) { /* a cut JSON line would not parse */
        char *more = realloc(big, n + 1);
        if (!more)
            break;
        cap = n + 1;
        n = format_json(ev, s->index, s->syms, text = big = more, cap);
    }
    if (n >= cap)
        n = cap - 1;
    s->index++;
    if (s->buf) {
        put_line(s, text, n);
    } else {
        fwrite(text, 1, n, s->f);
        fputc('\n', s->f);
    }
    free(big);
}

void eventsink_put_line(eventsink *s, const char *text, size_t n)
{
    if (s->buf) {
        put_line(s, text, n);
    } else if (s->f) {
        fwrite(text, 1, n, s->f);
        fputc('\n', s->f);
    }
}

bool eventsink_close(eventsink *s, vm_error *err)
{
    if (!s->f)
        return true;
    if (s->buf)
        flush_lines(s, s->used);
    free(s->buf);
    s->buf = NULL;
    bool ok = fflush(s->f) == 0;
    int e = errno;
    if (s->owns)
        ok = fclose(s->f) == 0 && ok;
    s->f = NULL;
    if (s->failed)
        return vm_fail(err, VM_EIO, "cannot write the event log: %s", strerror(s->write_errno));
    return ok ? true : vm_fail(err, VM_EIO, "cannot write the event log: %s", strerror(e));
}
