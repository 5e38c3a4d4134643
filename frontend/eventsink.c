#include "frontend/eventsink.h"

#include <errno.h>
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

void eventsink_write(void *ctx, const vm_event *ev)
{
    eventsink *s = ctx;
    char line[1024], *big = NULL, *text = line;
    size_t n = s->json ? ev_format_json(ev, s->index, line, sizeof line) : ev_format_text(ev, s->index, line, sizeof line);
    if (n >= sizeof line && s->json && (big = malloc(n + 1))) /* a cut JSON line would not parse */
        n = ev_format_json(ev, s->index, text = big, n + 1);
    else if (n >= sizeof line)
        n = sizeof line - 1;
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
