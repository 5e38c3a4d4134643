/* Where the VMI checker's findings go (--check-vmi): each as a line of text on stderr (the
 * first CHECKREPORT_SHOWN of each kind; the rest are counted, and all are in the --log file
 * and the shell's `check`), and as a JSON object {"check": KIND, ...} in the --log JSON file,
 * beside the event log's lines (which stay exactly those of a run without the checker). */
#ifndef VMIEMU_CHECKREPORT_H
#define VMIEMU_CHECKREPORT_H

#include <stdio.h>

#include "emu/vmicheck.h"
#include "frontend/eventsink.h"
#include "frontend/symbols.h"

#define CHECKREPORT_SHOWN 20u

typedef struct checkreport {
    FILE *text;          /* stderr, or NULL: no text */
    eventsink *log;      /* the --log sink, or NULL */
    const symtab *syms;  /* may be NULL */
    const vmicheck *check;
    unsigned shown[VMICHECK_KINDS];
    size_t index;
} checkreport;

/* A vmicheck_sink: ctx is a checkreport. */
void checkreport_finding(void *ctx, const vmicheck_finding *f);
/* The summary line (text, and JSON in the log). */
void checkreport_summary(checkreport *r);
/* The finding's text line with the symbol of its EIP (shell `check`, stderr). */
size_t checkreport_format(const vmicheck_finding *f, size_t index, const symtab *syms, char *buf, size_t len);

#endif
