/* Guest side of VMI: find the ROM the way Linux does, activate it, learn where each call
 * lives, and call it -- or run the native instruction when there is no ROM or the ROM
 * answers NONE for a call. See /work/shared/VMI.md for the interface itself. */
#ifndef TK_VMI_H
#define TK_VMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

#define VMI_SCAN_START 0xC0000u
#define VMI_SCAN_END 0xE0000u /* exclusive */
#define VMI_SCAN_STEP 0x800u
#define VMI_SIGNATURE 0x696d5663u /* "cVmi" in memory */
#define VMI_API_MAJOR 3
#define VMI_NUM_CALLS 74 /* call numbers 0..73 */

/* Option-ROM header of a VMI ROM (packed, offsets from the ROM start). */
struct vmi_rom_header {
    uint16_t rom_signature; /* 0xAA55: bytes 0x55 0xAA */
    uint8_t rom_length;     /* in 512-byte units */
    uint8_t rom_entry[4];   /* 16-bit BIOS init entry */
    uint8_t rom_pad0;
    uint32_t vrom_signature; /* VMI_SIGNATURE */
    uint8_t api_version_min;
    uint8_t api_version_maj;
    uint8_t jump_slots;
    uint8_t reserved1;
    uint32_t virtual_top; /* guest leaves [virtual_top, 4 GiB) to the hypervisor; 0 = none */
    uint16_t reserved2;
    uint16_t license_offs;    /* NUL-terminated license string */
    uint16_t pci_header_offs; /* "PCIR" structure; must be non-zero */
    uint16_t pnp_header_offs; /* "$PnP" header; 0 = none */
    uint32_t rom_pad3;
    uint8_t reserved[96];
    uint8_t init_entry[8];      /* 0x80: Init */
    uint8_t get_reloc_entry[8]; /* 0x88: GetRelocationInfo */
} __attribute__((packed));

_Static_assert(offsetof(struct vmi_rom_header, init_entry) == 0x80, "VMI ROM header layout");
_Static_assert(offsetof(struct vmi_rom_header, get_reloc_entry) == 0x88, "VMI ROM header layout");

enum vmi_call_num {
    VMI_CALL_CPUID = 0,
    VMI_CALL_WRMSR = 1,
    VMI_CALL_RDMSR = 2,
    VMI_CALL_SetGDT = 3,
    VMI_CALL_SetLDT = 4,
    VMI_CALL_SetIDT = 5,
    VMI_CALL_SetTR = 6,
    VMI_CALL_GetGDT = 7,
    VMI_CALL_GetLDT = 8,
    VMI_CALL_GetIDT = 9,
    VMI_CALL_GetTR = 10,
    VMI_CALL_WriteGDTEntry = 11,
    VMI_CALL_WriteLDTEntry = 12,
    VMI_CALL_WriteIDTEntry = 13,
    VMI_CALL_UpdateKernelStack = 14,
    VMI_CALL_SetCR0 = 15,
    VMI_CALL_SetCR2 = 16,
    VMI_CALL_SetCR3 = 17,
    VMI_CALL_SetCR4 = 18,
    VMI_CALL_GetCR0 = 19,
    VMI_CALL_GetCR2 = 20,
    VMI_CALL_GetCR3 = 21,
    VMI_CALL_GetCR4 = 22,
    VMI_CALL_WBINVD = 23,
    VMI_CALL_SetDR = 24,
    VMI_CALL_GetDR = 25,
    VMI_CALL_RDPMC = 26,
    VMI_CALL_RDTSC = 27,
    VMI_CALL_CLTS = 28,
    VMI_CALL_EnableInterrupts = 29,
    VMI_CALL_DisableInterrupts = 30,
    VMI_CALL_GetInterruptMask = 31,
    VMI_CALL_SetInterruptMask = 32,
    VMI_CALL_IRET = 33,
    VMI_CALL_SYSEXIT = 34,
    VMI_CALL_Halt = 35,
    VMI_CALL_Reboot = 36,
    VMI_CALL_Shutdown = 37,
    VMI_CALL_SetPxE = 38,
    VMI_CALL_SetPxELong = 39,
    VMI_CALL_UpdatePxE = 40,
    VMI_CALL_UpdatePxELong = 41,
    VMI_CALL_MachineToPhysical = 42,
    VMI_CALL_PhysicalToMachine = 43,
    VMI_CALL_AllocatePage = 44,
    VMI_CALL_ReleasePage = 45,
    VMI_CALL_InvalPage = 46,
    VMI_CALL_FlushTLB = 47,
    VMI_CALL_SetLinearMapping = 48,
    /* 49..60: not defined */
    VMI_CALL_SetIOPLMask = 61,
    VMI_CALL_SetInitialAPState = 62,
    VMI_CALL_APICWrite = 63,
    VMI_CALL_APICRead = 64,
    VMI_CALL_IODelay = 65,
    VMI_CALL_GetCycleFrequency = 66,
    VMI_CALL_GetCycleCounter = 67,
    VMI_CALL_SetAlarm = 68,
    VMI_CALL_CancelAlarm = 69,
    VMI_CALL_GetWallclockTime = 70,
    VMI_CALL_WallclockUpdated = 71,
    /* 72: not defined */
    VMI_CALL_SetLazyMode = 73,
};

/* Relocation types returned by GetRelocationInfo (in DL). */
enum vmi_reloc_type {
    VMI_RELOC_NONE = 0,     /* not provided: keep the native instruction */
    VMI_RELOC_CALL_REL = 1, /* `call` the address */
    VMI_RELOC_JUMP_REL = 2, /* `jmp` to the address (IRET, SYSEXIT) */
    VMI_RELOC_NOP = 3,      /* the operation is not needed: do nothing */
};

/* GetCycleCounter's counter argument. */
enum vmi_cycle_counter {
    VMI_CYCLES_REAL = 0,
    VMI_CYCLES_AVAILABLE = 1,
    VMI_CYCLES_STOLEN = 2,
};

struct vmi_reloc {
    uint32_t addr; /* linear address of the implementation (EAX) */
    uint8_t type;  /* enum vmi_reloc_type (DL) */
};

/* --- vmi.c: finding and activating the ROM ------------------------------------------ */

/* Scan 0xC0000 <= base < 0xE0000 in 2 KiB steps for the first ROM that passes Linux's
 * checks (signature 0x55 0xAA, "cVmi", API major 3, PCI header offset non-zero, license
 * "GPL" or "GPL v2"). Remembers and returns it, or NULL. Safe to call more than once. */
const struct vmi_rom_header *vmi_probe(void);

/* The ROM found by vmi_probe (NULL if none or not probed yet), and its physical base. */
const struct vmi_rom_header *vmi_rom(void);
uint32_t vmi_rom_base(void);
uint32_t vmi_rom_size(void); /* rom_length * 512 */

/* PnP manufacturer and product strings of the ROM, or NULL if it has no "$PnP" header or
 * the string offset is 0. */
const char *vmi_pnp_manufacturer(void);
const char *vmi_pnp_product(void);

/* Probe if needed, call Init (rom+0x80), and if it returns 0 ask GetRelocationInfo
 * (rom+0x88) for every call 0..73 and fill the relocation table. Returns Init's result
 * (0 = success), or -1 when there is no ROM. Until it succeeds every entry is NONE, so
 * every wrapper runs natively. Call with interrupts disabled, as Linux does. */
int32_t vmi_init(void);

/* True once vmi_init succeeded. */
bool vmi_active(void);

/* CS & 3 read right after Init: the privilege level the ROM left the kernel at. */
unsigned vmi_kernel_ring(void);

/* The relocation of call `num` (NONE for numbers >= VMI_NUM_CALLS). */
struct vmi_reloc vmi_get_reloc(unsigned num);

/* True if call `num` is provided as CALL_REL. */
bool vmi_has(unsigned num);

/* "CPUID", "SetGDT", ... or NULL for numbers Linux does not define. */
const char *vmi_call_name(unsigned num);

/* "NONE", "CALL_REL", "JUMP_REL", "NOP", or "invalid". */
const char *vmi_reloc_type_name(uint8_t type);

/* --- vmi_calls.c: the calls, with native fallbacks ------------------------------------ */

/* Call `num` as CALL_REL with up to three regparm(3) arguments (EAX, EDX, ECX) and return
 * EDX:EAX (ignore EDX for 32-bit results). Returns 0 without calling when the call is not
 * CALL_REL: check vmi_has() first when that matters. */
uint64_t vmi_call(unsigned num, uint32_t a, uint32_t b, uint32_t c);

/* CPUID: in EAX (leaf), ECX (subleaf); out all four registers. Native: cpuid. */
struct cpuid_regs vmi_cpuid(uint32_t leaf, uint32_t subleaf);

/* RDTSC. Native: rdtsc. */
uint64_t vmi_rdtsc(void);

/* Cycles per second of the VMI cycle counters. Native: 0, meaning "unknown" -- measuring
 * the TSC against another clock is out of scope for these kernels. */
uint64_t vmi_get_cycle_frequency(void);

/* Counter VMI_CYCLES_REAL / AVAILABLE / STOLEN. Native: rdtsc for real and available
 * (nothing steals time from bare hardware), 0 for stolen. */
uint64_t vmi_get_cycle_counter(uint32_t counter);

/* Nanoseconds since 1970. Native: the CMOS RTC (one-second resolution, 0 if unreadable). */
uint64_t vmi_get_wallclock_time(void);

/* Non-zero if the wall clock was changed. Native: 0. */
uint32_t vmi_wallclock_updated(void);

/* A short I/O delay. Native: outb to port 0x80. */
void vmi_io_delay(void);

/* Enable interrupts and halt until one arrives. Native: sti; hlt. */
void vmi_halt(void);

/* Reset the machine. Native: pulse the CPU reset line through the keyboard controller
 * (0xFE to port 0x64). Returns only if the reset did not happen. */
void vmi_reboot(void);

/* Power off. Native stand-in: write TEST_PASS to the exit port (QEMU isa-debug-exit exits
 * with status 33). Returns only if nothing acted on it. */
void vmi_shutdown(void);

/* Interrupt flag. Native: cli / sti. */
void vmi_disable_interrupts(void);
void vmi_enable_interrupts(void);

#endif
