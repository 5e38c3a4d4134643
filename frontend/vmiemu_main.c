#include "frontend/vmiemu_main.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/boot.h"
#include "emu/machine.h"
#include "emu/recplay.h"
#include "emu/snapshot.h"
#include "frontend/checkreport.h"
#include "frontend/eventsink.h"
#include "frontend/display.h"
#include "frontend/exitcode.h"
#include "frontend/options.h"
#include "frontend/gdbserver.h"
#include "frontend/progress.h"
#include "frontend/query.h"
#include "frontend/shell.h"
#include "frontend/stopsignal.h"
#include "frontend/subcommands.h"
#include "frontend/trace.h"

typedef struct serial_sink {
    FILE *f;
    machine *m;
    struct progress *prog; /* the progress line to take off the terminal first, or NULL */
    bool unflushed;        /* bytes since the last flush (a prompt without its newline) */
} serial_sink;

static void serial_flush(serial_sink *s)
{
    if (s->f && s->unflushed)
        fflush(s->f);
    s->unflushed = false;
}

static void serial_to_file(void *ctx, uint8_t byte)
{
    serial_sink *s = ctx;
    if (machine_replaying_past(s->m))
        return; /* after going back in time, output already shown is not shown twice */
    if (s->prog && s->prog->shown && s->f == stdout)
        progress_clear(s->prog); /* the guest's line goes where the progress line was */
    fputc(byte, s->f);
    s->unflushed = true;
    if (byte == '\n' && s->f == stdout)
        serial_flush(s); /* a person watching the console sees whole lines at once */
}

/* What the host hook polls: COM1 input from stdin (when it is the serial console and no
 * replay feeds the input), and SIGINT. */
typedef struct host_poll {
    bool stdin_serial;
    bool stdin_eof;    /* end of input stops the polling */
    uint8_t held[256]; /* read from stdin, not yet taken by the UART (its wire was full) */
    size_t held_from, held_len;
    progress prog;     /* the progress line of a plain run with a known end */
    bool told_snap, told_log; /* the notes that a memory budget was reached, said once each */
    serial_sink *serial; /* COM1's output, flushed at every boundary */
    display *disp;     /* --display sdl; NULL: headless */
    panel panel;       /* the hypercall panel: the window's (Ctrl+Alt+P) and --panel's screenshots' */
} host_poll;

/* COM1 input from stdin, without blocking and without changing stdin's flags (a terminal is
 * shared with the shell). What the UART's wire (UART_INPUT_MAX bytes) cannot take is held
 * back and offered again at the next boundary, and stdin is not read meanwhile: a guest that
 * reads slowly makes stdin wait (flow control), never lose input, and vmiemu holds at most one
 * read's worth. */
static void stdin_to_com1(machine *m, host_poll *h)
{
    if (h->held_from == h->held_len) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
            return;
        ssize_t n = read(0, h->held, sizeof h->held);
        if (n <= 0) {
            h->stdin_eof = true;
            return;
        }
        h->held_from = 0;
        h->held_len = (size_t)n;
    }
    host_input in = {.device = HOST_COM1, .kind = HOST_BYTES, .bytes = h->held + h->held_from,
                     .len = h->held_len - h->held_from};
    h->held_from += machine_host_input(m, &in);
}

/* One note on stderr when a memory budget is first reached, so that what happens then is no
 * surprise: snapshots are thinned (going far back re-runs more), the event log moves older
 * chunks to its temporary file (slower to query). Neither stops the run. */
static void note_budgets(machine *m, host_poll *h)
{
    evlog_stats st;
    evlog_get_stats(&m->log, &st);
    bool snap = !h->told_snap && snap_thinned(m), log = !h->told_log && st.spilled > 0;
    if (!snap && !log)
        return;
    progress_clear(&h->prog);
    if (snap)
        fprintf(stderr, "vmiemu: note: snapshots reached --snap-mem (%u MiB) at icount %llu: older ones are "
                        "thinned out from now on, so going far back re-runs more\n",
                m->cfg.snap_mem_mib, (unsigned long long)machine_insns(m));
    if (log)
        fprintf(stderr, "vmiemu: note: the event log reached --log-mem (%u MiB) at icount %llu: older events "
                        "move to an unlinked temporary file from now on (still queryable, more slowly)\n",
                m->cfg.log_mem_mib, (unsigned long long)machine_insns(m));
    h->told_snap |= snap;
    h->told_log |= log;
}

/* The machine's host hook (every MACHINE_HOST_EVERY instructions and at stops): input at the
 * boundaries, and a SIGINT pauses the run so whoever runs it can stop it properly. */
static bool poll_host(machine *m, void *ctx, bool at_stop)
{
    host_poll *h = ctx;
    /* What the guest wrote since the last boundary leaves now, newline or not: a shell's prompt
     * must not wait in stdio's buffer for the next line, which comes only after the answer to it
     * (the echo of what is typed). */
    if (h->serial)
        serial_flush(h->serial);
    if (!at_stop && h->stdin_serial && (!h->stdin_eof || h->held_from < h->held_len) && !recplay_replaying(m))
        stdin_to_com1(m, h);
    note_budgets(m, h);
    if (!at_stop)
        progress_update(&h->prog, machine_insns(m));
    if (h->disp && display_poll(h->disp, m, at_stop) && m->end == END_RUNNING && m->in_run)
        machine_stop(m, "the window was closed");
    return stopsig_raised();
}

/* The shell's prompt waits: keep the window alive. */
static bool window_idle(void *ctx, machine *m)
{
    host_poll *h = ctx;
    return display_idle(h->disp, m, "stopped");
}

static int report_error(const char *prog, const vm_error *err, int status)
{
    fprintf(stderr, "%s: %s\n", prog, err->msg);
    return status;
}

/* Attach replay and/or recording (both: a what-if run recorded); the replay's machine options
 * came from the record. */
static bool start_recplay(machine *m, const options *o, vm_error *err)
{
    if (o->replay_path && !recplay_replay(m, o->replay_path, o->replay_any_kernel, err))
        return false;
    return !o->record_path || recplay_record(m, o->record_path, err);
}

/* --override: checked against the record's call before the run (a bad one is a usage error,
 * exit 2), then armed. */
static bool arm_override(machine *m, const options *o, vm_error *err)
{
    static whatif w;
    if (!o->override_given)
        return true;
    vm_event ev;
    if (!recplay_find_call(o->replay_path, o->override.call, &ev, err))
        return false;
    if (!whatif_fits(&o->override, ev.num, err))
        return false;
    w = o->override;
    m->whatif = &w;
    return true;
}

static void report_override(machine *m, const char *prog)
{
    if (!m->whatif || recplay_live(m))
        return;
    if (m->whatif->refused[0])
        fprintf(stderr, "%s: %s\n", prog, m->whatif->refused);
    else if (!m->whatif->applied)
        fprintf(stderr, "%s: override: the run ended before VMI call #%llu: nothing was changed\n", prog,
                (unsigned long long)m->whatif->call);
}

/* The start of the first line at or after from in [data, data+size) that begins with prefix, or NULL. */
static const char *find_text(const uint8_t *data, size_t size, size_t from, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = from; i + n <= size; i++)
        if (data[i] == (uint8_t)prefix[0] && memcmp(data + i, prefix, n) == 0)
            return (const char *)data + i;
    return NULL;
}

/* Is the vmlinux at path the bzImage's kernel? The bzImage names its kernel in the boot
 * header's kernel_version string (offset at 0x20E, from 0x200: "2.6.32.69 (root@vm) #1 Thu Jan
 * 1 ..."); vmlinux's linux_banner says "Linux version 2.6.32.69 (root@vm) (gcc ...) #1 Thu Jan
 * 1 ...". Both parts must match. When either string is missing nothing can be told: true. */
static bool same_kernel(const uint8_t *bz, size_t bzsize, const char *path, char *why, size_t len)
{
    size_t off = bzsize >= 0x210 ? 0x200u + (size_t)(bz[0x20E] | bz[0x20F] << 8) : 0;
    if (off <= 0x200 || off >= bzsize)
        return true;
    const char *ver = (const char *)bz + off;
    size_t vlen = strnlen(ver, bzsize - off);
    const char *close = vlen < bzsize - off ? strstr(ver, ") ") : NULL;
    if (!close)
        return true;
    size_t head = (size_t)(close + 1 - ver); /* "2.6.32.69 (root@vm)" */
    const char *tail = close + 2;            /* "#1 Thu Jan 1 00:00:00 UTC 2015" */
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t size = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        if (end > 0 && end < (256l << 20) && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)end)))
            size = fread(data, 1, (size_t)end, f);
    }
    if (f)
        fclose(f);
    bool same = true, seen = false;
    char banner[160] = "";
    for (const char *b = data ? find_text(data, size, 0, "Linux version ") : NULL; b;
         b = find_text(data, size, (size_t)(b - (const char *)data) + 1, "Linux version ")) {
        size_t room = size - (size_t)(b - (const char *)data), blen = 0;
        while (blen < room && b[blen] && b[blen] != '\n')
            blen++;
        if (blen == room)
            continue;
        seen = true;
        snprintf(banner, sizeof banner, "%.*s", (int)(blen < 120 ? blen : 120), b);
        size_t tlen = strlen(tail);
        same = blen >= 14 + head + tlen && memcmp(b + 14, ver, head) == 0 && memcmp(b + blen - tlen, tail, tlen) == 0;
        if (same)
            break;
    }
    free(data);
    if (!seen || same)
        return true;
    snprintf(why, len, "%s is '%s', but the kernel is '%.*s'", path, banner, (int)(vlen < 120 ? vlen : 120), ver);
    return false;
}

/* The symbols the debugger and the event log show: --symbols FILE (already loaded into t); else
 * for a bzImage the vmlinux beside it, if there is one and it is that kernel (a bad or other one
 * is only warned about: the kernel boots all the same); else a Multiboot kernel's own. */
static void default_symbols(symtab *t, const options *o, const machine *m, const char *prog)
{
    if (o->symbols_path)
        return;
    if (m->boot.protocol != boot_linux.name) {
        symtab_load(t, m->kernel, m->kernel_size);
        return;
    }
    const char *slash = strrchr(o->kernel, '/');
    char path[4096], why[4096 + 512];
    snprintf(path, sizeof path, "%.*svmlinux", slash ? (int)(slash - o->kernel + 1) : 0, o->kernel);
    if (access(path, F_OK) != 0)
        return;
    vm_error err = {0};
    if (!same_kernel(m->kernel, m->kernel_size, path, why, sizeof why))
        fprintf(stderr, "%s: warning: no kernel symbols: %s (--symbols FILE takes it anyway)\n", prog, why);
    else if (!symtab_load_file(t, path, &err))
        fprintf(stderr, "%s: warning: no kernel symbols: %s\n", prog, err.msg);
}

/* The guest runs with nobody attached until it ends or SIGINT arrives (the host hook pauses
 * the run for it). */
static void run_on(machine *m)
{
    machine_clear_interrupt(m); /* a debugger's interrupt left over is not this run's */
    for (bool first = true; m->end == END_RUNNING && !stopsig_raised(); first = false)
        first ? machine_run(m) : machine_run_on(m);
}

/* The same with actions at instruction counts (--screenshot-at, --keys-at): the run stops at
 * each, exactly. false with err if one failed (the run is then left where it stopped). */
static bool run_scheduled(machine *m, schedule *sched, vm_error *err)
{
    machine_clear_interrupt(m);
    while (m->end == END_RUNNING && !stopsig_raised()) {
        if (!sched_fire(sched, m, err))
            return false;
        uint64_t next = sched_next(sched);
        if (next == UINT64_MAX)
            machine_run_on(m);
        else
            machine_run_until(m, next);
    }
    return true;
}

/* -d or -x. Returns the status the user asked for (quit N), a script's failure, or -1 for
 * the status of how the run stands; *why says who left a run that has not ended. */
static int run_shell(machine *m, const options *o, const symtab *syms, const char *prog, const char **why,
                     host_poll *host)
{
    shell sh;
    vm_error err = {0};
    int status = -1;
    *why = "the user (quit)";
    bool started = shell_init(&sh, m, stdout, &err);
    if (started) {
        shell_set_symbols(&sh, syms);
        sh.opts = o;
    }
    if (started && o->panel)
        sh.panel = &host->panel;
    if (started && host->disp) {
        sh.idle = window_idle;
        sh.idle_ctx = host;
    }
    if (!started) {
        status = report_error(prog, &err, EXIT_EMULATOR);
        *why = "an emulator error (the debugger could not start)";
    } else if (o->script) {
        stopsig_watch(&sh.d);
        if (!shell_source(&sh, o->script, &err)) {
            status = report_error(prog, &err, EXIT_USAGE);
            *why = "a failing script line";
        } else if (!sh.quit) {
            *why = "the end of the script";
        }
    } else {
        stopsig_watch(&sh.d); /* SIGTERM, SIGHUP; the prompt takes SIGINT over */
        shell_interactive(&sh);
        if (stopsig_raised())
            fprintf(stdout, "\n");
    }
    if (status < 0)
        status = sh.quit_status;
    stopsig_watch(NULL); /* sh goes away */
    shell_free(&sh);
    return status;
}

/* --gdb. Returns -1 for the status of how the run stands, or the status of a failure to serve. */
static int run_gdb(machine *m, const options *o, const symtab *syms, const char *prog, const char **why)
{
    dbg d;
    vm_error err = {0};
    dbg_init(&d, m);
    stopsig_watch(&d);
    gdb_outcome out = o->gdb_wait ? gdb_serve(&d, syms, o->gdb_spec, &err)
                                   : gdb_serve_running(&d, syms, o->gdb_spec, &err);
    stopsig_watch(NULL); /* d goes away */
    if (out == GDB_FAILED) {
        *why = "an emulator error (the GDB server could not start)";
        return report_error(prog, &err, err.code == VM_EINVAL ? EXIT_USAGE : EXIT_EMULATOR);
    }
    if (out == GDB_DETACHED) /* not returned (the server runs the guest on itself); kept safe */
        run_on(m);
    *why = out == GDB_KILLED ? "the GDB client (kill)" : "the user";
    return -1;
}

static int run(options *o, const char *prog)
{
    vm_error err = {0};
    FILE *serial = NULL;
    if (o->serial == SERIAL_STDIO)
        serial = stdout;
    else if (o->serial == SERIAL_FILE && !(serial = fopen(o->serial_path, "w"))) {
        fprintf(stderr, "%s: --serial file:%s: %s\n", prog, o->serial_path, strerror(errno));
        return EXIT_USAGE;
    }
    symtab syms = {0};
    if (o->symbols_path && !symtab_load_file(&syms, o->symbols_path, &err)) {
        if (serial && serial != stdout)
            fclose(serial);
        return report_error(prog, &err, err.code == VM_ENOMEM ? EXIT_EMULATOR : EXIT_USAGE);
    }
    FILE *trace = NULL;
    if (o->trace_path && !(trace = trace_open(o->trace_path, &err))) {
        if (serial && serial != stdout)
            fclose(serial);
        symtab_free(&syms);
        return report_error(prog, &err, EXIT_USAGE);
    }
    eventsink sink = {0};
    if (o->log_path && !eventsink_open(&sink, o->log_path, &err)) {
        if (serial && serial != stdout)
            fclose(serial);
        if (trace)
            fclose(trace);
        symtab_free(&syms);
        return report_error(prog, &err, EXIT_USAGE);
    }
    machine *m = calloc(1, sizeof *m);
    int status;
    if (!m) {
        fprintf(stderr, "%s: out of memory\n", prog);
        status = EXIT_EMULATOR;
    } else if (!machine_init(m, &o->machine, o->kernel, &err) || !start_recplay(m, o, &err) ||
               !arm_override(m, o, &err)) {
        status = report_error(prog, &err, err.code == VM_EFORMAT || err.code == VM_EINVAL || err.code == VM_EIO
                                              ? EXIT_USAGE : EXIT_EMULATOR);
    } else if (o->query && !query_begin(o->query, m, &err)) {
        status = report_error(prog, &err, EXIT_EMULATOR);
    } else {
        default_symbols(&syms, o, m, prog);
        sink.syms = syms.count ? &syms : NULL;
        static host_poll host;
        static serial_sink sink_ctx;
        sink_ctx = (serial_sink){.f = serial, .m = m, .prog = &host.prog};
        if (serial)
            machine_set_serial_out(m, serial_to_file, &sink_ctx);
        host = (host_poll){.stdin_serial = o->serial == SERIAL_STDIO && !o->replay_path,
                           .serial = serial ? &sink_ctx : NULL};
        if (o->display_sdl && !(host.disp = display_open(o->kernel, &err)))
            fprintf(stderr, "%s: %s (running without a window)\n", prog, err.msg);
        panel_init(&host.panel, syms.count ? &syms : NULL);
        if (host.disp)
            display_set_panel(host.disp, &host.panel, o->panel);
        o->sched.panel = o->panel ? &host.panel : NULL;
        machine_set_host_hook(m, MACHINE_HOST_EVERY, poll_host, &host);
        if (o->log_path) {
            m->log.sink = eventsink_write;
            m->log.sink_ctx = &sink;
        }
        static checkreport check_out;
        if (m->check) { /* findings on stderr (unless --log - puts its text there) and in the log */
            bool log_text = o->log_path && !sink.json;
            check_out = (checkreport){.text = log_text ? NULL : stderr, .log = o->log_path ? &sink : NULL,
                                      .syms = sink.syms, .check = m->check};
            m->check->sink = checkreport_finding;
            m->check->sink_ctx = &check_out;
        }
        /* Every way out ends here: a run that has not ended is stopped (so the record gets its
         * end entry), and the status is the user's choice, a failure's, SIGINT's, or how the
         * run ended; a replay that diverged at any point exits EXIT_DIVERGED whatever came after. */
        const char *why = "the user";
        if (o->shell || o->script)
            status = run_shell(m, o, &syms, prog, &why, &host);
        else if (o->gdb_spec)
            status = run_gdb(m, o, &syms, prog, &why);
        else {
            stopsig_watch(NULL);
            /* A known end gets a progress line on a terminal: the record's length, or the limit. */
            uint64_t total = o->machine.max_insns, recorded;
            if (o->replay_path && rec_last_icount(o->replay_path, &recorded) && (!total || recorded < total))
                total = recorded;
            bool log_on_stderr = o->log_path && strcmp(o->log_path, "-") == 0; /* its lines would mix */
            progress_start(&host.prog, log_on_stderr ? NULL : stderr, o->replay_path ? "replay" : "run", total,
                           machine_insns(m));
            status = run_scheduled(m, &o->sched, &err) ? -1 : report_error(prog, &err, EXIT_EMULATOR);
            progress_end(&host.prog);
            if (status >= 0)
                why = "a failed --screenshot-at";
        }
        bool interrupted = stopsig_raised() && m->end == END_RUNNING;
        stopsig_unwatch();
        machine_stop(m, interrupted ? stopsig_name() : why);
        if (m->check)
            checkreport_summary(&check_out);
        /* Screenshots at counts the run did not reach show how it ended. */
        if (!sched_fire(&o->sched, m, &err) && status < 0)
            status = report_error(prog, &err, EXIT_EMULATOR);
        char report[2048];
        bool finished = recplay_finish(m, report, sizeof report, &err);
        if (status < 0)
            status = interrupted ? 128 + stopsig_signal() : exitcode_for(m);
        if (recplay_diverged(m))
            status = EXIT_DIVERGED;
        else if (recplay_record_bad(m)) /* corrupt or with trailing data: like a bad header */
            status = EXIT_USAGE;
        else if (recplay_record_cut(m)) /* checked up to where it ends, but not a whole run */
            status = EXIT_RECORD_CUT;
        if (serial)
            fflush(serial);
        fflush(stdout);
        char icount[40] = "";
        if (!exitcode_message_has_icount(m))
            snprintf(icount, sizeof icount, " (icount %llu)", (unsigned long long)machine_insns(m));
        if (m->end != END_RUNNING && m->end != END_EXIT_PORT && m->end != END_SHUTDOWN && m->end != END_DIVERGED)
            fprintf(stderr, "%s: %s%s\n", prog, m->end_message, icount);
        if (report[0])
            fprintf(stderr, "%s: %s%s", prog, report, report[strlen(report) - 1] == '\n' ? "" : "\n");
        report_override(m, prog);
        if (o->query)
            query_end(o->query, m, sink.syms, stdout);
        if (!finished)
            status = report_error(prog, &err, EXIT_EMULATOR);
        display_close(host.disp);
        host.disp = NULL;
        if (trace) { /* the timeline as finally lived: the log, cut back by any going back */
            vm_error terr = {0};
            if (!trace_write(trace, o->trace_path, &m->log, syms.count ? &syms : NULL, &terr) && status == EXIT_SHUTDOWN)
                status = report_error(prog, &terr, EXIT_EMULATOR);
            else if (terr.code)
                fprintf(stderr, "%s: %s\n", prog, terr.msg);
            trace = NULL;
        }
    }
    if (trace)
        fclose(trace); /* the machine never ran: an empty file is left */
    if (m)
        machine_free(m);
    free(m);
    symtab_free(&syms);
    /* A lost output is always said; it changes only a success's status (a guest's own status,
     * a divergence, ... stay what they are), as for --trace-out. */
    if (o->log_path && !eventsink_close(&sink, &err)) {
        fprintf(stderr, "%s: --log %s: %s\n", prog, o->log_path, err.msg);
        status = status == EXIT_SHUTDOWN ? EXIT_EMULATOR : status;
    }
    bool serial_bad = serial && serial != stdout && ferror(serial); /* a write during the run failed */
    if (serial && serial != stdout && (fclose(serial) != 0 || serial_bad)) {
        fprintf(stderr, "%s: --serial file:%s: some of the serial output could not be written\n", prog, o->serial_path);
        status = status == EXIT_SHUTDOWN ? EXIT_EMULATOR : status;
    }
    return status;
}

/* A replay runs with the options it was recorded with: those given must agree (checked with the
 * kernel and initrd by recplay_replay), the others come from the record. */
static bool options_from_record(options *o, vm_error *err)
{
    rec_header h;
    if (!recplay_read_header(o->replay_path, &h, err))
        return false;
    machine_config recorded;
    recplay_config(&h, &recorded);
    options_merge_recorded(o, &recorded);
    return true;
}

int vmiemu_main(int argc, char **argv)
{
    const char *prog = argc > 0 ? argv[0] : "vmiemu";
    const char *slash = strrchr(prog, '/');
    prog = slash ? slash + 1 : prog;
    /* Subcommands read records; a kernel file named so is given as ./diff. */
    if (argc > 1 && strcmp(argv[1], "diff") == 0)
        return vmiemu_diff(argc - 1, argv + 1, prog);
    if (argc > 1 && strcmp(argv[1], "stats") == 0)
        return vmiemu_stats(argc - 1, argv + 1, prog);
    if (argc > 1 && strcmp(argv[1], "query") == 0) /* subcommand: vmiemu query RECORD ... */
        return query_main(argc - 1, argv + 1, prog);
    options o;
    vm_error err = {0};
    if (!options_parse(&o, argc, argv, &err))
        return report_error(prog, &err, EXIT_USAGE);
    if (o.help) {
        options_usage(stdout, prog);
        return 0;
    }
    if (o.version) {
        printf("vmiemu %s (VMI ROM API %d.%d, Unicorn 2.1.4)\n", VMIEMU_VERSION, 3, 0);
        return 0;
    }
    return vmiemu_run_options(&o, prog);
}

int vmiemu_run_options(options *o, const char *prog)
{
    vm_error err = {0};
    if (o->replay_path && !options_from_record(o, &err))
        return report_error(prog, &err, EXIT_USAGE);
    return run(o, prog);
}
