/* History queries: `vmiemu query RECORD history ...` (a headless replay of the record with a
 * collection running) and the shell's `history` command share the parsing and the printing.
 *
 *   history pte LINEAR   the entry that maps LINEAR under the current CR3 (PTE, or PDE)
 *   history gdt N        GDT descriptor N
 *   history idt V        IDT gate V
 *   history cr3          CR3
 *   history call NAME    every call of VMI call NAME (from the event log) */
#ifndef VMIEMU_QUERY_H
#define VMIEMU_QUERY_H

#include <stdbool.h>
#include <stdio.h>

#include "emu/history.h"
#include "emu/machine.h"
#include "frontend/symbols.h"

typedef struct query {
    bool calls;        /* history call NAME */
    uint16_t callnum;  /* its number */
    hist_kind kind;    /* otherwise: a piece of state */
    uint32_t arg;
    history h;
} query;

/* The words after "history": KIND [ARG]. ARG has been evaluated by the caller when eval is
 * not NULL (the shell: symbols, registers); otherwise a number. */
VM_MUST_CHECK bool query_parse(query *q, int argc, char **argv, bool (*eval)(void *ctx, const char *s, uint32_t *v,
                                                                             vm_error *err),
                               void *ctx, vm_error *err);

/* Start collecting on m (nothing to do for `call`); query_end stops and prints. */
VM_MUST_CHECK bool query_begin(query *q, machine *m, vm_error *err);
void query_end(query *q, machine *m, const symtab *syms, FILE *out);

/* `vmiemu query RECORD history ...`: argv[0] is "query". Returns the exit status. */
int query_main(int argc, char **argv, const char *prog);

#endif
