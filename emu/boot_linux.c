/* Linux/x86 boot protocol, 32-bit entry, for bzImages (emu/boot_linux.h says what is accepted).
 *
 * Like the Multiboot loader, everything the file says is untrusted: sizes and addresses are
 * checked in 64-bit arithmetic, and the kernel, command line and initrd are all validated
 * before guest RAM is written, so a refused boot leaves memory as it was. */
#include "emu/boot_linux.h"
#include "emu/le.h"

#include <inttypes.h>
#include <string.h>

#include "emu/acpi.h"
#include "emu/boot.h"

#define LINUX_MIN_VERSION 0x0202u
#define LINUX_HDR_MAX 0x290u            /* boot_params' room for the setup header ends here */
#define LINUX_OLD_CMDLINE_MAX 255u      /* before protocol 2.06 (no cmdline_size) */
#define LINUX_OLD_INITRD_MAX 0x37FFFFFFu /* before protocol 2.03 (no initrd_addr_max) */
#define LINUX_HEAP_END 0xFE00u          /* as if the setup code ran at a 64 KiB segment */
#define LINUX_PAGE 0x1000u

#define E820_RAM 1u
#define E820_RESERVED 2u

/* Each protocol version reads header fields up to some offset; the header (0x202 + the jump
 * byte at 0x201) must reach that far. */
static const struct {
    uint16_t version;
    uint16_t hdr_end;
} linux_hdr_ends[] = {
    {0x0202, 0x22C}, /* cmd_line_ptr */
    {0x0203, 0x230}, /* initrd_addr_max */
    {0x0205, 0x235}, /* kernel_alignment, relocatable_kernel */
    {0x0206, 0x23C}, /* cmdline_size */
    {0x0207, 0x248}, /* hardware_subarch */
    {0x0208, 0x250}, /* payload_offset, payload_length */
    {0x0209, 0x258}, /* setup_data */
    {0x020A, 0x264}, /* pref_address, init_size */
};

/* What the setup header says, already checked against the file. */
typedef struct linux_hdr {
    uint16_t version;
    uint32_t hdr_end;    /* one past the last header byte */
    uint32_t pm_offset;  /* protected-mode kernel in the file */
    uint32_t pm_size;
    uint32_t initrd_max; /* highest byte the initrd may occupy */
    uint32_t cmdline_max;
    uint64_t run_hi;     /* end of what the kernel occupies while it starts (init_size) */
} linux_hdr;

typedef struct linux_ctx {
    const boot_image *img;
    const boot_options *opt;
    const physmem *pm;
    vm_error *err;
    linux_hdr h;
    uint32_t initrd_addr;
} linux_ctx;

static bool linux_probe(const uint8_t *d, size_t size)
{
    return (size >= HDR_BOOT_FLAG + 2 && le16(d + HDR_BOOT_FLAG) == 0xAA55) ||
           (size >= HDR_HEADER + 4 && memcmp(d + HDR_HEADER, "HdrS", 4) == 0);
}

/* ---- the setup header ---- */

static bool linux_check_signature(linux_ctx *c)
{
    const uint8_t *d = c->img->data;
    const char *p = c->img->path;
    if (c->img->size < HDR_VERSION + 2)
        return vm_fail(c->err, VM_EFORMAT, "%s: truncated: %zu bytes, too short for a Linux setup header", p,
                       c->img->size);
    if (le16(d + HDR_BOOT_FLAG) != 0xAA55)
        return vm_fail(c->err, VM_EFORMAT, "%s: boot flag at 0x1FE is 0x%04x, not 0xAA55: not a Linux kernel image", p,
                       le16(d + HDR_BOOT_FLAG));
    if (memcmp(d + HDR_HEADER, "HdrS", 4) != 0)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: no 'HdrS' signature at 0x202: not a Linux kernel image, or one older than boot "
                       "protocol 2.00",
                       p);
    c->h.version = le16(d + HDR_VERSION);
    if (c->h.version < LINUX_MIN_VERSION)
        return vm_fail(c->err, VM_EFORMAT, "%s: Linux boot protocol %u.%02u is too old; vmiemu needs 2.02 or newer", p,
                       c->h.version >> 8, c->h.version & 0xFF);
    return true;
}

static bool linux_check_header_size(linux_ctx *c)
{
    const char *p = c->img->path;
    c->h.hdr_end = HDR_HEADER + c->img->data[HDR_JUMP + 1];
    uint32_t need = 0;
    for (size_t i = 0; i < sizeof linux_hdr_ends / sizeof linux_hdr_ends[0]; i++)
        if (c->h.version >= linux_hdr_ends[i].version)
            need = linux_hdr_ends[i].hdr_end;
    if (c->h.hdr_end < need)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: setup header ends at 0x%x (jump byte at 0x201) but boot protocol %u.%02u has fields up to 0x%x",
                       p, c->h.hdr_end, c->h.version >> 8, c->h.version & 0xFF, need);
    if (c->h.hdr_end > c->img->size)
        return vm_fail(c->err, VM_EFORMAT, "%s: truncated: setup header ends at 0x%x but the file has %zu bytes", p,
                       c->h.hdr_end, c->img->size);
    if (!(c->img->data[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: a zImage (loadflags 0x%02x lacks LOADED_HIGH): vmiemu boots bzImages only", p,
                       c->img->data[HDR_LOADFLAGS]);
    return true;
}

/* setup_sects and syssize must describe bytes that are in the file. */
static bool linux_check_sizes(linux_ctx *c)
{
    const uint8_t *d = c->img->data;
    const char *p = c->img->path;
    unsigned sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4; /* 0 means 4 (boot.txt) */
    uint64_t pm_offset = (uint64_t)(sects + 1) * 512;
    if (pm_offset >= c->img->size)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: setup code (setup_sects %u, %" PRIu64 " bytes with the boot sector) leaves no "
                       "protected-mode kernel in the file's %zu bytes",
                       p, sects, pm_offset, c->img->size);
    /* syssize is 16 bits before protocol 2.04 */
    uint32_t syssize = c->h.version >= 0x0204 ? le32(d + HDR_SYSSIZE) : le16(d + HDR_SYSSIZE);
    uint64_t pm_size = (uint64_t)syssize * 16;
    if (syssize == 0)
        return vm_fail(c->err, VM_EFORMAT, "%s: syssize is 0: the header describes no protected-mode kernel", p);
    if (pm_offset + pm_size > c->img->size)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: truncated: protected-mode kernel (syssize 0x%x = %" PRIu64 " bytes from byte %" PRIu64
                       ") ends past the file's %zu bytes",
                       p, syssize, pm_size, pm_offset, c->img->size);
    c->h.pm_offset = (uint32_t)pm_offset;
    c->h.pm_size = (uint32_t)pm_size;
    return true;
}

/* Where the kernel runs after decompressing: a relocatable kernel at the load address rounded up
 * to kernel_alignment, otherwise at pref_address (2.10; before that, the load address). From
 * there it needs init_size bytes (2.10; before, only what was loaded is known). */
static bool linux_check_footprint(linux_ctx *c)
{
    const uint8_t *d = c->img->data;
    const char *p = c->img->path;
    uint64_t load_hi = (uint64_t)BOOT_LINUX_KERNEL + c->h.pm_size;
    uint64_t run = BOOT_LINUX_KERNEL, init_size = 0;
    if (c->h.version >= 0x0205 && d[HDR_RELOCATABLE]) {
        uint64_t align = le32(d + HDR_KERNEL_ALIGNMENT);
        if (align == 0 || (align & (align - 1)))
            return vm_fail(c->err, VM_EFORMAT, "%s: kernel_alignment 0x%" PRIx64 " is not a power of two", p, align);
        run = (run + align - 1) & ~(align - 1);
    } else if (c->h.version >= 0x020A) {
        run = le64(d + HDR_PREF_ADDRESS);
    }
    if (c->h.version >= 0x020A)
        init_size = le32(d + HDR_INIT_SIZE);
    if (run > UINT32_MAX)
        return vm_fail(c->err, VM_EFORMAT, "%s: the kernel wants to run at 0x%" PRIx64 " (pref_address), above 4 GiB",
                       p, run);
    c->h.run_hi = run + init_size > load_hi ? run + init_size : load_hi;
    if (run < BOOT_LINUX_KERNEL)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: the kernel wants to run at 0x%08" PRIx64 " (pref_address), below 1 MiB where only the "
                       "boot data and the ROM are",
                       p, run);
    if (c->h.run_hi > c->pm->size)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: the kernel needs RAM up to 0x%08" PRIx64 " (it runs at 0x%08" PRIx64
                       " and needs init_size 0x%" PRIx64 " bytes there) but RAM ends at 0x%08" PRIx64
                       " (%" PRIu64 " MiB); give more with -m",
                       p, c->h.run_hi, run, init_size, c->pm->size, c->pm->size >> 20);
    return true;
}

/* ---- command line and initrd ---- */

static bool linux_check_cmdline(linux_ctx *c)
{
    const uint8_t *d = c->img->data;
    uint64_t max = c->h.version >= 0x0206 ? le32(d + HDR_CMDLINE_SIZE) : LINUX_OLD_CMDLINE_MAX;
    const char *what = c->h.version >= 0x0206 ? "the kernel's cmdline_size" : "the limit before protocol 2.06";
    uint64_t room = PHYS_BOOTINFO + PHYS_BOOTINFO_SIZE - BOOT_LINUX_CMDLINE - 1;
    if (max > room) {
        max = room;
        what = "the room vmiemu has for it";
    }
    c->h.cmdline_max = (uint32_t)max;
    size_t len = c->opt->cmdline ? strlen(c->opt->cmdline) : 0;
    if (len > max)
        return vm_fail(c->err, VM_EINVAL, "%s: the command line (--append) is %zu bytes; at most %" PRIu64 " fit (%s)",
                       c->img->path, len, max, what);
    return true;
}

/* The initrd goes as high as it can: page-aligned, ending at or below initrd_addr_max and the
 * end of RAM, and above everything the kernel occupies while it starts. */
static bool linux_place_initrd(linux_ctx *c)
{
    const boot_options *o = c->opt;
    if (!o->initrd_path)
        return true;
    const uint8_t *d = c->img->data;
    c->h.initrd_max = c->h.version >= 0x0203 ? le32(d + HDR_INITRD_ADDR_MAX) : LINUX_OLD_INITRD_MAX;
    uint64_t top = (uint64_t)c->h.initrd_max + 1 < c->pm->size ? (uint64_t)c->h.initrd_max + 1 : c->pm->size;
    uint64_t lo = (c->h.run_hi + LINUX_PAGE - 1) & ~(uint64_t)(LINUX_PAGE - 1);
    uint64_t room = top > lo ? (top - lo) & ~(uint64_t)(LINUX_PAGE - 1) : 0;
    if (o->initrd_size == 0)
        return vm_fail(c->err, VM_EFORMAT, "%s: file is empty", o->initrd_path);
    if (o->initrd_size > room)
        return vm_fail(c->err, VM_EFORMAT,
                       "%s: initrd is %zu bytes and does not fit: only %" PRIu64 " bytes are free between the kernel's end 0x%08" PRIx64
                       " and 0x%08" PRIx64 " (initrd_addr_max 0x%08" PRIx32 ", RAM %" PRIu64 " MiB)",
                       o->initrd_path, o->initrd_size, room, lo, top, c->h.initrd_max, c->pm->size >> 20);
    c->initrd_addr = (uint32_t)((top - o->initrd_size) & ~(uint64_t)(LINUX_PAGE - 1));
    return true;
}

/* ---- boot_params ---- */

/* RAM up to the ACPI tables' page (reserved: it holds the FACS, which ACPI wants in memory the OS
 * leaves alone), the 640 KiB - 1 MiB hole in three parts: VGA, the VMI ROM, the rest of the BIOS
 * area (which holds the RSDP), then RAM above 1 MiB. */
static void linux_put_e820(const physmem *pm, uint8_t *bp)
{
    const struct {
        uint64_t base, end;
        uint32_t type;
    } map[BOOT_LINUX_E820_ENTRIES] = {
        {0, ACPI_TABLES_ADDR, E820_RAM},
        {ACPI_TABLES_ADDR, ACPI_TABLES_ADDR + ACPI_TABLES_SIZE, E820_RESERVED},
        {PHYS_VGA_BASE, PHYS_ROM_BASE, E820_RESERVED},
        {PHYS_ROM_BASE, PHYS_ROM_BASE + PHYS_ROM_SIZE, E820_RESERVED},
        {PHYS_ROM_BASE + PHYS_ROM_SIZE, PHYS_HOLE_END, E820_RESERVED},
        {PHYS_HOLE_END, pm->size, E820_RAM},
    };
    for (unsigned i = 0; i < BOOT_LINUX_E820_ENTRIES; i++) {
        uint8_t *e = bp + BP_E820_MAP + 20 * i;
        put64(e, map[i].base);
        put64(e + 8, map[i].end - map[i].base);
        put32(e + 16, map[i].type);
    }
    bp[BP_E820_ENTRIES] = BOOT_LINUX_E820_ENTRIES;
}

/* What the real-mode setup code would have found with the BIOS: an 80x25 colour text screen
 * (mode 3, VGA, 16-line font, cursor at the top left) and the memory sizes. */
static void linux_put_screen_and_memory(const physmem *pm, uint8_t *bp)
{
    uint32_t ext_k = (uint32_t)((pm->size - PHYS_HOLE_END) / 1024);
    uint8_t *si = bp + BP_SCREEN_INFO;
    put16(si + 0x02, (uint16_t)(ext_k < 0xFC00 ? ext_k : 0xFC00)); /* ext_mem_k, as int 15h/88h caps it */
    si[0x06] = 3;                                                  /* orig_video_mode */
    si[0x07] = 80;                                                 /* orig_video_cols */
    put16(si + 0x0A, 0x0003);                                      /* orig_video_ega_bx: colour, 256 KiB */
    si[0x0E] = 25;                                                 /* orig_video_lines */
    si[0x0F] = 1;                                                  /* orig_video_isVGA */
    put16(si + 0x10, 16);                                          /* orig_video_points */
    put32(bp + BP_ALT_MEM_K, ext_k);
}

static void linux_build_params(const linux_ctx *c, physmem *pm)
{
    uint8_t *bp = phys_ptr(pm, BOOT_LINUX_PARAMS);
    memset(bp, 0, BOOT_LINUX_PARAMS_SIZE);
    uint32_t hdr_end = c->h.hdr_end < LINUX_HDR_MAX ? c->h.hdr_end : LINUX_HDR_MAX;
    memcpy(bp + HDR_SETUP_SECTS, c->img->data + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    bp[HDR_TYPE_OF_LOADER] = BOOT_LINUX_LOADER_ID;
    /* Segments are __BOOT_DS already, and a quiet boot would hide the early console. */
    bp[HDR_LOADFLAGS] = (uint8_t)((bp[HDR_LOADFLAGS] | LOADFLAG_CAN_USE_HEAP) & ~(LOADFLAG_KEEP_SEGMENTS | LOADFLAG_QUIET));
    put16(bp + HDR_HEAP_END_PTR, LINUX_HEAP_END);
    put32(bp + HDR_CODE32_START, BOOT_LINUX_KERNEL);
    put32(bp + HDR_CMD_LINE_PTR, BOOT_LINUX_CMDLINE);
    if (c->opt->initrd_path) {
        put32(bp + HDR_RAMDISK_IMAGE, c->initrd_addr);
        put32(bp + HDR_RAMDISK_SIZE, (uint32_t)c->opt->initrd_size);
    }
    linux_put_e820(pm, bp);
    linux_put_screen_and_memory(pm, bp);
}

/* ---- the protocol ---- */

static void linux_write(const linux_ctx *c, physmem *pm, boot_result *out)
{
    const boot_options *o = c->opt;
    memcpy(phys_ptr(pm, BOOT_LINUX_KERNEL), c->img->data + c->h.pm_offset, c->h.pm_size);
    boot_note_write(out, BOOT_LINUX_KERNEL, c->h.pm_size, "kernel");
    linux_build_params(c, pm);
    boot_note_write(out, BOOT_LINUX_PARAMS, BOOT_LINUX_PARAMS_SIZE, "boot_params");
    size_t len = o->cmdline ? strlen(o->cmdline) : 0;
    memcpy(phys_ptr(pm, BOOT_LINUX_CMDLINE), o->cmdline ? o->cmdline : "", len + 1);
    boot_note_write(out, BOOT_LINUX_CMDLINE, (uint32_t)len + 1, "cmdline");
    if (o->initrd_path) {
        memcpy(phys_ptr(pm, c->initrd_addr), o->initrd, o->initrd_size);
        boot_note_write(out, c->initrd_addr, (uint32_t)o->initrd_size, "initrd");
    }
    acpi_build_tables(pm); /* what a PC's firmware leaves for the kernel: power-off goes through it */
    boot_note_write(out, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, "acpi tables");
    boot_note_write(out, ACPI_RSDP_ADDR, ACPI_RSDP_SIZE, "acpi rsdp");
}

static bool linux_load(physmem *pm, const boot_image *img, const boot_options *opt, boot_result *out, vm_error *err)
{
    linux_ctx c = {.img = img, .opt = opt, .pm = pm, .err = err};
    if (!linux_check_signature(&c) || !linux_check_header_size(&c) || !linux_check_sizes(&c) ||
        !linux_check_footprint(&c) || !linux_check_cmdline(&c) || !linux_place_initrd(&c))
        return false;
    linux_write(&c, pm, out);
    /* null, null, __BOOT_CS flat code (0x10), __BOOT_DS flat data (0x18); accessed bits preset. */
    static const uint64_t gdt[4] = {0, 0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
    boot_put_gdt(pm, gdt, 4, &out->cpu);
    boot_note_write(out, BOOT_GDT, sizeof gdt, "gdt");
    out->cpu.cs = BOOT_LINUX_CS;
    out->cpu.ds = BOOT_LINUX_DS;
    out->cpu.eip = BOOT_LINUX_KERNEL;
    out->cpu.eflags = 0x2; /* IF clear */
    out->cpu.esp = BOOT_ESP;
    out->cpu.esi = BOOT_LINUX_PARAMS; /* EBX, EBP, EDI stay 0, as the protocol asks */
    return true;
}

const boot_protocol boot_linux = {.name = "linux", .probe = linux_probe, .load = linux_load};
