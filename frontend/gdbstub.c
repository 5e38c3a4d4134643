/* The GDB remote serial protocol over the debugging API (see gdbstub.h for the shape).
 *
 * Framing: a packet is `$data#cs`, cs the two-hex-digit sum of the raw data bytes mod 256.
 * Until QStartNoAckMode each side answers a packet with `+` (good) or `-` (resend). In data,
 * `}` escapes the next byte (XOR 0x20); we escape `$ # } *` in everything we send, since `*`
 * would read as run-length encoding. A lone 0x03 byte is Ctrl-C.
 *
 * Registers: gdb numbers them in the order of the target description below, and the general
 * sixteen (eax..edi, eip, eflags, cs ss ds es fs gs) are cpu_reg 0..15. gdb's i386 support
 * insists the core feature also names the x87 registers; vmiemu does not expose those, so the
 * g packet stops after the sixteen and p reports the others as unavailable ("xx"). */
#include "frontend/gdbstub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/exitcode.h"
#include "frontend/unwind.h"
#include "frontend/vmicall.h"

#define MAX_MEM (GDBSTUB_PACKET_SIZE / 2 - 16) /* bytes one m or M packet moves */
#define MAX_QUEUE (1u << 20)                   /* input held while the guest runs */
#define REPLY_MAX (GDBSTUB_PACKET_SIZE + 64)
#define THREAD "thread:1;"

/* ---- The target description: data, from which the XML and the register packets follow. */

typedef struct reg_desc {
    const char *name;
    int bits;
    const char *type;
    const char *group; /* NULL: gdb's default */
} reg_desc;

#define NGREGS 16 /* the registers vmiemu has: cpu_reg 0..15 */
static const reg_desc regs[] = {
    {"eax", 32, "int32", NULL},       {"ecx", 32, "int32", NULL},    {"edx", 32, "int32", NULL},
    {"ebx", 32, "int32", NULL},       {"esp", 32, "data_ptr", NULL}, {"ebp", 32, "data_ptr", NULL},
    {"esi", 32, "int32", NULL},       {"edi", 32, "int32", NULL},    {"eip", 32, "code_ptr", NULL},
    {"eflags", 32, "i386_eflags", NULL}, {"cs", 32, "int32", NULL},  {"ss", 32, "int32", NULL},
    {"ds", 32, "int32", NULL},        {"es", 32, "int32", NULL},     {"fs", 32, "int32", NULL},
    {"gs", 32, "int32", NULL},
    /* Named because gdb's i386 core feature requires them; always unavailable. */
    {"st0", 80, "i387_ext", NULL},    {"st1", 80, "i387_ext", NULL}, {"st2", 80, "i387_ext", NULL},
    {"st3", 80, "i387_ext", NULL},    {"st4", 80, "i387_ext", NULL}, {"st5", 80, "i387_ext", NULL},
    {"st6", 80, "i387_ext", NULL},    {"st7", 80, "i387_ext", NULL}, {"fctrl", 32, "int", "float"},
    {"fstat", 32, "int", "float"},    {"ftag", 32, "int", "float"},  {"fiseg", 32, "int", "float"},
    {"fioff", 32, "int", "float"},    {"foseg", 32, "int", "float"}, {"fooff", 32, "int", "float"},
    {"fop", 32, "int", "float"},
};
#define NREGS ((int)(sizeof regs / sizeof regs[0]))

static const struct { const char *name; int bit; } eflags_bits[] = {
    {"CF", 0}, {"", 1}, {"PF", 2}, {"AF", 4}, {"ZF", 6}, {"SF", 7}, {"TF", 8}, {"IF", 9}, {"DF", 10},
    {"OF", 11}, {"NT", 14}, {"RF", 16}, {"VM", 17}, {"AC", 18}, {"VIF", 19}, {"VIP", 20}, {"ID", 21},
};

/* ---- State */

typedef enum parse_state { P_IDLE, P_DATA, P_CS1, P_CS2 } parse_state;

/* A point gdb inserted: Z type (0 sw break, 1 hw break, 2 write watch), address, length. */
typedef struct gdb_point {
    int id; /* dbg's id; 0 = free */
    int type;
    uint32_t addr, len;
} gdb_point;

typedef struct buffer {
    uint8_t *data;
    size_t len, pos, cap;
} buffer;

struct gdbstub {
    dbg *d;
    gdbstub_state state;

    buffer in;  /* bytes fed and not yet parsed */
    buffer out; /* bytes for the client, from pos */
    parse_state pstate;
    char pkt[GDBSTUB_PACKET_SIZE + 1]; /* unescaped data of the packet being read, NUL-ended */
    size_t pkt_len;
    bool pkt_overflow, escape;
    uint8_t sum, cs_hi;
    bool cs_bad;

    char reply[REPLY_MAX];
    size_t reply_len;
    bool replied;
    uint8_t *last; /* the last framed packet sent, for a `-` */
    size_t last_len;

    bool no_ack;
    bool busy;    /* parsing the input queue */
    bool running; /* the guest runs: only Ctrl-C is acted on */
    bool client_swbreak, client_hwbreak;
    bool crash_reported; /* a crashed guest was reported as SIGSEGV once; next time it is W */
    gdbstub_poll_fn poll;
    void *poll_ctx;
    machine_host_fn outer_fn; /* the machine's host hook before a continue put the stub's in */
    void *outer_ctx;
    uint64_t slice;

    gdb_point points[DBG_MAX_POINTS];
    const symtab *syms; /* for monitor bt; may be NULL */
    char stop[96]; /* the last stop reply, for `?` */
    char *xml;
    size_t xml_len;
};

/* ---- Buffers and hex */

static bool buf_append(buffer *b, const void *p, size_t n)
{
    if (b->pos && b->pos == b->len)
        b->pos = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->pos) { /* reclaim what was consumed first */
            memmove(b->data, b->data + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        if (cap != b->cap) {
            uint8_t *d = realloc(b->data, cap);
            if (!d)
                return false;
            b->data = d;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char hexdig[] = "0123456789abcdef";

/* A big-endian hex number of 1..8 digits at *p; *p moves past it. */
static bool parse_u32(const char **p, uint32_t *v)
{
    const char *q = *p;
    uint32_t x = 0;
    int n = 0;
    for (; hexval(*q) >= 0; q++, n++) {
        if (n == 8)
            return false;
        x = x << 4 | (uint32_t)hexval(*q);
    }
    if (n == 0)
        return false;
    *p = q;
    *v = x;
    return true;
}

/* "ADDR,LEN" followed by `end` (a character, or 0 for the end of the packet). */
static bool parse_addr_len(const char **p, uint32_t *addr, uint32_t *len, char end)
{
    if (!parse_u32(p, addr) || **p != ',')
        return false;
    (*p)++;
    if (!parse_u32(p, len) || **p != end)
        return false;
    if (end)
        (*p)++;
    return true;
}

static bool decode_hex(const char *p, size_t nbytes, uint8_t *out)
{
    for (size_t i = 0; i < nbytes; i++) {
        int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);
        if (lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* ---- Replies */

static void reply_add(gdbstub *s, const void *p, size_t n)
{
    size_t room = sizeof s->reply - s->reply_len;
    if (n > room)
        n = room;
    memcpy(s->reply + s->reply_len, p, n);
    s->reply_len += n;
}

static void reply_fmt(gdbstub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_fmt(gdbstub *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof s->reply - s->reply_len;
    int n = vsnprintf(s->reply + s->reply_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->reply_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void reply_hex(gdbstub *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && s->reply_len + 2 <= sizeof s->reply; i++) {
        s->reply[s->reply_len++] = hexdig[p[i] >> 4];
        s->reply[s->reply_len++] = hexdig[p[i] & 15];
    }
}

static void reply_u32le(gdbstub *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    reply_hex(s, b, 4);
}

/* Frame and queue one packet. */
static void send_packet(gdbstub *s, const char *data, size_t n)
{
    uint8_t *f = malloc(2 * n + 4);
    if (!f)
        return;
    size_t k = 0;
    uint8_t sum = 0;
    f[k++] = '$';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)data[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            f[k++] = '}';
            sum = (uint8_t)(sum + '}');
            c ^= 0x20;
        }
        f[k++] = c;
        sum = (uint8_t)(sum + c);
    }
    f[k++] = '#';
    f[k++] = (uint8_t)hexdig[sum >> 4];
    f[k++] = (uint8_t)hexdig[sum & 15];
    buf_append(&s->out, f, k);
    free(s->last);
    s->last = f;
    s->last_len = k;
}

static void send_str(gdbstub *s, const char *str) { send_packet(s, str, strlen(str)); }

/* Text for gdb's console, in an O packet (monitor output; what stopped the guest). */
static void console(gdbstub *s, const char *text)
{
    s->reply_len = 0;
    reply_fmt(s, "O");
    reply_hex(s, (const uint8_t *)text, strlen(text));
    send_packet(s, s->reply, s->reply_len);
    s->reply_len = 0;
}

/* ---- Stop replies */

static uint32_t reg(gdbstub *s, cpu_reg r) { return dbg_reg(s->d, r); }

static const gdb_point *point_at(gdbstub *s, int type, uint32_t addr)
{
    for (int i = 0; i < DBG_MAX_POINTS; i++)
        if (s->points[i].id && s->points[i].type == type && s->points[i].addr == addr)
            return &s->points[i];
    return NULL;
}

static bool break_at(gdbstub *s, uint32_t eip) { return point_at(s, 0, eip) || point_at(s, 1, eip); }

int gdbstub_exit_status(const machine *m)
{
    return m->end == END_EXIT_PORT ? (int)(m->exit_value & 0xFF) : exitcode_for(m) & 0xFF;
}

/* The linear address a watchpoint stop reports: the first watched byte the write touched, as
 * an address inside the point gdb inserted (gdb matches the two). */
static uint32_t watch_addr(gdbstub *s)
{
    const vcpu_watch_hit *w = &s->d->m->watch;
    uint64_t lo = w->addr, hi = w->addr + (uint64_t)(w->size > 0 ? w->size : 1);
    for (int i = 0; i < DBG_MAX_POINTS; i++) {
        const dbg_point *p = &s->d->points[i];
        if (p->id && p->kind == DBG_WATCH && lo < p->phys + p->len && hi > p->phys)
            return p->addr + (uint32_t)(lo > p->phys ? lo - p->phys : 0);
    }
    return (uint32_t)w->addr;
}

/* A register as gdb's packets carry it: little-endian hex. */
static void le32_hex(uint32_t v, char out[9])
{
    for (int i = 0; i < 4; i++, v >>= 8) {
        out[2 * i] = hexdig[(v >> 4) & 15];
        out[2 * i + 1] = hexdig[v & 15];
    }
    out[8] = 0;
}

/* "T05thread:1;" plus the reason and the registers gdb wants first, or W for a guest that
 * ended. A crash is reported as SIGSEGV the first time, so the user can look around and go
 * back from it; running on from there reports the end. */
static void stop_reply(gdbstub *s, dbg_stop st)
{
    machine *m = s->d->m;
    int sig = st == DBG_INTERRUPTED ? 2 : 5;
    char why[32] = "";
    if (st == DBG_ENDED && m->end == END_CRASH && !s->crash_reported) {
        s->crash_reported = true;
        sig = 11;
    } else if (st == DBG_ENDED) {
        snprintf(s->stop, sizeof s->stop, "W%02x", gdbstub_exit_status(m));
        send_str(s, s->stop);
        return;
    } else {
        s->crash_reported = false;
    }
    uint32_t eip = reg(s, CPU_EIP);
    const dbg_point *hit = s->d->last_hit;
    if (st == DBG_BREAKPOINT && hit && hit->kind == DBG_VMI_BREAK) {
        char text[128], call[64]; /* gdb knows nothing of it: say what stopped the guest */
        snprintf(text, sizeof text, "VMI breakpoint %d, VMI call %s at eip 0x%08x\n", hit->id,
                 vmicall_label(hit->call, call, sizeof call), eip);
        console(s, text);
    }
    if (st == DBG_BREAKPOINT && break_at(s, eip)) {
        /* Only at one of gdb's points: a swbreak elsewhere (a VMI-call breakpoint's stop) makes
         * gdb take it for a stale trap and silently continue. */
        bool hw = point_at(s, 1, eip) && !point_at(s, 0, eip);
        if (hw ? s->client_hwbreak : s->client_swbreak)
            snprintf(why, sizeof why, "%s", hw ? "hwbreak:;" : "swbreak:;");
    } else if (st == DBG_WATCHPOINT) {
        const dbg_point *p = s->d->last_hit;
        const char *kind = p && p->access == 'r' ? "rwatch" : p && p->access == 'a' ? "awatch" : "watch";
        snprintf(why, sizeof why, "%s:%x;", kind, watch_addr(s));
    } else if (st == DBG_START) {
        snprintf(why, sizeof why, "replaylog:begin;");
    }
    char esp[9], ebp[9], pc[9];
    le32_hex(reg(s, CPU_ESP), esp);
    le32_hex(reg(s, CPU_EBP), ebp);
    le32_hex(eip, pc);
    snprintf(s->stop, sizeof s->stop, "T%02x%s%s04:%s;05:%s;08:%s;", sig, THREAD, why, esp, ebp, pc);
    send_str(s, s->stop);
}

/* ---- Running */

/* Drop Ctrl-C bytes already queued behind the packet that starts a run: they are for it. */
static void take_queued_interrupts(gdbstub *s)
{
    buffer *b = &s->in;
    size_t k = b->pos;
    for (size_t i = b->pos; i < b->len; i++) {
        if (b->data[i] == 0x03)
            dbg_interrupt(s->d);
        else
            b->data[k++] = b->data[i];
    }
    b->len = k;
}

static void begin_run(gdbstub *s)
{
    s->running = true;
    take_queued_interrupts(s);
    if (s->poll)
        s->poll(s->poll_ctx); /* sends the ack now: gdb resends a packet nobody acked */
}

static void end_run(gdbstub *s, dbg_stop st)
{
    s->running = false;
    if (st == DBG_FAILED)
        send_str(s, "E01");
    else
        stop_reply(s, st);
}

/* The machine's host hook while continuing: the frontend's own hook (serial input, SIGINT)
 * still runs, then the transport is polled; a Ctrl-C or hang-up it brings pauses the run. */
static bool host_hook(machine *m, void *ctx, bool at_stop)
{
    gdbstub *s = ctx;
    bool pause = s->outer_fn && s->outer_fn(m, s->outer_ctx, at_stop);
    if (!at_stop && s->poll)
        s->poll(s->poll_ctx);
    return pause || s->d->interrupt;
}

/* Continue, the transport polled at the machine's host boundaries (every s->slice
 * instructions), until something stops the guest. */
static void run_continue(gdbstub *s)
{
    dbg *d = s->d;
    machine *m = d->m;
    vm_error err = {0};
    dbg_stop st;
    d->interrupt = 0;
    machine_clear_interrupt(m);
    begin_run(s);
    s->outer_fn = m->host_fn;
    s->outer_ctx = m->host_ctx;
    uint64_t outer_every = m->host_every;
    machine_set_host_hook(m, s->slice, host_hook, s);
    for (bool first = true;; first = false) {
        if (d->interrupt) {
            d->interrupt = 0;
            st = DBG_INTERRUPTED;
            break;
        }
        st = first ? dbg_run(d, &err) : dbg_run_on(d, &err);
        if (st != DBG_STOPPED)
            break;
    }
    machine_set_host_hook(m, outer_every, s->outer_fn, s->outer_ctx);
    machine_clear_interrupt(m);
    end_run(s, st);
}

static void run_step(gdbstub *s)
{
    vm_error err = {0};
    begin_run(s);
    end_run(s, dbg_stepi(s->d, 1, &err));
}

static bool reverse_works(gdbstub *s) { return s->d->m->timeline != NULL; }

static void run_reverse_step(gdbstub *s)
{
    vm_error err = {0};
    begin_run(s);
    dbg_stop st = dbg_icount(s->d) == 0 ? DBG_START : dbg_reverse_stepi(s->d, 1, &err);
    if (st == DBG_FAILED && dbg_icount(s->d) == 0)
        st = DBG_START;
    end_run(s, st);
}

static void run_reverse_continue(gdbstub *s)
{
    vm_error err = {0};
    begin_run(s);
    end_run(s, dbg_reverse_continue(s->d, &err));
}

/* `c ADDR` and `s ADDR` resume at ADDR. */
static bool resume_at(gdbstub *s, const char *a)
{
    uint32_t addr;
    if (!*a)
        return true;
    if (!parse_u32(&a, &addr) || *a)
        return false;
    return dbg_set_reg(s->d, CPU_EIP, addr);
}

/* ---- Command handlers: each gets the text after the command name. */

typedef void (*handler)(gdbstub *s, const char *args);

static void h_qsupported(gdbstub *s, const char *a)
{
    s->client_swbreak = strstr(a, "swbreak+") != NULL;
    s->client_hwbreak = strstr(a, "hwbreak+") != NULL;
    reply_fmt(s, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+%s",
              GDBSTUB_PACKET_SIZE, reverse_works(s) ? ";ReverseStep+;ReverseContinue+" : "");
}

static void h_noack(gdbstub *s, const char *a)
{
    (void)a;
    send_str(s, "OK");
    s->replied = true;
    s->no_ack = true;
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static void h_features(gdbstub *s, const char *a)
{
    const char *colon = strchr(a, ':');
    uint32_t off, len;
    if (!colon || (size_t)(colon - a) != strlen("target.xml") || strncmp(a, "target.xml", 10) != 0) {
        reply_fmt(s, "E00");
        return;
    }
    a = colon + 1;
    if (!parse_addr_len(&a, &off, &len, 0)) {
        reply_fmt(s, "E01");
        return;
    }
    if (off >= s->xml_len) {
        reply_fmt(s, "l");
        return;
    }
    size_t n = s->xml_len - off;
    if (len > GDBSTUB_PACKET_SIZE / 2)
        len = GDBSTUB_PACKET_SIZE / 2;
    reply_fmt(s, n > len ? "m" : "l");
    reply_add(s, s->xml + off, n > len ? len : n);
}

static void h_question(gdbstub *s, const char *a)
{
    (void)a;
    send_str(s, s->stop);
    s->replied = true;
}

static void h_g(gdbstub *s, const char *a)
{
    (void)a;
    for (int r = 0; r < NGREGS; r++)
        reply_u32le(s, reg(s, (cpu_reg)r));
}

/* Set a register to what gdb sent, unless it already holds it (reloading a segment register
 * for nothing is not free, and may not even be allowed). */
static bool set_reg(gdbstub *s, int r, uint32_t v)
{
    return reg(s, (cpu_reg)r) == v || dbg_set_reg(s->d, (cpu_reg)r, v);
}

static bool le32(const char *p, uint32_t *v)
{
    uint8_t b[4];
    if (!decode_hex(p, 4, b))
        return false;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static void h_G(gdbstub *s, const char *a)
{
    size_t n = strlen(a);
    uint32_t v[NGREGS];
    bool given[NGREGS] = {false};
    if (n < 8 * NGREGS || n % 2) {
        reply_fmt(s, "E01");
        return;
    }
    for (int r = 0; r < NGREGS; r++) {
        const char *p = a + 8 * r;
        if (p[0] == 'x')
            continue; /* unavailable: leave it */
        if (!le32(p, &v[r])) {
            reply_fmt(s, "E01");
            return;
        }
        given[r] = true;
    }
    bool ok = true;
    for (int r = 0; r < NGREGS; r++)
        ok = (!given[r] || set_reg(s, r, v[r])) && ok;
    reply_fmt(s, ok ? "OK" : "E01");
}

static void h_p(gdbstub *s, const char *a)
{
    uint32_t r;
    if (!parse_u32(&a, &r) || *a) {
        reply_fmt(s, "E01");
        return;
    }
    if (r < NGREGS)
        reply_u32le(s, reg(s, (cpu_reg)r));
    else if (r < (uint32_t)NREGS)
        reply_fmt(s, "%.*s", regs[r].bits / 4, "xxxxxxxxxxxxxxxxxxxx"); /* unavailable */
    else
        reply_fmt(s, "E00");
}

static void h_P(gdbstub *s, const char *a)
{
    uint32_t r, v;
    if (!parse_u32(&a, &r) || *a != '=' || strlen(a + 1) != 8 || !le32(a + 1, &v)) {
        reply_fmt(s, "E01");
        return;
    }
    reply_fmt(s, r < NGREGS && set_reg(s, (int)r, v) ? "OK" : "E01");
}

/* Read what can be read from addr on, page by page; returns how many bytes. */
static uint32_t read_mem(gdbstub *s, uint32_t addr, uint8_t *buf, uint32_t len)
{
    uint32_t done = 0;
    while (done < len) {
        uint32_t a = addr + done, chunk = 0x1000 - (a & 0xFFF);
        if (chunk > len - done)
            chunk = len - done;
        if (!dbg_read(s->d, a, buf + done, chunk))
            break;
        done += chunk;
    }
    return done;
}

static void h_m(gdbstub *s, const char *a)
{
    uint32_t addr, len;
    uint8_t buf[MAX_MEM];
    if (!parse_addr_len(&a, &addr, &len, 0)) {
        reply_fmt(s, "E01");
        return;
    }
    if (len > MAX_MEM)
        len = MAX_MEM; /* a shorter reply is allowed; gdb asks for the rest */
    if (len && addr + (uint64_t)len - 1 > UINT32_MAX)
        len = (uint32_t)(0x100000000ull - addr);
    uint32_t n = read_mem(s, addr, buf, len);
    if (n == 0 && len)
        reply_fmt(s, "E14");
    else
        reply_hex(s, buf, n);
}

static void write_mem(gdbstub *s, uint32_t addr, const uint8_t *p, uint32_t len)
{
    if (len && addr + (uint64_t)len - 1 > UINT32_MAX)
        reply_fmt(s, "E14");
    else
        reply_fmt(s, len == 0 || dbg_write(s->d, addr, p, len) ? "OK" : "E14");
}

static void h_M(gdbstub *s, const char *a)
{
    uint32_t addr, len;
    uint8_t buf[MAX_MEM];
    if (!parse_addr_len(&a, &addr, &len, ':') || len > MAX_MEM || strlen(a) != 2 * (size_t)len ||
        !decode_hex(a, len, buf)) {
        reply_fmt(s, "E01");
        return;
    }
    write_mem(s, addr, buf, len);
}

/* X: binary data, already unescaped; it may hold NULs, so its length comes from the packet. */
static void h_X(gdbstub *s, const char *a)
{
    uint32_t addr, len;
    if (!parse_addr_len(&a, &addr, &len, ':') || (size_t)(s->pkt + s->pkt_len - a) != len) {
        reply_fmt(s, "E01");
        return;
    }
    write_mem(s, addr, (const uint8_t *)a, len);
}

/* Z/z TYPE,ADDR,KIND: 0 and 1 are breakpoints; 2, 3 and 4 write, read and access watchpoints
 * over KIND bytes. */
static void points(gdbstub *s, const char *a, bool insert)
{
    uint32_t type, addr, kind;
    if (!parse_u32(&a, &type) || *a++ != ',' || !parse_u32(&a, &addr) || *a++ != ',' || !parse_u32(&a, &kind) ||
        (*a && *a != ';')) {
        reply_fmt(s, "E01");
        return;
    }
    if (type > 4)
        return; /* unsupported */
    uint32_t len = type >= 2 ? kind : 1;
    gdb_point *p = NULL;
    for (int i = 0; i < DBG_MAX_POINTS && !p; i++)
        if (s->points[i].id && s->points[i].type == (int)type && s->points[i].addr == addr && s->points[i].len == len)
            p = &s->points[i];
    if (!insert) {
        if (p) {
            dbg_delete(s->d, p->id);
            p->id = 0;
        }
        reply_fmt(s, "OK");
        return;
    }
    if (p) { /* inserting twice is one point */
        reply_fmt(s, "OK");
        return;
    }
    for (int i = 0; i < DBG_MAX_POINTS && !p; i++)
        if (!s->points[i].id)
            p = &s->points[i];
    vm_error err = {0};
    static const char access[] = {0, 0, 'w', 'r', 'a'};
    int id = !p ? 0 : type >= 2 ? dbg_watch_access(s->d, addr, len, false, access[type], &err) : dbg_break(s->d, addr, &err);
    if (!id) {
        reply_fmt(s, "E01");
        return;
    }
    *p = (gdb_point){id, (int)type, addr, len};
    reply_fmt(s, "OK");
}

static void h_Z(gdbstub *s, const char *a) { points(s, a, true); }
static void h_z(gdbstub *s, const char *a) { points(s, a, false); }

static void h_c(gdbstub *s, const char *a)
{
    if (!resume_at(s, a)) {
        reply_fmt(s, "E01");
        return;
    }
    s->replied = true;
    run_continue(s);
}

static void h_s(gdbstub *s, const char *a)
{
    if (!resume_at(s, a)) {
        reply_fmt(s, "E01");
        return;
    }
    s->replied = true;
    run_step(s);
}

/* C SIG[;ADDR] and S SIG[;ADDR]: no signals to deliver to a machine; the same as c and s. */
static const char *skip_signal(const char *a)
{
    uint32_t sig;
    if (!parse_u32(&a, &sig))
        return NULL;
    return *a == ';' ? a + 1 : *a ? NULL : a;
}

static void h_C(gdbstub *s, const char *a)
{
    a = skip_signal(a);
    if (a)
        h_c(s, a);
    else
        reply_fmt(s, "E01");
}

static void h_S(gdbstub *s, const char *a)
{
    a = skip_signal(a);
    if (a)
        h_s(s, a);
    else
        reply_fmt(s, "E01");
}

static void h_vcont_query(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "vCont;c;C;s;S");
}

/* vCont;ACTION[:THREAD]...: the first action for our one thread (1, -1, 0 or none) wins. */
static void h_vcont(gdbstub *s, const char *a)
{
    for (;;) {
        char act = *a;
        const char *p = a + 1;
        uint32_t sig;
        if ((act == 'C' || act == 'S') && !parse_u32(&p, &sig))
            break;
        if (act != 'c' && act != 's' && act != 'C' && act != 'S')
            break;
        bool ours = *p != ':' || strncmp(p, ":1", 2) == 0 || strncmp(p, ":-1", 3) == 0 || strncmp(p, ":0", 2) == 0;
        if (ours) {
            s->replied = true;
            if (act == 'c' || act == 'C')
                run_continue(s);
            else
                run_step(s);
            return;
        }
        a = strchr(p, ';');
        if (!a)
            break;
        a++;
    }
    reply_fmt(s, "E01");
}

static void h_bs(gdbstub *s, const char *a)
{
    (void)a;
    if (!reverse_works(s))
        return; /* not advertised either */
    s->replied = true;
    run_reverse_step(s);
}

static void h_bc(gdbstub *s, const char *a)
{
    (void)a;
    if (!reverse_works(s))
        return;
    s->replied = true;
    run_reverse_continue(s);
}

/* gdb's points and the monitor's VMI-call breakpoints: a detached guest runs on without them. */
static void forget_points(gdbstub *s)
{
    for (int i = 0; i < DBG_MAX_POINTS; i++) {
        if (s->points[i].id) {
            dbg_delete(s->d, s->points[i].id);
            s->points[i].id = 0;
        }
        if (s->d->points[i].id && s->d->points[i].kind == DBG_VMI_BREAK)
            dbg_delete(s->d, s->d->points[i].id);
    }
}

static void h_D(gdbstub *s, const char *a)
{
    (void)a;
    forget_points(s);
    reply_fmt(s, "OK");
    s->state = GDBSTUB_DETACHED;
}

/* k expects no reply. */
static void h_k(gdbstub *s, const char *a)
{
    (void)a;
    forget_points(s);
    s->replied = true;
    s->state = GDBSTUB_KILLED;
}

static void h_vkill(gdbstub *s, const char *a)
{
    (void)a;
    forget_points(s);
    reply_fmt(s, "OK");
    s->state = GDBSTUB_KILLED;
}

static void h_ok(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "OK");
}

static void h_qc(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "QC1");
}

static void h_attached(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "1");
}

static void h_fthreads(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "m1");
}

static void h_sthreads(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "l");
}

static void h_offsets(gdbstub *s, const char *a)
{
    (void)a;
    reply_fmt(s, "Text=0;Data=0;Bss=0");
}


/* monitor COMMAND (qRcmd,HEX): text goes back in O packets, then OK. */
#define MONITOR_HELP                                                                                        \
    "vmiemu monitor commands:\n"                                                                            \
    "  icount                  instructions retired since power-on\n"                                      \
    "  break vmi NAME|NUMBER   stop before a VMI call (SetPxE, 12, ...); gdb reports SIGTRAP\n"             \
    "  delete N                delete VMI-call breakpoint N\n"                                             \
    "  info vmi                the VMI-call breakpoints\n"                                               \
    "  bt                      vmiemu's backtrace (works without frame pointers or DWARF)\n"

static void monitor_break_vmi(gdbstub *s, const char *name, char *text, size_t len)
{
    vm_error err = {0};
    uint16_t num;
    int id = vmicall_number(name, &num, &err) ? dbg_vmi_break(s->d, num, &err) : 0;
    char call[64];
    if (id)
        snprintf(text, len, "VMI breakpoint %d before VMI call %s\n", id, vmicall_label(num, call, sizeof call));
    else
        snprintf(text, len, "%s\n", err.msg);
}

static void monitor_delete(gdbstub *s, const char *arg, char *text, size_t len)
{
    char *end;
    long id = strtol(arg, &end, 10);
    bool number = *arg && !*end && id > 0;
    for (int i = 0; number && i < DBG_MAX_POINTS; i++) {
        const dbg_point *p = &s->d->points[i];
        if (p->id == id && p->kind == DBG_VMI_BREAK) {
            dbg_delete(s->d, p->id);
            snprintf(text, len, "Deleted VMI breakpoint %ld\n", id);
            return;
        }
    }
    snprintf(text, len, "No VMI breakpoint %s (gdb's own breakpoints are deleted with gdb's delete)\n", arg);
}

static void monitor_info_vmi(gdbstub *s, char *text, size_t len)
{
    size_t k = 0;
    text[0] = 0;
    for (int i = 0; i < DBG_MAX_POINTS && k < len; i++) {
        const dbg_point *p = &s->d->points[i];
        if (p->id && p->kind == DBG_VMI_BREAK) {
            int w = snprintf(text + k, len - k, "%d  before VMI call %s (hit %llu times)\n", p->id, vmicall_name(p->call),
                             (unsigned long long)p->hits);
            k += w > 0 ? (size_t)w : 0;
        }
    }
    if (!text[0])
        snprintf(text, len, "No VMI-call breakpoints.\n");
}

static void monitor_bt(gdbstub *s, char *text, size_t len)
{
    static const symtab none;
    unwind_format(s->d, s->syms ? s->syms : &none, 32, text, len);
}

static void h_rcmd(gdbstub *s, const char *a)
{
    char cmd[128], text[4096];
    size_t n = strlen(a) / 2;
    if (strlen(a) % 2 || n >= sizeof cmd || !decode_hex(a, n, (uint8_t *)cmd)) {
        reply_fmt(s, "E01");
        return;
    }
    cmd[n] = 0;
    char *argv[4] = {"", "", "", ""}, *save = NULL;
    int argc = 0;
    for (char *t = strtok_r(cmd, " \t", &save); t && argc < 4; t = strtok_r(NULL, " \t", &save))
        argv[argc++] = t;
    if (strcmp(argv[0], "icount") == 0)
        snprintf(text, sizeof text, "icount %llu\n", (unsigned long long)dbg_icount(s->d));
    else if (strcmp(argv[0], "break") == 0 && strcmp(argv[1], "vmi") == 0 && argc == 3)
        monitor_break_vmi(s, argv[2], text, sizeof text);
    else if (strcmp(argv[0], "delete") == 0 && argc == 2)
        monitor_delete(s, argv[1], text, sizeof text);
    else if (strcmp(argv[0], "info") == 0 && strcmp(argv[1], "vmi") == 0)
        monitor_info_vmi(s, text, sizeof text);
    else if (strcmp(argv[0], "bt") == 0 && argc == 1)
        monitor_bt(s, text, sizeof text);
    else
        snprintf(text, sizeof text, "%s", MONITOR_HELP);
    console(s, text);
    reply_fmt(s, "OK");
}

typedef struct command {
    const char *name;
    bool exact; /* the whole packet, not a prefix */
    handler fn;
} command;

/* First match wins: longer names before the shorter ones they start with. */
static const command commands[] = {
    {"qSupported", false, h_qsupported},
    {"qXfer:features:read:", false, h_features},
    {"QStartNoAckMode", true, h_noack},
    {"qC", true, h_qc},
    {"qAttached", false, h_attached},
    {"qfThreadInfo", true, h_fthreads},
    {"qsThreadInfo", true, h_sthreads},
    {"qOffsets", true, h_offsets},
    {"qRcmd,", false, h_rcmd},
    {"qSymbol:", false, h_ok},
    {"vCont?", true, h_vcont_query},
    {"vCont;", false, h_vcont},
    {"vKill", false, h_vkill},
    {"bs", true, h_bs},
    {"bc", true, h_bc},
    {"?", true, h_question},
    {"g", true, h_g},
    {"G", false, h_G},
    {"p", false, h_p},
    {"P", false, h_P},
    {"m", false, h_m},
    {"M", false, h_M},
    {"X", false, h_X},
    {"Z", false, h_Z},
    {"z", false, h_z},
    {"c", false, h_c},
    {"C", false, h_C},
    {"s", false, h_s},
    {"S", false, h_S},
    {"H", false, h_ok},
    {"T", false, h_ok},
    {"D", false, h_D},
    {"k", true, h_k},
};

static void dispatch(gdbstub *s)
{
    s->reply_len = 0;
    s->replied = false;
    const command *c = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0] && !c; i++) {
        size_t n = strlen(commands[i].name);
        if (commands[i].exact ? s->pkt_len == n && memcmp(s->pkt, commands[i].name, n) == 0
                              : s->pkt_len >= n && memcmp(s->pkt, commands[i].name, n) == 0)
            c = &commands[i];
    }
    if (c)
        c->fn(s, s->pkt + strlen(c->name));
    if (!s->replied)
        send_packet(s, s->reply, s->reply_len); /* empty for unknown packets */
}

/* ---- Framing */

static void ack(gdbstub *s, char c)
{
    if (!s->no_ack)
        buf_append(&s->out, &c, 1);
}

static void parse_byte(gdbstub *s, uint8_t c)
{
    switch (s->pstate) {
    case P_IDLE:
        if (c == '$') {
            s->pstate = P_DATA;
            s->pkt_len = 0;
            s->pkt_overflow = s->escape = false;
            s->sum = 0;
        } else if (c == '-' && !s->no_ack && s->last) {
            buf_append(&s->out, s->last, s->last_len);
        } /* '+', a Ctrl-C while stopped, and noise are ignored */
        break;
    case P_DATA:
        if (c == '$') { /* a new packet cut this one short: drop it, start again */
            s->pkt_len = 0;
            s->pkt_overflow = s->escape = false;
            s->sum = 0;
            break;
        }
        if (c == '#') {
            s->pstate = P_CS1;
            break;
        }
        s->sum = (uint8_t)(s->sum + c);
        if (s->escape) {
            c ^= 0x20;
            s->escape = false;
        } else if (c == '}') {
            s->escape = true;
            break;
        }
        if (s->pkt_len < GDBSTUB_PACKET_SIZE)
            s->pkt[s->pkt_len++] = (char)c;
        else
            s->pkt_overflow = true;
        break;
    case P_CS1:
        s->cs_bad = hexval(c) < 0;
        s->cs_hi = (uint8_t)(s->cs_bad ? 0 : hexval(c));
        s->pstate = P_CS2;
        break;
    case P_CS2:
        s->pstate = P_IDLE;
        if (s->cs_bad || hexval(c) < 0 || (uint8_t)(s->cs_hi << 4 | hexval(c)) != s->sum || s->pkt_overflow ||
            s->escape) {
            ack(s, '-');
            break;
        }
        ack(s, '+');
        s->pkt[s->pkt_len] = 0;
        dispatch(s);
        break;
    }
}

void gdbstub_feed(gdbstub *s, const uint8_t *bytes, size_t n)
{
    if (s->running) {
        for (size_t i = 0; i < n; i++) {
            if (bytes[i] == 0x03)
                dbg_interrupt(s->d);
            else if (s->in.len - s->in.pos < MAX_QUEUE)
                buf_append(&s->in, &bytes[i], 1);
        }
        return;
    }
    if (!buf_append(&s->in, bytes, n) || s->busy)
        return;
    s->busy = true;
    while (s->in.pos < s->in.len && s->state == GDBSTUB_ACTIVE)
        parse_byte(s, s->in.data[s->in.pos++]);
    s->busy = false;
}

/* ---- Life cycle */

static bool build_xml(gdbstub *s)
{
    size_t cap = 8192, n = 0;
    char *x = malloc(cap);
    if (!x)
        return false;
#define ADD(...) n += (size_t)snprintf(x + n, n < cap ? cap - n : 0, __VA_ARGS__)
    ADD("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
        "<architecture>i386</architecture>\n<feature name=\"org.gnu.gdb.i386.core\">\n"
        "<flags id=\"i386_eflags\" size=\"4\">\n");
    for (size_t i = 0; i < sizeof eflags_bits / sizeof eflags_bits[0]; i++)
        ADD("<field name=\"%s\" start=\"%d\" end=\"%d\"/>\n", eflags_bits[i].name, eflags_bits[i].bit,
            eflags_bits[i].bit);
    ADD("</flags>\n");
    for (int i = 0; i < NREGS; i++)
        ADD("<reg name=\"%s\" bitsize=\"%d\" type=\"%s\"%s%s%s/>\n", regs[i].name, regs[i].bits, regs[i].type,
            regs[i].group ? " group=\"" : "", regs[i].group ? regs[i].group : "", regs[i].group ? "\"" : "");
    ADD("</feature>\n</target>\n");
#undef ADD
    if (n >= cap) {
        free(x);
        return false;
    }
    s->xml = x;
    s->xml_len = n;
    return true;
}

gdbstub *gdbstub_new(dbg *d)
{
    gdbstub *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->d = d;
    s->slice = GDBSTUB_SLICE;
    if (!build_xml(s)) {
        free(s);
        return NULL;
    }
    if (d->m->end != END_RUNNING)
        snprintf(s->stop, sizeof s->stop, "W%02x", gdbstub_exit_status(d->m));
    else
        snprintf(s->stop, sizeof s->stop, "T05%s", THREAD);
    return s;
}

void gdbstub_free(gdbstub *s)
{
    if (!s)
        return;
    free(s->in.data);
    free(s->out.data);
    free(s->last);
    free(s->xml);
    free(s);
}

const uint8_t *gdbstub_output(const gdbstub *s, size_t *len)
{
    *len = s->out.len - s->out.pos;
    return s->out.data ? s->out.data + s->out.pos : (const uint8_t *)"";
}

void gdbstub_consume(gdbstub *s, size_t n)
{
    size_t have = s->out.len - s->out.pos;
    s->out.pos += n < have ? n : have;
    if (s->out.pos == s->out.len)
        s->out.pos = s->out.len = 0;
}

void gdbstub_set_symbols(gdbstub *s, const symtab *syms) { s->syms = syms; }

void gdbstub_set_poll(gdbstub *s, gdbstub_poll_fn poll, void *ctx)
{
    s->poll = poll;
    s->poll_ctx = ctx;
}

void gdbstub_set_slice(gdbstub *s, uint64_t insns) { s->slice = insns ? insns : GDBSTUB_SLICE; }

void gdbstub_hangup(gdbstub *s)
{
    if (s->state == GDBSTUB_ACTIVE)
        s->state = GDBSTUB_HUNGUP;
    dbg_interrupt(s->d);
}

gdbstub_state gdbstub_get_state(const gdbstub *s) { return s->state; }
bool gdbstub_running(const gdbstub *s) { return s->running; }
