/* hello: find the VMI ROM (or notice there is none), activate it, exercise the read-only
 * calls, check what can be checked, and end the run the way the command line asks:
 * `exit` (default), `shutdown`, `halt` or `reboot`. `verbose` also lists every relocation.
 * `shutdown` is the demo's ending (scripts/run.sh: exit status 0), so it stands for PASS: a
 * failed check ends through the exit port instead (FAIL, status 35).
 * The same ELF runs natively under QEMU, where every call falls back to the instruction. */
#include <stdbool.h>
#include <stdint.h>

#include "div64.h"
#include "exit.h"
#include "io.h"
#include "kprintf.h"
#include "multiboot.h"
#include "serial.h"
#include "vmi.h"

#define NS_PER_SEC 1000000000u
#define Y2K_SECONDS 946684800u /* 2000-01-01 00:00:00 UTC */

static const char *first_failure;

/* Record a failed expectation; the first one becomes the verdict's reason. */
static void check(bool ok, const char *what)
{
    if (ok)
        return;
    kprintf("check failed: %s\n", what);
    if (!first_failure)
        first_failure = what;
}

static bool rom_checksum_ok(const struct vmi_rom_header *h, uint32_t size)
{
    const uint8_t *p = (const uint8_t *)h;
    uint8_t sum = 0;
    for (uint32_t i = 0; i < size; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum == 0;
}

static void report_rom(const struct vmi_rom_header *h)
{
    const uint32_t size = vmi_rom_size();
    kprintf("VMI ROM found at 0x%08x, API %u.%u\n", vmi_rom_base(), h->api_version_maj,
            h->api_version_min);
    const char *mfr = vmi_pnp_manufacturer(), *product = vmi_pnp_product();
    kprintf("pnp manufacturer: %s\n", mfr ? mfr : "(none)");
    kprintf("pnp product: %s\n", product ? product : "(none)");
    kprintf("rom size: %u bytes\n", size);
    kprintf("rom virtual_top: 0x%08x\n", h->virtual_top);
    check(size != 0, "ROM length byte is 0");
    const bool sum_ok = size != 0 && rom_checksum_ok(h, size);
    kprintf("rom checksum: %s\n", sum_ok ? "ok" : "bad");
    check(sum_ok, "ROM bytes do not sum to 0");
}

/* Count relocation types and check what VMI.md requires of them. */
static void report_relocs(bool verbose)
{
    unsigned count[4] = {0}, invalid = 0;
    const uint32_t lo = vmi_rom_base(), hi = lo + vmi_rom_size();
    for (unsigned n = 0; n < VMI_NUM_CALLS; n++) {
        const struct vmi_reloc r = vmi_get_reloc(n);
        const char *name = vmi_call_name(n);
        if (verbose)
            kprintf("reloc %u %s: %s 0x%08x\n", n, name ? name : "(undefined)",
                    vmi_reloc_type_name(r.type), r.addr);
        if (r.type > VMI_RELOC_NOP) {
            invalid++;
            continue;
        }
        count[r.type]++;
        if (!name)
            check(r.type == VMI_RELOC_NONE, "an undefined call number is not NONE");
        if (r.type == VMI_RELOC_JUMP_REL)
            check(n == VMI_CALL_IRET || n == VMI_CALL_SYSEXIT,
                  "JUMP_REL for a call other than IRET/SYSEXIT");
        if (r.type == VMI_RELOC_CALL_REL || r.type == VMI_RELOC_JUMP_REL)
            check(r.addr >= lo && r.addr < hi, "a call's address lies outside the ROM");
    }
    kprintf("relocations: CALL_REL %u, JUMP_REL %u, NOP %u, NONE %u\n",
            count[VMI_RELOC_CALL_REL], count[VMI_RELOC_JUMP_REL], count[VMI_RELOC_NOP],
            count[VMI_RELOC_NONE]);
    check(invalid == 0, "invalid relocation type");
    if (vmi_active()) {
        check(vmi_get_reloc(VMI_CALL_IRET).type != VMI_RELOC_NONE, "IRET is NONE");
        check(vmi_get_reloc(VMI_CALL_SYSEXIT).type != VMI_RELOC_NONE, "SYSEXIT is NONE");
    }
}

static void test_cpuid(void)
{
    const struct cpuid_regs r0 = vmi_cpuid(0, 0);
    char vendor[13];
    const uint32_t words[3] = {r0.ebx, r0.edx, r0.ecx};
    bool printable = true;
    for (int i = 0; i < 12; i++) {
        vendor[i] = (char)(words[i / 4] >> (8 * (i % 4)));
        printable = printable && vendor[i] >= 0x20 && vendor[i] < 0x7F;
    }
    vendor[12] = '\0';
    kprintf("cpuid max leaf: 0x%08x\n", r0.eax);
    kprintf("cpuid vendor: %s\n", printable ? vendor : "(unprintable)");
    check(printable, "CPUID vendor string is not printable");
    if (r0.eax >= 1) {
        const struct cpuid_regs r1 = vmi_cpuid(1, 0);
        kprintf("cpuid 1: eax 0x%08x edx 0x%08x\n", r1.eax, r1.edx);
    }
}

static void test_rdtsc(void)
{
    const uint64_t a = vmi_rdtsc(), b = vmi_rdtsc();
    kprintf("rdtsc 1: %llu\n", a);
    kprintf("rdtsc 2: %llu\n", b);
    check(b > a, "RDTSC did not increase");
}

static void test_cycle_counters(void)
{
    static const char *const names[3] = {"real", "available", "stolen"};
    const uint64_t freq = vmi_get_cycle_frequency();
    if (freq)
        kprintf("cycle frequency: %llu Hz\n", freq);
    else
        kprintf("cycle frequency: unknown\n");
    if (vmi_has(VMI_CALL_GetCycleFrequency))
        check(freq != 0, "GetCycleFrequency returned 0");
    for (uint32_t c = VMI_CYCLES_REAL; c <= VMI_CYCLES_STOLEN; c++) {
        const uint64_t a = vmi_get_cycle_counter(c), b = vmi_get_cycle_counter(c);
        kprintf("cycle counter %s: %llu -> %llu\n", names[c], a, b);
        if (c == VMI_CYCLES_REAL)
            check(b > a, "real cycle counter did not increase");
        else
            check(b >= a, "a cycle counter went backwards");
    }
}

static void test_wallclock(void)
{
    const uint64_t ns = vmi_get_wallclock_time();
    uint32_t frac;
    const uint64_t secs = div64_u32(ns, NS_PER_SEC, &frac);
    kprintf("wallclock: %llu.%09u s\n", secs, frac);
    check(secs >= Y2K_SECONDS, "wall clock is before 2000-01-01");
    kprintf("wallclock updated: %u\n", vmi_wallclock_updated());
}

/* Mask every line of both 8259 PICs, so natively nothing can wake a halted CPU either. */
static void pic_mask_all(void)
{
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}

/* End the run as the command line asks; `exit` (or no word) and `shutdown` use the verdict. */
static _Noreturn void finish(const char *cmdline, bool pass)
{
    if (mb_cmdline_has(cmdline, "shutdown") && pass) {
        kprintf("ending: shutdown\n");
        vmi_shutdown();
        kprintf("hello: Shutdown returned\n");
    } else if (mb_cmdline_has(cmdline, "halt")) {
        kprintf("ending: halt\n");
        vmi_disable_interrupts();
        pic_mask_all();
        vmi_halt();
        kprintf("hello: Halt returned\n");
    } else if (mb_cmdline_has(cmdline, "reboot")) {
        kprintf("ending: reboot\n");
        vmi_reboot();
        kprintf("hello: Reboot returned\n");
    } else {
        kprintf("ending: exit\n");
        test_exit(pass ? TEST_PASS : TEST_FAIL);
    }
    test_exit(TEST_FAIL);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    const char *cmdline = mb_cmdline(magic, mbi);
    kprintf("hello: vmiemu test kernel\n");
    kprintf("multiboot magic: 0x%08x\n", magic);
    check(magic == MB_BOOT_MAGIC, "bad Multiboot magic");
    kprintf("cmdline: %s\n", cmdline);

    const struct vmi_rom_header *rom = vmi_probe();
    if (rom) {
        report_rom(rom);
        const int32_t rc = vmi_init();
        kprintf("vmi init: %d\n", rc);
        check(rc == 0, "Init returned non-zero");
        kprintf("kernel ring: %u\n", vmi_kernel_ring());
    } else {
        kprintf("no VMI ROM: running natively\n");
    }
    report_relocs(mb_cmdline_has(cmdline, "verbose"));

    test_cpuid();
    test_rdtsc();
    test_cycle_counters();
    test_wallclock();
    kprintf("iodelay: %s\n", vmi_io_delay());

    if (first_failure)
        kprintf("hello: FAIL (%s)\n", first_failure);
    else
        kprintf("hello: PASS\n");
    finish(cmdline, !first_failure);
}
