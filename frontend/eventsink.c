#include "frontend/eventsink.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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
    fwrite(text, 1, n, s->f);
    fputc('\n', s->f);
    free(big);
}

bool eventsink_close(eventsink *s, vm_error *err)
{
    if (!s->f)
        return true;
    bool ok = fflush(s->f) == 0;
    if (s->owns)
        ok = fclose(s->f) == 0 && ok;
    s->f = NULL;
    return ok ? true : vm_fail(err, VM_EIO, "cannot write the event log: %s", strerror(errno));
}
