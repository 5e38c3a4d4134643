#include "frontend/stopsignal.h"

#include <signal.h>
#include <stddef.h>

/* The signals that stop a run: Ctrl-C, kill's default, and a closed terminal. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSIG_STOP (sizeof stop_signals / sizeof stop_signals[0])

static volatile sig_atomic_t raised; /* the first stop signal's number, 0 for none */
static dbg *watched;
static struct sigaction previous[NSIG_STOP];
static bool installed;

static void on_stop_signal(int sig)
{
    if (!raised)
        raised = sig;
    if (watched)
        dbg_interrupt(watched);
}

void stopsig_watch(dbg *d)
{
    watched = d;
    if (installed)
        return; /* a signal already caught still counts */
    raised = 0;
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND; /* the same signal a second time is not caught: it kills */
    sigemptyset(&sa.sa_mask);
    installed = true;
    for (size_t i = 0; i < NSIG_STOP; i++)
        if (sigaction(stop_signals[i], &sa, &previous[i]) != 0)
            previous[i].sa_handler = SIG_DFL;
}

void stopsig_unwatch(void)
{
    if (installed)
        for (size_t i = 0; i < NSIG_STOP; i++)
            sigaction(stop_signals[i], &previous[i], NULL);
    installed = false;
    watched = NULL;
}

bool stopsig_raised(void) { return raised != 0; }

int stopsig_signal(void) { return raised; }

const char *stopsig_name(void)
{
    switch (raised) {
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "SIGINT";
    }
}
