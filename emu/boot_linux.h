/* The Linux/x86 boot protocol, 32-bit entry (Documentation/x86/boot.txt, "32-bit BOOT
 * PROTOCOL"): a bzImage's protected-mode kernel is loaded at 1 MiB, a boot_params page ("zero
 * page") carries the setup header, command line, initrd and e820 memory map, and the kernel
 * is entered at code32_start with ESI = boot_params, CS = __BOOT_CS (0x10), DS = ES = SS = FS
 * = GS = __BOOT_DS (0x18), both flat 4 GiB, paging and interrupts off, EBX = EBP = EDI = 0.
 * The 16-bit setup code is not run: vmiemu fills in what it would have found out (memory
 * sizes, the e820 map, an 80x25 text screen).
 *
 * Accepted: boot flag 0xAA55, "HdrS", protocol 2.02 or newer, LOADED_HIGH (a bzImage), setup
 * and protected-mode sizes inside the file, the kernel's init_size inside RAM. The protocol
 * itself is registered as boot_linux (emu/boot.h); placement is drawn in emu/boot.h. */
#ifndef VMIEMU_BOOT_LINUX_H
#define VMIEMU_BOOT_LINUX_H

#define BOOT_LINUX_PARAMS 0x00008000u  /* boot_params, PHYS_BOOTINFO */
#define BOOT_LINUX_PARAMS_SIZE 0x1000u
#define BOOT_LINUX_CMDLINE 0x00009000u /* up to the end of the boot information area */
#define BOOT_LINUX_KERNEL 0x00100000u  /* protected-mode kernel and 32-bit entry */
#define BOOT_LINUX_CS 0x10u            /* __BOOT_CS */
#define BOOT_LINUX_DS 0x18u            /* __BOOT_DS */
#define BOOT_LINUX_LOADER_ID 0xFFu     /* type_of_loader: "undefined" (no assigned id) */
#define BOOT_LINUX_E820_ENTRIES 6u

/* Offsets in the file's setup header and in boot_params (asm/bootparam.h). */
#define BP_SCREEN_INFO 0x000u
#define BP_ALT_MEM_K 0x1E0u
#define BP_E820_ENTRIES 0x1E8u
#define BP_E820_MAP 0x2D0u
#define HDR_SETUP_SECTS 0x1F1u
#define HDR_SYSSIZE 0x1F4u
#define HDR_BOOT_FLAG 0x1FEu
#define HDR_JUMP 0x200u
#define HDR_HEADER 0x202u
#define HDR_VERSION 0x206u
#define HDR_TYPE_OF_LOADER 0x210u
#define HDR_LOADFLAGS 0x211u
#define HDR_CODE32_START 0x214u
#define HDR_RAMDISK_IMAGE 0x218u
#define HDR_RAMDISK_SIZE 0x21Cu
#define HDR_HEAP_END_PTR 0x224u
#define HDR_CMD_LINE_PTR 0x228u
#define HDR_INITRD_ADDR_MAX 0x22Cu
#define HDR_KERNEL_ALIGNMENT 0x230u
#define HDR_RELOCATABLE 0x234u
#define HDR_CMDLINE_SIZE 0x238u
#define HDR_PREF_ADDRESS 0x258u
#define HDR_INIT_SIZE 0x260u

#define LOADFLAG_LOADED_HIGH 0x01u
#define LOADFLAG_QUIET 0x20u
#define LOADFLAG_KEEP_SEGMENTS 0x40u
#define LOADFLAG_CAN_USE_HEAP 0x80u

#endif
