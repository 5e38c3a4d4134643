/* The real guest: Linux 2.6.32.69 with CONFIG_VMI (bzImage, protocol 2.10) and its initramfs,
 * from the shared guest directory ($VMIEMU_GUESTS, else ../shared/guests next to the source
 * tree). Without it the suite reports SKIPPED (exit 77, ctest's SKIP_RETURN_CODE) instead of
 * passing. Checks the boot_params the loader builds for it, the CPU state it is entered in,
 * and that the kernel decompresses itself and starts: its banner, the VMI ROM found, the
 * command line and the initramfs unpacked. How far the boot gets after that belongs to the
 * device work, so the end of the run is not asserted. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emu/boot.h"
#include "emu/boot_linux.h"
#include "emu/loader.h"
#include "support/testutil.h"

#define SKIP_CODE 77
#define CMDLINE "console=ttyS0 earlyprintk=serial"

static char bzimage[4096], initramfs[4096];

static bool find_guest(void)
{
    const char *dir = getenv("VMIEMU_GUESTS");
    const char *base = dir && *dir ? dir : VMIEMU_SOURCE_DIR "/../shared/guests";
    snprintf(bzimage, sizeof bzimage, "%s/vmilinux-2.6.32/bzImage", base);
    snprintf(initramfs, sizeof initramfs, "%s/vmilinux-2.6.32/initramfs.cpio.gz", base);
    struct stat st;
    return stat(bzimage, &st) == 0 && stat(initramfs, &st) == 0;
}

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

/* With the firmware's ACPI tables the kernel enables its interpreter, finds \_S5, and its
 * power-off (acpi_power_off: SLP_TYP|SLP_EN to PM1a_CNT) ends the run with the shutdown status,
 * without one ACPI error or warning on the way. The only ACPI warning this kernel prints,
 * "Failed to create genetlink family", comes from its configuration (no CONFIG_NET). */
START_TEST(test_kernel_finds_acpi_and_powers_off_through_it)
{
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = CMDLINE;
    cfg.initrd = initramfs;
    cfg.snap_every = 0;
    cfg.max_insns = 3000000000u;
    static tu_machine t;
    vm_error err = {0};
    ck_assert_msg(tu_boot_and_run(&t, &cfg, bzimage, &err), "%s", err.msg);
    static const char *const want[] = {"ACPI: RSDP 000e0000", "ACPI: FACP", "ACPI: DSDT", "ACPI: PM-Timer IO Port: 0x608",
                                       "ACPI: Interpreter enabled", "ACPI: (supports S0 S5)",
                                       "ACPI: Preparing to enter system sleep state S5"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(t.serial, want[i]), "serial lacks '%s'", want[i]);
    static const char *const never[] = {"Interpreter disabled", "ACPI Error", "ACPI Warning", "ACPI Exception",
                                        "PM-Timer running at invalid rate", "PM-Timer had", "PM-Timer failed"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        ck_assert_msg(!strstr(t.serial, never[i]), "serial has '%s'", never[i]);
    ck_assert_int_eq(t.m.end, END_SHUTDOWN);
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
    tcase_add_test(run, test_kernel_finds_acpi_and_powers_off_through_it);
    suite_add_tcase(s, run);
    return s;
}

int main(void)
{
    if (!find_guest()) {
        printf("SKIPPED: no Linux guest (%s); set VMIEMU_GUESTS to the shared guest directory\n", bzimage);
        return SKIP_CODE;
    }
    SRunner *sr = srunner_create(linux_guest_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
