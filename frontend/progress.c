#define _POSIX_C_SOURCE 200809L

#include "frontend/progress.h"

#include <time.h>
#include <unistd.h>

#define PROGRESS_EVERY 0.25 /* seconds between two drawings */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(progress *p, FILE *out, const char *what, uint64_t total, uint64_t at)
{
    *p = (progress){.what = what, .total = total, .first = at, .drawn = -1};
    if (!out || total == 0 || at >= total || !isatty(fileno(out)))
        return;
    p->out = out;
    p->started = now_seconds();
}

size_t progress_format(char *buf, size_t len, const char *what, uint64_t done, uint64_t total, double secs)
{
    unsigned pct = total ? (unsigned)(done >= total ? 100 : done * 100.0 / (double)total) : 0;
    int n = snprintf(buf, len, "%s: %llu of %llu instructions (%u%%)", what, (unsigned long long)done,
                     (unsigned long long)total, pct);
    if (n < 0 || (size_t)n >= len || secs <= 0 || done == 0)
        return n < 0 ? 0 : (size_t)n;
    double rate = (double)done / secs, left = done < total ? (double)(total - done) / rate : 0;
    int k = snprintf(buf + n, len - (size_t)n, ", %.0f MIPS, %.0f s left", rate / 1e6, left);
    return k < 0 ? (size_t)n : (size_t)n + (size_t)k;
}

void progress_update(progress *p, uint64_t at)
{
    if (!p->out)
        return;
    double now = now_seconds();
    if (p->drawn >= 0 && now - p->drawn < PROGRESS_EVERY)
        return;
    p->drawn = now;
    char line[160];
    progress_format(line, sizeof line, p->what, at > p->first ? at - p->first : 0, p->total - p->first,
                    now - p->started);
    /* \r and erase to the end of the line: redrawn in place, never scrolling */
    fprintf(p->out, "\r\033[K%s", line);
    fflush(p->out);
    p->shown = true;
}

void progress_clear(progress *p)
{
    if (p->out && p->shown) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->shown = false;
}

void progress_end(progress *p)
{
    progress_clear(p);
    p->out = NULL;
}
