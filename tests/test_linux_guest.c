/* The real guest: Linux 2.6.32.69 with CONFIG_VMI (bzImage, protocol 2.10) and its initramfs,
 * from the shared guest directory ($VMIEMU_GUESTS, else ../shared/guests next to the source
 * tree). Without it the suite reports SKIPPED (exit 77, ctest's SKIP_RETURN_CODE) instead of
 * passing. Checks the boot_params the loader builds for it, the CPU state it is entered in,
 * and that the kernel decompresses itself and starts: its banner, the VMI ROM found, the
 * command line and the initramfs unpacked; that it finds PCI, the keyboard controller and ACPI,
 * moves the VMI timer to the local APIC, runs /init's checks to VMI-LINUX-OK over the
 * interrupt-driven serial port and powers off through ACPI; that every port it touches that
 * no vmiemu device answers is one expected (a probe of hardware a PC may lack); and that its
 * restart ends the run as a reboot. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/boot.h"
#include "emu/boot_linux.h"
#include "emu/loader.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define CMDLINE "console=ttyS0 earlyprintk=serial"

static char bzimage[TU_GUEST_PATH], initramfs[TU_GUEST_PATH], initramfs_reboot[TU_GUEST_PATH];

static physmem pm;
static boot_result res;
static size_t rd_size;

static uint32_t param32(uint32_t off) { return phys_read32(&pm, BOOT_LINUX_PARAMS + off); }

static void loaded_setup(void)
{
    vm_error err = {0};
    ck_assert_msg(phys_init(&pm, 128, &err), "%s", err.msg);
    uint8_t *k, *rd;
    size_t ksize;
    ck_assert_msg(loader_read_file(bzimage, &k, &ksize, &err), "%s", err.msg);
    ck_assert_msg(loader_read_file(initramfs, &rd, &rd_size, &err), "%s", err.msg);
    boot_image img = {.path = bzimage, .data = k, .size = ksize};
    boot_options o = {.cmdline = CMDLINE, .initrd_path = initramfs, .initrd = rd, .initrd_size = rd_size};
    ck_assert_msg(boot_load(&pm, &img, &o, &res, &err), "%s", err.msg);
    free(k);
    free(rd);
}

static void loaded_teardown(void) { phys_free(&pm); }

START_TEST(test_real_bzimage_is_loaded_by_the_linux_protocol_2_10)
{
    ck_assert_str_eq(res.protocol, "linux");
    ck_assert_uint_eq(phys_read32(&pm, BOOT_LINUX_PARAMS + HDR_VERSION) & 0xFFFF, 0x020A);
    ck_assert_uint_eq(*phys_ptr(&pm, BOOT_LINUX_PARAMS + HDR_TYPE_OF_LOADER), BOOT_LINUX_LOADER_ID);
}
END_TEST

START_TEST(test_real_bzimage_gets_the_e820_map)
{
    ck_assert_uint_eq(*phys_ptr(&pm, BOOT_LINUX_PARAMS + BP_E820_ENTRIES), 6);
    uint32_t rom = BOOT_LINUX_PARAMS + BP_E820_MAP + 3 * 20;
    ck_assert_uint_eq(phys_read32(&pm, rom), PHYS_ROM_BASE);
    ck_assert_uint_eq(phys_read32(&pm, rom + 16), 2); /* the VMI ROM is reserved */
    uint32_t high = BOOT_LINUX_PARAMS + BP_E820_MAP + 5 * 20;
    ck_assert_uint_eq(phys_read32(&pm, high + 8), (128u << 20) - 0x100000);
}
END_TEST

START_TEST(test_real_bzimage_gets_the_command_line)
{
    ck_assert_uint_eq(param32(HDR_CMD_LINE_PTR), BOOT_LINUX_CMDLINE);
    ck_assert_str_eq((const char *)phys_ptr(&pm, BOOT_LINUX_CMDLINE), CMDLINE);
}
END_TEST

START_TEST(test_real_initramfs_sits_page_aligned_at_the_top_of_ram)
{
    ck_assert_uint_eq(param32(HDR_RAMDISK_SIZE), rd_size);
    ck_assert_uint_eq(param32(HDR_RAMDISK_IMAGE), ((128u << 20) - rd_size) & ~0xFFFu);
    ck_assert_uint_eq(*phys_ptr(&pm, param32(HDR_RAMDISK_IMAGE)), 0x1F); /* gzip magic */
}
END_TEST

START_TEST(test_real_bzimage_entry_registers)
{
    ck_assert_uint_eq(res.cpu.eip, 0x100000);
    ck_assert_uint_eq(res.cpu.esi, BOOT_LINUX_PARAMS);
    ck_assert_uint_eq(res.cpu.cs, 0x10);
    ck_assert_uint_eq(res.cpu.ds, 0x18);
}
END_TEST

/* The machine as the CLI builds it: the CPU really is in that state before the first instruction. */
START_TEST(test_machine_enters_the_kernel_with_esi_cs_and_ds_set)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = CMDLINE;
    cfg.initrd = initramfs;
    cfg.snap_every = 0;
    machine m;
    vm_error err = {0};
    ck_assert_msg(machine_init(&m, &cfg, bzimage, &err), "%s", err.msg);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EIP), 0x100000);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_ESI), BOOT_LINUX_PARAMS);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_CS), 0x10);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_DS), 0x18);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_SS), 0x18);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_ES), 0x18);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EBX) | vcpu_get(m.cpu, CPU_EBP) | vcpu_get(m.cpu, CPU_EDI), 0);
    ck_assert_uint_eq(vcpu_get(m.cpu, CPU_EFLAGS) & 0x200, 0);
    machine_free(&m);
}
END_TEST

START_TEST(test_kernel_decompresses_and_starts_on_the_vmi_rom)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = CMDLINE;
    cfg.initrd = initramfs;
    cfg.snap_every = 0;
    cfg.max_insns = 120000000; /* "Unpacking initramfs" comes at about 95 million since ACPI starts */
    static tu_machine t;
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(&t, &cfg, bzimage, &err), "%s", err.msg);
    static const char *const want[] = {
        "Linux version 2.6.32.69",                 /* decompressed and started */
        "VMI: Found vmiemu",                       /* found the ROM at 0xC0000 */
        "Kernel command line: " CMDLINE,           /* --append */
        "Booting paravirtualized kernel on vmi",   /* uses it */
        "Unpacking initramfs",                     /* --initrd */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(t.serial, want[i]), "serial lacks '%s':\n%s", want[i], t.serial);
    ck_assert_msg(!strstr(t.serial, "initrd overwritten") && !strstr(t.serial, "initrd extends beyond"),
                  "the kernel did not like the initrd:\n%s", t.serial);
    machine_free(&t.m);
}
END_TEST



/* The whole boot, once for the tests below (Check runs an unchecked fixture in its parent):
 * up to init and its end, whatever that is now (halt, power-off, the limit). */
static tu_machine *full;

static void full_boot(void)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = "console=tty0 console=ttyS0"; /* the kernel's messages on the VGA screen too */
    cfg.initrd = initramfs;
    cfg.snap_every = 0;
    cfg.max_insns = 600000000;
    full = calloc(1, sizeof *full);
    vm_error err = {0};
    if (!full || !tu_boot_and_run(full, &cfg, bzimage, &err)) {
        fprintf(stderr, "cannot boot %s: %s\n", bzimage, err.msg);
        exit(EXIT_FAILURE);
    }
}

/* The serial output's last 2000 bytes, enough to see where the boot was in a failure message. */
static const char *tail(void) { return full->serial_len > 2000 ? full->serial + full->serial_len - 2000 : full->serial; }

static void full_free(void)
{
    machine_free(&full->m);
    free(full);
}

START_TEST(test_linux_finds_pci_configuration_type_1_and_probes_the_bus)
{
    ck_assert_msg(strstr(full->serial, "PCI: Using configuration type 1"), "%s", tail());
    /* With ACPI on, the bus is scanned below the DSDT's root bridge, not by "Probing PCI
     * hardware"; the 440FX's quirk line shows the host bridge was found on it. */
    ck_assert_msg(strstr(full->serial, "ACPI: PCI Root Bridge [PCI0] (0000:00)"), "%s", tail());
    ck_assert_msg(strstr(full->serial, "pci 0000:00:00.0: Limiting direct PCI/PCI transfers"), "%s", tail());
    ck_assert_msg(!strstr(full->serial, "No config space access") && !strstr(full->serial, "does not support PCI"),
                  "%s", tail());
}
END_TEST

START_TEST(test_linux_finds_the_keyboard_controller_and_its_keyboard)
{
    ck_assert_msg(strstr(full->serial, "serio: i8042 KBD port at 0x60,0x64 irq 1"), "%s", tail());
    ck_assert_msg(strstr(full->serial, "input: AT Translated Set 2 keyboard"), "%s", tail());
    /* Every complaint of the drivers starts so ("i8042.c: No controller found.", "i8042: giving
     * up on controller selftest", "atkbd.c: keyboard reset failed", "psmouse.c: bad data"). */
    ck_assert_msg(!strstr(full->serial, "i8042.c:") && !strstr(full->serial, "i8042: ") &&
                      !strstr(full->serial, "atkbd.c:") && !strstr(full->serial, "psmouse.c:"),
                  "%s", tail());
}
END_TEST

START_TEST(test_vgacon_takes_the_console_on_the_vga_text_screen)
{
    ck_assert_msg(strstr(full->serial, "Console: colour VGA+ 80x25"), "%s", tail());
    /* The screen as the VGA shows it (from the CRTC's start address): the boot's last messages,
     * written by vgacon into the text buffer. */
    char screen[VGA_TEXT_ROWS * (VGA_TEXT_COLS + 1) + 1];
    size_t len = 0;
    uint16_t start = vga_start_cell(&full->m.vga);
    for (unsigned cell = 0; cell < VGA_TEXT_ROWS * VGA_TEXT_COLS; cell++) {
        screen[len++] = (char)*phys_ptr(&full->m.mem, PHYS_VGA_TEXT + ((start + cell) * 2u) % VGA_TEXT_WINDOW);
        if (cell % VGA_TEXT_COLS == VGA_TEXT_COLS - 1)
            screen[len++] = '\n';
    }
    screen[len] = 0;
    ck_assert_msg(strstr(screen, "Freeing unused kernel memory") && strstr(screen, "Power down."), "%s", screen);
}
END_TEST

/* Ports the boot may touch although no device answers them: probes of hardware a PC may lack.
 * Anything else unknown on the normal path is noise to model (or to add here, with why). */
static const struct expected_port {
    uint16_t port;
    const char *why;
} expected_ports[] = {
    {0x2E9, "8250 probe of COM4 (0x2E8): scratch/IER test, absent"},
    {0x2F9, "8250 probe of COM2 (0x2F8): IER test, absent"},
    {0x3E9, "8250 probe of COM3 (0x3E8): IER test, absent"},
};

static const char *why_expected(uint16_t port)
{
    for (size_t i = 0; i < sizeof expected_ports / sizeof expected_ports[0]; i++)
        if (expected_ports[i].port == port)
            return expected_ports[i].why;
    return NULL;
}

START_TEST(test_linux_boot_touches_no_unknown_port_it_should_not)
{
    char unexpected[4096] = "";
    size_t len = 0, n = evlog_count(&full->m.log), seen = 0;
    bool listed[0x10000] = {false};
    for (size_t i = 0; i < n; i++) {
        const vm_event *ev = tu_event(&full->m.log, i);
        if (ev->kind != EV_PORT_IN && ev->kind != EV_PORT_OUT)
            continue;
        seen++;
        if (why_expected(ev->num) || listed[ev->num])
            continue;
        listed[ev->num] = true;
        if (len < sizeof unexpected - 64)
            len += (size_t)snprintf(unexpected + len, sizeof unexpected - len, " %s 0x%x (eip 0x%08x)",
                                    ev->kind == EV_PORT_IN ? "in" : "out", ev->num, ev->eip);
    }
    ck_assert_msg(len == 0, "unexpected unknown ports:%s", unexpected);
    ck_assert_uint_gt(seen, 0); /* the expected probes happened: the check looked at a real boot */
}
END_TEST


/* /init that ends with reboot(RB_AUTOBOOT): Linux restarts through the keyboard controller's
 * reset line (reboot.c: 0xFE to port 0x64), which ends the run as a reboot. */
START_TEST(test_linux_restart_resets_through_the_keyboard_controller)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = "console=ttyS0";
    cfg.initrd = initramfs_reboot;
    cfg.snap_every = 0;
    cfg.max_insns = 600000000;
    static tu_machine t;
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(&t, &cfg, bzimage, &err), "%s", err.msg);
    ck_assert_msg(t.m.end == END_REBOOT, "ended %s: %s", machine_end_name(t.m.end), t.m.end_message);
    ck_assert_msg(strstr(t.m.end_message, "port 0x64"), "%s", t.m.end_message);
    ck_assert_msg(strstr(t.serial, "VMI-LINUX-OK") && strstr(t.serial, "Restarting system."), "%s",
                  t.serial + (t.serial_len > 1500 ? t.serial_len - 1500 : 0));
    machine_free(&t.m);
}
END_TEST

/* With the firmware's ACPI tables the kernel enables its interpreter, finds \_S5, and its
 * power-off (acpi_power_off: SLP_TYP|SLP_EN to PM1a_CNT) ends the run with the shutdown status,
 * without one ACPI error or warning on the way. The only ACPI warning this kernel prints,
 * "Failed to create genetlink family", comes from its configuration (no CONFIG_NET). */
START_TEST(test_kernel_finds_acpi_and_powers_off_through_it)
{
    static const char *const want[] = {"ACPI: RSDP 000e0000", "ACPI: FACP", "ACPI: DSDT", "ACPI: PM-Timer IO Port: 0x608",
                                       "ACPI: Interpreter enabled", "ACPI: (supports S0 S5)",
                                       "ACPI: Preparing to enter system sleep state S5"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(full->serial, want[i]), "serial lacks '%s'", want[i]);
    static const char *const never[] = {"Interpreter disabled", "ACPI Error", "ACPI Warning", "ACPI Exception",
                                        "PM-Timer running at invalid rate", "PM-Timer had", "PM-Timer failed"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        ck_assert_msg(!strstr(full->serial, never[i]), "serial has '%s'", never[i]);
    ck_assert_msg(full->m.end == END_SHUTDOWN, "ended %s: %s", machine_end_name(full->m.end), full->m.end_message);
}
END_TEST

/* The tty on ttyS0 transmits on the UART's THR-empty interrupt: without it /init's output
 * stalls after 16 bytes ("init: hello from") and the kernel never gets further. */
START_TEST(test_init_runs_its_checks_over_the_interrupt_driven_serial_port)
{
    static const char *const want[] = {
        "serial8250: ttyS0 at I/O 0x3f8 (irq = 4) is a 16550A", /* probed as a 16550A */
        "init: hello from userspace", /* past the first 16 bytes */
        "init: fork+waitpid ok",
        "IO-APIC-edge      serial", /* /proc/interrupts: IRQ 4 taken, through the IO-APIC */
        "VMI-LINUX-OK",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(full->serial, want[i]), "serial lacks '%s'; it ends:\n%s", want[i], tail());
}
END_TEST

static const vm_event *vmi_event(const evlog *log, size_t i, uint16_t num)
{
    const vm_event *ev = tu_event(log, i);
    return ev->kind == EV_VMI_CALL && ev->num == num ? ev : NULL;
}

/* The VMI timer's switch to the local APIC, as the kernel takes it with the MADT's local APIC
 * and IO-APIC (it routes ISA interrupts through the IO-APIC): vmi_time_bsp_init: CancelAlarm of the IRQ 0 alarm,
 * APICWrite(LVTT, 0x41), SetAlarm wired to the LVTT; from then on the ticks arrive as vector
 * 0x41 through the local APIC (EOI by APICWrite(EOI)), none as IRQ 0 (vector 0x30), and the
 * boot still reaches /init. */
START_TEST(test_kernel_moves_the_vmi_alarm_to_the_local_apic_timer)
{
    ck_assert_msg(strstr(full->serial, "ACPI: LAPIC (acpi_id[0x00] lapic_id[0x00] enabled)"), "no local APIC:\n%s", tail());
    ck_assert_msg(strstr(full->serial, "Enabling APIC mode:  Flat.  Using 1 I/O APICs"), "no IO-APIC:\n%s", tail());
    ck_assert_msg(strstr(full->serial, "init: hello from"), "/init not reached:\n%s", tail());
    static const char *const bad[] = {"APIC: disable", "Local APIC disabled", "spurious", "APIC error",
                                      "timer doesn't work", "not detected"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!strstr(full->serial, bad[i]), "serial has '%s'", bad[i]);
    const evlog *log = &full->m.log;
    size_t n = evlog_count(log), lvtt = 0, wired = 0, apic_ticks = 0, irq0_before = 0, irq0_after = 0, eois = 0;
    bool on_irq0 = false, cancelled = false;
    for (size_t i = 0; i < n; i++) {
        const vm_event *ev = tu_event(log, i), *c;
        if (!lvtt && (c = vmi_event(log, i, VMI_CALL_SetAlarm)) && !(c->args[0] & 0x10000))
            on_irq0 = true; /* vmi_time_init: first wired to IRQ 0 */
        if (!lvtt && on_irq0 && (c = vmi_event(log, i, VMI_CALL_CancelAlarm)) && !c->failed)
            cancelled = true;
        if (!lvtt && (c = vmi_event(log, i, VMI_CALL_APICWrite)) && c->args[0] == APIC_LVT_TIMER && c->args[1] == 0x41)
            lvtt = i;
        if (lvtt && !wired && (c = vmi_event(log, i, VMI_CALL_SetAlarm)) && (c->args[0] & 0x10000))
            wired = i;
        if (on_irq0 && !lvtt && ev->kind == EV_EXCEPTION && (ev->args[2] & 4) && ev->num == 0x30)
            irq0_before++; /* SetAlarm's expiry is now, while the parked PIT holds IRQ 0 high */
        if (wired && ev->kind == EV_EXCEPTION && (ev->args[2] & 4)) { /* external interrupts */
            apic_ticks += ev->num == 0x41;
            irq0_after += ev->num == 0x30;
        }
        if (wired && (c = vmi_event(log, i, VMI_CALL_APICWrite)) && c->args[0] == APIC_EOI)
            eois++;
    }
    ck_assert_msg(on_irq0 && cancelled && lvtt, "no SetAlarm on IRQ 0, CancelAlarm, APICWrite(LVTT, 0x41)");
    ck_assert_msg(irq0_before >= 1, "the IRQ 0 alarm (expiry: now) never ticked before the switch");
    ck_assert_msg(wired, "no SetAlarm wired to the LVTT after the LVTT write");
    ck_assert_uint_ge(apic_ticks, 2);
    ck_assert_uint_eq(irq0_after, 0);
    ck_assert_uint_ge(eois, apic_ticks);
}
END_TEST


/* The client path as the kernel takes it: every kind of call a VMI kernel of this generation
 * must make, at least about half as often as this build makes it on vmiemu (the counts in the
 * comments), so a call the ROM stops honouring, or a path the kernel stops taking, fails here. */
static const struct call_minimum {
    uint16_t num;
    size_t min;
} call_minimums[] = {
    {0x100, 1},                               /* Init: 1 */
    {0x101, 2000},                            /* GetRelocationInfo: 4458, one per call site kind patched */
    {VMI_CALL_SetPxE, 1500},                  /* 3647: every page-table store */
    {VMI_CALL_UpdatePxE, 300},                /* 606 */
    {VMI_CALL_AllocatePage, 10},              /* 21: page-table pages announced */
    {VMI_CALL_ReleasePage, 5},                /* 12: and released (processes exit) */
    {VMI_CALL_InvalPage, 150},                /* 395 */
    {VMI_CALL_FlushTLB, 5},                   /* 15 */
    {VMI_CALL_SetCR3, 5},                     /* 12: address-space switches of /init's children */
    {VMI_CALL_SetLinearMapping, 1},           /* 1: the ROM's own mapping */
    {VMI_CALL_EnableInterrupts, 2500},        /* 5229 */
    {VMI_CALL_DisableInterrupts, 20000},      /* 44614 */
    {VMI_CALL_GetInterruptMask, 20000},       /* 41802 */
    {VMI_CALL_SetInterruptMask, 18000},       /* 38759 */
    {VMI_CALL_IRET, 600},                     /* 1349 */
    {VMI_CALL_UpdateKernelStack, 400},        /* 917: context switches */
    {VMI_CALL_Halt, 15},                      /* 35: the idle loop */
    {VMI_CALL_SetAlarm, 2},                   /* 2: on IRQ 0, then on the APIC timer */
    {VMI_CALL_CancelAlarm, 1},                /* 1: the switch */
    {VMI_CALL_GetWallclockTime, 1},           /* 1 */
    {VMI_CALL_GetCycleFrequency, 2},          /* 5 */
    {VMI_CALL_GetCycleCounter, 1000},         /* 2584 */
    {VMI_CALL_APICWrite, 40},                 /* 89: LVT set-up and EOIs */
    {VMI_CALL_WriteIDTEntry, 100},            /* 243 */
    {VMI_CALL_SetLazyMode, 900},              /* 1912 */
};

START_TEST(test_kernel_makes_each_kind_of_vmi_call_a_vmi_kernel_must)
{
    size_t counts[0x102] = {0};
    for (size_t i = 0, n = evlog_count(&full->m.log); i < n; i++) {
        const vm_event *ev = tu_event(&full->m.log, i);
        if (ev->kind == EV_VMI_CALL && ev->num < 0x102)
            counts[ev->num]++;
    }
    for (size_t i = 0; i < sizeof call_minimums / sizeof call_minimums[0]; i++)
        ck_assert_msg(counts[call_minimums[i].num] >= call_minimums[i].min, "call %u made %zu times, want at least %zu",
                      call_minimums[i].num, counts[call_minimums[i].num], call_minimums[i].min);
    /* IODelay: the ROM answers NOP, so pv io_delay is the kernel's empty vmi_nop and the 4.3 M
     * delays of verify_pmtmr_rate's wait on PIT channel 2 are no calls at all. */
    ck_assert_uint_eq(counts[VMI_CALL_IODelay], 0);
    bool asked = false;
    for (size_t i = 0, n = evlog_count(&full->m.log); i < n; i++) {
        const vm_event *ev = tu_event(&full->m.log, i);
        if (ev->kind == EV_VMI_CALL && ev->num == 0x101 && ev->args[0] == VMI_CALL_IODelay) {
            asked = true;
            ck_assert_uint_eq(ev->result >> 32 & 0xFF, 3); /* VMI_RELOCATION_NOP */
        }
    }
    ck_assert(asked);
}
END_TEST

/* The same bzImage without the ROM: the kernel's probe finds nothing and it runs on the native
 * path to the same result. */
START_TEST(test_same_bzimage_without_the_rom_boots_natively_to_vmi_linux_ok)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = "console=ttyS0";
    cfg.initrd = initramfs;
    cfg.rom_enabled = false;
    cfg.snap_every = 0;
    cfg.max_insns = 600000000;
    static tu_machine t;
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(&t, &cfg, bzimage, &err), "%s", err.msg);
    const char *end = t.serial + (t.serial_len > 1500 ? t.serial_len - 1500 : 0);
    ck_assert_msg(strstr(t.serial, "Booting paravirtualized kernel on bare hardware"), "%s", end);
    ck_assert_msg(strstr(t.serial, "VMI-LINUX-OK"), "%s", end);
    ck_assert_msg(t.m.end == END_SHUTDOWN, "ended %s: %s", machine_end_name(t.m.end), t.m.end_message);
    for (size_t i = 0, n = evlog_count(&t.m.log); i < n; i++)
        ck_assert_int_ne(tu_event(&t.m.log, i)->kind, EV_VMI_CALL);
    machine_free(&t.m);
}
END_TEST

static Suite *linux_guest_suite(void)
{
    Suite *s = suite_create("linux_guest");
    TCase *ld = tcase_create("loaded");
    tcase_add_checked_fixture(ld, loaded_setup, loaded_teardown);
    tcase_add_test(ld, test_real_bzimage_is_loaded_by_the_linux_protocol_2_10);
    tcase_add_test(ld, test_real_bzimage_gets_the_e820_map);
    tcase_add_test(ld, test_real_bzimage_gets_the_command_line);
    tcase_add_test(ld, test_real_initramfs_sits_page_aligned_at_the_top_of_ram);
    tcase_add_test(ld, test_real_bzimage_entry_registers);
    suite_add_tcase(s, ld);
    TCase *run = tcase_create("run");
    tcase_set_timeout(run, 240);
    tcase_add_test(run, test_machine_enters_the_kernel_with_esi_cs_and_ds_set);
    tcase_add_test(run, test_kernel_decompresses_and_starts_on_the_vmi_rom);
    tcase_add_test(run, test_linux_restart_resets_through_the_keyboard_controller);
    tcase_add_test(run, test_same_bzimage_without_the_rom_boots_natively_to_vmi_linux_ok);
    suite_add_tcase(s, run);
    TCase *boot = tcase_create("boot");
    tcase_set_timeout(boot, 600);
    tcase_add_unchecked_fixture(boot, full_boot, full_free);
    tcase_add_test(boot, test_linux_finds_pci_configuration_type_1_and_probes_the_bus);
    tcase_add_test(boot, test_linux_finds_the_keyboard_controller_and_its_keyboard);
    tcase_add_test(boot, test_vgacon_takes_the_console_on_the_vga_text_screen);
    tcase_add_test(boot, test_linux_boot_touches_no_unknown_port_it_should_not);
    tcase_add_test(boot, test_kernel_moves_the_vmi_alarm_to_the_local_apic_timer);
    tcase_add_test(boot, test_kernel_finds_acpi_and_powers_off_through_it);
    tcase_add_test(boot, test_init_runs_its_checks_over_the_interrupt_driven_serial_port);
    tcase_add_test(boot, test_kernel_makes_each_kind_of_vmi_call_a_vmi_kernel_must);
    suite_add_tcase(s, boot);
    return s;
}

int main(void)
{
    if (!tu_linux_guest_files(bzimage, "bzImage", initramfs, "initramfs.cpio.gz", initramfs_reboot, "init-reboot.cpio.gz", NULL))
        return TU_SKIP;
    return suite_run(linux_guest_suite());
}
