/* descriptors: GDT, LDT, IDT and TR changed only through VMI calls, and each change checked
 * by using it: SetGDT to a new table (GetGDT round trip), WriteGDTEntry of a data segment with
 * a non-zero base that a load through it must honour, SetLDT + WriteLDTEntry and
 * a load of an LDT selector (and #GP once the LDT is gone), WriteIDTEntry gates that must be
 * taken (interrupt gate clears IF, trap gate keeps it), SetIDT to a new table with a shorter
 * limit (GetIDT round trip, #GP beyond it), SetTR + GetTR with the TSS marked busy.
 * Not checked: data segment limits, which QEMU's TCG (and so Unicorn) never enforce. */
#include <stdint.h>

#include "check.h"
#include "cpu.h"
#include "desc.h"
#include "fault.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "vmi.h"

#define IDX_DATA 8 /* GDT entries this kernel writes */
#define IDX_TSS2 9
#define SEL_DATA (IDX_DATA << 3)
#define SEL_TSS2 (IDX_TSS2 << 3)
#define SEL_LDT_DATA ((1 << 3) | SEL_TI_LDT) /* LDT entry 1 */
#define VEC_A 0x40
#define VEC_B 0x41
#define VEC_NEW 0x42
#define VEC_BEYOND 0x50
#define BOOT_KCODE 0x00CF9B000000FFFFull

static uint32_t target[16], target2[16], ldt_target[8];
static uint64_t ldt[4] __attribute__((aligned(8)));
static uint64_t new_idt[256] __attribute__((aligned(8)));
static struct x86_tss tss2;

static volatile uint32_t hits, hit_vector, hit_eflags;

static void count_hit(struct trap_frame *f)
{
    hits++;
    hit_vector = f->vector;
    hit_eflags = read_eflags(); /* the handler's own EFLAGS: IF as the gate left it */
}

static uint32_t addr(const volatile void *p) { return (uint32_t)(uintptr_t)p; }

static void test_gdt(void)
{
    struct vmi_dtr d;
    vmi_get_gdt(&d);
    const uint64_t kcode = ((const uint64_t *)(uintptr_t)d.base)[1];
    check("GetGDT: boot.S's table", d.limit == 23 && kcode == BOOT_KCODE,
          "limit %u base 0x%08x, entry 1 0x%016llx", d.limit, d.base, kcode);

    desc_gdt_init();
    vmi_get_gdt(&d);
    check("SetGDT to a new table: GetGDT round trip, CS/DS reloaded",
          d.base == desc_gdt_linear() && d.limit == GDT_ENTRIES * 8 - 1 &&
              read_cs() == SEL_KCODE && read_ds() == SEL_KDATA,
          "GetGDT limit %u base 0x%08x (want %u 0x%08x), CS 0x%x DS 0x%x", d.limit, d.base,
          GDT_ENTRIES * 8 - 1, desc_gdt_linear(), read_cs(), read_ds());
}

static void test_segment_base(void)
{
    for (unsigned i = 0; i < 16; i++) {
        target[i] = 0x7A000000 + i;
        target2[i] = 0x7B000000 + i;
    }
    const uint64_t d = desc_segment(addr(target), sizeof target - 1, ACC_DATA_R0, true);
    desc_gdt_set(IDX_DATA, d);
    check("WriteGDTEntry stored the descriptor", desc_gdt()[IDX_DATA] == d,
          "entry 0x%016llx, want 0x%016llx", desc_gdt()[IDX_DATA], d);
    uint32_t v;
    __asm__ volatile("movw %w1, %%fs\n\tmovl %%fs:8, %0\n\tmovl $0x5EED, %%fs:12"
                     : "=r"(v)
                     : "r"(SEL_DATA)
                     : "memory");
    kprintf("data segment 0x%x: base 0x%08x\n", SEL_DATA, addr(target));
    check("load through a segment with a non-zero base reads and writes its memory",
          v == target[2] && target[3] == 0x5EED, "read 0x%08x (want 0x%08x), wrote 0x%08x",
          v, 0x7A000002u, target[3]);

    desc_gdt_set(IDX_DATA, desc_segment(addr(target2), sizeof target2 - 1, ACC_DATA_R0, true));
    uint32_t cached, reloaded;
    __asm__ volatile("movl %%fs:16, %0\n\tmovw %w2, %%fs\n\tmovl %%fs:16, %1"
                     : "=&r"(cached), "=r"(reloaded)
                     : "r"(SEL_DATA)
                     : "memory");
    check("rewritten entry: old base until FS is reloaded, then the new one",
          cached == target[4] && reloaded == target2[4], "0x%08x then 0x%08x", cached, reloaded);
    __asm__ volatile("movw %w0, %%fs" : : "r"(0));
}

static void test_ldt(void)
{
    for (unsigned i = 0; i < 8; i++)
        ldt_target[i] = 0x1D700000 + i;
    desc_gdt_set(SEL_LDT >> 3, desc_segment(addr(ldt), sizeof ldt - 1, ACC_LDT, false));
    vmi_set_ldt(SEL_LDT);
    const uint16_t sel = vmi_get_ldt();
    check("SetLDT / GetLDT", sel == SEL_LDT, "GetLDT 0x%x", sel);
    const uint64_t d = desc_segment(addr(ldt_target), sizeof ldt_target - 1, ACC_DATA_R0, true);
    vmi_write_ldt_entry(ldt, 1, d);
    uint32_t v;
    __asm__ volatile("movw %w1, %%gs\n\tmovl %%gs:4, %0" : "=r"(v) : "r"(SEL_LDT_DATA) : "memory");
    check("WriteLDTEntry + load of LDT selector 0x0C", ldt[1] == d && v == ldt_target[1],
          "entry 0x%016llx, read 0x%08x", ldt[1], v);
    __asm__ volatile("movw %w0, %%gs" : : "r"(0));

    vmi_set_ldt(0);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%gs" FAULT_END : : "r"(SEL_LDT_DATA) : "memory");
    const uint16_t none = vmi_get_ldt();
    check("SetLDT(0): GetLDT 0, LDT selector gives #GP(0x0C)", none == 0 &&
              fault.count == 1 && fault.vector == TRAP_GP && fault.error == SEL_LDT_DATA,
          "GetLDT 0x%x; %u fault(s), vector %u error 0x%x", none, fault.count,
          fault.vector, fault.error);
}

static void int_a(void) { __asm__ volatile("int $0x40" ::: "memory"); }

static void test_idt_gates(void)
{
    trap_set_handler(VEC_A, count_hit, 0);
    trap_set_handler(VEC_B, count_hit, 0);
    const uint64_t *idt = (const uint64_t *)(uintptr_t)trap_idt_linear();
    hits = 0;
    int_a();
    check("WriteIDTEntry gate taken by int 0x40", idt[VEC_A] == trap_gate(VEC_A) && hits == 1 &&
              hit_vector == VEC_A,
          "entry 0x%016llx (want 0x%016llx), %u hit(s), vector 0x%x", idt[VEC_A], trap_gate(VEC_A),
          hits, hit_vector);

    /* the same vector pointed at another entry stub: the new gate must be the one used */
    vmi_write_idt_entry((void *)(uintptr_t)trap_idt_linear(), VEC_A,
                        desc_gate(read_cs(), trap_stub(VEC_B), GATE_INTR32));
    hits = 0;
    int_a();
    check("rewritten gate: int 0x40 now enters vector 0x41's stub",
          hits == 1 && hit_vector == VEC_B,
          "%u hit(s), vector 0x%x", hits, hit_vector);

    /* gate types, with interrupts on (every PIC line masked) */
    vmi_enable_interrupts();
    trap_set_handler(VEC_A, count_hit, 0); /* interrupt gate again */
    int_a();
    const uint32_t intr_if = hit_eflags & EFLAGS_IF;
    vmi_write_idt_entry((void *)(uintptr_t)trap_idt_linear(), VEC_A,
                        desc_gate(read_cs(), trap_stub(VEC_A), GATE_TRAP32));
    int_a();
    const uint32_t trap_if = hit_eflags & EFLAGS_IF;
    vmi_disable_interrupts();
    check("interrupt gate clears IF, trap gate keeps it", !intr_if && trap_if,
          "IF in the handler: %s through the interrupt gate, %s through the trap gate",
          intr_if ? "set" : "clear", trap_if ? "set" : "clear");
    trap_set_handler(VEC_A, count_hit, 0);
}

static void test_new_idt(void)
{
    const uint64_t *cur = (const uint64_t *)(uintptr_t)trap_idt_linear();
    for (unsigned v = 0; v < 256; v++)
        new_idt[v] = cur[v]; /* not live yet: plain copies */
    const uint16_t limit = VEC_BEYOND * 8 - 1;
    const struct vmi_dtr want = {limit, addr(new_idt)};
    vmi_set_idt(&want);
    struct vmi_dtr got;
    vmi_get_idt(&got);
    check("SetIDT to a new table: GetIDT round trip", got.base == want.base && got.limit == limit,
          "GetIDT limit 0x%x base 0x%08x", got.limit, got.base);

    vmi_write_idt_entry(new_idt, VEC_NEW, desc_gate(read_cs(), trap_stub(VEC_A), GATE_INTR32));
    hits = 0;
    __asm__ volatile("int $0x42" ::: "memory");
    check("WriteIDTEntry into the new table: int 0x42 taken", hits == 1 && hit_vector == VEC_A,
          "%u hit(s), vector 0x%x", hits, hit_vector);

    fault_reset();
    __asm__ volatile(FAULT_BEGIN "int $0x50" FAULT_END ::: "memory");
    check("vector beyond the IDT limit: #GP(0x50*8+2)", fault.count == 1 &&
              fault.vector == TRAP_GP && fault.error == VEC_BEYOND * 8 + 2,
          "%u fault(s), vector %u error 0x%x", fault.count, fault.vector, fault.error);

    trap_load();
    vmi_get_idt(&got);
    check("SetIDT back to the library's table", got.base == trap_idt_linear() &&
              got.limit == trap_idt_limit(), "GetIDT limit 0x%x base 0x%08x", got.limit, got.base);
}

static void test_tr(void)
{
    static uint8_t stack[1024] __attribute__((aligned(16)));
    desc_tss_init(addr(stack + sizeof stack));
    uint16_t tr = vmi_get_tr();
    uint8_t acc = desc_access(desc_gdt()[SEL_TSS >> 3]);
    check("SetTR / GetTR, TSS marked busy", tr == SEL_TSS && acc == ACC_TSS32_BUSY,
          "GetTR 0x%x, access byte 0x%02x", tr, acc);
    tss2 = desc_tss;
    desc_gdt_set(IDX_TSS2, desc_segment(addr(&tss2), sizeof tss2 - 1, ACC_TSS32, false));
    vmi_set_tr(SEL_TSS2);
    tr = vmi_get_tr();
    acc = desc_access(desc_gdt()[IDX_TSS2]);
    check("SetTR to a second TSS", tr == SEL_TSS2 && acc == ACC_TSS32_BUSY,
          "GetTR 0x%x, access byte 0x%02x", tr, acc);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    kernel_start("descriptors");
    pic_init(0);
    fault_catch(TRAP_GP);
    test_gdt();
    test_segment_base();
    test_ldt();
    test_idt_gates();
    test_new_idt();
    test_tr();
    check_finish("descriptors");
}
