/* Boot protocols (emu/boot.h) and the Linux/x86 32-bit boot (emu/boot_linux.c): the protocol is
 * chosen by content; a valid bzImage lands at 1 MiB with a boot_params page, command line and
 * initrd placed as the protocol says and the CPU in its entry state; every malformed image,
 * initrd or command line is refused with one "FILE: problem" message and guest RAM untouched.
 * Images are synthetic bzImages built here (bz_build) with one thing broken per test; the loader
 * sees an exactly-sized heap copy, so a read past the end trips ASan. The CLI part runs the
 * vmiemu binary on such images written to files. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/acpi.h"
#include "emu/boot.h"
#include "emu/boot_linux.h"
#include "emu/loader.h"
#include "support/suite_main.h"
#include "support/testutil.h"

#define PATH "bzImage"
#define INITRD "initrd.img"
#define GUEST_MIB 128u
#define SETUP_SECTS 4u
#define PM_OFFSET ((SETUP_SECTS + 1) * 512u)
#define PM_SIZE 0x2000u
#define INIT_SIZE 0x10000u
#define IMG_MAX 0x10000u

static physmem pm;
static uint8_t img[IMG_MAX];
static size_t img_size;
static vm_error err;
static boot_result res;
static uint8_t *initrd;
static size_t initrd_size;
static const char *initrd_path;

static void put16(size_t off, uint16_t v)
{
    img[off] = (uint8_t)v;
    img[off + 1] = (uint8_t)(v >> 8);
}

static void put32(size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        img[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(size_t off, uint64_t v)
{
    put32(off, (uint32_t)v);
    put32(off + 4, (uint32_t)(v >> 32));
}

static uint32_t ram32(uint64_t addr) { return phys_read32(&pm, addr); }
static uint16_t ram16(uint64_t addr) { return (uint16_t)ram32(addr); }
static uint8_t ram8(uint64_t addr) { return *phys_ptr(&pm, addr); }
static uint64_t ram64(uint64_t addr) { return ram32(addr) | (uint64_t)ram32(addr + 4) << 32; }
static uint32_t param32(uint32_t off) { return ram32(BOOT_LINUX_PARAMS + off); }

/* A protocol 2.10 bzImage as 2.6.32 builds them, but small: 4 setup sectors, an 8 KiB
 * protected-mode kernel of a known pattern that runs where it is loaded and needs 64 KiB. */
static void bz_build(void)
{
    memset(img, 0, sizeof img);
    img[HDR_SETUP_SECTS] = SETUP_SECTS;
    put32(HDR_SYSSIZE, PM_SIZE / 16);
    put16(HDR_BOOT_FLAG, 0xAA55);
    img[HDR_JUMP] = 0xEB;
    img[HDR_JUMP + 1] = 0x62; /* header ends at 0x264 */
    memcpy(img + HDR_HEADER, "HdrS", 4);
    put16(HDR_VERSION, 0x020A);
    img[HDR_LOADFLAGS] = LOADFLAG_LOADED_HIGH;
    put32(HDR_CODE32_START, 0x100000);
    put32(HDR_INITRD_ADDR_MAX, 0x7FFFFFFF);
    put32(HDR_KERNEL_ALIGNMENT, 0x1000000);
    put32(HDR_CMDLINE_SIZE, 2047);
    put64(HDR_PREF_ADDRESS, 0x100000);
    put32(HDR_INIT_SIZE, INIT_SIZE);
    for (unsigned i = 0; i < PM_SIZE; i++)
        img[PM_OFFSET + i] = (uint8_t)(0x31 + i * 13);
    img_size = PM_OFFSET + PM_SIZE;
}

static void set_initrd(size_t size)
{
    free(initrd);
    initrd = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(initrd);
    for (size_t i = 0; i < size; i++)
        initrd[i] = (uint8_t)(i * 7 + 3);
    initrd_size = size;
    initrd_path = INITRD;
}

static bool load(const char *cmdline)
{
    uint8_t *copy = malloc(img_size ? img_size : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, img, img_size);
    memset(&err, 0, sizeof err);
    boot_image bi = {.path = PATH, .data = copy, .size = img_size};
    boot_options o = {.cmdline = cmdline, .initrd_path = initrd_path, .initrd = initrd, .initrd_size = initrd_size};
    bool ok = boot_load(&pm, &bi, &o, &res, &err);
    free(copy);
    return ok;
}

static void assert_loads(const char *cmdline)
{
    ck_assert_msg(load(cmdline), "load failed: %s", err.msg);
}

static void ram_setup(uint32_t mib)
{
    phys_free(&pm);
    vm_error e = {0};
    ck_assert_msg(phys_init(&pm, mib, &e), "%s", e.msg);
}

/* Refused with a message that names `file` first and contains `needle`; RAM still all zero
 * where a load would have written. */
static void assert_rejected_naming(const char *cmdline, const char *file, const char *needle)
{
    ck_assert_msg(!load(cmdline), "loaded, expected an error containing '%s'", needle);
    ck_assert_int_ne(err.code, VM_EOK);
    ck_assert_msg(strncmp(err.msg, file, strlen(file)) == 0 && err.msg[strlen(file)] == ':',
                  "message does not start with '%s:': %s", file, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "message lacks '%s': %s", needle, err.msg);
    ck_assert_msg(!strchr(err.msg, '\n'), "message is not one line: %s", err.msg);
    ck_assert_uint_eq(ram32(BOOT_LINUX_KERNEL), 0);
    ck_assert_uint_eq(ram32(BOOT_LINUX_PARAMS + HDR_HEADER), 0);
    ck_assert_uint_eq(ram32(BOOT_GDT + 16), 0);
}

static void assert_rejected(const char *cmdline, const char *needle) { assert_rejected_naming(cmdline, PATH, needle); }

static void setup(void)
{
    ram_setup(GUEST_MIB);
    bz_build();
    initrd = NULL;
    initrd_size = 0;
    initrd_path = NULL;
}

static void teardown(void)
{
    phys_free(&pm);
    free(initrd);
    initrd = NULL;
}

/* ---- choosing the protocol ---- */

START_TEST(test_bzimage_is_loaded_by_the_linux_protocol)
{
    ck_assert_ptr_eq(boot_select(img, img_size), &boot_linux);
    assert_loads(NULL);
    ck_assert_str_eq(res.protocol, "linux");
}
END_TEST

START_TEST(test_elf_file_is_chosen_for_multiboot)
{
    static const uint8_t elf[8] = {0x7F, 'E', 'L', 'F', 1, 1, 1, 0};
    ck_assert_ptr_eq(boot_select(elf, sizeof elf), &boot_multiboot);
}
END_TEST

START_TEST(test_file_of_no_known_format_is_refused_naming_both_formats)
{
    memset(img, 0x5A, 0x1000);
    img_size = 0x1000;
    assert_rejected(NULL, "not an ELF file");
    ck_assert_ptr_nonnull(strstr(err.msg, "HdrS"));
}
END_TEST

/* ---- a valid bzImage ---- */

START_TEST(test_protected_mode_kernel_lands_at_1_mib)
{
    assert_loads(NULL);
    ck_assert_mem_eq(phys_ptr(&pm, BOOT_LINUX_KERNEL), img + PM_OFFSET, PM_SIZE);
    ck_assert_uint_eq(ram32(BOOT_LINUX_KERNEL + PM_SIZE), 0);
    ck_assert_uint_eq(ram32(0x100000 - PM_OFFSET), 0); /* the setup code is not loaded */
}
END_TEST

START_TEST(test_entry_state_is_the_32_bit_boot_protocol)
{
    assert_loads(NULL);
    const vcpu_entry *e = &res.cpu;
    ck_assert_uint_eq(e->eip, BOOT_LINUX_KERNEL);
    ck_assert_uint_eq(res.entry, BOOT_LINUX_KERNEL);
    ck_assert_uint_eq(e->cs, 0x10);
    ck_assert_uint_eq(e->ds, 0x18);
    ck_assert_uint_eq(e->esi, BOOT_LINUX_PARAMS);
    ck_assert_uint_eq(e->ebx, 0);
    ck_assert_uint_eq(e->ebp, 0);
    ck_assert_uint_eq(e->edi, 0);
    ck_assert_uint_eq(e->eflags & 0x200, 0); /* interrupts off */
}
END_TEST

START_TEST(test_boot_gdt_has_flat_code_at_0x10_and_flat_data_at_0x18)
{
    assert_loads(NULL);
    ck_assert_uint_eq(res.cpu.gdt_base, BOOT_GDT);
    ck_assert_uint_ge(res.cpu.gdt_limit, 0x1F);
    ck_assert_uint_eq(ram64(BOOT_GDT + 0x10), 0x00CF9B000000FFFFull); /* base 0, 4 GiB, exec/read, ring 0 */
    ck_assert_uint_eq(ram64(BOOT_GDT + 0x18), 0x00CF93000000FFFFull); /* base 0, 4 GiB, read/write */
}
END_TEST

START_TEST(test_boot_params_hold_the_files_setup_header)
{
    assert_loads(NULL);
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + HDR_SETUP_SECTS), SETUP_SECTS);
    ck_assert_uint_eq(param32(HDR_SYSSIZE), PM_SIZE / 16);
    ck_assert_uint_eq(ram16(BOOT_LINUX_PARAMS + HDR_BOOT_FLAG), 0xAA55);
    ck_assert_mem_eq(phys_ptr(&pm, BOOT_LINUX_PARAMS + HDR_HEADER), "HdrS", 4);
    ck_assert_uint_eq(ram16(BOOT_LINUX_PARAMS + HDR_VERSION), 0x020A);
    ck_assert_uint_eq(param32(HDR_INIT_SIZE), INIT_SIZE);
    ck_assert_uint_eq(ram32(BOOT_LINUX_PARAMS + 0x264), 0); /* nothing past the header */
}
END_TEST

START_TEST(test_boot_params_say_who_loaded_and_where)
{
    img[HDR_LOADFLAGS] |= LOADFLAG_KEEP_SEGMENTS | LOADFLAG_QUIET;
    assert_loads(NULL);
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + HDR_TYPE_OF_LOADER), BOOT_LINUX_LOADER_ID);
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + HDR_LOADFLAGS), LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP);
    ck_assert_uint_ne(ram16(BOOT_LINUX_PARAMS + HDR_HEAP_END_PTR), 0);
    ck_assert_uint_eq(param32(HDR_CODE32_START), BOOT_LINUX_KERNEL);
}
END_TEST

START_TEST(test_e820_map_shows_ram_and_the_acpi_page_vga_rom_and_bios_hole_reserved)
{
    assert_loads(NULL);
    static const uint64_t want[][3] = {
        {0, 0x9F000, 1},                      /* conventional RAM */
        {0x9F000, 0x1000, 2},                 /* the ACPI tables */
        {0xA0000, 0x20000, 2},                /* VGA */
        {0xC0000, 0x8000, 2},                 /* the VMI ROM */
        {0xC8000, 0x38000, 2},                /* the rest of the BIOS hole */
        {0x100000, GUEST_MIB * 0x100000ull - 0x100000, 1},
    };
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + BP_E820_ENTRIES), 6);
    for (unsigned i = 0; i < 6; i++) {
        uint32_t e = BOOT_LINUX_PARAMS + BP_E820_MAP + 20 * i;
        ck_assert_uint_eq(ram64(e), want[i][0]);
        ck_assert_uint_eq(ram64(e + 8), want[i][1]);
        ck_assert_uint_eq(ram32(e + 16), want[i][2]);
    }
}
END_TEST

/* The RSDP and every table it leads to (RSDT, FADT, FACS, DSDT) lie outside e820 RAM, so the
 * kernel neither hands them out nor refuses to map them. */
static bool in_e820_ram(uint64_t a, uint64_t len)
{
    for (unsigned i = 0; i < ram8(BOOT_LINUX_PARAMS + BP_E820_ENTRIES); i++) {
        uint32_t e = BOOT_LINUX_PARAMS + BP_E820_MAP + 20 * i;
        if (ram32(e + 16) == 1 && a < ram64(e) + ram64(e + 8) && ram64(e) < a + len)
            return true;
    }
    return false;
}

START_TEST(test_acpi_tables_are_written_where_no_e820_ram_is)
{
    assert_loads(NULL);
    ck_assert_mem_eq(phys_ptr(&pm, ACPI_RSDP_ADDR), "RSD PTR ", 8);
    uint32_t rsdt = ram32(ACPI_RSDP_ADDR + 16), fadt = ram32(rsdt + 36);
    const uint32_t at[][2] = {{ACPI_RSDP_ADDR, 20}, {rsdt, ram32(rsdt + 4)}, {fadt, ram32(fadt + 4)},
                              {ram32(fadt + 36), 64}, {ram32(fadt + 40), ram32(ram32(fadt + 40) + 4)}};
    ck_assert_mem_eq(phys_ptr(&pm, fadt), "FACP", 4);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_msg(!in_e820_ram(at[i][0], at[i][1]), "table %u at 0x%x is in e820 RAM", i, at[i][0]);
}
END_TEST

START_TEST(test_memory_sizes_and_an_80x25_text_screen_are_reported)
{
    assert_loads(NULL);
    ck_assert_uint_eq(param32(BP_ALT_MEM_K), (GUEST_MIB - 1) * 1024);
    ck_assert_uint_eq(ram16(BOOT_LINUX_PARAMS + 0x02), 0xFC00); /* ext_mem_k, capped like int 15h/88h */
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + 0x06), 3);      /* orig_video_mode */
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + 0x07), 80);     /* orig_video_cols */
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + 0x0E), 25);     /* orig_video_lines */
    ck_assert_uint_eq(ram8(BOOT_LINUX_PARAMS + 0x0F), 1);      /* orig_video_isVGA */
}
END_TEST

START_TEST(test_command_line_is_written_and_pointed_to)
{
    assert_loads("console=ttyS0 earlyprintk=serial");
    ck_assert_uint_eq(param32(HDR_CMD_LINE_PTR), BOOT_LINUX_CMDLINE);
    ck_assert_str_eq((const char *)phys_ptr(&pm, BOOT_LINUX_CMDLINE), "console=ttyS0 earlyprintk=serial");
}
END_TEST

START_TEST(test_no_append_gives_an_empty_command_line)
{
    assert_loads(NULL);
    ck_assert_uint_eq(param32(HDR_CMD_LINE_PTR), BOOT_LINUX_CMDLINE);
    ck_assert_uint_eq(ram8(BOOT_LINUX_CMDLINE), 0);
}
END_TEST

START_TEST(test_accepts_a_command_line_of_exactly_cmdline_size)
{
    put32(HDR_CMDLINE_SIZE, 16);
    assert_loads("0123456789abcdef");
    ck_assert_str_eq((const char *)phys_ptr(&pm, BOOT_LINUX_CMDLINE), "0123456789abcdef");
}
END_TEST

START_TEST(test_without_initrd_the_ramdisk_fields_are_zero)
{
    assert_loads(NULL);
    ck_assert_uint_eq(param32(HDR_RAMDISK_IMAGE), 0);
    ck_assert_uint_eq(param32(HDR_RAMDISK_SIZE), 0);
}
END_TEST

START_TEST(test_initrd_goes_page_aligned_to_the_top_of_ram)
{
    set_initrd(0x12345);
    assert_loads(NULL);
    uint32_t at = param32(HDR_RAMDISK_IMAGE);
    ck_assert_uint_eq(param32(HDR_RAMDISK_SIZE), 0x12345);
    ck_assert_uint_eq(at % 0x1000, 0);
    ck_assert_uint_le(at + 0x12345, GUEST_MIB << 20);
    ck_assert_uint_gt(at + 0x12345 + 0x1000, GUEST_MIB << 20);
    ck_assert_mem_eq(phys_ptr(&pm, at), initrd, 0x12345);
}
END_TEST

START_TEST(test_initrd_ends_at_or_below_initrd_addr_max)
{
    put32(HDR_INITRD_ADDR_MAX, 0x1FFFFF);
    set_initrd(0x80000);
    assert_loads(NULL);
    uint32_t at = param32(HDR_RAMDISK_IMAGE);
    ck_assert_uint_eq(at, 0x200000 - 0x80000);
    ck_assert_mem_eq(phys_ptr(&pm, at), initrd, 0x80000);
}
END_TEST

START_TEST(test_initrd_stays_clear_of_the_kernels_init_size)
{
    /* The kernel runs at 16 MiB and needs 100 MiB there: the initrd must go above 116 MiB. */
    put64(HDR_PREF_ADDRESS, 0x1000000);
    put32(HDR_INIT_SIZE, 100u << 20);
    set_initrd(11u << 20);
    assert_loads(NULL);
    ck_assert_uint_ge(param32(HDR_RAMDISK_IMAGE), 116u << 20);
}
END_TEST

START_TEST(test_relocatable_kernel_runs_at_the_aligned_load_address)
{
    /* relocatable, aligned to 4 MiB: runs at 4 MiB and needs 120 MiB there, so 4 MiB of
     * 4 MiB + 1 byte of initrd no longer fits in 128 MiB */
    img[HDR_RELOCATABLE] = 1;
    put32(HDR_KERNEL_ALIGNMENT, 0x400000);
    put32(HDR_INIT_SIZE, 120u << 20);
    set_initrd((4u << 20) + 1);
    assert_rejected_naming(NULL, INITRD, "does not fit");
}
END_TEST

START_TEST(test_setup_sects_zero_means_four)
{
    img[HDR_SETUP_SECTS] = 0;
    assert_loads(NULL);
    ck_assert_mem_eq(phys_ptr(&pm, BOOT_LINUX_KERNEL), img + PM_OFFSET, PM_SIZE);
}
END_TEST

START_TEST(test_accepts_protocol_2_02_with_its_short_header)
{
    img[HDR_JUMP + 1] = 0x2A; /* header ends at 0x22C */
    put16(HDR_VERSION, 0x0202);
    put32(HDR_SYSSIZE, 0); /* 16-bit syssize before 2.04: the high half is something else */
    put16(HDR_SYSSIZE, PM_SIZE / 16);
    img[HDR_SYSSIZE + 2] = 0x77;
    memset(img + 0x22C, 0xEE, 0x264 - 0x22C); /* not header: must not be copied */
    assert_loads("short");
    ck_assert_uint_eq(ram32(BOOT_LINUX_PARAMS + 0x22C), 0);
    ck_assert_str_eq((const char *)phys_ptr(&pm, BOOT_LINUX_CMDLINE), "short");
}
END_TEST

START_TEST(test_load_reports_what_it_wrote)
{
    set_initrd(0x1000);
    assert_loads("x");
    static const char *const what[] = {"kernel", "boot_params", "cmdline", "initrd", "acpi tables", "acpi rsdp", "gdt"};
    ck_assert_uint_eq(res.nwrites, 7);
    for (unsigned i = 0; i < 7; i++)
        ck_assert_str_eq(res.writes[i].what, what[i]);
    ck_assert_uint_eq(res.writes[0].base, BOOT_LINUX_KERNEL);
    ck_assert_uint_eq(res.writes[0].size, PM_SIZE);
}
END_TEST

/* ---- rejected images ---- */

START_TEST(test_rejects_a_bad_boot_flag)
{
    put16(HDR_BOOT_FLAG, 0x1234);
    assert_rejected(NULL, "boot flag at 0x1FE is 0x1234");
}
END_TEST

START_TEST(test_rejects_a_missing_hdrs_signature)
{
    memcpy(img + HDR_HEADER, "HdrX", 4);
    assert_rejected(NULL, "no 'HdrS' signature");
}
END_TEST

START_TEST(test_rejects_protocol_older_than_2_02)
{
    put16(HDR_VERSION, 0x0201);
    assert_rejected(NULL, "protocol 2.01 is too old");
}
END_TEST

START_TEST(test_rejects_a_file_too_short_for_the_setup_header)
{
    img_size = 0x204;
    assert_rejected(NULL, "too short for a Linux setup header");
}
END_TEST

START_TEST(test_rejects_a_header_shorter_than_its_protocol_needs)
{
    img[HDR_JUMP + 1] = 0x40; /* ends at 0x242, but 2.10 has init_size at 0x260 */
    assert_rejected(NULL, "has fields up to 0x264");
}
END_TEST

START_TEST(test_rejects_a_zimage)
{
    img[HDR_LOADFLAGS] = 0;
    assert_rejected(NULL, "zImage");
}
END_TEST

START_TEST(test_rejects_setup_sects_beyond_the_file)
{
    img[HDR_SETUP_SECTS] = 200;
    assert_rejected(NULL, "setup code (setup_sects 200");
}
END_TEST

START_TEST(test_rejects_syssize_beyond_the_file)
{
    put32(HDR_SYSSIZE, PM_SIZE / 16 + 1);
    assert_rejected(NULL, "protected-mode kernel (syssize 0x201");
}
END_TEST

START_TEST(test_rejects_a_truncated_kernel)
{
    img_size -= 1;
    assert_rejected(NULL, "truncated: protected-mode kernel");
}
END_TEST

START_TEST(test_rejects_a_huge_syssize_without_wrapping)
{
    put32(HDR_SYSSIZE, 0xFFFFFFFF);
    assert_rejected(NULL, "ends past the file");
}
END_TEST

START_TEST(test_rejects_zero_syssize)
{
    put32(HDR_SYSSIZE, 0);
    assert_rejected(NULL, "syssize is 0");
}
END_TEST

START_TEST(test_rejects_a_kernel_whose_init_size_exceeds_ram)
{
    put64(HDR_PREF_ADDRESS, 0x1000000);
    put32(HDR_INIT_SIZE, 0x7000001);
    assert_rejected(NULL, "needs RAM up to 0x08000001");
}
END_TEST

START_TEST(test_rejects_pref_address_above_4_gib)
{
    put64(HDR_PREF_ADDRESS, 0xFFFFFFFFFFFFF000ull);
    assert_rejected(NULL, "above 4 GiB");
}
END_TEST

START_TEST(test_rejects_pref_address_below_1_mib)
{
    put64(HDR_PREF_ADDRESS, 0x8000);
    assert_rejected(NULL, "below 1 MiB");
}
END_TEST

START_TEST(test_rejects_relocatable_kernel_with_alignment_not_a_power_of_two)
{
    img[HDR_RELOCATABLE] = 1;
    put32(HDR_KERNEL_ALIGNMENT, 0x300000);
    assert_rejected(NULL, "kernel_alignment 0x300000 is not a power of two");
}
END_TEST

START_TEST(test_rejects_a_command_line_longer_than_cmdline_size)
{
    put32(HDR_CMDLINE_SIZE, 16);
    assert_rejected("0123456789abcdefg", "command line (--append) is 17 bytes; at most 16 fit (the kernel's cmdline_size)");
}
END_TEST

START_TEST(test_rejects_a_command_line_over_255_bytes_before_protocol_2_06)
{
    put16(HDR_VERSION, 0x0205);
    char line[257];
    memset(line, 'a', 256);
    line[256] = 0;
    assert_rejected(line, "at most 255 fit");
}
END_TEST

START_TEST(test_rejects_a_command_line_larger_than_the_boot_area)
{
    put32(HDR_CMDLINE_SIZE, 0x7FFFFFFF);
    size_t n = PHYS_BOOTINFO + PHYS_BOOTINFO_SIZE - BOOT_LINUX_CMDLINE;
    char *line = malloc(n + 1);
    memset(line, 'b', n);
    line[n] = 0;
    assert_rejected(line, "the room vmiemu has for it");
    free(line);
}
END_TEST

START_TEST(test_rejects_an_initrd_larger_than_ram)
{
    ram_setup(4);
    set_initrd(4u << 20);
    assert_rejected_naming(NULL, INITRD, "initrd is 4194304 bytes and does not fit");
}
END_TEST

START_TEST(test_rejects_an_initrd_that_does_not_fit_under_initrd_addr_max)
{
    put32(HDR_INITRD_ADDR_MAX, 0x1FFFFF);
    set_initrd(0x100000); /* the kernel's 64 KiB leave 0x110000-0x200000: 960 KiB */
    assert_rejected_naming(NULL, INITRD, "initrd_addr_max 0x001fffff");
    ck_assert_ptr_nonnull(strstr(err.msg, "only 983040 bytes are free"));
}
END_TEST

START_TEST(test_rejects_an_empty_initrd)
{
    set_initrd(0);
    assert_rejected_naming(NULL, INITRD, "file is empty");
}
END_TEST

START_TEST(test_fuzzed_headers_load_or_fail_with_one_message)
{
    /* Every header byte set to a few telling values: never a crash, never a read past the
     * file (ASan), always either a load or a message naming the file. */
    static const uint8_t values[] = {0x00, 0x01, 0x7F, 0x80, 0xFF};
    set_initrd(0x3000);
    for (size_t off = HDR_SETUP_SECTS; off < 0x264; off++) {
        for (size_t v = 0; v < sizeof values; v++) {
            bz_build();
            img[off] = values[v];
            memset(phys_ptr(&pm, BOOT_LINUX_KERNEL), 0, 16);
            if (!load("console=ttyS0"))
                ck_assert_msg(strncmp(err.msg, PATH ":", strlen(PATH ":")) == 0 ||
                                  strncmp(err.msg, INITRD ":", strlen(INITRD ":")) == 0,
                              "offset 0x%zx = 0x%02x: %s", off, values[v], err.msg);
        }
    }
}
END_TEST

/* ---- the machine enters it ---- */

static tu_machine tm;

/* Boot the synthetic bzImage whose protected-mode kernel starts with `code`, in a machine. */
static machine_end boot_code(const uint8_t *code, size_t n)
{
    memcpy(img + PM_OFFSET, code, n);
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_tmp("bzImage"));
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(img, 1, img_size, f), img_size);
    fclose(f);
    machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.snap_every = 0;
    cfg.max_insns = 1000;
    vm_error e = {0};
    bool ok = tu_boot_and_run(&tm, &cfg, path, &e);
    unlink(path);
    ck_assert_msg(ok, "%s", e.msg);
    return tm.m.end;
}

START_TEST(test_machine_enters_at_1_mib_with_esi_pointing_at_boot_params)
{
    static const uint8_t code[] = {
        0x8A, 0x86, 0xE8, 0x01, 0x00, 0x00, /* mov al, [esi + 0x1E8]   (e820_entries) */
        0xE6, 0xF4,                         /* out 0xF4, al */
        0xF4,                               /* hlt */
    };
    ck_assert_int_eq(boot_code(code, sizeof code), END_EXIT_PORT);
    ck_assert_uint_eq(tm.m.exit_value, BOOT_LINUX_E820_ENTRIES);
    machine_free(&tm.m);
}
END_TEST

START_TEST(test_machine_enters_with_boot_cs_and_boot_ds)
{
    static const uint8_t code[] = {
        0x8C, 0xC8,       /* mov eax, cs */
        0xC1, 0xE0, 0x08, /* shl eax, 8 */
        0x8C, 0xDB,       /* mov ebx, ds */
        0x09, 0xD8,       /* or eax, ebx */
        0xE7, 0xF4,       /* out 0xF4, eax */
        0xF4,             /* hlt */
    };
    ck_assert_int_eq(boot_code(code, sizeof code), END_EXIT_PORT);
    ck_assert_uint_eq(tm.m.exit_value, 0x1018);
    machine_free(&tm.m);
}
END_TEST

/* ---- the command line tool ---- */

#define RUN(...) TU_RUN(r, __VA_ARGS__)

static run_result r;
static char kfile[4096], rdfile[4096];

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static void cli_setup(void)
{
    bz_build();
    snprintf(kfile, sizeof kfile, "%s", tu_tmp("bzImage"));
    snprintf(rdfile, sizeof rdfile, "%s", tu_tmp("initrd"));
    memset(&r, 0, sizeof r);
}

static void cli_teardown(void)
{
    tu_free(&r);
    unlink(kfile);
    unlink(rdfile);
}

/* Exit status 2 and exactly one line on stderr: "vmiemu: FILE: ...needle..." */
static void assert_one_clear_message(const char *file, const char *needle)
{
    ck_assert_int_eq(r.status, 2);
    char want[4200];
    snprintf(want, sizeof want, ": %s: ", file);
    ck_assert_msg(strstr(r.err, want), "stderr does not name %s: %s", file, r.err);
    ck_assert_msg(strstr(r.err, needle), "stderr lacks '%s': %s", needle, r.err);
    const char *nl = strchr(r.err, '\n');
    ck_assert_msg(nl && nl[1] == 0, "stderr is not one line: %s", r.err);
}

START_TEST(test_cli_rejects_a_bad_boot_flag_naming_the_file)
{
    put16(HDR_BOOT_FLAG, 0x1234);
    write_file(kfile, img, img_size);
    RUN("--serial", "none", kfile);
    assert_one_clear_message(kfile, "boot flag");
}
END_TEST

START_TEST(test_cli_rejects_a_missing_hdrs_naming_the_file)
{
    memcpy(img + HDR_HEADER, "XXXX", 4);
    write_file(kfile, img, img_size);
    RUN("--serial", "none", kfile);
    assert_one_clear_message(kfile, "HdrS");
}
END_TEST

START_TEST(test_cli_rejects_an_old_protocol_naming_the_file)
{
    put16(HDR_VERSION, 0x0200);
    write_file(kfile, img, img_size);
    RUN("--serial", "none", kfile);
    assert_one_clear_message(kfile, "2.00 is too old");
}
END_TEST

START_TEST(test_cli_rejects_setup_sects_beyond_the_file_naming_the_file)
{
    img[HDR_SETUP_SECTS] = 100;
    write_file(kfile, img, img_size);
    RUN("--serial", "none", kfile);
    assert_one_clear_message(kfile, "setup_sects 100");
}
END_TEST

START_TEST(test_cli_rejects_syssize_beyond_the_file_naming_the_file)
{
    write_file(kfile, img, img_size - 16);
    RUN("--serial", "none", kfile);
    assert_one_clear_message(kfile, "protected-mode kernel");
}
END_TEST

START_TEST(test_cli_rejects_an_initrd_too_big_naming_the_initrd)
{
    write_file(kfile, img, img_size);
    uint8_t *big = calloc(1, 2u << 20);
    write_file(rdfile, big, 2u << 20);
    free(big);
    RUN("--serial", "none", "-m", "2", "--initrd", rdfile, kfile);
    assert_one_clear_message(rdfile, "does not fit");
}
END_TEST

START_TEST(test_cli_rejects_an_initrd_over_initrd_addr_max_naming_the_initrd)
{
    put32(HDR_INITRD_ADDR_MAX, 0x1FFFFF);
    write_file(kfile, img, img_size);
    uint8_t *rd = calloc(1, 1u << 20);
    write_file(rdfile, rd, 1u << 20);
    free(rd);
    RUN("--serial", "none", "--initrd", rdfile, kfile);
    assert_one_clear_message(rdfile, "initrd_addr_max");
}
END_TEST

START_TEST(test_cli_rejects_a_missing_initrd_naming_it)
{
    write_file(kfile, img, img_size);
    RUN("--serial", "none", "--initrd", "/nonexistent/initrd.img", kfile);
    assert_one_clear_message("/nonexistent/initrd.img", "cannot open");
}
END_TEST

START_TEST(test_cli_rejects_an_empty_initrd_naming_it)
{
    write_file(kfile, img, img_size);
    write_file(rdfile, img, 0);
    RUN("--serial", "none", "--initrd", rdfile, kfile);
    assert_one_clear_message(rdfile, "file is empty");
}
END_TEST

START_TEST(test_cli_rejects_an_append_longer_than_cmdline_size)
{
    put32(HDR_CMDLINE_SIZE, 8);
    write_file(kfile, img, img_size);
    RUN("--serial", "none", "--append", "console=ttyS0", kfile);
    assert_one_clear_message(kfile, "at most 8 fit");
}
END_TEST

START_TEST(test_cli_refuses_an_initrd_for_a_multiboot_kernel)
{
    write_file(rdfile, img, 100);
    RUN("--serial", "none", "--initrd", rdfile, tu_kernel("hello"));
    assert_one_clear_message(tu_kernel("hello"), "needs a Linux kernel");
}
END_TEST

/* Record the built image with an initrd of `rd_bytes` bytes (of the image) and --append;
 * the run ends however the image does (it stops on a crash), the same every time. */
static const char *record_with_initrd(size_t rd_bytes, const char *append)
{
    static char rec[4096];
    snprintf(rec, sizeof rec, "%s", tu_tmp("rec"));
    write_file(kfile, img, img_size);
    write_file(rdfile, img, rd_bytes);
    RUN("--serial", "none", "--record", rec, "--initrd", rdfile, "--append", append, kfile);
    ck_assert_msg(r.status != 2 && r.status != 12, "recording exited %d: %s", r.status, r.err);
    tu_free(&r);
    return rec;
}

START_TEST(test_cli_records_a_run_with_an_initrd_and_replays_it_given_the_same_initrd)
{
    const char *rec = record_with_initrd(100, "console=ttyS0");
    RUN("--serial", "none", "--replay", rec, "--initrd", rdfile, kfile);
    ck_assert_msg(strstr(r.err, "replay matched the record"), "status %d: %s", r.status, r.err);
    unlink(rec);
}
END_TEST

START_TEST(test_cli_replay_with_another_initrd_is_refused_naming_both)
{
    const char *rec = record_with_initrd(100, "console=ttyS0");
    write_file(rdfile, img, 101);
    RUN("--serial", "none", "--replay", rec, "--initrd", rdfile, kfile);
    assert_one_clear_message(rec, "initrd (--initrd: give the recorded one): recorded initrd");
    ck_assert_msg(strstr(r.err, "(100 bytes), this run initrd") && strstr(r.err, "(101 bytes)"), "%s", r.err);
    unlink(rec);
}
END_TEST

START_TEST(test_cli_replay_with_an_initrd_of_the_same_size_and_other_bytes_is_refused)
{
    const char *rec = record_with_initrd(100, "console=ttyS0");
    img[50] ^= 1;
    write_file(rdfile, img, 100);
    img[50] ^= 1;
    RUN("--serial", "none", "--replay", rec, "--initrd", rdfile, kfile);
    assert_one_clear_message(rec, "initrd (--initrd: give the recorded one)");
    ck_assert_msg(strstr(r.err, "100 bytes, hash 0x"), "%s", r.err);
    unlink(rec);
}
END_TEST

START_TEST(test_cli_replay_without_the_recorded_initrd_is_refused)
{
    const char *rec = record_with_initrd(100, "console=ttyS0");
    RUN("--serial", "none", "--replay", rec, kfile);
    assert_one_clear_message(rec, "(100 bytes), this run none");
    unlink(rec);
}
END_TEST

START_TEST(test_cli_replay_with_another_append_is_refused_naming_both)
{
    const char *rec = record_with_initrd(100, "console=ttyS0");
    RUN("--serial", "none", "--replay", rec, "--initrd", rdfile, "--append", "console=ttyS0 quiet", kfile);
    assert_one_clear_message(rec, "command line (--append): recorded 'console=ttyS0', this run 'console=ttyS0 quiet'");
    unlink(rec);
}
END_TEST

START_TEST(test_cli_help_lists_initrd_and_append)
{
    RUN("--help");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--initrd FILE"));
    ck_assert_ptr_nonnull(strstr(r.out, "bzImage"));
}
END_TEST

static Suite *boot_linux_suite(void)
{
    Suite *s = suite_create("boot_linux");
    TCase *sel = tcase_create("select");
    tcase_add_checked_fixture(sel, setup, teardown);
    tcase_add_test(sel, test_bzimage_is_loaded_by_the_linux_protocol);
    tcase_add_test(sel, test_elf_file_is_chosen_for_multiboot);
    tcase_add_test(sel, test_file_of_no_known_format_is_refused_naming_both_formats);
    suite_add_tcase(s, sel);

    TCase *valid = tcase_create("valid");
    tcase_add_checked_fixture(valid, setup, teardown);
    tcase_add_test(valid, test_protected_mode_kernel_lands_at_1_mib);
    tcase_add_test(valid, test_entry_state_is_the_32_bit_boot_protocol);
    tcase_add_test(valid, test_boot_gdt_has_flat_code_at_0x10_and_flat_data_at_0x18);
    tcase_add_test(valid, test_boot_params_hold_the_files_setup_header);
    tcase_add_test(valid, test_boot_params_say_who_loaded_and_where);
    tcase_add_test(valid, test_e820_map_shows_ram_and_the_acpi_page_vga_rom_and_bios_hole_reserved);
    tcase_add_test(valid, test_acpi_tables_are_written_where_no_e820_ram_is);
    tcase_add_test(valid, test_memory_sizes_and_an_80x25_text_screen_are_reported);
    tcase_add_test(valid, test_command_line_is_written_and_pointed_to);
    tcase_add_test(valid, test_no_append_gives_an_empty_command_line);
    tcase_add_test(valid, test_accepts_a_command_line_of_exactly_cmdline_size);
    tcase_add_test(valid, test_without_initrd_the_ramdisk_fields_are_zero);
    tcase_add_test(valid, test_initrd_goes_page_aligned_to_the_top_of_ram);
    tcase_add_test(valid, test_initrd_ends_at_or_below_initrd_addr_max);
    tcase_add_test(valid, test_initrd_stays_clear_of_the_kernels_init_size);
    tcase_add_test(valid, test_relocatable_kernel_runs_at_the_aligned_load_address);
    tcase_add_test(valid, test_setup_sects_zero_means_four);
    tcase_add_test(valid, test_accepts_protocol_2_02_with_its_short_header);
    tcase_add_test(valid, test_load_reports_what_it_wrote);
    suite_add_tcase(s, valid);

    TCase *bad = tcase_create("rejected");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, test_rejects_a_bad_boot_flag);
    tcase_add_test(bad, test_rejects_a_missing_hdrs_signature);
    tcase_add_test(bad, test_rejects_protocol_older_than_2_02);
    tcase_add_test(bad, test_rejects_a_file_too_short_for_the_setup_header);
    tcase_add_test(bad, test_rejects_a_header_shorter_than_its_protocol_needs);
    tcase_add_test(bad, test_rejects_a_zimage);
    tcase_add_test(bad, test_rejects_setup_sects_beyond_the_file);
    tcase_add_test(bad, test_rejects_syssize_beyond_the_file);
    tcase_add_test(bad, test_rejects_a_truncated_kernel);
    tcase_add_test(bad, test_rejects_a_huge_syssize_without_wrapping);
    tcase_add_test(bad, test_rejects_zero_syssize);
    tcase_add_test(bad, test_rejects_a_kernel_whose_init_size_exceeds_ram);
    tcase_add_test(bad, test_rejects_pref_address_above_4_gib);
    tcase_add_test(bad, test_rejects_pref_address_below_1_mib);
    tcase_add_test(bad, test_rejects_relocatable_kernel_with_alignment_not_a_power_of_two);
    tcase_add_test(bad, test_rejects_a_command_line_longer_than_cmdline_size);
    tcase_add_test(bad, test_rejects_a_command_line_over_255_bytes_before_protocol_2_06);
    tcase_add_test(bad, test_rejects_a_command_line_larger_than_the_boot_area);
    tcase_add_test(bad, test_rejects_an_initrd_larger_than_ram);
    tcase_add_test(bad, test_rejects_an_initrd_that_does_not_fit_under_initrd_addr_max);
    tcase_add_test(bad, test_rejects_an_empty_initrd);
    suite_add_tcase(s, bad);

    TCase *fuzz = tcase_create("fuzz");
    tcase_add_checked_fixture(fuzz, setup, teardown);
    tcase_set_timeout(fuzz, 120);
    tcase_add_test(fuzz, test_fuzzed_headers_load_or_fail_with_one_message);
    suite_add_tcase(s, fuzz);

    TCase *mach = tcase_create("machine");
    tcase_add_checked_fixture(mach, setup, teardown);
    tcase_add_test(mach, test_machine_enters_at_1_mib_with_esi_pointing_at_boot_params);
    tcase_add_test(mach, test_machine_enters_with_boot_cs_and_boot_ds);
    suite_add_tcase(s, mach);

    TCase *cli = tcase_create("cli");
    tcase_add_checked_fixture(cli, cli_setup, cli_teardown);
    tcase_set_timeout(cli, 60);
    tcase_add_test(cli, test_cli_rejects_a_bad_boot_flag_naming_the_file);
    tcase_add_test(cli, test_cli_rejects_a_missing_hdrs_naming_the_file);
    tcase_add_test(cli, test_cli_rejects_an_old_protocol_naming_the_file);
    tcase_add_test(cli, test_cli_rejects_setup_sects_beyond_the_file_naming_the_file);
    tcase_add_test(cli, test_cli_rejects_syssize_beyond_the_file_naming_the_file);
    tcase_add_test(cli, test_cli_rejects_an_initrd_too_big_naming_the_initrd);
    tcase_add_test(cli, test_cli_rejects_an_initrd_over_initrd_addr_max_naming_the_initrd);
    tcase_add_test(cli, test_cli_rejects_a_missing_initrd_naming_it);
    tcase_add_test(cli, test_cli_rejects_an_empty_initrd_naming_it);
    tcase_add_test(cli, test_cli_rejects_an_append_longer_than_cmdline_size);
    tcase_add_test(cli, test_cli_refuses_an_initrd_for_a_multiboot_kernel);
    tcase_add_test(cli, test_cli_records_a_run_with_an_initrd_and_replays_it_given_the_same_initrd);
    tcase_add_test(cli, test_cli_replay_with_another_initrd_is_refused_naming_both);
    tcase_add_test(cli, test_cli_replay_with_an_initrd_of_the_same_size_and_other_bytes_is_refused);
    tcase_add_test(cli, test_cli_replay_without_the_recorded_initrd_is_refused);
    tcase_add_test(cli, test_cli_replay_with_another_append_is_refused_naming_both);
    tcase_add_test(cli, test_cli_help_lists_initrd_and_append);
    suite_add_tcase(s, cli);
    return s;
}

SUITE_MAIN(boot_linux_suite)
