#include "frontend/checkreport.h"

#include <stdlib.h>

size_t checkreport_format(const vmicheck_finding *f, size_t index, const symtab *syms, char *buf, size_t len)
{
    char sym[128];
    const char *s = syms ? symtab_describe(syms, f->eip, sym, sizeof sym) : NULL;
    return vmicheck_format_text(f, index, s, buf, len);
}

static void json_line(checkreport *r, const vmicheck_finding *f)
{
    char sym[128], line[1024];
    const char *s = f && r->syms ? symtab_describe(r->syms, f->eip, sym, sizeof sym) : NULL;
    size_t n = vmicheck_format_json(r->check, f, s, line, sizeof line);
    if (n > 0 && n < sizeof line) /* a finding's fields are bounded: it always fits */
        eventsink_put_line(r->log, line, n);
}

void checkreport_finding(void *ctx, const vmicheck_finding *f)
{
    checkreport *r = ctx;
    size_t index = r->index++;
    if (r->log && r->log->json)
        json_line(r, f);
    bool on_stderr = r->text || (r->log && !r->log->json); /* --log -: its text is on stderr */
    if (!on_stderr || r->shown[f->kind] > CHECKREPORT_SHOWN)
        return;
    FILE *out = r->text ? r->text : r->log->f;
    if (r->shown[f->kind]++ == CHECKREPORT_SHOWN) {
        fprintf(out, "check: more %s findings are counted, not shown (the shell's `check` and --log FILE list them)\n",
                vmicheck_kind_name(f->kind));
        return;
    }
    char line[512];
    checkreport_format(f, index, r->syms, line, sizeof line);
    fprintf(out, "%s\n", line);
}

void checkreport_summary(checkreport *r)
{
    char text[256];
    vmicheck_summary(r->check, text, sizeof text);
    FILE *out = r->text ? r->text : r->log && !r->log->json ? r->log->f : stderr;
    fprintf(out, "check: %s\n", text);
    if (r->log && r->log->json)
        json_line(r, NULL);
}
