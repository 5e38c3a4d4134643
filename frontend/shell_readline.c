/* The interactive side of the shell: readline with history kept across runs and completion of
 * command names, VMI call names, register names and kernel symbols. Signals as in gdb: Ctrl-C
 * (SIGINT) stops a running guest and returns to the prompt, and at the prompt drops the line
 * being typed ("Quit", a fresh prompt); SIGTERM and SIGHUP (caught by frontend/stopsignal.c,
 * which the caller has watching) end the session wherever it stands, the guest stopped, so
 * the common exit path finishes the serial file, the log and the record and exits 143 / 129. */
#include <errno.h>
#include <poll.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/shell.h"
#include "frontend/stopsignal.h"
#include "rom/rom.h"

const char *shell_command_name(size_t i);

static shell *active;
static volatile sig_atomic_t prompt_sigint; /* a SIGINT since the prompt was shown */

static void on_sigint(int sig)
{
    (void)sig;
    prompt_sigint = 1;
    if (active)
        dbg_interrupt(&active->d);
}

/* readline's input, with its own signal handling off (rl_catch_signals = 0): a signal makes
 * readline return instead of reading on. Polls in short slices so a signal arriving just
 * before the read is seen too. SIGINT drops the line being typed: readline gets an empty line
 * (a command that does nothing); a stop signal ends input. */
static int getc_watching_signals(FILE *f)
{
    for (;;) {
        if (stopsig_raised())
            return EOF;
        if (prompt_sigint) {
            prompt_sigint = 0;
            rl_replace_line("", 0);
            rl_point = rl_end = 0;
            fputs("\nQuit", rl_outstream ? rl_outstream : stdout);
            return '\n';
        }
        if (active && active->idle && active->idle(active->idle_ctx, active->m))
            return EOF;
        struct pollfd p = {.fd = fileno(f), .events = POLLIN};
        int r = poll(&p, 1, active && active->idle ? 20 : 100);
        if (r == 0 || (r < 0 && errno == EINTR))
            continue;
        unsigned char c;
        ssize_t n = r > 0 ? read(p.fd, &c, 1) : -1;
        if (n == 1)
            return c;
        if (n < 0 && errno == EINTR)
            continue;
        return EOF;
    }
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
    rl_catch_signals = 0;
    rl_getc_function = getc_watching_signals;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    fprintf(s->out, "vmiemu debugger: stopped before the first instruction (icount %llu). Type help.\n",
            (unsigned long long)dbg_icount(&s->d));
    while (!s->quit && !stopsig_raised()) {
        prompt_sigint = 0; /* a Ctrl-C that stopped the last command is not for this prompt */
        char *line = readline("(vmiemu) ");
        if (!line || stopsig_raised()) { /* a half-typed line is not run when a signal ends input */
            free(line);
            break;
        }
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
