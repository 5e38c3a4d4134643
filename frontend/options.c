#include "frontend/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/model.h"
#include "frontend/outpaths.h"
#include "mmu/physmem.h"

/* Keys of the options that have no short letter (getopt_long's val; above every char). */
enum {
    OPT_APPEND = 256,
    OPT_INITRD,
    OPT_SYMBOLS,
    OPT_SERIAL,
    OPT_LOG,
    OPT_TRACE_OUT,
    OPT_MAX_INSNS,
    OPT_NO_ROM,
    OPT_CPU_MHZ,
    OPT_CPU,
    OPT_EPOCH,
    OPT_REBOOT_RESTARTS,
    OPT_SNAP_EVERY,
    OPT_SNAP_MEM,
    OPT_LOG_MEM,
    OPT_RECORD,
    OPT_REPLAY,
    OPT_REPLAY_ANY_KERNEL,
    OPT_OVERRIDE,
    OPT_GDB,
    OPT_VERSION,
    OPT_CHECK_VMI,
    OPT_DISPLAY,
    OPT_SCREENSHOT_AT,
    OPT_KEYS_AT,
    OPT_PANEL,
    OPT_QUIET_CALLS,
};

/* The one list of options: getopt_long's tables, --help and the man page are all made from it,
 * so an option is in all of them or in none. Help texts are printf formats for the row's
 * numbers (a literal percent sign is %%). */
static const option_row rows[] = {
    {NULL, 'm', "MiB", "guest RAM (default %llu, %llu..%llu)", {MACHINE_DEFAULT_MIB, PHYS_MIN_MIB, PHYS_MAX_MIB}},
    {"append", OPT_APPEND, "STR", "kernel command line (Multiboot cmdline, Linux command line)", {0}},
    {"initrd", OPT_INITRD, "FILE", "initial ramdisk for a Linux kernel", {0}},
    {"symbols", OPT_SYMBOLS, "FILE",
     "kernel symbols for the debugger and the log: an ELF (vmlinux) or a System.map (default: a Multiboot "
     "kernel's own; vmlinux beside a bzImage)", {0}},
    {"serial", OPT_SERIAL, "MODE", "COM1: stdio (default), none, or file:PATH", {0}},
    {"log", OPT_LOG, "FILE", "event log: JSON Lines to FILE, or text on stderr with -", {0}},
    {"trace-out", OPT_TRACE_OUT, "FILE",
     "at the end, the run's timeline as Chrome/Perfetto trace-event JSON: VMI calls, interrupts, exceptions and "
     "guest markers, one track each, time in instructions", {0}},
    {"max-insns", OPT_MAX_INSNS, "N", "stop after N instructions (exit status 8)", {0}},
    {"no-rom", OPT_NO_ROM, NULL, "boot without the VMI ROM: the guest must run natively", {0}},
    {"cpu-mhz", OPT_CPU_MHZ, "N", "nominal cycle frequency in MHz (default %llu); 1 instruction = 1 cycle",
     {MACHINE_DEFAULT_MHZ}},
    {"cpu", OPT_CPU, "MODEL",
     "CPU model: coreduo (default: a Core Duo, SSE3, PAE, NX, local APIC) or max (also CLFLUSH, CLFLUSHOPT, "
     "CLWB, RDTSCP, TSC_ADJUST, SMEP, SMAP, UMIP, PKU, the APIC's TSC-deadline timer); CPUID reports what the "
     "model has",
     {0}},
    {"epoch", OPT_EPOCH, "SECONDS", "guest wall clock at boot, seconds since 1970 (default %llu)",
     {MACHINE_DEFAULT_EPOCH}},
    {"reboot-restarts", OPT_REBOOT_RESTARTS, NULL, "a guest reboot restarts the machine instead of ending the run",
     {0}},
    {"snap-every", OPT_SNAP_EVERY, "N",
     "snapshot every N instructions, for going back in time (default %llu; 0 = no snapshots)",
     {MACHINE_DEFAULT_SNAP_EVERY}},
    {"snap-mem", OPT_SNAP_MEM, "MiB", "memory for snapshots (default %llu); older ones are thinned out",
     {MACHINE_DEFAULT_SNAP_MIB}},
    {"log-mem", OPT_LOG_MEM, "MiB",
     "memory for the compressed event log (default %llu); older parts go to an unlinked temporary file",
     {EVLOG_DEFAULT_MEM_MIB}},
    {"check-vmi", OPT_CHECK_VMI, NULL,
     "report what the guest does behind the VMI ROM's back once it called Init (raw page-table and "
     "descriptor-table stores, raw privileged instructions, stale TLB entries, unannounced page tables), "
     "on stderr and in the --log file, with a summary at the end; the run itself is unchanged", {0}},
    {"quiet-calls", OPT_QUIET_CALLS, "SET",
     "irqflags: the interrupt-flag calls (EnableInterrupts, DisableInterrupts, GetInterruptMask, "
     "SetInterruptMask) run in the ROM as plain guest code, not logged, recorded or counted (faster; `break vmi` "
     "on one still stops there); not with --check-vmi", {0}},
    {"record", OPT_RECORD, "FILE", "record the run: every VMI call and a state digest per snapshot", {0}},
    {"replay", OPT_REPLAY, "FILE",
     "replay a record with its options and check the run against it; give KERNEL and --initrd again (options "
     "given must match)", {0}},
    {"replay-any-kernel", OPT_REPLAY_ANY_KERNEL, NULL, "replay even if KERNEL is not the recorded kernel", {0}},
    {"override", OPT_OVERRIDE, "SPEC",
     "what-if replay: 'call N result=V' (or 'call N delay=CYCLES' for SetAlarm) changes VMI call N of the record; "
     "the run is live, not replayed, from there (with --record FILE it is recorded, for vmiemu diff)", {0}},
    {"shell", 'd', NULL, "start stopped at the debugger prompt (readline)", {0}},
    {"gdb", OPT_GDB, "tcp:HOST:PORT", "serve the GDB remote protocol (loopback unless HOST says otherwise)", {0}},
    {NULL, 's', NULL, "--gdb tcp:127.0.0.1:1234", {0}},
    {NULL, 'S', NULL, "wait stopped for gdb before the first instruction", {0}},
    {NULL, 'x', "SCRIPT", "run debugger commands from SCRIPT, without a terminal", {0}},
    {"display", OPT_DISPLAY, "MODE", "the VGA text screen: none (default) or sdl (a window)", {0}},
    {"panel", OPT_PANEL, NULL,
     "the live hypercall panel beside the screen, in the window (Ctrl+Alt+P shows or hides it) and in screenshots",
     {0}},
    {"screenshot-at", OPT_SCREENSHOT_AT, "ICOUNT:FILE.png",
     "the screen as a PNG when ICOUNT instructions have run (at the end if the run ends first); may be repeated",
     {0}},
    {"keys-at", OPT_KEYS_AT, "ICOUNT:TEXT",
     "type TEXT on the keyboard when ICOUNT instructions have run (\\n: Enter); recorded; may be repeated "
     "(4096 scan codes in all)",
     {0}},
    {"help", 'h', NULL, "this text", {0}},
    {"version", OPT_VERSION, NULL, "the version", {0}},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static const char summary[] = "Boot a Multiboot (v1) ELF kernel or a Linux bzImage (chosen by content) on a "
                              "deterministic i386 machine with a VMI ROM. Records are read by two subcommands: "
                              "`vmiemu diff A.rec B.rec` shows where two runs' VMI call sequences first differ "
                              "(status 0 the same, 1 different, 2 bad input), `vmiemu stats RECORD` the calls' "
                              "statistics (README: Comparing runs).";

/* Exit statuses, for --help and the man page. */
static const struct {
    const char *status, *meaning;
} statuses[] = {
    {"0", "the guest shut down (VMI Shutdown, ACPI power-off)"},
    {"odd", "the guest's own, written to the exit port at 0xF4: (value << 1) | 1, as QEMU's isa-debug-exit"},
    {"2", "bad command line, kernel, initrd, symbols or record file (corrupt, trailing data)"},
    {"4", "the guest halted with nothing pending"},
    {"6", "the guest rebooted"},
    {"8", "instruction limit (--max-insns)"},
    {"10", "the guest crashed"},
    {"12", "emulator error"},
    {"14", "a replay diverged from its record"},
    {"16", "stopped before the guest ended (quit, end of an -x script, gdb kill)"},
    {"18", "a replay of a record cut short (it matched up to where the record ends)"},
    {"129", "stopped by SIGHUP (the run stops, its outputs are finished)"},
    {"130", "stopped by SIGINT (Ctrl-C), likewise"},
    {"143", "stopped by SIGTERM, likewise"},
};
static const char statuses_note[] = "Under -d, -x and --gdb a guest that ends gives its own status, as without them.";

/* Options that shape the machine, in machine_opt order: a replay takes those not given from the
 * record. */
static const int machine_shaping[] = {
    [MOPT_RAM] = 'm', [MOPT_APPEND] = OPT_APPEND, [MOPT_INITRD] = OPT_INITRD, [MOPT_MAX_INSNS] = OPT_MAX_INSNS,
    [MOPT_CPU_MHZ] = OPT_CPU_MHZ, [MOPT_EPOCH] = OPT_EPOCH, [MOPT_SNAP_EVERY] = OPT_SNAP_EVERY,
    [MOPT_NO_ROM] = OPT_NO_ROM, [MOPT_REBOOT_RESTARTS] = OPT_REBOOT_RESTARTS, [MOPT_CPU] = OPT_CPU,
    [MOPT_QUIET_CALLS] = OPT_QUIET_CALLS};

const option_row *options_rows(size_t *n)
{
    *n = N_ROWS;
    return rows;
}

static const option_row *row_of(int key)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (rows[i].key == key)
            return &rows[i];
    return NULL;
}

/* "-d, --shell", "-m", "--append": how the option is written. */
static void label(const option_row *r, char *buf, size_t size)
{
    if (r->name && r->key < 256)
        snprintf(buf, size, "-%c, --%s", r->key, r->name);
    else if (r->name)
        snprintf(buf, size, "--%s", r->name);
    else
        snprintf(buf, size, "-%c", r->key);
}

/* The name an error message gives the option: the long one if there is one, as typed. */
static void spelling(const option_row *r, bool typed_long, char *buf, size_t size)
{
    if (r->name && (typed_long || r->key >= 256))
        snprintf(buf, size, "--%s", r->name);
    else
        snprintf(buf, size, "-%c", r->key);
}

static void help_text(const option_row *r, char *buf, size_t size)
{
    snprintf(buf, size, r->help, r->n[0], r->n[1], r->n[2]);
}

/* Words of text from column col (the caller has printed up to it), wrapped before width;
 * continuation lines start at indent. */
static void wrap(FILE *f, const char *text, size_t col, size_t indent, size_t width)
{
    bool first = true;
    while (*text) {
        size_t n = strcspn(text, " ");
        if (!first && col + 1 + n > width) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', f);
            col++;
        }
        fwrite(text, 1, n, f);
        col += n;
        text += n;
        text += strspn(text, " ");
        first = false;
    }
    fputc('\n', f);
}

#define HELP_WIDTH 79
#define HELP_COLUMN 23

void options_usage(FILE *f, const char *prog)
{
    fprintf(f, "Usage: %s [options] KERNEL\n", prog);
    fprintf(f, "       %s query RECORD history pte|gdt|idt|cr3|call [ARG] [options] KERNEL\n", prog);
    wrap(f, summary, 0, 0, HELP_WIDTH);
    fputc('\n', f);
    for (size_t i = 0; i < N_ROWS; i++) {
        char lab[64], text[512];
        label(&rows[i], lab, sizeof lab);
        if (rows[i].arg) {
            size_t l = strlen(lab);
            snprintf(lab + l, sizeof lab - l, " %s", rows[i].arg);
        }
        help_text(&rows[i], text, sizeof text);
        int col = fprintf(f, "  %-*s", HELP_COLUMN - 3, lab);
        if (col > HELP_COLUMN - 1) {
            fprintf(f, "\n%*s", HELP_COLUMN - 1, "");
            col = HELP_COLUMN - 1;
        }
        fputc(' ', f);
        wrap(f, text, (size_t)col + 1, HELP_COLUMN, HELP_WIDTH);
    }
    fprintf(f, "\nExit status:\n");
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        fprintf(f, "  %-5s ", statuses[i].status);
        wrap(f, statuses[i].meaning, 8, 8, HELP_WIDTH);
    }
    wrap(f, statuses_note, 0, 0, HELP_WIDTH);
}

/* Text for roff: a backslash is \e, a hyphen \- (so options stay searchable and copy as ASCII),
 * and a leading dot or quote must not read as a request. */
static void roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

void options_man(FILE *f)
{
    fprintf(f, ".\\\" Generated from the option table in frontend/options.c; do not edit.\n");
    fprintf(f, ".TH VMIEMU 1 \"\" \"vmiemu %s\" \"User Commands\"\n", VMIEMU_VERSION);
    fprintf(f, ".nh\n"); /* option names and paths must not be hyphenated */
    fprintf(f, ".SH NAME\nvmiemu \\- deterministic i386 emulator with a VMI ROM\n");
    fprintf(f, ".SH SYNOPSIS\n.B vmiemu\n[\\fIoptions\\fR] \\fIKERNEL\\fR\n.PP\n");
    fprintf(f, ".B vmiemu query\n\\fIRECORD\\fR \\fBhistory\\fR pte|gdt|idt|cr3|call [\\fIARG\\fR] [\\fIoptions\\fR] "
               "\\fIKERNEL\\fR\n");
    fprintf(f, ".SH DESCRIPTION\n");
    roff(f, summary);
    fprintf(f, "\nVirtual time is the instruction count, so two runs with the same options are identical;"
               " every VMI call the guest makes is logged with its arguments and result.\n.PP\n"
               "With\n.B \\-d\nor\n.B \\-x\nthe run is driven from a debugger shell (stepping back and forth, "
               "breakpoints on addresses and VMI calls, watchpoints);\n.B help\nat its prompt lists its commands.\n");
    fprintf(f, ".SH OPTIONS\n");
    for (size_t i = 0; i < N_ROWS; i++) {
        const option_row *r = &rows[i];
        char text[512];
        fprintf(f, ".TP\n");
        if (r->name && r->key < 256)
            fprintf(f, "\\fB\\-%c\\fR, \\fB\\-\\-", r->key);
        else if (r->name)
            fprintf(f, "\\fB\\-\\-");
        else
            fprintf(f, "\\fB\\-%c", r->key);
        if (r->name)
            roff(f, r->name);
        fprintf(f, "\\fR");
        if (r->arg) {
            fprintf(f, " \\fI");
            roff(f, r->arg);
            fprintf(f, "\\fR");
        }
        fputc('\n', f);
        help_text(r, text, sizeof text);
        roff(f, text);
        fputc('\n', f);
    }
    fprintf(f, ".SH EXIT STATUS\n");
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        fprintf(f, ".TP\n.B ");
        roff(f, statuses[i].status);
        fputc('\n', f);
        roff(f, statuses[i].meaning);
        fputc('\n', f);
    }
    fprintf(f, ".PP\n");
    roff(f, statuses_note);
    fprintf(f, "\n.SH FILES\n.TP\n.I /usr/share/doc/vmiemu/\nREADME.md (a first session, the command line, "
               "record and replay) and docs/ (how it works, benchmarks, conformance).\n");
    fprintf(f, ".SH SEE ALSO\n.BR gdb (1),\n.BR qemu\\-system\\-i386 (1)\n");
}

/* Numbers are strict: digits from the first character (strtoull would skip blanks and take a
 * sign), nothing after them; decimal, or hex after 0x (a leading 0 is not octal: 010 is ten). */
static int base_of(const char *s) { return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10; }

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base_of(s));
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !(isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, base_of(*s == '-' ? s + 1 : s));
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_serial(options *o, const char *v, vm_error *err)
{
    if (strcmp(v, "stdio") == 0)
        o->serial = SERIAL_STDIO;
    else if (strcmp(v, "none") == 0)
        o->serial = SERIAL_NONE;
    else if (strncmp(v, "file:", 5) == 0 && v[5]) {
        o->serial = SERIAL_FILE;
        o->serial_path = v + 5;
    } else
        return vm_fail(err, VM_EINVAL, "--serial: '%s' is not stdio, none or file:PATH", v);
    return true;
}

static bool apply(options *o, int key, const char *v, vm_error *err)
{
    uint64_t u;
    switch (key) {
    case 'm':
        if (!parse_u64(v, PHYS_MIN_MIB, PHYS_MAX_MIB, &u))
            return vm_fail(err, VM_EINVAL, "-m: '%s' is not a memory size in MiB between %u and %u", v,
                           PHYS_MIN_MIB, PHYS_MAX_MIB);
        o->machine.ram_mib = (uint32_t)u;
        return true;
    case OPT_APPEND: o->machine.cmdline = v; return true;
    case OPT_INITRD:
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--initrd needs a file name");
        o->machine.initrd = v;
        return true;
    case OPT_SERIAL: return parse_serial(o, v, err);
    case OPT_LOG:
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--log needs a file name or -");
        o->log_path = v;
        return true;
    case OPT_TRACE_OUT:
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--trace-out needs a file name");
        o->trace_path = v;
        return true;
    case OPT_MAX_INSNS:
        if (!parse_u64(v, 1, UINT64_MAX - 1, &u))
            return vm_fail(err, VM_EINVAL, "--max-insns: '%s' is not a positive instruction count", v);
        o->machine.max_insns = u;
        return true;
    case OPT_CPU_MHZ:
        if (!parse_u64(v, 1, 100000, &u))
            return vm_fail(err, VM_EINVAL, "--cpu-mhz: '%s' is not a frequency between 1 and 100000 MHz", v);
        o->machine.cpu_mhz = (uint32_t)u;
        return true;
    case OPT_CPU: {
        vcpu_model_id id;
        if (!vcpu_model_by_name(v, &id))
            return vm_fail(err, VM_EINVAL, "--cpu: '%s' is not a CPU model (coreduo, max)", v);
        o->machine.cpu_model = (uint8_t)id;
        return true;
    }
    case OPT_SNAP_EVERY:
        if (!parse_u64(v, 0, UINT64_MAX / 2, &u) || (u > 0 && u < 1000))
            return vm_fail(err, VM_EINVAL, "--snap-every: '%s' is not 0 or an instruction count of at least 1000", v);
        o->machine.snap_every = u;
        return true;
    case OPT_GDB:
        if (strncmp(v, "tcp:", 4) != 0)
            return vm_fail(err, VM_EINVAL, "--gdb: '%s' is not tcp:HOST:PORT", v);
        o->gdb_spec = v;
        return true;
    case OPT_SYMBOLS:
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--symbols needs a file name");
        o->symbols_path = v;
        return true;
    case 'x': o->script = v; return true;
    case OPT_RECORD:
    case OPT_REPLAY:
        if (!*v)
            return vm_fail(err, VM_EINVAL, "%s needs a file name", key == OPT_RECORD ? "--record" : "--replay");
        if (key == OPT_RECORD)
            o->record_path = v;
        else
            o->replay_path = v;
        return true;
    case OPT_LOG_MEM:
        if (!parse_u64(v, 1, 1u << 20, &u))
            return vm_fail(err, VM_EINVAL, "--log-mem: '%s' is not a size in MiB between 1 and 1048576", v);
        o->machine.log_mem_mib = (uint32_t)u;
        return true;
    case OPT_SNAP_MEM:
        if (!parse_u64(v, 1, 1u << 20, &u))
            return vm_fail(err, VM_EINVAL, "--snap-mem: '%s' is not a size in MiB between 1 and 1048576", v);
        o->machine.snap_mem_mib = (uint32_t)u;
        return true;
    case OPT_EPOCH: {
        int64_t e;
        /* Keep epoch * 10^9 + run time inside 64 bits of nanoseconds. */
        if (!parse_i64(v, &e) || e < 0 || e > 16000000000ll)
            return vm_fail(err, VM_EINVAL, "--epoch: '%s' is not a time in seconds since 1970 (0..16000000000)", v);
        o->machine.epoch = e;
        return true;
    }
    case OPT_NO_ROM: o->machine.rom_enabled = false; return true;
    case OPT_REBOOT_RESTARTS: o->machine.reboot_restarts = true; return true;
    case OPT_CHECK_VMI: o->machine.check_vmi = true; return true;
    case OPT_QUIET_CALLS:
        if (strcmp(v, "irqflags") != 0)
            return vm_fail(err, VM_EINVAL, "--quiet-calls: '%s' is not a set of calls (irqflags)", v);
        o->machine.quiet_calls |= MACHINE_QUIET_IRQFLAGS;
        return true;
    case 's': o->gdb_spec = "tcp:127.0.0.1:1234"; return true;
    case 'S': o->gdb_wait = true; return true;
    case 'd': o->shell = true; return true;
    case OPT_REPLAY_ANY_KERNEL: o->replay_any_kernel = true; return true;
    case OPT_OVERRIDE:
        if (o->override_given)
            return vm_fail(err, VM_EINVAL, "--override: one override per run");
        if (!whatif_parse(v, &o->override, err))
            return false;
        o->override_given = true;
        return true;
    case 'h': o->help = true; return true;
    case OPT_VERSION: o->version = true; return true;
    case OPT_DISPLAY:
        if (strcmp(v, "none") != 0 && strcmp(v, "sdl") != 0)
            return vm_fail(err, VM_EINVAL, "--display: '%s' is not none or sdl", v);
        o->display_sdl = strcmp(v, "sdl") == 0;
        return true;
    case OPT_PANEL: o->panel = true; return true;
    case OPT_SCREENSHOT_AT: return sched_add(&o->sched, SCHED_SCREENSHOT, v, "--screenshot-at", err);
    case OPT_KEYS_AT: return sched_add(&o->sched, SCHED_KEYS, v, "--keys-at", err);
    }
    return vm_fail(err, VM_EINVAL, "option key %d has no handler", key); /* a row without a case: our bug */
}

static void note_machine_option(options *o, int key)
{
    for (size_t i = 0; i < sizeof machine_shaping / sizeof machine_shaping[0]; i++)
        if (machine_shaping[i] == key)
            o->machine_given |= 1u << i;
}

static bool add_kernel(options *o, const char *a, vm_error *err)
{
    if (o->kernel)
        return vm_fail(err, VM_EINVAL, "more than one kernel given ('%s' and '%s')", o->kernel, a);
    o->kernel = a;
    return true;
}

/* getopt_long's tables from the rows. The optstring starts with "-" (arguments that are not
 * options come back in order, as key 1, whatever POSIXLY_CORRECT says) and ":" (a missing value
 * is reported as ':', not printed). */
static void getopt_tables(struct option *longs, char *shorts)
{
    size_t nl = 0, ns = 0;
    shorts[ns++] = '-';
    shorts[ns++] = ':';
    for (size_t i = 0; i < N_ROWS; i++) {
        if (rows[i].name)
            longs[nl++] = (struct option){rows[i].name, rows[i].arg ? required_argument : no_argument, NULL,
                                          rows[i].key};
        if (rows[i].key < 256) {
            shorts[ns++] = (char)rows[i].key;
            if (rows[i].arg)
                shorts[ns++] = ':';
        }
    }
    longs[nl] = (struct option){0};
    shorts[ns] = 0;
}

/* getopt_long takes any unambiguous prefix of a long name; vmiemu takes only the names in the
 * table, so a new option never makes an old abbreviation mean something else. */
static bool spelled_out(const char *arg, const char *name)
{
    size_t n = strcspn(arg + 2, "=");
    return strlen(name) == n && strncmp(arg + 2, name, n) == 0;
}

bool options_parse(options *o, int argc, char **argv, vm_error *err)
{
    memset(o, 0, sizeof *o);
    machine_config_defaults(&o->machine);
    o->serial = SERIAL_STDIO;
    struct option longs[N_ROWS + 1];
    char shorts[2 * N_ROWS + 3];
    getopt_tables(longs, shorts);
    optind = 0; /* glibc: start afresh, as for a new argv */
    opterr = 0;
    for (;;) {
        int li = -1;
        const int key = getopt_long(argc, argv, shorts, longs, &li);
        if (key == -1)
            break;
        /* The argv word that held the option: the one before its value if that was a word of
         * its own (an attached value, "--opt=V" or "-mV", points inside the option's word). */
        const char *word = argv[optind - 1];
        if (key != 1 && key != '?' && key != ':' && optarg == word && optind >= 2)
            word = argv[optind - 2];
        if (key == 1) {
            if (!add_kernel(o, optarg, err))
                return false;
            continue;
        }
        if (key == '?') {
            const option_row *r = optopt ? row_of(optopt) : NULL;
            if (r && r->name && strncmp(word, "--", 2) == 0 && spelled_out(word, r->name))
                return vm_fail(err, VM_EINVAL, "--%s takes no value", r->name);
            if (optopt && !r)
                return vm_fail(err, VM_EINVAL, "unknown option '-%c' (try --help)", optopt);
            return vm_fail(err, VM_EINVAL, "unknown option '%s' (try --help)", word);
        }
        if (key == ':') {
            const option_row *r = row_of(optopt);
            char name[40];
            spelling(r, strncmp(word, "--", 2) == 0, name, sizeof name);
            return vm_fail(err, VM_EINVAL, "%s needs a value (try --help)", name);
        }
        if (li >= 0 && !spelled_out(word, longs[li].name))
            return vm_fail(err, VM_EINVAL, "unknown option '%s' (try --help)", word);
        note_machine_option(o, key);
        if (!apply(o, key, optarg, err))
            return false;
    }
    for (int i = optind; i < argc; i++) /* after "--" */
        if (!add_kernel(o, argv[i], err))
            return false;
    if (!o->kernel && !o->help && !o->version)
        return vm_fail(err, VM_EINVAL, "no kernel given (usage: vmiemu [options] KERNEL; try --help)");
    if (o->gdb_wait && !o->gdb_spec)
        o->gdb_spec = "tcp:127.0.0.1:1234";
    if (o->override_given && !o->replay_path)
        return vm_fail(err, VM_EINVAL, "--override changes a call of a record: it needs --replay FILE");
    if (o->record_path && o->replay_path && !o->override_given)
        return vm_fail(err, VM_EINVAL, "--record and --replay cannot be used together (except with --override)");
    if (o->record_path && o->override_given && (o->shell || o->script || o->gdb_spec))
        return vm_fail(err, VM_EINVAL, "--override with --record runs without a debugger (no -d, -x, --gdb)");
    for (size_t i = 0; o->replay_path && i < o->sched.n; i++)
        if (o->sched.v[i].kind == SCHED_KEYS)
            return vm_fail(err, VM_EINVAL, "--keys-at cannot be used with --replay: a replay types what its record holds");
    return outpaths_check(o, err);
}

void options_merge_recorded(options *o, const machine_config *recorded)
{
    machine_config given = o->machine;
    o->machine = *recorded;
    if (OPT_GIVEN(o, MOPT_RAM))
        o->machine.ram_mib = given.ram_mib;
    if (OPT_GIVEN(o, MOPT_APPEND))
        o->machine.cmdline = given.cmdline;
    if (OPT_GIVEN(o, MOPT_MAX_INSNS))
        o->machine.max_insns = given.max_insns;
    if (OPT_GIVEN(o, MOPT_CPU_MHZ))
        o->machine.cpu_mhz = given.cpu_mhz;
    if (OPT_GIVEN(o, MOPT_CPU))
        o->machine.cpu_model = given.cpu_model;
    if (OPT_GIVEN(o, MOPT_EPOCH))
        o->machine.epoch = given.epoch;
    if (OPT_GIVEN(o, MOPT_SNAP_EVERY))
        o->machine.snap_every = given.snap_every;
    if (OPT_GIVEN(o, MOPT_NO_ROM))
        o->machine.rom_enabled = given.rom_enabled;
    if (OPT_GIVEN(o, MOPT_REBOOT_RESTARTS))
        o->machine.reboot_restarts = given.reboot_restarts;
    if (OPT_GIVEN(o, MOPT_QUIET_CALLS))
        o->machine.quiet_calls = given.quiet_calls;
    /* Files are given again, never taken from the record; memory budgets do not shape the run. */
    o->machine.initrd = given.initrd;
    o->machine.snap_mem_mib = given.snap_mem_mib;
    o->machine.log_mem_mib = given.log_mem_mib;
    o->machine.check_vmi = given.check_vmi; /* the checker only looks: a replay may check or not */
}
