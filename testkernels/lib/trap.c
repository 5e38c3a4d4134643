#include "trap.h"

#include "cpu.h"
#include "desc.h"
#include "exit.h"
#include "kprintf.h"
#include "vmi.h"

#define TRAP_STUB_SIZE 16 /* trap.S aligns each stub to 16 bytes */

extern const char trap_stubs[];
static uint64_t idt[256] __attribute__((aligned(8)));
static uint32_t idt_offset; /* linear address of idt = &idt + idt_offset */
static trap_handler handlers[256];
static uint8_t gate_type[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault", "FPU overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF FPU error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

uint32_t trap_stub(unsigned vector)
{
    return (uint32_t)(uintptr_t)trap_stubs + (vector & 0xFF) * TRAP_STUB_SIZE;
}

static uint64_t make_gate(unsigned v) { return desc_gate(read_cs(), trap_stub(v), gate_type[v]); }

void trap_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        gate_type[v] = GATE_INTR32;
        idt[v] = make_gate(v);
    }
    const struct vmi_dtr d = {sizeof idt - 1, (uint32_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(d)); /* before kmain: no ROM yet */
}

uint32_t trap_idt_linear(void) { return (uint32_t)(uintptr_t)idt + idt_offset; }
uint16_t trap_idt_limit(void) { return sizeof idt - 1; }

void trap_load(void)
{
    const struct vmi_dtr d = {sizeof idt - 1, trap_idt_linear()};
    vmi_set_idt(&d);
}

void trap_move(uint32_t offset)
{
    idt_offset = offset;
    trap_load();
}

static void write_gate(unsigned v)
{
    vmi_write_idt_entry((void *)(uintptr_t)trap_idt_linear(), v, make_gate(v));
}

void trap_set_handler(unsigned vector, trap_handler fn, unsigned dpl)
{
    vector &= 0xFF;
    handlers[vector] = fn;
    gate_type[vector] = (uint8_t)(GATE_INTR32 | (dpl & 3) << 5);
    write_gate(vector);
}

void trap_set_present(unsigned vector, bool present)
{
    vector &= 0xFF;
    gate_type[vector] = (uint8_t)(present ? gate_type[vector] | ACC_PRESENT
                                          : gate_type[vector] & ~ACC_PRESENT);
    write_gate(vector);
}

uint64_t trap_gate(unsigned vector) { return make_gate(vector & 0xFF); }

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
    const trap_handler fn = handlers[f->vector & 0xFF];
    if (!fn)
        trap_report(f);
    fn(f);
}

_Noreturn void trap_report(const struct trap_frame *f)
{
    const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector]
                                                                     : "interrupt";
    kprintf("trap: vector %u (%s) error 0x%x eip 0x%08x cs 0x%x eflags 0x%08x\n", f->vector,
            name, f->error, f->eip, f->cs, f->eflags);
    kprintf("trap: eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x esi 0x%08x edi 0x%08x ebp 0x%08x\n",
            f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
    if (f->cs & 3)
        kprintf("trap: from ring %u: esp 0x%08x ss 0x%x\n", f->cs & 3, f->user_esp, f->user_ss);
    if (f->vector == 14 && (read_cs() & 3) == 0) /* CR2 is only readable at ring 0 */
        kprintf("trap: cr2 0x%08x\n", read_cr2());
    test_exit(TEST_FAIL);
}
