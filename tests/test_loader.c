/* Multiboot v1 ELF loader: a valid kernel lands where it should and gets a correct Multiboot
 * info; every kind of broken file is refused with a one-line "PATH: problem" message.
 * Images are built in memory (kimg_build) and each test breaks one thing. The loader always
 * sees an exactly-sized heap copy, so any read past the end trips ASan. */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/boot.h"
#include "emu/loader.h"
#include "support/suite_main.h"

#ifndef VMIEMU_TEST_TMPDIR
#define VMIEMU_TEST_TMPDIR "/tmp"
#endif

#define PATH "kernel.elf"
#define GUEST_MIB 128u

/* ELF32 layout offsets used to corrupt images. */
#define EH_CLASS 4
#define EH_DATA 5
#define EH_VERSION 6
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_ENTRY 24
#define EH_PHOFF 28
#define EH_PHENTSIZE 42
#define EH_PHNUM 44
#define EHDR_SIZE 52
#define PHDR_SIZE 32
#define PH_TYPE 0
#define PH_OFFSET 4
#define PH_VADDR 8
#define PH_PADDR 12
#define PH_FILESZ 16
#define PH_MEMSZ 20
#define PH_FLAGS 24

/* The standard image: 3 segments, data at file offset 0x1000 * (k + 1), 0x200 bytes each,
 * loaded at 0x100000 + 0x10000 * k with 0x1000 bytes of memory (so 0xE00 bytes of bss).
 * Segment 0 is executable and starts with the Multiboot header; the entry is 0x100010. */
#define NSEG 3
#define SEG_FILE(k) (0x1000u * ((k) + 1))
#define SEG_ADDR(k) (0x100000u + 0x10000u * (k))
#define SEG_FILESZ 0x200u
#define SEG_MEMSZ 0x1000u
#define ENTRY 0x100010u
#define MB_OFF SEG_FILE(0)
#define MB_FLAGS 0x00000003u /* page align + memory info, as most kernels ask */
#define IMG_MAX 0x10000u

static physmem pm;
static uint8_t img[IMG_MAX];
static size_t img_size;
static vm_error err;
static loaded_kernel lk;

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

static uint32_t img32(size_t off)
{
    return (uint32_t)img[off] | (uint32_t)img[off + 1] << 8 | (uint32_t)img[off + 2] << 16 | (uint32_t)img[off + 3] << 24;
}

static size_t ph(unsigned k) { return EHDR_SIZE + (size_t)k * PHDR_SIZE; }

static uint8_t seg_byte(unsigned k, unsigned i) { return (uint8_t)(0x40 + 17 * k + i * 7); }

static void put_mb_header(size_t off, uint32_t flags)
{
    put32(off, MB_HEADER_MAGIC);
    put32(off + 4, flags);
    put32(off + 8, (uint32_t)-(MB_HEADER_MAGIC + flags));
}

/* A valid Multiboot ELF with n PT_LOAD segments laid out as described above. */
static void kimg_build(unsigned n)
{
    memset(img, 0, sizeof img);
    memcpy(img, "\x7f" "ELF", 4);
    img[EH_CLASS] = 1;
    img[EH_DATA] = 1;
    img[EH_VERSION] = 1;
    put16(EH_TYPE, 2);
    put16(EH_MACHINE, 3);
    put32(20, 1); /* e_version */
    put32(EH_ENTRY, ENTRY);
    put32(EH_PHOFF, EHDR_SIZE);
    put16(40, EHDR_SIZE); /* e_ehsize */
    put16(EH_PHENTSIZE, PHDR_SIZE);
    put16(EH_PHNUM, (uint16_t)n);
    for (unsigned k = 0; k < n; k++) {
        put32(ph(k) + PH_TYPE, 1);
        put32(ph(k) + PH_OFFSET, SEG_FILE(k));
        put32(ph(k) + PH_VADDR, SEG_ADDR(k));
        put32(ph(k) + PH_PADDR, SEG_ADDR(k));
        put32(ph(k) + PH_FILESZ, SEG_FILESZ);
        put32(ph(k) + PH_MEMSZ, SEG_MEMSZ);
        put32(ph(k) + PH_FLAGS, k == 0 ? 5 : 6); /* R+X, R+W */
        for (unsigned i = 0; i < SEG_FILESZ; i++)
            img[SEG_FILE(k) + i] = seg_byte(k, i);
    }
    put_mb_header(MB_OFF, MB_FLAGS);
    img_size = SEG_FILE(n - 1) + SEG_FILESZ;
}

/* Load img[0, size) from an exactly-sized heap copy. */
static bool load_bytes(const uint8_t *bytes, size_t size, const char *cmdline)
{
    uint8_t *copy = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, bytes, size);
    memset(&err, 0, sizeof err);
    memset(&lk, 0, sizeof lk);
    bool ok = loader_load_multiboot(&pm, PATH, copy, size, cmdline, &lk, &err);
    free(copy);
    return ok;
}

static bool load(const char *cmdline) { return load_bytes(img, img_size, cmdline); }

static void assert_loads(const char *cmdline)
{
    bool ok = load(cmdline);
    ck_assert_msg(ok, "load failed: %s", err.msg);
}

/* Refused with VM_EFORMAT and a single line "kernel.elf: ...needle...". */
static void assert_rejected(const char *cmdline, const char *needle)
{
    ck_assert(!load(cmdline));
    ck_assert_int_eq(err.code, VM_EFORMAT);
    ck_assert_msg(strncmp(err.msg, PATH ": ", strlen(PATH) + 2) == 0, "no path prefix: %s",
                  err.msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "message has a newline: %s", err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err.msg, needle);
}

static uint32_t ram32(uint32_t addr) { return phys_read32(&pm, addr); }

static void setup(void)
{
    vm_error e = {0};
    ck_assert_msg(phys_init(&pm, GUEST_MIB, &e), "%s", e.msg);
    kimg_build(NSEG);
}

static void teardown(void) { phys_free(&pm); }

/* ---- a valid kernel ---- */

START_TEST(test_valid_kernel_copies_segment_bytes_to_paddr)
{
    assert_loads(NULL);
    for (unsigned k = 0; k < NSEG; k++)
        ck_assert_mem_eq(phys_ptr(&pm, SEG_ADDR(k)), img + SEG_FILE(k), SEG_FILESZ);
    ck_assert_uint_eq(ram32(SEG_ADDR(0)), MB_HEADER_MAGIC);
}
END_TEST

START_TEST(test_valid_kernel_has_its_bss_zeroed)
{
    for (unsigned k = 0; k < NSEG; k++)
        memset(phys_ptr(&pm, SEG_ADDR(k)), 0xAA, SEG_MEMSZ + 0x10);
    assert_loads(NULL);
    for (unsigned k = 0; k < NSEG; k++) {
        const uint8_t *p = phys_ptr(&pm, SEG_ADDR(k));
        for (unsigned i = SEG_FILESZ; i < SEG_MEMSZ; i++)
            ck_assert_msg(p[i] == 0, "segment %u bss byte 0x%x is 0x%02x", k, i, p[i]);
        ck_assert_uint_eq(p[SEG_MEMSZ], 0xAA); /* nothing past p_memsz is touched */
    }
}
END_TEST

START_TEST(test_valid_kernel_reports_entry_load_range_and_header_flags)
{
    assert_loads(NULL);
    ck_assert_uint_eq(lk.entry, ENTRY);
    ck_assert_uint_eq(lk.load_lo, SEG_ADDR(0));
    ck_assert_uint_eq(lk.load_hi, SEG_ADDR(NSEG - 1) + SEG_MEMSZ);
    ck_assert_uint_eq(lk.header_flags, MB_FLAGS);
    ck_assert_uint_eq(lk.mbi_addr, PHYS_BOOTINFO);
}
END_TEST

START_TEST(test_bootinfo_flags_are_mem_mmap_and_loader_name_without_cmdline)
{
    assert_loads(NULL);
    ck_assert_uint_eq(ram32(lk.mbi_addr), (1u << 0) | (1u << 6) | (1u << 9));
}
END_TEST

START_TEST(test_bootinfo_flags_include_cmdline_when_given)
{
    assert_loads("console=ttyS0");
    ck_assert_uint_eq(ram32(lk.mbi_addr), (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
}
END_TEST

START_TEST(test_bootinfo_mem_lower_and_upper_describe_a_128_mib_guest)
{
    assert_loads(NULL);
    ck_assert_uint_eq(ram32(lk.mbi_addr + 4), 640);
    ck_assert_uint_eq(ram32(lk.mbi_addr + 8), (GUEST_MIB - 1) * 1024);
}
END_TEST

static uint64_t ram64(uint32_t addr) { return ram32(addr) | (uint64_t)ram32(addr + 4) << 32; }

START_TEST(test_bootinfo_mmap_lists_ram_the_acpi_page_vga_rom_and_extended_ram)
{
    static const struct {
        uint64_t base, len;
        uint32_t type;
    } want[] = {
        {0, 0x9F000, 1},
        {0x9F000, 0x1000, 2}, /* the ACPI tables (emu/acpi.h) */
        {0xA0000, 0x20000, 2},
        {0xC0000, 0x40000, 2},
        {0x100000, ((uint64_t)GUEST_MIB << 20) - 0x100000, 1},
    };
    assert_loads(NULL);
    ck_assert(lk.acpi);
    uint32_t len = ram32(lk.mbi_addr + 44), addr = ram32(lk.mbi_addr + 48);
    ck_assert_uint_eq(len, 5 * 24);
    ck_assert(addr >= lk.mbi_addr && addr + len <= lk.mbi_addr + PHYS_BOOTINFO_SIZE);
    for (unsigned k = 0; k < 5; k++) {
        uint32_t e = addr + 24 * k;
        ck_assert_uint_eq(ram32(e), 20);
        ck_assert_uint_eq(ram64(e + 4), want[k].base);
        ck_assert_uint_eq(ram64(e + 12), want[k].len);
        ck_assert_uint_eq(ram32(e + 20), want[k].type);
    }
}
END_TEST

/* A kernel loaded where the ACPI tables go keeps that memory: no tables, all low RAM in the map. */
START_TEST(test_kernel_in_the_acpi_page_gets_no_tables_and_all_low_ram)
{
    put32(ph(1) + PH_PADDR, PHYS_LOW_RAM_END - SEG_MEMSZ);
    assert_loads(NULL);
    ck_assert(!lk.acpi);
    uint32_t len = ram32(lk.mbi_addr + 44), addr = ram32(lk.mbi_addr + 48);
    ck_assert_uint_eq(len, 4 * 24);
    ck_assert_uint_eq(ram64(addr + 12), 0xA0000);
}
END_TEST

/* A NUL-terminated string in the boot info area at the address stored at mbi + field. */
static const char *bootinfo_string(uint32_t field)
{
    uint32_t addr = ram32(lk.mbi_addr + field);
    ck_assert(addr >= lk.mbi_addr && addr < lk.mbi_addr + PHYS_BOOTINFO_SIZE);
    const char *s = (const char *)phys_ptr(&pm, addr);
    ck_assert_ptr_nonnull(memchr(s, 0, lk.mbi_addr + PHYS_BOOTINFO_SIZE - addr));
    return s;
}

START_TEST(test_bootinfo_cmdline_is_the_given_string)
{
    assert_loads("root=/dev/ram0 quiet");
    ck_assert_str_eq(bootinfo_string(16), "root=/dev/ram0 quiet");
}
END_TEST

START_TEST(test_bootinfo_empty_cmdline_is_passed_as_empty_string)
{
    assert_loads("");
    ck_assert_uint_eq(ram32(lk.mbi_addr) & (1u << 2), 1u << 2);
    ck_assert_str_eq(bootinfo_string(16), "");
}
END_TEST

/* Through the boot protocol, as the machine loads: the command line is "KERNEL ARGS", the
 * kernel's name first (QEMU's and GRUB's convention, which kvm-unit-tests reads argv[0] from). */
static const char *protocol_cmdline(const char *path, const char *args)
{
    boot_image bi = {.path = path, .data = img, .size = img_size};
    boot_options o = {.cmdline = args};
    static boot_result res;
    memset(&err, 0, sizeof err);
    ck_assert_msg(boot_load(&pm, &bi, &o, &res, &err), "%s", err.msg);
    lk.mbi_addr = res.cpu.ebx;
    ck_assert_uint_eq(ram32(lk.mbi_addr) & (1u << 2), 1u << 2);
    return bootinfo_string(16);
}

START_TEST(test_protocol_cmdline_is_the_kernel_name_then_the_arguments)
{
    ck_assert_str_eq(protocol_cmdline("x86/vmexit.flat", "cpuid  ipi"), "vmexit.flat cpuid  ipi");
}
END_TEST

START_TEST(test_protocol_cmdline_without_arguments_is_the_kernel_name_and_a_space_as_qemu_passes)
{
    ck_assert_str_eq(protocol_cmdline("kernel.elf", NULL), "kernel.elf ");
}
END_TEST

START_TEST(test_bootinfo_loader_name_is_vmiemu_and_version)
{
    assert_loads(NULL);
#ifdef VMIEMU_VERSION
    ck_assert_str_eq(bootinfo_string(64), "vmiemu " VMIEMU_VERSION);
#else
    ck_assert_str_eq(bootinfo_string(64), "vmiemu");
#endif
}
END_TEST

START_TEST(test_accepts_the_longest_cmdline_that_fits)
{
    static char line[PHYS_BOOTINFO_SIZE];
    size_t n = PHYS_BOOTINFO_SIZE - 1;
    memset(line, 'x', n);
    /* Shrink until it fits; the longest accepted one must be stored whole. */
    while (n > 0) {
        line[n] = 0;
        if (load(line))
            break;
        ck_assert_ptr_nonnull(strstr(err.msg, "command line"));
        n--;
    }
    ck_assert_uint_gt(n, PHYS_BOOTINFO_SIZE - 512);
    ck_assert_uint_eq(strlen(bootinfo_string(16)), n);
}
END_TEST

START_TEST(test_higher_half_entry_is_translated_to_physical)
{
    for (unsigned k = 0; k < NSEG; k++)
        put32(ph(k) + PH_VADDR, 0xC0000000u + SEG_ADDR(k));
    put32(EH_ENTRY, 0xC0000000u + ENTRY);
    assert_loads(NULL);
    ck_assert_uint_eq(lk.entry, ENTRY);
    ck_assert_mem_eq(phys_ptr(&pm, SEG_ADDR(1)), img + SEG_FILE(1), SEG_FILESZ);
}
END_TEST

START_TEST(test_accepts_segments_in_low_ram_and_at_the_end_of_ram)
{
    put32(ph(1) + PH_PADDR, 0x1000);
    put32(ph(1) + PH_VADDR, 0x1000);
    put32(ph(2) + PH_PADDR, (GUEST_MIB << 20) - SEG_MEMSZ);
    assert_loads(NULL);
    ck_assert_uint_eq(lk.load_lo, 0x1000);
    ck_assert_uint_eq(lk.load_hi, GUEST_MIB << 20);
    ck_assert_mem_eq(phys_ptr(&pm, 0x1000), img + SEG_FILE(1), SEG_FILESZ);
}
END_TEST

START_TEST(test_accepts_segments_that_touch_without_overlapping)
{
    put32(ph(1) + PH_PADDR, SEG_ADDR(0) + SEG_MEMSZ);
    assert_loads(NULL);
}
END_TEST

START_TEST(test_accepts_segment_right_below_the_hole_and_bootinfo_neighbours)
{
    put32(ph(1) + PH_PADDR, PHYS_LOW_RAM_END - SEG_MEMSZ);
    put32(ph(2) + PH_PADDR, PHYS_BOOTINFO + PHYS_BOOTINFO_SIZE);
    assert_loads(NULL);
}
END_TEST

START_TEST(test_accepts_header_at_the_last_aligned_offset_below_8k)
{
    memset(img + MB_OFF, 0, 12);
    put_mb_header(8192 - 12, MB_FLAGS);
    assert_loads(NULL);
}
END_TEST

START_TEST(test_accepts_video_mode_request_without_honouring_it)
{
    put_mb_header(MB_OFF, MB_FLAGS | (1u << 2));
    assert_loads(NULL);
    ck_assert_uint_eq(lk.header_flags, MB_FLAGS | (1u << 2));
}
END_TEST

START_TEST(test_ignores_optional_flags_above_16)
{
    put_mb_header(MB_OFF, MB_FLAGS | 0x80000000u | (1u << 17));
    assert_loads(NULL);
}
END_TEST

START_TEST(test_skips_a_bad_header_when_a_good_one_follows)
{
    put32(MB_OFF - 0x100, MB_HEADER_MAGIC); /* stray magic, wrong checksum */
    assert_loads(NULL);
    ck_assert_uint_eq(lk.header_flags, MB_FLAGS);
}
END_TEST

START_TEST(test_ignores_non_load_program_headers)
{
    put32(ph(2) + PH_TYPE, 4); /* PT_NOTE: its address would be in the hole */
    put32(ph(2) + PH_PADDR, 0xA0000);
    assert_loads(NULL);
    ck_assert_uint_eq(lk.load_hi, SEG_ADDR(1) + SEG_MEMSZ);
}
END_TEST

START_TEST(test_rejected_kernel_leaves_guest_ram_untouched)
{
    put32(ph(2) + PH_PADDR, 0xA0000); /* the last segment is bad */
    assert_rejected(NULL, "hole");
    for (unsigned k = 0; k < 2; k++)
        ck_assert_uint_eq(ram32(SEG_ADDR(k)), 0);
    ck_assert_uint_eq(ram32(PHYS_BOOTINFO), 0);
}
END_TEST

/* ---- the file ---- */

START_TEST(test_rejects_empty_file)
{
    img_size = 0;
    assert_rejected(NULL, "file is empty");
}
END_TEST

START_TEST(test_rejects_file_without_elf_magic)
{
    img[0] = 'M';
    img[1] = 'Z';
    assert_rejected(NULL, "not an ELF file");
}
END_TEST

START_TEST(test_rejects_three_byte_file)
{
    img_size = 3;
    assert_rejected(NULL, "not an ELF file");
}
END_TEST

START_TEST(test_rejects_random_bytes)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < 4096; i++) {
        x = x * 1103515245u + 12345u;
        img[i] = (uint8_t)(x >> 16);
    }
    img[0] = 0; /* make sure the magic cannot appear by chance */
    img_size = 4096;
    assert_rejected(NULL, "not an ELF file");
}
END_TEST

START_TEST(test_rejects_truncated_elf_header)
{
    img_size = 30;
    assert_rejected(NULL, "truncated: ELF header needs 52 bytes but the file has 30 bytes");
}
END_TEST

/* ---- the ELF header ---- */

START_TEST(test_rejects_64_bit_elf_class)
{
    img[EH_CLASS] = 2;
    assert_rejected(NULL, "ELF class 64 is not supported (need 32-bit i386)");
}
END_TEST

START_TEST(test_rejects_big_endian_elf)
{
    img[EH_DATA] = 2;
    assert_rejected(NULL, "little-endian");
}
END_TEST

START_TEST(test_rejects_unknown_elf_version)
{
    img[EH_VERSION] = 2;
    assert_rejected(NULL, "ELF version 2");
}
END_TEST

START_TEST(test_rejects_wrong_machine)
{
    put16(EH_MACHINE, 62); /* x86-64 */
    assert_rejected(NULL, "ELF machine 62 is not supported");
}
END_TEST

START_TEST(test_rejects_relocatable_object)
{
    put16(EH_TYPE, 1); /* ET_REL */
    assert_rejected(NULL, "ELF type 1 is not supported (need ET_EXEC");
}
END_TEST

START_TEST(test_rejects_shared_object)
{
    put16(EH_TYPE, 3); /* ET_DYN, e.g. a PIE */
    assert_rejected(NULL, "ELF type 3");
}
END_TEST

START_TEST(test_rejects_file_without_program_headers)
{
    put16(EH_PHNUM, 0);
    assert_rejected(NULL, "no program headers");
}
END_TEST

START_TEST(test_rejects_program_header_table_beyond_the_file)
{
    put32(EH_PHOFF, (uint32_t)img_size - 40);
    char want[128];
    snprintf(want, sizeof want,
             "truncated: program header table ends at byte %zu but the file has %zu bytes",
             img_size - 40 + NSEG * PHDR_SIZE, img_size);
    assert_rejected(NULL, want);
}
END_TEST

START_TEST(test_rejects_program_header_offset_that_would_wrap)
{
    put32(EH_PHOFF, 0xFFFFFFF0u);
    assert_rejected(NULL, "program header table ends at byte 4294967376");
}
END_TEST

START_TEST(test_rejects_wrong_program_header_entry_size)
{
    put16(EH_PHENTSIZE, 56); /* Elf64_Phdr */
    assert_rejected(NULL, "program header entry size is 56 bytes (need 32)");
}
END_TEST

START_TEST(test_rejects_kernel_without_pt_load)
{
    for (unsigned k = 0; k < NSEG; k++)
        put32(ph(k) + PH_TYPE, 4); /* PT_NOTE */
    assert_rejected(NULL, "no PT_LOAD segment");
}
END_TEST

/* ---- segments ---- */

START_TEST(test_rejects_segment_data_beyond_the_file)
{
    put32(ph(2) + PH_FILESZ, SEG_FILESZ + 1);
    char want[128];
    snprintf(want, sizeof want,
             "truncated: segment 2 data ends at byte %zu but the file has %zu bytes",
             img_size + 1, img_size);
    assert_rejected(NULL, want);
}
END_TEST

START_TEST(test_rejects_segment_offset_that_would_wrap)
{
    put32(ph(1) + PH_OFFSET, 0xFFFFFF00u);
    assert_rejected(NULL, "segment 1 data ends at byte 4294967552");
}
END_TEST

START_TEST(test_rejects_filesz_larger_than_memsz)
{
    put32(ph(1) + PH_MEMSZ, SEG_FILESZ - 1);
    assert_rejected(NULL, "segment 1 has p_filesz 0x200 larger than p_memsz 0x1ff");
}
END_TEST

START_TEST(test_rejects_segment_over_the_vga_rom_hole)
{
    put32(ph(2) + PH_PADDR, 0xA0000);
    assert_rejected(NULL, "segment 2 at 0x000a0000-0x000a1000 overlaps the 640 KiB-1 MiB hole");
}
END_TEST

START_TEST(test_rejects_segment_straddling_640_kib)
{
    put32(ph(2) + PH_PADDR, PHYS_LOW_RAM_END - 0x800);
    assert_rejected(NULL, "segment 2 at 0x0009f800-0x000a0800 overlaps the 640 KiB-1 MiB hole");
}
END_TEST

START_TEST(test_rejects_segment_straddling_1_mib)
{
    put32(ph(0) + PH_PADDR, PHYS_HOLE_END - 0x10);
    put32(ph(0) + PH_VADDR, PHYS_HOLE_END - 0x10);
    assert_rejected(NULL, "segment 0 at 0x000ffff0-0x00100ff0 overlaps the 640 KiB-1 MiB hole");
}
END_TEST

START_TEST(test_rejects_segment_past_the_end_of_ram)
{
    put32(ph(2) + PH_PADDR, (GUEST_MIB << 20) - 0x800);
    assert_rejected(NULL, "segment 2 at 0x07fff800-0x08000800 ends past the end of RAM "
                          "(0x08000000, 128 MiB)");
}
END_TEST

START_TEST(test_rejects_segment_whose_address_wraps_past_4_gib)
{
    put32(ph(1) + PH_PADDR, 0xFFFFF800u);
    assert_rejected(NULL, "segment 1 at 0xfffff800 + 0x00001000 wraps past the 4 GiB");
}
END_TEST

/* The boot information goes where no segment is, as QEMU and GRUB place it: a kernel may be
 * linked at PHYS_BOOTINFO (kvm-unit-tests' realmode.flat is, at 0x8000). */
static void assert_bootinfo_clear_of_segments(void)
{
    for (unsigned k = 0; k < NSEG; k++) {
        uint32_t lo = img32(ph(k) + PH_PADDR), hi = lo + img32(ph(k) + PH_MEMSZ);
        ck_assert_msg(lk.mbi_addr >= hi || lk.mbi_addr + PHYS_BOOTINFO_SIZE <= lo,
                      "the boot information at 0x%x overlaps segment %u (0x%x-0x%x)", lk.mbi_addr, k, lo, hi);
        ck_assert_mem_eq(phys_ptr(&pm, lo), img + SEG_FILE(k), SEG_FILESZ); /* not overwritten */
    }
}

START_TEST(test_a_kernel_linked_at_0x8000_gets_its_boot_information_after_it)
{
    put32(ph(1) + PH_PADDR, PHYS_BOOTINFO);
    put32(ph(1) + PH_MEMSZ, 0x5A30); /* realmode.flat: 0x8000-0xDA30 */
    assert_loads("args");
    ck_assert_uint_eq(lk.mbi_addr, 0xE000);
    assert_bootinfo_clear_of_segments();
    ck_assert_str_eq(bootinfo_string(16), "args");
}
END_TEST

START_TEST(test_a_segment_over_the_end_of_the_usual_place_moves_the_boot_information_past_it)
{
    put32(ph(1) + PH_PADDR, PHYS_BOOTINFO + PHYS_BOOTINFO_SIZE - 0x10);
    assert_loads(NULL);
    ck_assert_uint_eq(lk.mbi_addr, 0x11000);
    assert_bootinfo_clear_of_segments();
}
END_TEST

START_TEST(test_the_boot_information_goes_above_the_hole_when_low_ram_is_taken)
{
    put32(ph(1) + PH_PADDR, PHYS_BOOTINFO);
    put32(ph(1) + PH_MEMSZ, PHYS_LOW_RAM_END - PHYS_BOOTINFO - 0x1000);
    assert_loads(NULL);
    ck_assert_uint_eq(lk.mbi_addr, SEG_ADDR(0) + SEG_MEMSZ);
    assert_bootinfo_clear_of_segments();
    ck_assert_uint_eq(ram32(lk.mbi_addr + 48), lk.mbi_addr + 120); /* the memory map follows it */
}
END_TEST

START_TEST(test_rejects_a_kernel_that_leaves_no_room_for_the_boot_information)
{
    put32(ph(1) + PH_PADDR, PHYS_BOOTINFO);
    put32(ph(1) + PH_MEMSZ, PHYS_LOW_RAM_END - PHYS_BOOTINFO - 0x1000);
    put32(ph(2) + PH_PADDR, SEG_ADDR(0) + SEG_MEMSZ);
    put32(ph(2) + PH_MEMSZ, (GUEST_MIB << 20) - (SEG_ADDR(0) + SEG_MEMSZ) - 0x1000);
    assert_rejected(NULL, "no room for the boot information (32 KiB) in RAM clear of the kernel's segments");
    ck_assert_uint_eq(ram32(SEG_ADDR(0)), 0); /* refused before anything was copied */
}
END_TEST

START_TEST(test_rejects_overlapping_segments)
{
    put32(ph(2) + PH_PADDR, SEG_ADDR(0) + SEG_MEMSZ - 1);
    assert_rejected(NULL, "segments 0 (0x00100000-0x00101000) and 2 (0x00100fff-0x00101fff) "
                          "overlap");
}
END_TEST

START_TEST(test_rejects_segment_inside_another)
{
    put32(ph(0) + PH_MEMSZ, 0x30000);
    assert_rejected(NULL, "segments 0 (0x00100000-0x00130000) and 1");
}
END_TEST

START_TEST(test_rejects_entry_outside_every_segment)
{
    put32(EH_ENTRY, 0x200000);
    assert_rejected(NULL, "entry point 0x00200000 is not inside an executable loaded segment");
}
END_TEST

START_TEST(test_rejects_entry_in_a_non_executable_segment)
{
    put32(EH_ENTRY, SEG_ADDR(1));
    assert_rejected(NULL, "entry point 0x00110000 is not inside an executable loaded segment");
}
END_TEST

START_TEST(test_rejects_entry_in_bss)
{
    put32(EH_ENTRY, SEG_ADDR(0) + SEG_FILESZ);
    assert_rejected(NULL, "entry point 0x00100200");
}
END_TEST

/* ---- the Multiboot header ---- */

START_TEST(test_rejects_elf_without_multiboot_header)
{
    memset(img + MB_OFF, 0, 12);
    assert_rejected(NULL, "no Multiboot header in the first 8192 bytes");
}
END_TEST

START_TEST(test_rejects_multiboot_header_past_8_kib)
{
    memset(img + MB_OFF, 0, 12);
    put_mb_header(8192 - 8, MB_FLAGS); /* starts inside, ends outside */
    put_mb_header(8192, MB_FLAGS);
    assert_rejected(NULL, "no Multiboot header in the first 8192 bytes");
}
END_TEST

START_TEST(test_rejects_unaligned_multiboot_header)
{
    memset(img + MB_OFF, 0, 12);
    put_mb_header(MB_OFF + 2, MB_FLAGS);
    assert_rejected(NULL, "no Multiboot header");
}
END_TEST

START_TEST(test_rejects_bad_multiboot_checksum)
{
    put32(MB_OFF + 8, 0x12345678);
    assert_rejected(NULL, "Multiboot header checksum is wrong (0x1badb002 + 0x00000003 + "
                          "0x12345678 != 0)");
}
END_TEST

START_TEST(test_rejects_unsupported_required_flag)
{
    put_mb_header(MB_OFF, MB_FLAGS | (1u << 5));
    assert_rejected(NULL,
                    "Multiboot header requires unsupported feature flag 5 (flags 0x00000023)");
}
END_TEST

START_TEST(test_rejects_aout_kludge_flag_as_elf_only)
{
    put_mb_header(MB_OFF, MB_FLAGS | (1u << 16));
    assert_rejected(NULL, "flag 16 (a.out kludge");
    ck_assert_ptr_nonnull(strstr(err.msg, "only ELF kernels are supported"));
}
END_TEST

START_TEST(test_rejects_cmdline_too_long_for_the_boot_information_area)
{
    static char line[PHYS_BOOTINFO_SIZE + 1];
    memset(line, 'x', PHYS_BOOTINFO_SIZE);
    line[PHYS_BOOTINFO_SIZE] = 0;
    assert_rejected(line, "command line is 32768 bytes; at most");
    ck_assert_uint_eq(ram32(SEG_ADDR(0)), 0); /* refused before anything was copied */
}
END_TEST

/* ---- robustness ---- */

static uint32_t fuzz_next(uint32_t *s)
{
    /* xorshift32: fixed seed, same mutations on every run */
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static uint32_t fuzz_value(uint32_t *s)
{
    static const uint32_t interesting[] = {0, 1, 0x7F, 0x80, 0xFFFF, 0x8000, 0xFFFFFFFFu,
                                           0x80000000u, 0x7FFFFFFFu, 0xA0000, 0x100000, 0x8000};
    uint32_t r = fuzz_next(s);
    return (r & 1) ? fuzz_next(s) : interesting[(r >> 1) % (sizeof interesting / 4)];
}

/* Byte flips anywhere, words overwritten in the headers, and truncation. */
static size_t fuzz_mutate(uint8_t *buf, size_t size, uint32_t *s)
{
    unsigned n = 1 + fuzz_next(s) % 6;
    for (unsigned m = 0; m < n; m++) {
        uint32_t r = fuzz_next(s);
        if (r % 6 < 2)
            buf[fuzz_next(s) % size] ^= (uint8_t)(1u << (r >> 8) % 8);
        else {
            size_t hot = ph(NSEG) + 4; /* ELF and program headers */
            size_t off = (r % 6 < 5) ? fuzz_next(s) % hot : MB_OFF + fuzz_next(s) % 3 * 4;
            uint32_t v = fuzz_value(s);
            memcpy(buf + off, &v, 4); /* host order: either way it is a random value */
        }
    }
    if (fuzz_next(s) % 8 == 0)
        size = fuzz_next(s) % (size + 1);
    return size;
}

START_TEST(test_fuzzed_images_load_or_fail_cleanly)
{
    uint32_t seed = 0x9E3779B9u;
    unsigned loaded = 0;
    for (int it = 0; it < 2000; it++) {
        uint8_t buf[IMG_MAX];
        memcpy(buf, img, img_size);
        size_t size = fuzz_mutate(buf, img_size, &seed);
        if (load_bytes(buf, size, (it & 1) ? "a b c" : NULL)) {
            loaded++;
            ck_assert_uint_lt(lk.load_lo, lk.load_hi);
            /* [lo, hi) may span the hole when segments sit on both sides of it */
            ck_assert(phys_kind_at(&pm, lk.load_lo) == PHYS_RAM);
            ck_assert(phys_kind_at(&pm, lk.load_hi - 1) == PHYS_RAM);
            ck_assert_uint_ge(lk.mbi_addr, PHYS_BOOTINFO);
            ck_assert_uint_eq(lk.mbi_addr % 4096, 0);
        } else {
            ck_assert_int_eq(err.code, VM_EFORMAT);
            ck_assert_msg(strncmp(err.msg, PATH ": ", strlen(PATH) + 2) == 0 &&
                              strlen(err.msg) > strlen(PATH) + 2,
                          "iteration %d: bad message \"%s\"", it, err.msg);
            ck_assert(strchr(err.msg, '\n') == NULL);
        }
    }
    /* The mutations are small; some images must still load, or the test checks nothing. */
    ck_assert_uint_gt(loaded, 0);
    ck_assert_uint_lt(loaded, 2000);
}
END_TEST

/* ---- loader_read_file ---- */

static void write_temp(char *path, size_t cap, const void *data, size_t len)
{
    snprintf(path, cap, "%s/loader_XXXXXX", VMIEMU_TEST_TMPDIR);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

START_TEST(test_read_file_returns_the_whole_file)
{
    char path[256];
    write_temp(path, sizeof path, img, img_size);
    uint8_t *data = NULL;
    size_t size = 0;
    bool ok = loader_read_file(path, &data, &size, &err);
    unlink(path);
    ck_assert_msg(ok, "%s", err.msg);
    ck_assert_uint_eq(size, img_size);
    ck_assert_mem_eq(data, img, img_size);
    free(data);
}
END_TEST

START_TEST(test_read_file_reports_a_missing_file)
{
    uint8_t *data = (uint8_t *)1;
    size_t size = 1;
    ck_assert(!loader_read_file("/nonexistent/kernel.elf", &data, &size, &err));
    ck_assert_int_eq(err.code, VM_EIO);
    ck_assert_str_eq(err.msg, "/nonexistent/kernel.elf: cannot open: No such file or directory");
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(size, 0);
}
END_TEST

START_TEST(test_read_file_reports_a_directory)
{
    uint8_t *data;
    size_t size;
    ck_assert(!loader_read_file(VMIEMU_TEST_TMPDIR, &data, &size, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, VMIEMU_TEST_TMPDIR ": is a directory"));
}
END_TEST

START_TEST(test_read_file_reports_an_empty_file)
{
    char path[256];
    write_temp(path, sizeof path, "", 0);
    uint8_t *data;
    size_t size;
    bool ok = loader_read_file(path, &data, &size, &err);
    unlink(path);
    ck_assert(!ok);
    ck_assert_ptr_nonnull(strstr(err.msg, ": file is empty"));
    ck_assert_ptr_nonnull(strstr(err.msg, path));
}
END_TEST

START_TEST(test_read_file_reports_an_unreadable_file)
{
    if (geteuid() == 0)
        return; /* root reads anything: nothing to test */
    char path[256];
    write_temp(path, sizeof path, img, 16);
    chmod(path, 0);
    uint8_t *data;
    size_t size;
    bool ok = loader_read_file(path, &data, &size, &err);
    unlink(path);
    ck_assert(!ok);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open: Permission denied"));
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *valid = tcase_create("valid");
    tcase_add_checked_fixture(valid, setup, teardown);
    tcase_add_test(valid, test_valid_kernel_copies_segment_bytes_to_paddr);
    tcase_add_test(valid, test_valid_kernel_has_its_bss_zeroed);
    tcase_add_test(valid, test_valid_kernel_reports_entry_load_range_and_header_flags);
    tcase_add_test(valid, test_bootinfo_flags_are_mem_mmap_and_loader_name_without_cmdline);
    tcase_add_test(valid, test_bootinfo_flags_include_cmdline_when_given);
    tcase_add_test(valid, test_bootinfo_mem_lower_and_upper_describe_a_128_mib_guest);
    tcase_add_test(valid, test_bootinfo_mmap_lists_ram_the_acpi_page_vga_rom_and_extended_ram);
    tcase_add_test(valid, test_kernel_in_the_acpi_page_gets_no_tables_and_all_low_ram);
    tcase_add_test(valid, test_bootinfo_cmdline_is_the_given_string);
    tcase_add_test(valid, test_bootinfo_empty_cmdline_is_passed_as_empty_string);
    tcase_add_test(valid, test_a_kernel_linked_at_0x8000_gets_its_boot_information_after_it);
    tcase_add_test(valid, test_a_segment_over_the_end_of_the_usual_place_moves_the_boot_information_past_it);
    tcase_add_test(valid, test_the_boot_information_goes_above_the_hole_when_low_ram_is_taken);
    tcase_add_test(valid, test_protocol_cmdline_is_the_kernel_name_then_the_arguments);
    tcase_add_test(valid, test_protocol_cmdline_without_arguments_is_the_kernel_name_and_a_space_as_qemu_passes);
    tcase_add_test(valid, test_bootinfo_loader_name_is_vmiemu_and_version);
    tcase_add_test(valid, test_accepts_the_longest_cmdline_that_fits);
    tcase_add_test(valid, test_higher_half_entry_is_translated_to_physical);
    tcase_add_test(valid, test_accepts_segments_in_low_ram_and_at_the_end_of_ram);
    tcase_add_test(valid, test_accepts_segments_that_touch_without_overlapping);
    tcase_add_test(valid, test_accepts_segment_right_below_the_hole_and_bootinfo_neighbours);
    tcase_add_test(valid, test_accepts_header_at_the_last_aligned_offset_below_8k);
    tcase_add_test(valid, test_accepts_video_mode_request_without_honouring_it);
    tcase_add_test(valid, test_ignores_optional_flags_above_16);
    tcase_add_test(valid, test_skips_a_bad_header_when_a_good_one_follows);
    tcase_add_test(valid, test_ignores_non_load_program_headers);
    tcase_add_test(valid, test_rejected_kernel_leaves_guest_ram_untouched);
    suite_add_tcase(s, valid);

    TCase *bad = tcase_create("rejected");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, test_rejects_empty_file);
    tcase_add_test(bad, test_rejects_file_without_elf_magic);
    tcase_add_test(bad, test_rejects_three_byte_file);
    tcase_add_test(bad, test_rejects_random_bytes);
    tcase_add_test(bad, test_rejects_truncated_elf_header);
    tcase_add_test(bad, test_rejects_64_bit_elf_class);
    tcase_add_test(bad, test_rejects_big_endian_elf);
    tcase_add_test(bad, test_rejects_unknown_elf_version);
    tcase_add_test(bad, test_rejects_wrong_machine);
    tcase_add_test(bad, test_rejects_relocatable_object);
    tcase_add_test(bad, test_rejects_shared_object);
    tcase_add_test(bad, test_rejects_file_without_program_headers);
    tcase_add_test(bad, test_rejects_program_header_table_beyond_the_file);
    tcase_add_test(bad, test_rejects_program_header_offset_that_would_wrap);
    tcase_add_test(bad, test_rejects_wrong_program_header_entry_size);
    tcase_add_test(bad, test_rejects_kernel_without_pt_load);
    tcase_add_test(bad, test_rejects_segment_data_beyond_the_file);
    tcase_add_test(bad, test_rejects_segment_offset_that_would_wrap);
    tcase_add_test(bad, test_rejects_filesz_larger_than_memsz);
    tcase_add_test(bad, test_rejects_segment_over_the_vga_rom_hole);
    tcase_add_test(bad, test_rejects_segment_straddling_640_kib);
    tcase_add_test(bad, test_rejects_segment_straddling_1_mib);
    tcase_add_test(bad, test_rejects_segment_past_the_end_of_ram);
    tcase_add_test(bad, test_rejects_segment_whose_address_wraps_past_4_gib);
    tcase_add_test(bad, test_rejects_a_kernel_that_leaves_no_room_for_the_boot_information);
    tcase_add_test(bad, test_rejects_overlapping_segments);
    tcase_add_test(bad, test_rejects_segment_inside_another);
    tcase_add_test(bad, test_rejects_entry_outside_every_segment);
    tcase_add_test(bad, test_rejects_entry_in_a_non_executable_segment);
    tcase_add_test(bad, test_rejects_entry_in_bss);
    tcase_add_test(bad, test_rejects_elf_without_multiboot_header);
    tcase_add_test(bad, test_rejects_multiboot_header_past_8_kib);
    tcase_add_test(bad, test_rejects_unaligned_multiboot_header);
    tcase_add_test(bad, test_rejects_bad_multiboot_checksum);
    tcase_add_test(bad, test_rejects_unsupported_required_flag);
    tcase_add_test(bad, test_rejects_aout_kludge_flag_as_elf_only);
    tcase_add_test(bad, test_rejects_cmdline_too_long_for_the_boot_information_area);
    suite_add_tcase(s, bad);

    TCase *fuzz = tcase_create("fuzz");
    tcase_add_checked_fixture(fuzz, setup, teardown);
    tcase_set_timeout(fuzz, 120);
    tcase_add_test(fuzz, test_fuzzed_images_load_or_fail_cleanly);
    suite_add_tcase(s, fuzz);

    TCase *file = tcase_create("read_file");
    tcase_add_checked_fixture(file, setup, teardown);
    tcase_add_test(file, test_read_file_returns_the_whole_file);
    tcase_add_test(file, test_read_file_reports_a_missing_file);
    tcase_add_test(file, test_read_file_reports_a_directory);
    tcase_add_test(file, test_read_file_reports_an_empty_file);
    tcase_add_test(file, test_read_file_reports_an_unreadable_file);
    suite_add_tcase(s, file);
    return s;
}

SUITE_MAIN(loader_suite)
