/* Multiboot v1 ELF loader.
 *
 * Everything a kernel file says is untrusted: every offset, size and address is checked (with
 * 64-bit arithmetic, so nothing wraps) before it is used, and the whole file is validated before
 * guest RAM is touched, so a rejected kernel leaves memory as it was.
 *
 * Choices (each has a test in tests/test_loader.c):
 * - Flag 16 (a.out kludge load addresses) is rejected: vmiemu loads ELF kernels only, and an ELF
 *   kernel never needs the kludge. Flags 17-31 are optional by the spec and ignored.
 * - Segments load at p_paddr, like GRUB; e_entry is a virtual address translated through the
 *   executable segment that contains it (identity for kernels where p_vaddr == p_paddr).
 * - The memory map has no EBDA entry: this machine has none, and mem_lower says 640 KiB. It
 *   reserves the ACPI tables' page below 640 KiB (emu/acpi.h) unless the kernel or the boot
 *   information lies there; then the kernel gets no ACPI tables.
 */
#define _POSIX_C_SOURCE 200809L

#include "emu/loader.h"

#include "emu/acpi.h"
#include "emu/boot.h"
#include "emu/firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VMIEMU_VERSION
#define LOADER_NAME "vmiemu"
#else
#define LOADER_NAME "vmiemu " VMIEMU_VERSION
#endif

#define LOADER_MB_SEARCH 8192u     /* the header must lie wholly in the first 8 KiB */
#define LOADER_MAX_SEGMENTS 64u    /* PT_LOAD segments; real kernels have a handful */
#define LOADER_MAX_FILE (1u << 30) /* loader_read_file refuses larger files */
#define LOADER_PAGE 4096u          /* the boot information starts on a page */

/* Multiboot header flags. */
#define MB_FLAG_PAGE_ALIGN (1u << 0)
#define MB_FLAG_MEMORY_INFO (1u << 1)
#define MB_FLAG_VIDEO_MODE (1u << 2)
#define MB_FLAG_AOUT_KLUDGE (1u << 16)
#define MB_FLAGS_REQUIRED 0x0000FFFFu
#define MB_FLAGS_UNDERSTOOD (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO | MB_FLAG_VIDEO_MODE)

/* Multiboot info flags and layout (spec 0.6.96, section 3.3). */
#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP (1u << 6)
#define MBI_FLAG_LOADER_NAME (1u << 9)
#define MBI_OFF_FLAGS 0u
#define MBI_OFF_MEM_LOWER 4u
#define MBI_OFF_MEM_UPPER 8u
#define MBI_OFF_CMDLINE 16u
#define MBI_OFF_MMAP_LENGTH 44u
#define MBI_OFF_MMAP_ADDR 48u
#define MBI_OFF_LOADER_NAME 64u
#define MBI_SIZE 120u /* 116 bytes up to the framebuffer colour info, rounded to 8 */
#define MMAP_ENTRY_SIZE 24u /* the size field (20) plus itself */
#define MMAP_AVAILABLE 1u
#define MMAP_RESERVED 2u

/* ELF32 (System V ABI, i386 supplement). Read byte by byte: the file need not be aligned. */
#define ELF_EHDR_SIZE 52u
#define ELF_PHDR_SIZE 32u
#define ELFCLASS32 1u
#define ELFDATA2LSB 1u
#define EV_CURRENT 1u
#define ET_EXEC 2u
#define EM_386 3u
#define PT_LOAD 1u
#define PF_X 1u

typedef struct loader_ctx {
    const char *path;
    const uint8_t *image;
    size_t size;
    vm_error *err;
} loader_ctx;

typedef struct loader_seg {
    unsigned index; /* program header number, for messages */
    uint32_t offset, filesz;
    uint64_t lo, hi; /* physical [lo, hi), 64-bit so a wrap is visible */
    uint32_t vaddr, flags;
} loader_seg;

typedef struct loader_elf {
    uint32_t entry, phoff;
    uint16_t phentsize, phnum;
    loader_seg seg[LOADER_MAX_SEGMENTS];
    unsigned nseg;
} loader_elf;

static uint16_t loader_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t loader_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void loader_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void loader_put64(uint8_t *p, uint64_t v)
{
    loader_put32(p, (uint32_t)v);
    loader_put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- Multiboot header ---- */

static bool loader_check_mb_flags(const loader_ctx *c, uint32_t flags)
{
    if (flags & MB_FLAG_AOUT_KLUDGE)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: Multiboot header sets flag 16 (a.out kludge load addresses); only ELF "
                       "kernels are supported, so clear flag 16",
                       c->path);
    uint32_t unknown = flags & MB_FLAGS_REQUIRED & ~MB_FLAGS_UNDERSTOOD;
    if (unknown) {
        unsigned bit = 0;
        while (!(unknown & (1u << bit)))
            bit++;
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: Multiboot header requires unsupported feature flag %u "
                       "(flags 0x%08" PRIx32 ")",
                       c->path, bit, flags);
    }
    return true;
}

/* The first header with a correct checksum wins; if the magic appears only with bad checksums,
 * the first one is reported, since that is almost certainly the intended header. */
static bool loader_find_mb_header(const loader_ctx *c, uint32_t *flags_out)
{
    size_t limit = c->size < LOADER_MB_SEARCH ? c->size : LOADER_MB_SEARCH;
    const uint8_t *bad = NULL;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        const uint8_t *h = c->image + off;
        if (loader_le32(h) != MB_HEADER_MAGIC)
            continue;
        uint32_t flags = loader_le32(h + 4);
        if ((uint32_t)(MB_HEADER_MAGIC + flags + loader_le32(h + 8)) == 0) {
            *flags_out = flags;
            return loader_check_mb_flags(c, flags);
        }
        if (!bad)
            bad = h;
    }
    if (bad)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: Multiboot header checksum is wrong (0x%08" PRIx32 " + 0x%08" PRIx32
                       " + 0x%08" PRIx32 " != 0)",
                       c->path, loader_le32(bad), loader_le32(bad + 4), loader_le32(bad + 8));
    return vm_fail(c->err, VM_EFORMAT, "%s: no Multiboot header in the first %u bytes", c->path,
                   LOADER_MB_SEARCH);
}

/* ---- ELF header ---- */

static bool loader_check_ident(const loader_ctx *c)
{
    const uint8_t *e = c->image;
    if (c->size < 4 || memcmp(e, "\x7f" "ELF", 4) != 0)
        return vm_fail(c->err, VM_EFORMAT, "%s: not an ELF file", c->path);
    if (c->size < ELF_EHDR_SIZE)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: truncated: ELF header needs %u bytes but the file has %zu bytes",
                       c->path, ELF_EHDR_SIZE, c->size);
    if (e[4] != ELFCLASS32)
        return vm_fail(c->err, VM_EFORMAT, "%s: ELF class %u is not supported (need 32-bit i386)",
                       c->path, e[4] == 2 ? 64u : e[4]);
    if (e[5] != ELFDATA2LSB)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: ELF data encoding %u is not supported (need little-endian)", c->path,
                       e[5]);
    if (e[6] != EV_CURRENT || loader_le32(e + 20) != EV_CURRENT)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: ELF version %u/%" PRIu32 " is not supported (need 1)", c->path, e[6],
                       loader_le32(e + 20));
    return true;
}

static bool loader_parse_ehdr(const loader_ctx *c, loader_elf *elf)
{
    if (!loader_check_ident(c))
        return false;
    const uint8_t *e = c->image;
    uint16_t type = loader_le16(e + 16), machine = loader_le16(e + 18);
    if (type != ET_EXEC)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: ELF type %u is not supported (need ET_EXEC, a static executable)",
                       c->path, type);
    if (machine != EM_386)
        return vm_fail(c->err, VM_EFORMAT, "%s: ELF machine %u is not supported (need EM_386, 3)",
                       c->path, machine);
    elf->entry = loader_le32(e + 24);
    elf->phoff = loader_le32(e + 28);
    elf->phentsize = loader_le16(e + 42);
    elf->phnum = loader_le16(e + 44);
    if (elf->phnum == 0 || elf->phoff == 0)
        return vm_fail(c->err, VM_EFORMAT, "%s: no program headers", c->path);
    if (elf->phentsize != ELF_PHDR_SIZE)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: program header entry size is %u bytes (need %u)", c->path,
                       elf->phentsize, ELF_PHDR_SIZE);
    uint64_t end = (uint64_t)elf->phoff + (uint64_t)elf->phnum * ELF_PHDR_SIZE;
    if (end > c->size)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: truncated: program header table ends at byte %" PRIu64
                       " but the file has %zu bytes",
                       c->path, end, c->size);
    return true;
}

/* ---- program headers ---- */

/* Where a segment may go: usable RAM (the boot information then goes where it is not). */
static bool loader_check_placement(const loader_ctx *c, const physmem *pm, const loader_seg *s)
{
    const char *p = c->path;
    unsigned i = s->index;
    if (s->hi > UINT64_C(0x100000000))
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: segment %u at 0x%08" PRIx64 " + 0x%08" PRIx64
                       " wraps past the 4 GiB address space",
                       p, i, s->lo, s->hi - s->lo);
    if (s->hi > pm->size)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: segment %u at 0x%08" PRIx64 "-0x%08" PRIx64
                       " ends past the end of RAM (0x%08" PRIx64 ", %" PRIu64 " MiB)",
                       p, i, s->lo, s->hi, pm->size, pm->size >> 20);
    if (!phys_range_is_ram(pm, s->lo, s->hi - s->lo))
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: segment %u at 0x%08" PRIx64 "-0x%08" PRIx64
                       " overlaps the 640 KiB-1 MiB hole (VGA, ROM, BIOS)",
                       p, i, s->lo, s->hi);
    return true;
}

static bool loader_parse_phdr(const loader_ctx *c, const physmem *pm, unsigned i,
                              loader_elf *elf)
{
    const uint8_t *ph = c->image + elf->phoff + (size_t)i * ELF_PHDR_SIZE;
    if (loader_le32(ph) != PT_LOAD)
        return true;
    uint32_t offset = loader_le32(ph + 4), vaddr = loader_le32(ph + 8);
    uint32_t paddr = loader_le32(ph + 12), filesz = loader_le32(ph + 16);
    uint32_t memsz = loader_le32(ph + 20), flags = loader_le32(ph + 24);
    if (filesz > memsz)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: segment %u has p_filesz 0x%" PRIx32 " larger than p_memsz 0x%" PRIx32,
                       c->path, i, filesz, memsz);
    if (filesz && (uint64_t)offset + filesz > c->size)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: truncated: segment %u data ends at byte %" PRIu64
                       " but the file has %zu bytes",
                       c->path, i, (uint64_t)offset + filesz, c->size);
    if (memsz == 0)
        return true; /* occupies nothing */
    if (elf->nseg == LOADER_MAX_SEGMENTS)
        return vm_fail(c->err, VM_EFORMAT, "%s: more than %u loadable segments", c->path,
                       LOADER_MAX_SEGMENTS);
    loader_seg *s = &elf->seg[elf->nseg];
    *s = (loader_seg){.index = i, .offset = offset, .filesz = filesz, .lo = paddr,
                      .hi = (uint64_t)paddr + memsz, .vaddr = vaddr, .flags = flags};
    if (!loader_check_placement(c, pm, s))
        return false;
    for (unsigned j = 0; j < elf->nseg; j++) {
        const loader_seg *o = &elf->seg[j];
        if (s->lo < o->hi && o->lo < s->hi)
            return vm_fail(c->err, VM_EFORMAT,
                           "%s: segments %u (0x%08" PRIx64 "-0x%08" PRIx64 ") and %u (0x%08" PRIx64
                           "-0x%08" PRIx64 ") overlap",
                           c->path, o->index, o->lo, o->hi, i, s->lo, s->hi);
    }
    elf->nseg++;
    return true;
}

/* e_entry is virtual; find the executable file-backed bytes that hold it (as GRUB 2 does). */
static bool loader_find_entry(const loader_ctx *c, const loader_elf *elf, uint32_t *entry)
{
    for (unsigned j = 0; j < elf->nseg; j++) {
        const loader_seg *s = &elf->seg[j];
        if ((s->flags & PF_X) && elf->entry >= s->vaddr &&
            (uint64_t)elf->entry < (uint64_t)s->vaddr + s->filesz) {
            *entry = (uint32_t)(s->lo + (elf->entry - s->vaddr));
            return true;
        }
    }
    return vm_fail(c->err, VM_EFORMAT,
                   "%s: entry point 0x%08" PRIx32 " is not inside an executable loaded segment",
                   c->path, elf->entry);
}

static bool loader_parse_segments(const loader_ctx *c, const physmem *pm, loader_elf *elf,
                                  uint32_t *entry)
{
    bool any_load = false;
    for (unsigned i = 0; i < elf->phnum; i++) {
        any_load |= loader_le32(c->image + elf->phoff + (size_t)i * ELF_PHDR_SIZE) == PT_LOAD;
        if (!loader_parse_phdr(c, pm, i, elf))
            return false;
    }
    if (!any_load)
        return vm_fail(c->err, VM_EFORMAT, "%s: no PT_LOAD segment", c->path);
    return loader_find_entry(c, elf, entry);
}

/* ---- Multiboot information ---- */

#define LOADER_MMAP_MAX 5 /* memory map entries, with the ACPI tables' page */

typedef struct loader_mmap_range {
    uint64_t base, len;
    uint32_t type;
} loader_mmap_range;

/* With ACPI tables, their page at the top of low RAM is reserved: low RAM ends below it. */
static uint32_t loader_write_mmap(const physmem *pm, uint8_t *dst, bool acpi)
{
    const loader_mmap_range map[LOADER_MMAP_MAX] = {
        {0, acpi ? ACPI_TABLES_ADDR : PHYS_LOW_RAM_END, MMAP_AVAILABLE},
        {ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, MMAP_RESERVED}, /* with tables only */
        {PHYS_VGA_BASE, PHYS_ROM_BASE - PHYS_VGA_BASE, MMAP_RESERVED},
        {PHYS_ROM_BASE, PHYS_HOLE_END - PHYS_ROM_BASE, MMAP_RESERVED},
        {PHYS_HOLE_END, pm->size - PHYS_HOLE_END, MMAP_AVAILABLE},
    };
    uint32_t n = 0;
    for (uint32_t k = 0; k < LOADER_MMAP_MAX; k++) {
        if (k == 1 && !acpi)
            continue;
        uint8_t *e = dst + n++ * MMAP_ENTRY_SIZE;
        loader_put32(e, MMAP_ENTRY_SIZE - 4);
        loader_put64(e + 4, map[k].base);
        loader_put64(e + 12, map[k].len);
        loader_put32(e + 20, map[k].type);
    }
    return n * MMAP_ENTRY_SIZE;
}

/* Layout of the area: info struct, memory map, loader name, command line. Checked before any
 * RAM is written so a too-long command line leaves the guest untouched. */
static bool loader_check_bootinfo_room(const loader_ctx *c, const char *cmdline)
{
    size_t fixed = MBI_SIZE + LOADER_MMAP_MAX * MMAP_ENTRY_SIZE + sizeof LOADER_NAME;
    size_t room = PHYS_BOOTINFO_SIZE - fixed - 1;
    if (cmdline && strlen(cmdline) > room)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: command line is %zu bytes; at most %zu fit in the boot information "
                       "area",
                       c->path, strlen(cmdline), room);
    return true;
}

/* Where the boot information goes: PHYS_BOOTINFO if no segment lies there, else the first page
 * above it in low RAM, else in extended RAM, clear of every segment, as QEMU and GRUB put it
 * where the kernel is not (realmode.flat of kvm-unit-tests is linked at 0x8000). The area
 * starts at or above PHYS_BOOTINFO, so it stays above the boot stack (BOOT_ESP). */
static bool loader_place_bootinfo(const loader_ctx *c, const physmem *pm, const loader_elf *elf, uint32_t *at)
{
    uint64_t lo = PHYS_BOOTINFO, limit = PHYS_LOW_RAM_END;
    for (;;) {
        if (lo + PHYS_BOOTINFO_SIZE > limit) {
            if (limit == pm->size)
                return vm_fail(c->err, VM_EFORMAT,
                               "%s: no room for the boot information (%u KiB) in RAM clear of the kernel's segments",
                               c->path, PHYS_BOOTINFO_SIZE / 1024);
            lo = PHYS_HOLE_END; /* low RAM is full: try above the hole */
            limit = pm->size;
            continue;
        }
        const loader_seg *hit = NULL;
        for (unsigned j = 0; j < elf->nseg && !hit; j++)
            if (elf->seg[j].lo < lo + PHYS_BOOTINFO_SIZE && lo < elf->seg[j].hi)
                hit = &elf->seg[j];
        if (!hit) {
            *at = (uint32_t)lo;
            return true;
        }
        lo = (hit->hi + LOADER_PAGE - 1) & ~(uint64_t)(LOADER_PAGE - 1);
    }
}

static void loader_build_bootinfo(physmem *pm, uint32_t base, const char *cmdline, bool acpi)
{
    uint8_t *area = phys_ptr(pm, base);
    memset(area, 0, PHYS_BOOTINFO_SIZE);
    uint32_t flags = MBI_FLAG_MEM | MBI_FLAG_MMAP | MBI_FLAG_LOADER_NAME;
    loader_put32(area + MBI_OFF_MEM_LOWER, PHYS_LOW_RAM_END / 1024);
    loader_put32(area + MBI_OFF_MEM_UPPER, (uint32_t)((pm->size - PHYS_HOLE_END) / 1024));

    uint32_t at = MBI_SIZE;
    uint32_t mmap_len = loader_write_mmap(pm, area + at, acpi);
    loader_put32(area + MBI_OFF_MMAP_LENGTH, mmap_len);
    loader_put32(area + MBI_OFF_MMAP_ADDR, base + at);
    at += mmap_len;

    memcpy(area + at, LOADER_NAME, sizeof LOADER_NAME);
    loader_put32(area + MBI_OFF_LOADER_NAME, base + at);
    at += sizeof LOADER_NAME;

    if (cmdline) {
        memcpy(area + at, cmdline, strlen(cmdline) + 1);
        loader_put32(area + MBI_OFF_CMDLINE, base + at);
        flags |= MBI_FLAG_CMDLINE;
    }
    loader_put32(area + MBI_OFF_FLAGS, flags);
}

/* ---- public API ---- */

static void loader_copy_segments(physmem *pm, const loader_ctx *c, const loader_elf *elf,
                                 loaded_kernel *out)
{
    out->load_lo = UINT32_MAX;
    out->load_hi = 0;
    for (unsigned j = 0; j < elf->nseg; j++) {
        const loader_seg *s = &elf->seg[j];
        uint8_t *dst = phys_ptr(pm, s->lo);
        if (s->filesz)
            memcpy(dst, c->image + s->offset, s->filesz);
        memset(dst + s->filesz, 0, (size_t)(s->hi - s->lo) - s->filesz);
        if (s->lo < out->load_lo)
            out->load_lo = (uint32_t)s->lo;
        if (s->hi > out->load_hi)
            out->load_hi = (uint32_t)s->hi;
    }
}

bool loader_load_multiboot(physmem *pm, const char *path, const uint8_t *image, size_t size,
                           const char *cmdline, loaded_kernel *out, vm_error *err)
{
    loader_ctx c = {.path = path, .image = image, .size = size, .err = err};
    if (size == 0)
        return vm_fail(err, VM_EFORMAT, "%s: file is empty", path);
    /* elf->seg is 2.5 KiB; static would make the loader non-reentrant, so keep it local. */
    loader_elf elf = {0};
    uint32_t mb_flags = 0, entry = 0;
    uint32_t mbi = 0;
    if (!loader_parse_ehdr(&c, &elf) || !loader_find_mb_header(&c, &mb_flags) ||
        !loader_parse_segments(&c, pm, &elf, &entry) || !loader_check_bootinfo_room(&c, cmdline) ||
        !loader_place_bootinfo(&c, pm, &elf, &mbi))
        return false;
    loader_copy_segments(pm, &c, &elf, out);
    out->acpi = mbi + PHYS_BOOTINFO_SIZE <= ACPI_TABLES_ADDR || mbi >= ACPI_TABLES_ADDR + ACPI_TABLES_SIZE;
    for (unsigned j = 0; j < elf.nseg; j++)
        if (elf.seg[j].lo < ACPI_TABLES_ADDR + ACPI_TABLES_SIZE && ACPI_TABLES_ADDR < elf.seg[j].hi)
            out->acpi = false; /* a kernel loaded where the tables go keeps its memory */
    loader_build_bootinfo(pm, mbi, cmdline, out->acpi);
    out->entry = entry;
    out->header_flags = mb_flags;
    out->mbi_addr = mbi;
    return true;
}

/* ---- the Multiboot boot protocol (emu/boot.h) ---- */

static bool loader_mb_probe(const uint8_t *data, size_t size)
{
    return size >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0;
}

/* The Multiboot entry state (spec 3.2): EAX magic, EBX the info, flat ring-0 code and data,
 * protected mode, paging and interrupts off. */
static bool loader_mb_load(physmem *pm, const boot_image *img, const boot_options *opt, boot_result *out,
                           vm_error *err)
{
    if (opt->initrd_path)
        return vm_fail(err, VM_EINVAL,
                       "%s: --initrd %s needs a Linux kernel, and this is a Multiboot kernel (vmiemu does not "
                       "load Multiboot modules)",
                       img->path, opt->initrd_path);
    /* QEMU and GRUB pass "KERNEL ARGS": the kernel's name is argv[0] (kvm-unit-tests takes it
     * so), then --append, with QEMU's separating space even when there are no arguments. The
     * name is the file's last component, not the path as typed, so that a record replays from
     * any directory (the command line is guest memory, which the digests cover). */
    const char *slash = strrchr(img->path, '/');
    const char *name = slash ? slash + 1 : img->path;
    const char *args = opt->cmdline ? opt->cmdline : "";
    size_t len = strlen(name) + 1 + strlen(args) + 1;
    char *cmdline = malloc(len);
    if (!cmdline)
        return vm_fail(err, VM_ENOMEM, "%s: cannot allocate %zu bytes for the command line", img->path, len);
    snprintf(cmdline, len, "%s %s", name, args);
    loaded_kernel lk;
    bool ok = loader_load_multiboot(pm, img->path, img->data, img->size, cmdline, &lk, err);
    free(cmdline);
    if (!ok)
        return false;
    /* null, flat code (0x08), flat data (0x10); accessed bits preset so loading never writes. */
    static const uint64_t gdt[3] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
    boot_put_gdt(pm, gdt, 3, &out->cpu);
    out->cpu.cs = 0x08;
    out->cpu.ds = 0x10;
    out->cpu.eip = lk.entry;
    out->cpu.eflags = 0x2;
    out->cpu.esp = BOOT_ESP;
    out->cpu.eax = MB_BOOT_MAGIC;
    out->cpu.ebx = lk.mbi_addr;
    boot_note_write(out, lk.load_lo, lk.load_hi - lk.load_lo, "kernel");
    boot_note_write(out, lk.mbi_addr, PHYS_BOOTINFO_SIZE, "multiboot_info");
    boot_note_write(out, BOOT_GDT, sizeof gdt, "gdt");
    /* The machine as the BIOS leaves it to a boot loader: real-mode kernels use its interrupt
     * table and timer (kvm-unit-tests' realmode waits for IRQ 0 in `sti; hlt`). */
    bool ivt = lk.load_lo >= FIRMWARE_IVT + FIRMWARE_IVT_SIZE;
    firmware_write_memory(pm, ivt);
    if (ivt)
        boot_note_write(out, FIRMWARE_IVT, FIRMWARE_IVT_SIZE, "ivt");
    boot_note_write(out, FIRMWARE_HANDLERS, FIRMWARE_HANDLERS_SIZE, "bios_handlers");
    out->bios_devices = true;
    if (lk.acpi) { /* as QEMU's firmware leaves them: kvm-unit-tests look for the FADT, MADT, HPET */
        acpi_build_tables(pm);
        boot_note_write(out, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, "acpi_tables");
        boot_note_write(out, ACPI_RSDP_ADDR, ACPI_RSDP_SIZE, "acpi_rsdp");
    }
    return true;
}

const boot_protocol boot_multiboot = {.name = "multiboot", .probe = loader_mb_probe, .load = loader_mb_load};

static bool loader_read_all(int fd, const char *path, uint8_t *buf, size_t size, vm_error *err)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vm_fail(err, VM_EIO, "%s: read failed: %s", path, strerror(errno));
        if (n == 0)
            return vm_fail(err, VM_EIO, "%s: file shrank while reading (%zu of %zu bytes)", path,
                           got, size);
        got += (size_t)n;
    }
    return true;
}

static bool loader_check_stat(const struct stat *st, const char *path, vm_error *err)
{
    if (S_ISDIR(st->st_mode))
        return vm_fail(err, VM_EIO, "%s: is a directory, not a file", path);
    if (!S_ISREG(st->st_mode))
        return vm_fail(err, VM_EIO, "%s: is not a regular file", path);
    if (st->st_size == 0)
        return vm_fail(err, VM_EFORMAT, "%s: file is empty", path);
    if ((uint64_t)st->st_size > LOADER_MAX_FILE)
        return vm_fail(err, VM_EFORMAT, "%s: file is %" PRIu64 " bytes; the limit is 1 GiB", path,
                       (uint64_t)st->st_size);
    return true;
}

bool loader_read_file(const char *path, uint8_t **data, size_t *size, vm_error *err)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vm_fail(err, VM_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        vm_fail(err, VM_EIO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return false;
    }
    if (!loader_check_stat(&st, path, err)) {
        close(fd);
        return false;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n);
    if (!buf) {
        close(fd);
        return vm_fail(err, VM_ENOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    bool ok = loader_read_all(fd, path, buf, n, err);
    close(fd);
    if (!ok) {
        free(buf);
        return false;
    }
    *data = buf;
    *size = n;
    return true;
}
