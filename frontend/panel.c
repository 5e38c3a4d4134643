/* The live hypercall panel (frontend/panel.h). */
#include "frontend/panel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "frontend/vmicall.h"

#define ATTR_TEXT 0x07u    /* light grey on black */
#define ATTR_TITLE 0x1Fu   /* white on blue */
#define ATTR_HEAD 0x0Eu    /* yellow */
#define ATTR_CALL 0x0Fu    /* white */
#define ATTR_CALLER 0x0Bu  /* light cyan */
#define ATTR_NUMBER 0x0Au  /* light green */

#define ROW_TITLE 0
#define ROW_CPU 1
#define ROW_CALLS_HEAD 2
#define ROW_CALLS (ROW_CALLS_HEAD + 1)
#define ROW_KINDS_HEAD (ROW_CALLS + PANEL_CALLS)
#define ROW_KINDS (ROW_KINDS_HEAD + 1)
#define KIND_COLUMN_W 40 /* name 20, count 10, per million instructions 8, 2 spaces */
#define KIND_ROWS (PANEL_ROWS - ROW_KINDS)

_Static_assert(KIND_ROWS * 2 == PANEL_KINDS, "the counters fill the rows under the calls");

void panel_init(panel *p, const symtab *syms)
{
    memset(p, 0, sizeof *p);
    p->syms = syms;
}

/* Text at (row, col) in attr, cut at the page's edge (and at max characters if max > 0). */
static void put(panel *p, unsigned row, unsigned col, uint8_t attr, unsigned max, const char *fmt, ...)
{
    char text[PANEL_COLS * 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (unsigned i = 0; text[i] && col < PANEL_COLS && (!max || i < max); i++, col++) {
        unsigned char ch = (unsigned char)text[i];
        p->cells[row * PANEL_COLS + col] = (uint16_t)((ch < 0x20 || ch > 0x7E ? '?' : ch) | attr << 8);
    }
}

static void fill_row(panel *p, unsigned row, uint8_t attr)
{
    for (unsigned c = 0; c < PANEL_COLS; c++)
        p->cells[row * PANEL_COLS + c] = (uint16_t)(' ' | attr << 8);
}

/* Field by field: a struct compare would see its padding. */
static bool same_event(const vm_event *a, const vm_event *b)
{
    return a->icount == b->icount && a->result == b->result && a->eip == b->eip && a->kind == b->kind &&
           a->num == b->num && a->insns == b->insns && !memcmp(a->args, b->args, sizeof a->args);
}

/* Bring the counters up to the log's end; from the start again if the log was cut back (a
 * restore) since the last look. */
static void count(panel *p, const evlog *log)
{
    size_t n = evlog_count(log);
    vm_event ev;
    if (n < p->counted ||
        (p->counted && (!evlog_get(log, p->counted - 1, &ev) || !same_event(&ev, &p->last)))) {
        memset(p->counts, 0, sizeof p->counts);
        p->calls = 0;
        p->counted = 0;
    }
    for (; p->counted < n; p->counted++) {
        if (!evlog_get(log, p->counted, &ev))
            break; /* a chunk that cannot be read back: counted up to it */
        p->last = ev;
        if (ev.kind != EV_VMI_CALL)
            continue;
        p->calls++;
        if (ev.num < PANEL_NUMS)
            p->counts[ev.num]++;
    }
}

static double per_million(uint64_t n, uint64_t insns) { return insns ? (double)n * 1e6 / (double)insns : 0.0; }

/* The call as the log's text has it, from its name on: "SetPxE(pte=..., ptr=...) = 0". */
static const char *call_text(const vm_event *ev, char *buf, size_t len)
{
    char line[512];
    ev_format_text(ev, 0, line, sizeof line);
    const char *at = strstr(line, " vmi ");
    snprintf(buf, len, "%s", at ? at + 5 : line);
    return buf;
}

static void latest_calls(panel *p, const evlog *log)
{
    size_t calls = evlog_count_kind(log, EV_VMI_CALL, evlog_count(log));
    size_t first = calls > PANEL_CALLS ? calls - PANEL_CALLS : 0;
    for (size_t k = first, row = ROW_CALLS; k < calls; k++, row++) {
        size_t i;
        vm_event ev;
        if (!evlog_find_kind(log, EV_VMI_CALL, k, &i) || !evlog_get(log, i, &ev))
            continue;
        char text[512], sym[128];
        put(p, (unsigned)row, 0, ATTR_NUMBER, 11, "%11llu", (unsigned long long)ev.icount);
        put(p, (unsigned)row, 12, ATTR_CALL, 46, "%s", call_text(&ev, text, sizeof text));
        if (p->syms && symtab_describe(p->syms, ev.eip, sym, sizeof sym))
            put(p, (unsigned)row, 59, ATTR_CALLER, 21, "%s", sym);
        else
            put(p, (unsigned)row, 59, ATTR_CALLER, 21, "0x%08x", ev.eip);
    }
}

static void counters(panel *p, uint64_t insns)
{
    /* The most called first (ties: by number), PANEL_KINDS of them, column by column. */
    bool shown[PANEL_NUMS] = {false};
    for (unsigned k = 0; k < PANEL_KINDS; k++) {
        int best = -1;
        for (int num = 0; num < (int)PANEL_NUMS; num++)
            if (!shown[num] && p->counts[num] && (best < 0 || p->counts[num] > p->counts[best]))
                best = num;
        if (best < 0)
            break;
        shown[best] = true;
        unsigned row = ROW_KINDS + k % KIND_ROWS, col = 1 + (k / KIND_ROWS) * KIND_COLUMN_W;
        put(p, row, col, ATTR_CALL, 20, "%s", vmicall_name((uint16_t)best));
        put(p, row, col + 20, ATTR_NUMBER, 10, "%10llu", (unsigned long long)p->counts[best]);
        put(p, row, col + 30, ATTR_TEXT, 8, "%8.1f", per_million(p->counts[best], insns));
    }
}

void panel_update(panel *p, const machine *m, const char *state)
{
    uint64_t insns = machine_insns((machine *)m);
    count(p, &m->log);
    for (unsigned r = 0; r < PANEL_ROWS; r++)
        fill_row(p, r, r == ROW_TITLE ? ATTR_TITLE : ATTR_TEXT);
    put(p, ROW_TITLE, 1, ATTR_TITLE, 0, "VMI calls - %s", state);
    char right[64];
    int n = snprintf(right, sizeof right, "icount %llu", (unsigned long long)insns);
    put(p, ROW_TITLE, PANEL_COLS - 1 - (unsigned)n, ATTR_TITLE, 0, "%s", right);

    uint32_t eflags = vcpu_get(m->cpu, CPU_EFLAGS);
    put(p, ROW_CPU, 1, ATTR_TEXT, 0, "IF %u   CPL %u   CR3 0x%08x   calls %llu, %.1f per million insns",
        eflags >> 9 & 1u, vcpu_cpl(m->cpu), vcpu_get(m->cpu, CPU_CR3), (unsigned long long)p->calls,
        per_million(p->calls, insns));

    put(p, ROW_CALLS_HEAD, 0, ATTR_HEAD, 0, "     icount call%43scaller", "");
    latest_calls(p, &m->log);
    put(p, ROW_KINDS_HEAD, 0, ATTR_HEAD, 0, " %-20s%10s%8s  %-20s%10s%8s", "call", "count", "per M", "call", "count",
        "per M");
    counters(p, insns);
}

const char *panel_row(const panel *p, unsigned row, char *buf, size_t len)
{
    size_t n = 0;
    for (unsigned c = 0; row < PANEL_ROWS && c < PANEL_COLS && n + 1 < len; c++)
        buf[n++] = (char)(p->cells[row * PANEL_COLS + c] & 0xFF);
    while (n && buf[n - 1] == ' ')
        n--;
    if (len)
        buf[n] = 0;
    return buf;
}

void panel_render_beside(const panel *p, const machine *m, bool blink_on, uint32_t *rgb)
{
    const size_t stride = VGA_WIDTH + PANEL_WIDTH;
    /* The screen into the buffer's start as a 640-wide picture, then each line moved to its
     * place, the last first (a line never lands on one not moved yet). */
    machine_render_screen(m, blink_on, rgb);
    for (size_t y = VGA_HEIGHT; y-- > 1;)
        memmove(rgb + y * stride, rgb + y * VGA_WIDTH, VGA_WIDTH * sizeof *rgb);
    vga_draw_cells(p->cells, PANEL_COLS, PANEL_ROWS, rgb + VGA_WIDTH, stride);
}
