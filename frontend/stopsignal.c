#include "frontend/stopsignal.h"

#include <signal.h>
#include <stddef.h>

static volatile sig_atomic_t raised;
static dbg *watched;
static struct sigaction previous;
static bool installed;

static void on_sigint(int sig)
{
    (void)sig;
    raised = 1;
    if (watched)
        dbg_interrupt(watched);
}

void stopsig_watch(dbg *d)
{
    watched = d;
    if (installed)
        return; /* a SIGINT already caught still counts */
    raised = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C is not caught: it kills */
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGINT, &sa, &previous) == 0;
}

void stopsig_unwatch(void)
{
    if (installed)
        sigaction(SIGINT, &previous, NULL);
    installed = false;
    watched = NULL;
}

bool stopsig_raised(void) { return raised != 0; }
