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

/* The two halves of vmi_init, for a kernel that asks only for the calls it uses, in its
 * own order (linuxlike): vmi_activate probes if needed and calls Init (-1: no ROM);
 * vmi_query_reloc asks GetRelocationInfo for `num` (through the address the ROM is
 * currently called at), stores the answer in the table and returns it. Entries never
 * queried stay NONE, so their wrappers run natively. */
int32_t vmi_activate(void);
struct vmi_reloc vmi_query_reloc(unsigned num);

/* Call the ROM through another linear alias of it from now on: `offset` is added to the
 * ROM's address (e.g. 0xC0000000, Linux's PAGE_OFFSET, once paging maps physical 0 there).
 * Re-runs the probe checks on the header at the alias, asks GetRelocationInfo through the
 * alias for every call already in the table, and replaces the table with the answers.
 * Returns the number of calls whose answer is not the old one moved by `offset` (same
 * type, address + offset: what a position-independent ROM answers), or -1 if the header
 * at the alias does not pass the probe (the table is then left alone). */
int vmi_use_alias(uint32_t offset);

/* True once Init succeeded (vmi_init or vmi_activate). */
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

/* A short I/O delay: the ROM's IODelay ("call"), nothing where the ROM answers NOP ("nop", as
 * vmiemu's does), or outb to port 0x80 ("native"). Returns which. */
const char *vmi_io_delay(void);

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

/* EFLAGS-style interrupt state (IF = 0x200). Native: pushf / popf (popf writes the whole
 * word, as Linux's native restore_fl does: pass back what GetInterruptMask returned). */
#define VMI_EFLAGS_IF 0x200u
uint32_t vmi_get_interrupt_mask(void);
void vmi_set_interrupt_mask(uint32_t flags);

/* --- vmi_calls.c: CPU control ----------------------------------------------------------- */

/* Control registers. Native: mov to/from crN. */
void vmi_set_cr0(uint32_t v);
void vmi_set_cr2(uint32_t v);
void vmi_set_cr3(uint32_t v);
void vmi_set_cr4(uint32_t v);
uint32_t vmi_get_cr0(void);
uint32_t vmi_get_cr2(void);
uint32_t vmi_get_cr3(void);
uint32_t vmi_get_cr4(void);

/* Clear CR0.TS. Native: clts. */
void vmi_clts(void);

/* Write back and invalidate caches. Native: wbinvd. */
void vmi_wbinvd(void);

/* Debug registers 0-3, 6, 7 (others: SetDR ignores, GetDR returns 0 natively).
 * Native: mov to/from drN. */
void vmi_set_dr(uint32_t regno, uint32_t value);
uint32_t vmi_get_dr(uint32_t regno);

/* Performance counter `counter`. The ROM gets the index in EAX (VMI.md's "(counter)") and
 * in ECX (VMware's spec: RDPMC(u64 dummy, u32 counter)). Native: rdpmc only when CR4.PCE is
 * set, else 0 (QEMU's TCG, for one, raises #UD for rdpmc). */
uint64_t vmi_rdpmc(uint32_t counter);

/* Model-specific registers, as VMI.md has them: WRMSR(msr EAX, low EDX, high ECX);
 * RDMSR(msr) -> EDX:EAX. (VMware's VMI spec wrote WRMSR(u64 value, u32 msr), i.e. the
 * instruction's own registers EAX low, EDX high, ECX msr; vmiemu follows VMI.md. RDMSR gets
 * the msr in ECX as well, which satisfies both.) Linux never calls either through the ROM,
 * and no test kernel does: usermode uses native_wrmsr. Native: wrmsr / rdmsr. */
void vmi_wrmsr(uint32_t msr, uint64_t value);
uint64_t vmi_rdmsr(uint32_t msr);

/* IOPL, already shifted into EFLAGS position (mask & 0x3000). Native: popf with those
 * bits changed (VMI's IRET does not load IOPL from the frame; this call does). */
#define VMI_IOPL_MASK 0x3000u
void vmi_set_iopl_mask(uint32_t mask);

/* Batching hint: VMI_LAZY_NONE, VMI_LAZY_MMU, VMI_LAZY_CPU. Native: nothing. */
#define VMI_LAZY_NONE 0u
#define VMI_LAZY_MMU 1u
#define VMI_LAZY_CPU 2u
void vmi_set_lazy_mode(uint32_t mode);

/* MachineToPhysical / PhysicalToMachine (numbers 42/43): VMI.md gives no arguments and
 * Linux never calls them; we pass one 32-bit value in EAX and take EAX back. Native: the
 * value itself (machine == physical). No test kernel calls them. */
uint32_t vmi_machine_to_physical(uint32_t v);
uint32_t vmi_physical_to_machine(uint32_t v);

/* --- vmi_desc.c: descriptor tables -------------------------------------------------- */

/* The 6-byte limit/base operand of lgdt/lidt/sgdt/sidt. */
struct vmi_dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

struct x86_tss; /* desc.h */

/* Native: lgdt / lidt / lldt / ltr. The ROM may reload segment registers on SetGDT and
 * SetLDT; callers reload CS/DS/ES/SS themselves anyway (desc.h: seg_reload). */
void vmi_set_gdt(const struct vmi_dtr *d);
void vmi_set_idt(const struct vmi_dtr *d);
void vmi_set_ldt(uint16_t selector); /* 0: no LDT */
void vmi_set_tr(uint16_t selector);

/* Native: sgdt / sidt / sldt / str. */
void vmi_get_gdt(struct vmi_dtr *d);
void vmi_get_idt(struct vmi_dtr *d);
uint16_t vmi_get_ldt(void);
uint16_t vmi_get_tr(void);

/* Write the 8-byte descriptor `desc` into entry `index` of the table at `table`
 * (table base, index, low word, high word: the fourth argument goes on the stack).
 * Native: a plain store at table + index * 8. With a ROM the ROM writes the entry. */
void vmi_write_gdt_entry(void *table, unsigned index, uint64_t desc);
void vmi_write_ldt_entry(void *table, unsigned index, uint64_t desc);
void vmi_write_idt_entry(void *table, unsigned index, uint64_t desc);

/* New ring-0 stack for entries from outer rings. Like Linux's vmi_load_sp0, the kernel
 * stores tss->esp0 and tss->ss0 itself, then (with a ROM) calls
 * UpdateKernelStack(ss0 in EAX, esp0 in EDX) to tell the hypervisor. */
void vmi_update_kernel_stack(struct x86_tss *tss, uint16_t ss0, uint32_t esp0);

/* --- vmi_mmu.c: paging ------------------------------------------------------------------ */

#define VMI_PAGE_PT 0x01u
#define VMI_PAGE_PD 0x02u
#define VMI_PAGE_PDP 0x04u
#define VMI_PAGE_PML4 0x08u
#define VMI_PAGE_PAE 0x10u        /* AllocatePage only */
#define VMI_PAGE_CLONE 0x20u      /* AllocatePage only */
#define VMI_PAGE_ZEROED 0x40u     /* AllocatePage only */
#define VMI_PAGE_CURRENT_AS 0x10u /* SetPxE/UpdatePxE: high 20 bits = linear address */
#define VMI_PAGE_DEFER 0x20u      /* SetPxE/UpdatePxE */
#define VMI_PAGE_VA_MASK 0xFFFFF000u

#define VMI_FLUSH_TLB 0x01u
#define VMI_FLUSH_GLOBAL 0x02u

/* Store `pte` at `ptep`. With a ROM the ROM stores it (the wrapper does NOT store too);
 * natively a plain store. Long: a PAE 64-bit entry (EAX low, EDX high, ECX pointer, flags
 * at [esp+4]); natively the high word is stored first. */
void vmi_set_pxe(uint32_t pte, uint32_t *ptep, uint32_t flags);
void vmi_set_pxe_long(uint64_t pte, uint64_t *ptep, uint32_t flags);

/* The guest already stored the entry at `ptep`: notify the ROM. Native: nothing. */
void vmi_update_pxe(uint32_t *ptep, uint32_t flags);
void vmi_update_pxe_long(uint64_t *ptep, uint32_t flags);

/* Page `pfn` becomes (Allocate) or stops being (Release) a page table of the kind in
 * `flags`. Native: nothing. */
void vmi_allocate_page(uint32_t pfn, uint32_t flags, uint32_t clone_pfn, uint32_t clone_start,
                       uint32_t clone_count);
void vmi_release_page(uint32_t pfn, uint32_t flags);

/* Native: invlpg. */
void vmi_inval_page(uint32_t linear);

/* Native: reload CR3; with VMI_FLUSH_GLOBAL also toggle CR4.PGE (if set) around it. */
void vmi_flush_tlb(uint32_t how);

/* Tell the ROM that `pages` pages from `linear` map physical frames from `pfn` (slot 0-3).
 * Native: nothing. */
void vmi_set_linear_mapping(uint32_t slot, uint32_t linear, uint32_t pages, uint32_t pfn);

/* --- vmi_timer.c: alarms and the local APIC --------------------------------------------- */

#define VMI_ALARM_COUNTER_MASK 0x000000FFu
#define VMI_ALARM_IS_ONESHOT 0x00000000u
#define VMI_ALARM_IS_PERIODIC 0x00000100u
#define VMI_ALARM_WIRED_IRQ0 0x00000000u
#define VMI_ALARM_WIRED_LVTT 0x00010000u

/* Arm the alarm of counter (flags & 0xFF): absolute `expiry` in that counter's cycles,
 * `period` in cycles (0 = one-shot whatever the flags say). Wiring IRQ0 raises IRQ 0 (PIC
 * input 0); LVTT raises the local APIC timer LVT's vector.
 * Native stand-in (no ROM): the counter is the TSC, converted with clock_frequency();
 * IRQ0 -> PIT channel 0 at 1193182 Hz (periodic: mode 2 with the period rounded to PIT
 * ticks, at most 65536 ticks = 55 ms; one-shot: mode 0, count = expiry - now clamped to
 * 1..65535 ticks); LVTT -> the local APIC timer (divide by 1, periodic or one-shot mode bit
 * set in the LVT, initial count from a calibration against the PIT). A periodic alarm's
 * first tick comes one period after the call, not at `expiry`. */
void vmi_set_alarm(uint32_t flags, uint64_t expiry, uint64_t period);

/* Disarm; non-zero if an alarm was pending (periodic, or one-shot not yet fired).
 * Native: stops the PIT / APIC timer; "pending" = periodic, or TSC still before expiry. */
uint32_t vmi_cancel_alarm(uint32_t flags);

/* Local APIC register at byte offset `reg` (0x320 = timer LVT, 0xB0 = EOI, ...).
 * Native: MMIO at vmi_apic_mmio (0xFEE00000 unless set), only if CPUID reports an APIC
 * (else reads 0 and writes nothing). With paging on, that address must be mapped. */
#define APIC_REG_ID 0x20u
#define APIC_REG_VERSION 0x30u
#define APIC_REG_TPR 0x80u
#define APIC_REG_EOI 0xB0u
#define APIC_REG_SVR 0xF0u
#define APIC_REG_LVTT 0x320u
#define APIC_REG_TIMER_INIT 0x380u
#define APIC_REG_TIMER_CUR 0x390u
#define APIC_REG_TIMER_DIV 0x3E0u
#define APIC_LVT_MASKED 0x10000u
#define APIC_LVT_PERIODIC 0x20000u
#define APIC_DEFAULT_MMIO 0xFEE00000u
extern uint32_t vmi_apic_mmio;
void vmi_apic_write(uint32_t reg, uint32_t value);
uint32_t vmi_apic_read(uint32_t reg);

/* True if APICRead/APICWrite reach an APIC: the ROM provides them, or natively CPUID.1
 * reports one. */
bool vmi_apic_present(void);

/* SetInitialAPState's structure (VMI.md section 4). Native: nothing (no second CPU). */
struct vmi_ap_state {
    uint32_t cr0, cr2, cr3, cr4;
    uint64_t efer;
    uint32_t eip, eflags, eax, ebx, ecx, edx, esp, ebp, esi, edi;
    uint16_t cs, ss, ds, es, fs, gs, ldtr, gdtr_limit;
    uint32_t gdtr_base, idtr_base;
    uint16_t idtr_limit;
};
_Static_assert(sizeof(struct vmi_ap_state) == 92, "vmi_ap_state layout");
_Static_assert(offsetof(struct vmi_ap_state, eip) == 24, "vmi_ap_state layout");
_Static_assert(offsetof(struct vmi_ap_state, cs) == 64, "vmi_ap_state layout");
_Static_assert(offsetof(struct vmi_ap_state, gdtr_base) == 80, "vmi_ap_state layout");
_Static_assert(offsetof(struct vmi_ap_state, idtr_limit) == 88, "vmi_ap_state layout");
void vmi_set_initial_ap_state(const struct vmi_ap_state *s, uint32_t apic_id);

/* --- vmi_entry.S: the calls that do not return ------------------------------------------ */

/* An interrupt frame as iret pops it; esp/ss only for a return to an outer ring. */
struct iret_frame {
    uint32_t eip, cs, eflags, esp, ss;
};

/* Point ESP at `f` and perform IRET: JUMP_REL -> `jmp` to the ROM with the frame on top;
 * CALL_REL -> `call` it (the ROM drops the return address); NONE -> the iret instruction.
 * trap.S returns from every handler the same way. */
_Noreturn void vmi_iret(const struct iret_frame *f);

/* SYSEXIT to ring 3 at `eip` with stack `esp` (EDX, ECX), interrupts enabled. Native:
 * sti; sysexit (needs MSR SYSENTER_CS; CS = that + 16, SS = that + 24, RPL 3). */
_Noreturn void vmi_sysexit(uint32_t eip, uint32_t esp);

#endif
