#include "frontend/options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/physmem.h"

void options_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [options] KERNEL\n"
            "Boot a Multiboot (v1) ELF kernel or a Linux bzImage (chosen by content) on a deterministic\n"
            "i386 machine with a VMI ROM.\n"
            "\n"
            "  -m MiB               guest RAM (default %u, %u..%u)\n"
            "  --append STR         kernel command line (Multiboot cmdline, Linux command line)\n"
            "  --initrd FILE        initial ramdisk for a Linux kernel\n"
            "  --symbols FILE       kernel symbols for the debugger and the log: an ELF (vmlinux) or a\n"
            "                       System.map (default: a Multiboot kernel's own; vmlinux beside a bzImage)\n"
            "  --serial MODE        COM1: stdio (default), none, or file:PATH\n"
            "  --log FILE           event log: JSON Lines to FILE, or text on stderr with -\n"
            "  --max-insns N        stop after N instructions (exit status 8)\n"
            "  --no-rom             boot without the VMI ROM: the guest must run natively\n"
            "  --cpu-mhz N          nominal cycle frequency in MHz (default %u); 1 instruction = 1 cycle\n"
            "  --epoch SECONDS      guest wall clock at boot, seconds since 1970 (default %lld)\n"
            "  --reboot-restarts    a guest reboot restarts the machine instead of ending the run\n"
            "  --snap-every N       snapshot every N instructions, for going back in time (default %u;\n"
            "                       0 = no snapshots)\n"
            "  --snap-mem MiB       memory for snapshots (default %u); older ones are thinned out\n"
            "  --log-mem MiB        memory for the compressed event log (default %u); older parts go to\n"
            "                       an unlinked temporary file\n"
            "  --record FILE        record the run: every VMI call and a state digest per snapshot\n"
            "  --replay FILE        replay a record with its options and check the run against it;\n"
            "                       give KERNEL and --initrd again (options given must match)\n"
            "  --replay-any-kernel  replay even if KERNEL is not the recorded kernel\n"
            "  -d, --shell          start stopped at the debugger prompt (readline)\n"
            "  --gdb tcp:HOST:PORT  serve the GDB remote protocol (loopback unless HOST says otherwise)\n"
            "  -s                   --gdb tcp:127.0.0.1:1234\n"
            "  -S                   wait stopped for gdb before the first instruction\n"
            "  -x SCRIPT            run debugger commands from SCRIPT, without a terminal\n"
            "  --display MODE       the VGA text screen: none (default) or sdl (a window)\n"
            "  --screenshot-at ICOUNT:FILE.png  the screen as a PNG at that instruction count (at the\n"
            "                       end if the run ends first); may be given more than once\n"
            "  --keys-at ICOUNT:TEXT  type TEXT on the keyboard at that instruction count (\\n: Enter)\n"
            "  --help               this text\n"
            "  --version            the version\n"
            "\n"
            "Exit status: the guest's own through the exit port at 0xF4 ((value << 1) | 1, odd);\n"
            "0 shutdown, 2 bad command line, kernel, initrd or record file (corrupt, trailing data),\n"
            "4 halted with nothing pending, "
            "6 reboot, 8 instruction limit, 10 guest crashed, 12 emulator error,\n"
            "14 replay diverged, "
            "16 stopped before the guest ended (quit, end of -x script, gdb kill),\n"
            "18 replay of a record cut short (matched up to where it ends), 130 SIGINT,\n"
            "143 SIGTERM, 129 SIGHUP (the run is stopped and its outputs finished).\n"
            "Under -d, -x and --gdb a guest that ends gives its own status, as without them.\n",
            prog, MACHINE_DEFAULT_MIB, PHYS_MIN_MIB, PHYS_MAX_MIB, MACHINE_DEFAULT_MHZ,
            (long long)MACHINE_DEFAULT_EPOCH, MACHINE_DEFAULT_SNAP_EVERY, MACHINE_DEFAULT_SNAP_MIB,
            EVLOG_DEFAULT_MEM_MIB);
}

/* Numbers are strict: digits from the first character (strtoull would skip blanks and take a
 * sign), nothing after them. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
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
    long long v = strtoll(s, &end, 0);
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

/* Options that take a value, accepted as "--opt VALUE" and "--opt=VALUE". */
static const char *const valued[] = {"-m", "--append", "--initrd", "--serial", "--log", "--max-insns", "--cpu-mhz",
                                     "--epoch", "--snap-every", "--snap-mem", "--log-mem", "--record", "--replay", "-x",
                                     "--gdb", "--symbols", "--screenshot-at", "--keys-at", "--display"};

/* Options that shape the machine, in machine_opt order: a replay takes those not given from the
 * record. */
static const char *const machine_shaping[] = {
    [MOPT_RAM] = "-m", [MOPT_APPEND] = "--append", [MOPT_INITRD] = "--initrd", [MOPT_MAX_INSNS] = "--max-insns",
    [MOPT_CPU_MHZ] = "--cpu-mhz", [MOPT_EPOCH] = "--epoch", [MOPT_SNAP_EVERY] = "--snap-every",
    [MOPT_NO_ROM] = "--no-rom", [MOPT_REBOOT_RESTARTS] = "--reboot-restarts"};

static bool apply(options *o, const char *name, const char *v, vm_error *err)
{
    uint64_t u;
    if (strcmp(name, "-m") == 0) {
        if (!parse_u64(v, PHYS_MIN_MIB, PHYS_MAX_MIB, &u))
            return vm_fail(err, VM_EINVAL, "-m: '%s' is not a memory size in MiB between %u and %u", v,
                           PHYS_MIN_MIB, PHYS_MAX_MIB);
        o->machine.ram_mib = (uint32_t)u;
    } else if (strcmp(name, "--append") == 0) {
        o->machine.cmdline = v;
    } else if (strcmp(name, "--initrd") == 0) {
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--initrd needs a file name");
        o->machine.initrd = v;
    } else if (strcmp(name, "--serial") == 0) {
        return parse_serial(o, v, err);
    } else if (strcmp(name, "--log") == 0) {
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--log needs a file name or -");
        o->log_path = v;
    } else if (strcmp(name, "--max-insns") == 0) {
        if (!parse_u64(v, 1, UINT64_MAX - 1, &u))
            return vm_fail(err, VM_EINVAL, "--max-insns: '%s' is not a positive instruction count", v);
        o->machine.max_insns = u;
    } else if (strcmp(name, "--cpu-mhz") == 0) {
        if (!parse_u64(v, 1, 100000, &u))
            return vm_fail(err, VM_EINVAL, "--cpu-mhz: '%s' is not a frequency between 1 and 100000 MHz", v);
        o->machine.cpu_mhz = (uint32_t)u;
    } else if (strcmp(name, "--snap-every") == 0) {
        if (!parse_u64(v, 0, UINT64_MAX / 2, &u) || (u > 0 && u < 1000))
            return vm_fail(err, VM_EINVAL, "--snap-every: '%s' is not 0 or an instruction count of at least 1000", v);
        o->machine.snap_every = u;
    } else if (strcmp(name, "--gdb") == 0) {
        if (strncmp(v, "tcp:", 4) != 0)
            return vm_fail(err, VM_EINVAL, "--gdb: '%s' is not tcp:HOST:PORT", v);
        o->gdb_spec = v;
    } else if (strcmp(name, "--symbols") == 0) {
        if (!*v)
            return vm_fail(err, VM_EINVAL, "--symbols needs a file name");
        o->symbols_path = v;
    } else if (strcmp(name, "-x") == 0) {
        o->script = v;
    } else if (strcmp(name, "--record") == 0 || strcmp(name, "--replay") == 0) {
        if (!*v)
            return vm_fail(err, VM_EINVAL, "%s needs a file name", name);
        if (strcmp(name, "--record") == 0)
            o->record_path = v;
        else
            o->replay_path = v;
    } else if (strcmp(name, "--screenshot-at") == 0 || strcmp(name, "--keys-at") == 0) {
        return sched_add(&o->sched, name[2] == 's' ? SCHED_SCREENSHOT : SCHED_KEYS, v, name, err);
    } else if (strcmp(name, "--display") == 0) {
        if (strcmp(v, "none") != 0 && strcmp(v, "sdl") != 0)
            return vm_fail(err, VM_EINVAL, "--display: '%s' is not none or sdl", v);
        o->display_sdl = strcmp(v, "sdl") == 0;
    } else if (strcmp(name, "--log-mem") == 0) {
        if (!parse_u64(v, 1, 1u << 20, &u))
            return vm_fail(err, VM_EINVAL, "--log-mem: '%s' is not a size in MiB between 1 and 1048576", v);
        o->machine.log_mem_mib = (uint32_t)u;
    } else if (strcmp(name, "--snap-mem") == 0) {
        if (!parse_u64(v, 1, 1u << 20, &u))
            return vm_fail(err, VM_EINVAL, "--snap-mem: '%s' is not a size in MiB between 1 and 1048576", v);
        o->machine.snap_mem_mib = (uint32_t)u;
    } else if (strcmp(name, "--epoch") == 0) {
        int64_t e;
        /* Keep epoch * 10^9 + run time inside 64 bits of nanoseconds. */
        if (!parse_i64(v, &e) || e < 0 || e > 16000000000ll)
            return vm_fail(err, VM_EINVAL, "--epoch: '%s' is not a time in seconds since 1970 (0..16000000000)", v);
        o->machine.epoch = e;
    }
    return true;
}

static void note_machine_option(options *o, const char *name)
{
    for (size_t i = 0; i < sizeof machine_shaping / sizeof machine_shaping[0]; i++)
        if (strcmp(name, machine_shaping[i]) == 0)
            o->machine_given |= 1u << i;
}

static bool is_valued(const char *name)
{
    for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
        if (strcmp(name, valued[i]) == 0)
            return true;
    return false;
}

bool options_parse(options *o, int argc, char **argv, vm_error *err)
{
    memset(o, 0, sizeof *o);
    machine_config_defaults(&o->machine);
    o->serial = SERIAL_STDIO;
    bool only_files = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->kernel)
                return vm_fail(err, VM_EINVAL, "more than one kernel given ('%s' and '%s')", o->kernel, a);
            o->kernel = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = true;
            continue;
        }
        char name[32];
        const char *eq = strchr(a, '=');
        size_t nlen = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name)
            return vm_fail(err, VM_EINVAL, "unknown option '%s' (try --help)", a);
        memcpy(name, a, nlen);
        name[nlen] = 0;
        note_machine_option(o, name);
        if (is_valued(name)) {
            const char *v = eq && a[1] == '-' ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return vm_fail(err, VM_EINVAL, "%s needs a value (try --help)", name);
            if (!apply(o, name, v, err))
                return false;
        } else if (eq && a[1] == '-') {
            return vm_fail(err, VM_EINVAL, "%s takes no value", name);
        } else if (strcmp(a, "--no-rom") == 0) {
            o->machine.rom_enabled = false;
        } else if (strcmp(a, "--reboot-restarts") == 0) {
            o->machine.reboot_restarts = true;
        } else if (strcmp(a, "-s") == 0) {
            o->gdb_spec = "tcp:127.0.0.1:1234";
        } else if (strcmp(a, "-S") == 0) {
            o->gdb_wait = true;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--shell") == 0) {
            o->shell = true;
        } else if (strcmp(a, "--replay-any-kernel") == 0) {
            o->replay_any_kernel = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
        } else if (strcmp(a, "--version") == 0) {
            o->version = true;
        } else {
            return vm_fail(err, VM_EINVAL, "unknown option '%s' (try --help)", a);
        }
    }
    if (!o->kernel && !o->help && !o->version)
        return vm_fail(err, VM_EINVAL, "no kernel given (usage: vmiemu [options] KERNEL; try --help)");
    if (o->gdb_wait && !o->gdb_spec)
        o->gdb_spec = "tcp:127.0.0.1:1234";
    if (o->record_path && o->replay_path)
        return vm_fail(err, VM_EINVAL, "--record and --replay cannot be used together");
    for (size_t i = 0; o->replay_path && i < o->sched.n; i++)
        if (o->sched.v[i].kind == SCHED_KEYS)
            return vm_fail(err, VM_EINVAL, "--keys-at cannot be used with --replay: a replay types what its record holds");
    return true;
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
    if (OPT_GIVEN(o, MOPT_EPOCH))
        o->machine.epoch = given.epoch;
    if (OPT_GIVEN(o, MOPT_SNAP_EVERY))
        o->machine.snap_every = given.snap_every;
    if (OPT_GIVEN(o, MOPT_NO_ROM))
        o->machine.rom_enabled = given.rom_enabled;
    if (OPT_GIVEN(o, MOPT_REBOOT_RESTARTS))
        o->machine.reboot_restarts = given.reboot_restarts;
    /* Files are given again, never taken from the record; memory budgets do not shape the run. */
    o->machine.initrd = given.initrd;
    o->machine.snap_mem_mib = given.snap_mem_mib;
    o->machine.log_mem_mib = given.log_mem_mib;
}
