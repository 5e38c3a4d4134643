/* x86 descriptors as data, and the library's GDT and TSS.
 *
 * The GDT that desc_gdt_init() loads (SetGDT) replaces boot.S's three-entry table:
 *
 *   index  selector  what
 *   0      0x00      null
 *   1      0x08      kernel code, ring 0, flat 4 GiB, 32-bit     (as in boot.S)
 *   2      0x10      kernel data, ring 0, flat                   (as in boot.S)
 *   3      0x1B      user code, ring 3, flat                     (SYSEXIT: SYSENTER_CS + 16)
 *   4      0x23      user data, ring 3, flat                     (SYSEXIT: SYSENTER_CS + 24)
 *   5      0x28      the TSS (desc_tss_init)
 *   6      0x30      an LDT, for kernels that want one
 *   7..15            free for the kernels (GDT_FIRST_FREE)
 *
 * Entries 0-2 are copied natively before the table is loaded (it is not live yet); every
 * later entry is written through WriteGDTEntry. */
#ifndef TK_DESC_H
#define TK_DESC_H

#include <stdbool.h>
#include <stdint.h>

#define GDT_ENTRIES 16
#define GDT_FIRST_FREE 7
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28
#define SEL_LDT 0x30
#define SEL_RPL_MASK 3
#define SEL_TI_LDT 4

/* Access bytes (descriptor bits 40-47). The accessed bit is preset in code/data so the CPU
 * never writes to the table when it loads a segment. */
#define ACC_CODE_R0 0x9B   /* present, DPL 0, code, execute/read, accessed */
#define ACC_DATA_R0 0x93   /* present, DPL 0, data, read/write, accessed */
#define ACC_CODE_R3 0xFB
#define ACC_DATA_R3 0xF3
#define ACC_PRESENT 0x80
#define ACC_TSS32 0x89      /* present, DPL 0, 32-bit TSS, available */
#define ACC_TSS32_BUSY 0x8B
#define ACC_LDT 0x82        /* present, DPL 0, LDT */
#define GATE_INTR32 0x8E    /* present, DPL 0, 32-bit interrupt gate (IF cleared) */
#define GATE_TRAP32 0x8F    /* present, DPL 0, 32-bit trap gate */
#define GATE_DPL3 0x60      /* or into a gate type: reachable by `int n` from ring 3 */

/* A segment descriptor. A limit above 0xFFFFF is given in bytes and stored in 4 KiB units
 * (G = 1); `big` sets D/B (32-bit code / data), which system descriptors must leave 0. */
uint64_t desc_segment(uint32_t base, uint32_t limit, uint8_t access, bool big);

/* A 32-bit gate: selector:offset, type/attribute byte `type` (GATE_*). */
uint64_t desc_gate(uint16_t selector, uint32_t offset, uint8_t type);

/* Decoders for checks. */
uint32_t desc_base(uint64_t d);
uint8_t desc_access(uint64_t d);

/* The 32-bit TSS. */
struct x86_tss {
    uint16_t link, reserved0;
    uint32_t esp0;
    uint16_t ss0, reserved1;
    uint32_t esp1;
    uint16_t ss1, reserved2;
    uint32_t esp2;
    uint16_t ss2, reserved3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, reserved4, cs, reserved5, ss, reserved6, ds, reserved7, fs, reserved8, gs,
        reserved9, ldt, reserved10;
    uint16_t trap, iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct x86_tss) == 104, "TSS layout");

/* Build the table above (entries 0-2 from the GDT in use), load it with SetGDT, reload
 * CS/DS/ES/FS/GS/SS, then write the user segments with WriteGDTEntry. */
void desc_gdt_init(void);

/* The library's GDT (at its physical address, which is also its identity-mapped address) and
 * the linear address it was last loaded at (desc_gdt_move). */
uint64_t *desc_gdt(void);
uint32_t desc_gdt_linear(void);

/* Write GDT entry `index` through WriteGDTEntry, at the table's current linear address. */
void desc_gdt_set(unsigned index, uint64_t d);

/* Reload the GDT at its alias table + offset (SetGDT) and write through that alias from now
 * on (linuxlike: offset = PAGE_OFFSET once paging maps it). */
void desc_gdt_move(uint32_t offset);

/* Far-jump to `cs` and load DS, ES, FS, GS and SS with `ds`. */
void desc_seg_reload(uint16_t cs, uint16_t ds);

/* The library's TSS: ss0 = SEL_KDATA, esp0 as given, no I/O bitmap; its descriptor goes
 * into GDT entry 5 through WriteGDTEntry and TR is loaded with SetTR(SEL_TSS). */
extern struct x86_tss desc_tss;
void desc_tss_init(uint32_t esp0);

/* Data segment registers. */
static inline uint16_t read_ds(void)
{
    uint16_t v;
    __asm__ volatile("movw %%ds, %0" : "=r"(v));
    return v;
}

static inline uint16_t read_ss(void)
{
    uint16_t v;
    __asm__ volatile("movw %%ss, %0" : "=r"(v));
    return v;
}

static inline void load_ds_es(uint16_t sel)
{
    __asm__ volatile("movw %0, %%ds; movw %0, %%es" : : "r"(sel) : "memory");
}

#endif
