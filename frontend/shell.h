/* The debugger shell: GDB-like commands over the debugging API (emu/debug.h), interactive with
 * readline or from a script (-x). */
#ifndef VMIEMU_SHELL_H
#define VMIEMU_SHELL_H

#include <stdbool.h>
#include <stdio.h>

#include "cpu/disasm.h"
#include "emu/debug.h"
#include "frontend/panel.h"
#include "frontend/symbols.h"

typedef struct shell {
    dbg d;
    machine *m;
    symtab own_syms;     /* the kernel image's own (a Multiboot ELF's) */
    const symtab *syms;  /* the ones in use: own_syms, or the frontend's (--symbols, vmlinux) */
    disasm *dis;
    FILE *out;
    bool quit;
    int quit_status; /* `quit N`: the process exits with N; -1 = the status of how the run stands */
    int depth; /* nested `source` */
    bool located; /* the error being passed up already says FILE:LINE (a nested `source`) */
    /* Called often while the interactive prompt waits for input (the window's events); true
     * ends input as end of file does. NULL: none. */
    bool (*idle)(void *ctx, machine *m);
    void *idle_ctx;
    panel *panel; /* --panel: `screenshot` shows it beside the screen; NULL: not */
    panel *own_panel; /* the `panel` command's without --panel (made at its first use) */
    call_timing timing; /* host time per VMI call in this session, for `stats` (m->timing) */
    const struct options *opts; /* the run's files, which `screenshot` must not overwrite; NULL: none */
} shell;

VM_MUST_CHECK bool shell_init(shell *s, machine *m, FILE *out, vm_error *err);
void shell_free(shell *s);
/* Use t (borrowed; it must outlive the shell) instead of the kernel image's own; NULL = those. */
void shell_set_symbols(shell *s, const symtab *t);

/* Run one command line; false with err for a bad command (the shell itself goes on). */
VM_MUST_CHECK bool shell_exec(shell *s, const char *line, vm_error *err);

/* Run a script; the first failing line stops it: err = "FILE:LINE: message". SIGINT
 * (frontend/stopsignal.h) stops it too, after the command that runs (a continue stops). */
VM_MUST_CHECK bool shell_source(shell *s, const char *path, vm_error *err);

/* Interactive loop with readline, history (~/.vmiemu_history) and completion; returns when the
 * user quits or input ends. */
void shell_interactive(shell *s);

/* For the commands in other files: a number, $register, symbol or symbol+offset. */
VM_MUST_CHECK bool shell_eval(shell *s, const char *text, uint32_t *v, vm_error *err);
/* frontend/shell_history.c */
VM_MUST_CHECK bool shell_cmd_history(shell *s, int argc, char **argv, vm_error *err);
VM_MUST_CHECK bool shell_cmd_override(shell *s, int argc, char **argv, vm_error *err);

#endif
