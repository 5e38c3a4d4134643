/* linuxlike: the VMI client order of Linux 2.6.2x-2.6.36 (vmi_32.c, vmiclock_32.c; VMI.md
 * section 5), step by step:
 *   probe -> reserve the top (virtual_top) -> interrupts off -> Init -> CS & 3 ->
 *   GetRelocationInfo for each call Linux uses, in activate_vmi's order -> patch the call
 *   sites (DisableInterrupts, EnableInterrupts, SetInterruptMask, GetInterruptMask, IRET,
 *   SYSEXIT) -> [page tables with AllocatePage/SetPxE, paging on, GDT/IDT/stack/ROM moved to
 *   the PAGE_OFFSET alias] -> SetLinearMapping(0, PAGE_OFFSET, pages, 0) -> interrupts back on
 *   -> low identity mapping zapped -> timer: PIT silenced, periodic alarm on IRQ 0, cancelled,
 *   then the local APIC timer LVT (vector from APICRead after APICWrite) with a periodic
 *   alarm wired to it, ticks with Halt, EOI through APICWrite -> PASS through the exit port.
 * Natively every call falls back to its instruction and the APIC timer stands in.
 * Command line: ticks=N (default 5, 3..32). */
#include <stdint.h>

#include "check.h"
#include "clock.h"
#include "ctx.h"
#include "desc.h"
#include "div64.h"
#include "fault.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "pic.h"
#include "pit.h"
#include "serial.h"
#include "trap.h"
#include "vmi.h"
#include "vmi_internal.h"

#define PAGE_OFFSET 0xC0000000u
#define LOW_BYTES (4u << 20) /* mapped at 0 and at PAGE_OFFSET */
#define LOW_ZAP (1u << 20)   /* identity mapping removed below this, as zap_low_mappings */
#define HZ 100
#define LOCAL_TIMER_VECTOR 0x31 /* Linux's FIRST_DEVICE_VECTOR with an IO-APIC */
#define SPURIOUS_VECTOR 0xFF
#define MAX_TICKS 32

/* Every call activate_vmi asks GetRelocationInfo about, in its order (2.6.36, UP, local APIC,
 * non-PAE; SetLazyMode four times and FlushTLB twice, as its para_wraps do). The timer
 * calls after GetCycleFrequency are asked only if that one is not NONE. */
static const uint8_t linux_calls[] = {
    VMI_CALL_CPUID, VMI_CALL_CLTS, VMI_CALL_GetDR, VMI_CALL_SetDR, VMI_CALL_GetCR0,
    VMI_CALL_GetCR2, VMI_CALL_GetCR3, VMI_CALL_GetCR4, VMI_CALL_SetCR0, VMI_CALL_SetCR2,
    VMI_CALL_SetCR3, VMI_CALL_SetCR4, VMI_CALL_GetInterruptMask, VMI_CALL_SetInterruptMask,
    VMI_CALL_DisableInterrupts, VMI_CALL_EnableInterrupts, VMI_CALL_WBINVD, VMI_CALL_RDTSC,
    VMI_CALL_SetTR, VMI_CALL_SetLDT, VMI_CALL_SetGDT, VMI_CALL_SetIDT, VMI_CALL_GetGDT,
    VMI_CALL_GetIDT, VMI_CALL_GetTR, VMI_CALL_WriteLDTEntry, VMI_CALL_WriteGDTEntry,
    VMI_CALL_WriteIDTEntry, VMI_CALL_UpdateKernelStack, VMI_CALL_SetIOPLMask, VMI_CALL_IODelay,
    VMI_CALL_SetLazyMode, VMI_CALL_SetLazyMode, VMI_CALL_SetLazyMode, VMI_CALL_SetLazyMode,
    VMI_CALL_FlushTLB, VMI_CALL_FlushTLB, VMI_CALL_InvalPage, VMI_CALL_SetPxE, VMI_CALL_UpdatePxE,
    VMI_CALL_AllocatePage, VMI_CALL_ReleasePage, VMI_CALL_SetLinearMapping, VMI_CALL_APICRead,
    VMI_CALL_APICWrite, VMI_CALL_GetCycleFrequency,
};
static const uint8_t linux_timer_calls[] = {
    VMI_CALL_GetCycleCounter, VMI_CALL_GetWallclockTime, VMI_CALL_WallclockUpdated,
    VMI_CALL_SetAlarm, VMI_CALL_CancelAlarm,
};
/* The patch sites, in vmi_patch's order; Linux asks again at each site. */
static const uint8_t patched_calls[] = {
    VMI_CALL_DisableInterrupts, VMI_CALL_EnableInterrupts, VMI_CALL_SetInterruptMask,
    VMI_CALL_GetInterruptMask, VMI_CALL_IRET, VMI_CALL_SYSEXIT,
};

/* --- the patched interrupt-flag sites: a table of function pointers -------------------- */

static void VMI_REGPARM native_irq_disable(void) { native_cli(); }
static void VMI_REGPARM native_irq_enable(void) { native_sti(); }
static uint32_t VMI_REGPARM native_save_fl(void) { return read_eflags(); }
static void VMI_REGPARM native_restore_fl(uint32_t f)
{
    __asm__ volatile("pushl %0; popfl" : : "g"(f) : "memory", "cc");
}
static void VMI_REGPARM patch_nop(void) {}
static uint32_t VMI_REGPARM patch_nop_fl(void) { return 0; }

static struct {
    void(VMI_REGPARM *irq_disable)(void);
    void(VMI_REGPARM *irq_enable)(void);
    void(VMI_REGPARM *restore_fl)(uint32_t);
    uint32_t(VMI_REGPARM *save_fl)(void);
} pv = {native_irq_disable, native_irq_enable, native_restore_fl, native_save_fl};

/* CALL_REL -> the ROM's address, NOP -> an empty function, NONE -> the native one. */
static void *patch_target(struct vmi_reloc r, void *native, void *nop)
{
    switch (r.type) {
    case VMI_RELOC_CALL_REL: return (void *)(uintptr_t)r.addr;
    case VMI_RELOC_NOP: return nop;
    default: return native;
    }
}

static const char *patch_kind(struct vmi_reloc r)
{
    switch (r.type) {
    case VMI_RELOC_CALL_REL: return "call";
    case VMI_RELOC_JUMP_REL: return "jmp";
    case VMI_RELOC_NOP: return "removed (NOP)";
    case VMI_RELOC_NONE: return "native";
    default: return "invalid";
    }
}

static void patch_sites(void)
{
    bool iret_sysexit_ok = true;
    for (unsigned i = 0; i < sizeof patched_calls; i++) {
        const struct vmi_reloc r = vmi_query_reloc(patched_calls[i]);
        kprintf("patch %s: %s 0x%08x\n", vmi_call_name(patched_calls[i]), patch_kind(r), r.addr);
        if (patched_calls[i] == VMI_CALL_IRET || patched_calls[i] == VMI_CALL_SYSEXIT)
            iret_sysexit_ok = iret_sysexit_ok && r.type != VMI_RELOC_NONE;
    }
    pv.irq_disable = patch_target(vmi_get_reloc(VMI_CALL_DisableInterrupts),
                                  (void *)native_irq_disable, (void *)patch_nop);
    pv.irq_enable = patch_target(vmi_get_reloc(VMI_CALL_EnableInterrupts),
                                 (void *)native_irq_enable, (void *)patch_nop);
    pv.restore_fl = patch_target(vmi_get_reloc(VMI_CALL_SetInterruptMask),
                                 (void *)native_restore_fl, (void *)patch_nop);
    pv.save_fl = patch_target(vmi_get_reloc(VMI_CALL_GetInterruptMask), (void *)native_save_fl,
                              (void *)patch_nop_fl);
    if (vmi_active())
        check("IRET and SYSEXIT provided (not NONE)", iret_sysexit_ok,
              "Linux would be left with a poisoned pointer");
}

/* --- activation --------------------------------------------------------------------------- */

static void query_linux_calls(void)
{
    unsigned count[4] = {0}, jump_rel = 0;
    for (unsigned i = 0; i < sizeof linux_calls; i++) {
        const struct vmi_reloc r = vmi_query_reloc(linux_calls[i]);
        count[r.type & 3]++;
        jump_rel += r.type == VMI_RELOC_JUMP_REL;
    }
    if (vmi_get_reloc(VMI_CALL_GetCycleFrequency).type != VMI_RELOC_NONE)
        for (unsigned i = 0; i < sizeof linux_timer_calls; i++) {
            const struct vmi_reloc r = vmi_query_reloc(linux_timer_calls[i]);
            count[r.type & 3]++;
            jump_rel += r.type == VMI_RELOC_JUMP_REL;
        }
    vmi_query_reloc(VMI_CALL_Halt);
    kprintf("relocations asked: CALL_REL %u, NOP %u, NONE %u, JUMP_REL %u\n",
            count[VMI_RELOC_CALL_REL], count[VMI_RELOC_NOP], count[VMI_RELOC_NONE], jump_rel);
    check("GetRelocationInfo: no JUMP_REL for a call Linux calls (its BUG_ON)", jump_rel == 0,
          "%u call(s) answered JUMP_REL", jump_rel);
}

/* --- the higher half ---------------------------------------------------------------------- */

static uint8_t high_stack[8192] __attribute__((aligned(16)));
static uint32_t saved_flags, ticks_wanted;

static bool build_page_tables(void)
{
    pg_init();
    bool ok = pg_map_range(0, 0, LOW_BYTES, PTE_W) &&
              pg_map_range(PAGE_OFFSET, 0, LOW_BYTES, PTE_W);
    if (!vmi_has(VMI_CALL_APICRead) && vmi_apic_present()) /* native APIC: MMIO page */
        ok = ok && pg_map(vmi_apic_mmio, vmi_apic_mmio, PTE_W | PTE_PCD | PTE_PWT);
    ok = ok && (uint32_t)(uintptr_t)__bss_end <= LOW_BYTES;
    return check("page tables built with AllocatePage + SetPxE", ok,
                 "page-table pool exhausted or kernel past 4 MiB");
}

static _Noreturn void high_half(void *arg);

static _Noreturn void switch_to_high_half(void)
{
    pg_enable(true);
    desc_gdt_init();
    desc_gdt_move(PAGE_OFFSET);
    trap_move(PAGE_OFFSET);
    if (vmi_active()) {
        const int moved = vmi_use_alias(PAGE_OFFSET);
        check("ROM called through PAGE_OFFSET + 0xC0000 from now on (answers moved)", moved == 0,
              "%d answer(s) differ (-1: no acceptable header at the alias)", moved);
    }
    const uint32_t stack_top = (uint32_t)(uintptr_t)high_stack + sizeof high_stack;
    ctx_call_on_stack(high_half, 0, stack_top + PAGE_OFFSET);
}

/* --- the timer ---------------------------------------------------------------------------- */

static volatile uint32_t ticks;
static volatile uint64_t stamp[MAX_TICKS];
static uint64_t period;

static void tick(void)
{
    const uint64_t now = vmi_get_cycle_counter(VMI_CYCLES_REAL);
    if (ticks < MAX_TICKS)
        stamp[ticks] = now;
    ticks++;
}

static void irq0_tick(struct trap_frame *f)
{
    (void)f;
    tick();
    pic_eoi(PIC_IRQ_TIMER);
}

static void lvtt_tick(struct trap_frame *f)
{
    (void)f;
    tick();
    vmi_apic_write(APIC_REG_EOI, 0);
}

static void spurious(struct trap_frame *f) { (void)f; }

static bool wait_ticks(uint32_t n)
{
    return clock_wait_count(&ticks, 1, 20 * period, false) &&
           clock_wait_count(&ticks, n, (uint64_t)(2 * n + 20) * period, true);
}

static void timer_irq0(void)
{
    pit_disable();
    pic_init(1u << PIC_IRQ_TIMER);
    trap_set_handler(PIC_VECTOR_BASE + PIC_IRQ_TIMER, irq0_tick, 0);
    const uint32_t flags = VMI_CYCLES_REAL | VMI_ALARM_IS_PERIODIC | VMI_ALARM_WIRED_IRQ0;
    ticks = 0;
    vmi_set_alarm(flags, clock_now(), period); /* Linux: expiry = now */
    check("periodic alarm wired to IRQ 0: 2 ticks", wait_ticks(2), "%u tick(s)", ticks);
    const uint32_t pending = vmi_cancel_alarm(flags);
    check("CancelAlarm(IRQ 0 periodic) returns non-zero", pending != 0, "returned %u", pending);
    pic_set_unmasked(0);
}

static void timer_lvtt(void)
{
    if (!vmi_apic_present()) {
        check_skip("local APIC timer", "no local APIC");
        return;
    }
    kprintf("APIC version 0x%08x\n", vmi_apic_read(APIC_REG_VERSION));
    trap_set_handler(SPURIOUS_VECTOR, spurious, 0);
    vmi_apic_write(APIC_REG_SVR, 0x100 | SPURIOUS_VECTOR); /* software-enable */
    vmi_apic_write(APIC_REG_LVTT, LOCAL_TIMER_VECTOR);
    const uint32_t vector = vmi_apic_read(APIC_REG_LVTT) & 0xFF;
    if (!check("APICWrite(LVTT) / APICRead(LVTT): vector", vector == LOCAL_TIMER_VECTOR,
               "read back vector 0x%02x", vector))
        return;
    trap_set_handler(vector, lvtt_tick, 0);
    const uint32_t flags = VMI_CYCLES_REAL | VMI_ALARM_IS_PERIODIC | VMI_ALARM_WIRED_LVTT;
    ticks = 0;
    vmi_set_alarm(flags, clock_now(), period);
    const uint32_t n = ticks_wanted;
    if (!check("periodic alarm wired to the APIC timer LVT: ticks with Halt, EOI by APICWrite",
               wait_ticks(n), "%u of %u tick(s)", ticks, n))
        return;
    const uint32_t pending = vmi_cancel_alarm(flags);
    /* The first tick is due at once (expiry = now, as Linux asks) while interrupts are still
     * off, so it is late by however long that takes: gaps are measured from the second. */
    uint64_t min = ~0ull, max = 0;
    for (uint32_t i = 2; i < n; i++) {
        const uint64_t d = stamp[i] - stamp[i - 1];
        min = d < min ? d : min;
        max = d > max ? d : max;
    }
    kprintf("LVTT ticks: gaps min %llu max %llu cycles (period %llu)\n", min, max, period);
    const uint64_t total = stamp[n - 1] - stamp[1], want = (uint64_t)(n - 2) * period;
    if (vmi_has(VMI_CALL_SetAlarm))
        check("LVTT ticks exactly one period apart", min == period && max == period,
              "gaps %llu..%llu", min, max);
    else
        check("LVTT ticks about one period apart (APIC timer stand-in: mean within 2x)",
              total >= want / 2 && total <= 2 * want,
              "%llu cycles for %u periods of %llu", total, n - 2, period);
    check("CancelAlarm(LVTT periodic) returns non-zero", pending != 0, "returned %u", pending);
}

/* --- on the PAGE_OFFSET stack --------------------------------------------------------------- */

static _Noreturn void high_half(void *arg)
{
    (void)arg;
    struct vmi_dtr gdt, idt;
    vmi_get_gdt(&gdt);
    vmi_get_idt(&idt);
    uint32_t esp;
    __asm__ volatile("movl %%esp, %0" : "=r"(esp));
    check("running on the higher half: stack, GDT and IDT at PAGE_OFFSET",
          esp >= PAGE_OFFSET && gdt.base >= PAGE_OFFSET && idt.base >= PAGE_OFFSET,
          "esp 0x%08x GDT 0x%08x IDT 0x%08x", esp, gdt.base, idt.base);

    vmi_set_linear_mapping(0, PAGE_OFFSET, LOW_BYTES / PAGE_SIZE, 0);
    pg_set_table_offset(PAGE_OFFSET);
    kprintf("SetLinearMapping(0, 0x%08x, %u, 0)\n", PAGE_OFFSET, LOW_BYTES / PAGE_SIZE);

    pv.restore_fl(saved_flags & VMI_EFLAGS_IF); /* local_irq_restore(flags & X86_EFLAGS_IF) */
    pic_init(0);
    pv.irq_enable(); /* start_kernel's local_irq_enable */
    const uint32_t on = pv.save_fl();
    check("interrupts back on (patched EnableInterrupts; GetInterruptMask has IF)",
          on & VMI_EFLAGS_IF, "mask 0x%08x", on);
    pv.irq_disable();

    /* zap_low_mappings: page tables reached through PAGE_OFFSET now */
    for (uint32_t va = 0; va < LOW_ZAP; va += PAGE_SIZE)
        pg_unmap(va);
    vmi_flush_tlb(VMI_FLUSH_TLB);
    fault_catch(TRAP_PF);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movl (%0), %%eax" FAULT_END : : "r"(0xC0000u) : "eax", "memory");
    check("low identity mapping gone: #PF at 0xC0000", fault.count == 1 &&
              fault.vector == TRAP_PF && fault.cr2 == 0xC0000,
          "%u fault(s), vector %u CR2 0x%08x", fault.count, fault.vector, fault.cr2);

    const uint64_t freq = clock_frequency();
    period = div64_u64(freq, HZ);
    kprintf("cycle frequency %llu Hz, HZ %u: %llu cycles per tick\n", freq, HZ, period);
    if (check("cycle frequency known", freq >= HZ, "%llu Hz", freq)) {
        timer_irq0();
        timer_lvtt();
    }
    check_finish("linuxlike");
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    kprintf("linuxlike: vmiemu test kernel\n");
    ticks_wanted = 5;
    if (mb_cmdline_u32(mb_cmdline(magic, mbi), "ticks", &ticks_wanted) < 0 || ticks_wanted < 3 ||
        ticks_wanted > MAX_TICKS)
        ticks_wanted = 5;

    /* probe */
    const struct vmi_rom_header *rom = vmi_probe();
    if (rom)
        kprintf("VMI ROM at 0x%08x, API %u.%u\n", vmi_rom_base(), rom->api_version_maj,
                rom->api_version_min);
    else
        kprintf("no VMI ROM: running natively\n");

    /* reserve_top_address(-virtual_top): our mappings must stay below it */
    const uint32_t vtop = rom ? rom->virtual_top : 0;
    const uint32_t highest = vmi_apic_present() ? vmi_apic_mmio + PAGE_SIZE - 1
                                                : PAGE_OFFSET + LOW_BYTES - 1;
    kprintf("virtual_top 0x%08x: %s\n", vtop, vtop ? "top reserved" : "nothing reserved");
    check("reserve the top: mappings below virtual_top", vtop == 0 || highest < vtop,
          "highest mapping 0x%08x, virtual_top 0x%08x", highest, vtop);

    /* local_irq_save, then activate_vmi */
    saved_flags = pv.save_fl();
    pv.irq_disable();
    if (rom) {
        const int32_t rc = vmi_activate();
        if (!check("Init returns 0", rc == 0, "returned %d", rc))
            check_finish("linuxlike");
        kprintf("kernel ring (CS & 3 after Init): %u\n", vmi_kernel_ring());
        check("kernel ring 0 (this kernel does not support ring 1)", vmi_kernel_ring() == 0,
              "CS & 3 = %u", vmi_kernel_ring());
        query_linux_calls();
        patch_sites();
    } else {
        check_skip("Init and GetRelocationInfo", "no ROM");
    }
    trap_load();
    const uint32_t off = pv.save_fl();
    check("interrupts off (patched GetInterruptMask: IF clear)", !(off & VMI_EFLAGS_IF),
          "mask 0x%08x", off);

    if (!build_page_tables())
        check_finish("linuxlike");
    switch_to_high_half();
}
