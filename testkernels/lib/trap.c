#include "trap.h"

#include "cpu.h"
#include "exit.h"
#include "kprintf.h"

#define TRAP_STUB_SIZE 16 /* trap.S aligns each stub to 16 bytes */
#define GATE_INTR32 0x8E  /* present, DPL 0, 32-bit interrupt gate (IF cleared on entry) */

struct idt_gate {
    uint16_t offset_lo, selector;
    uint8_t zero, type;
    uint16_t offset_hi;
} __attribute__((packed));

struct idt_desc {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

extern const char trap_stubs[];
static struct idt_gate idt[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault", "FPU overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF FPU error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

void trap_init(void)
{
    const uint16_t cs = read_cs();
    for (int v = 0; v < 256; v++) {
        const uint32_t addr = (uint32_t)(uintptr_t)trap_stubs + (uint32_t)v * TRAP_STUB_SIZE;
        idt[v] = (struct idt_gate){(uint16_t)addr, cs, 0, GATE_INTR32, (uint16_t)(addr >> 16)};
    }
    const struct idt_desc d = {sizeof idt - 1, (uint32_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(d));
}

_Noreturn void trap_report(const struct trap_frame *f)
{
    const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector]
                                                                     : "interrupt";
    kprintf("trap: vector %u (%s) error 0x%x eip 0x%08x cs 0x%x eflags 0x%08x\n", f->vector,
            name, f->error, f->eip, f->cs, f->eflags);
    kprintf("trap: eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x esi 0x%08x edi 0x%08x ebp 0x%08x\n",
            f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
    if (f->vector == 14 && (read_cs() & 3) == 0) /* CR2 is only readable at ring 0 */
        kprintf("trap: cr2 0x%08x\n", read_cr2());
    test_exit(TEST_FAIL);
}
