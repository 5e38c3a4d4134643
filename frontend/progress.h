/* A progress line on stderr for long work with a known end: a replay (the record's length) or a
 * run with --max-insns. Shown only when stderr is a terminal, redrawn in place at most four
 * times a second of host time, erased when the run ends. Host time reaches only this line,
 * never the machine: the line is drawn from the frontend's host hook, which runs at exact
 * instruction counts whether or not a line is shown. */
#ifndef VMIEMU_PROGRESS_H
#define VMIEMU_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress {
    FILE *out;         /* NULL: no line (not a terminal, or no known end) */
    const char *what;  /* names the work: "replay", "run" */
    uint64_t total;    /* the instruction count the work ends at */
    uint64_t first;    /* the instruction count when it started */
    double started;    /* host seconds (CLOCK_MONOTONIC) at the start */
    double drawn;      /* host seconds of the last drawing; < 0 before the first */
    bool shown;        /* a line is on the terminal */
} progress;

/* Start a line on out for work (named what) ending at instruction count total (0: unknown, no
 * line), now at instruction count at. Nothing is shown unless out is a terminal. */
void progress_start(progress *p, FILE *out, const char *what, uint64_t total, uint64_t at);
/* The work stands at instruction count at: redraw if a quarter second has passed. */
void progress_update(progress *p, uint64_t at);
/* Take the line off the terminal for a while (serial output is about to be written there);
 * the next update draws it again. */
void progress_clear(progress *p);
/* Erase the line for good (before the run's last messages). */
void progress_end(progress *p);

/* The line's text: "replay: 1234567 of 9876543 instructions (12%), 140 MIPS, 3 s left" (done
 * and total counted from the start of the work).
 * what names the work; rate and time left only once secs > 0. */
size_t progress_format(char *buf, size_t len, const char *what, uint64_t done, uint64_t total, double secs);

#endif
