/* The interactive side of the shell: readline with history kept across runs and completion of
 * command names, VMI call names, register names and kernel symbols; Ctrl-C stops a running
 * guest and returns to the prompt. */
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/shell.h"
#include "rom/rom.h"

const char *shell_command_name(size_t i);

static shell *active;

static void on_sigint(int sig)
{
    (void)sig;
    if (active)
        dbg_interrupt(&active->d);
}

/* Candidates in order: commands, VMI calls, $registers, symbols. */
static char *complete_next(const char *text, int state)
{
    static size_t idx;
    if (!state)
        idx = 0;
    size_t len = strlen(text);
    for (;;) {
        size_t i = idx++;
        const char *cand = NULL;
        char reg[16];
        size_t ncmd = 0;
        while (shell_command_name(ncmd))
            ncmd++;
        if (i < ncmd)
            cand = shell_command_name(i);
        else if ((i -= ncmd) < ROM_NUM_CALLS)
            cand = rom_call_find((uint32_t)i) ? rom_call_find((uint32_t)i)->name : "";
        else if ((i -= ROM_NUM_CALLS) < CPU_NREGS) {
            snprintf(reg, sizeof reg, "$%s", vcpu_reg_names[i]);
            cand = reg;
        } else if (!(cand = symtab_complete(active->syms, text, i - CPU_NREGS)))
            return NULL;
        else
            return strdup(cand); /* symtab_complete already filtered by prefix */
        if (cand[0] && !strncmp(cand, text, len))
            return strdup(cand);
    }
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, complete_next);
}

void shell_interactive(shell *s)
{
    char hist[4096];
    const char *home = getenv("HOME");
    snprintf(hist, sizeof hist, "%s/.vmiemu_history", home ? home : ".");
    read_history(hist);
    active = s;
    rl_attempted_completion_function = complete;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    fprintf(s->out, "vmiemu debugger: stopped before the first instruction (icount %llu). Type help.\n",
            (unsigned long long)dbg_icount(&s->d));
    while (!s->quit) {
        char *line = readline("(vmiemu) ");
        if (!line)
            break;
        if (*line)
            add_history(line);
        vm_error err = {0};
        if (!shell_exec(s, line, &err))
            fprintf(s->out, "error: %s\n", err.msg);
        free(line);
    }
    sigaction(SIGINT, &old, NULL);
    write_history(hist);
    active = NULL;
}
