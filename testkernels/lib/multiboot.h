/* Multiboot v1 information structure (what the loader passes in EBX) and command-line
 * helpers. The command line is a list of space-separated words; QEMU puts the kernel's
 * path in front of the -append text, so never assume the first word is ours. */
#ifndef TK_MULTIBOOT_H
#define TK_MULTIBOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MB_BOOT_MAGIC 0x2BADB002u /* EAX at entry */

#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_BOOTDEV (1u << 1)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MEM_MAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB below 1 MiB (flags bit 0) */
    uint32_t mem_upper; /* KiB above 1 MiB (flags bit 0) */
    uint32_t boot_device;
    uint32_t cmdline; /* physical address of a NUL-terminated string (bit 2) */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length; /* bit 6 */
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name; /* bit 9 */
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
};

/* Every kernel defines kmain; boot.S calls it with the loader's EAX and EBX, on a 16 KiB
 * stack, with a flat GDT and interrupts off. Returning from it ends the test with FAIL. */
void kmain(uint32_t magic, const struct multiboot_info *mbi);

/* The command line, or "" when the loader gave none or `magic` is not the Multiboot one
 * (then the info pointer cannot be trusted). Never NULL. */
const char *mb_cmdline(uint32_t magic, const struct multiboot_info *mbi);

/* The boot loader's name, or "" (same rules as mb_cmdline). */
const char *mb_loader_name(uint32_t magic, const struct multiboot_info *mbi);

/* True if `word` is one of the space-separated words of `cmdline`. */
bool mb_cmdline_has(const char *cmdline, const char *word);

/* Look for a word `key=N` (decimal, or hex with 0x) that fits in 32 bits.
 * Returns 1 and sets *out if found, 0 if absent, -1 if the value is malformed. */
int mb_cmdline_u32(const char *cmdline, const char *key, uint32_t *out);

#endif
