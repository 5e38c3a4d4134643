/* exceptions: provoke every exception class that ring 0 can raise, take each through the
 * IDT (gates written with WriteIDTEntry, the IDT loaded with SetIDT), check the vector, the
 * error code, the saved EIP and CS, and resume after the faulting instruction (handlers
 * return through VMI IRET). #AC needs CPL 3: usermode tries it. */
#include <stdint.h>

#include "check.h"
#include "cpu.h"
#include "desc.h"
#include "fault.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "vmi.h"

#define SEL_ABSENT ((GDT_FIRST_FREE) << 3) /* 0x38: a data segment marked not present */
#define SEL_BEYOND 0x1000                  /* index 512: past the GDT limit */
#define VEC_ABSENT 0x41                    /* an IDT gate marked not present */
#define IDENTITY_BYTES (4u << 20)

static uint32_t bound_pair[2] = {0, 10};
static uint8_t tss_stack[4096] __attribute__((aligned(16)));

/* The last fault must be exactly one `vector` with `error` at `eip`, from kernel CS. */
static bool expect(const char *name, uint32_t vector, uint32_t error, uint32_t eip)
{
    const bool ok = fault.count == 1 && fault.vector == vector && fault.error == error &&
                    fault.eip == eip && (fault.cs & 0xFFFF) == read_cs();
    return check(name, ok,
                 "%u fault(s), last vector %u error 0x%x eip 0x%08x cs 0x%x; want vector %u "
                 "error 0x%x eip 0x%08x cs 0x%x",
                 fault.count, fault.vector, fault.error, fault.eip, fault.cs, vector, error, eip,
                 read_cs());
}

static void test_de(void)
{
    fault_reset();
    __asm__ volatile("xorl %%edx, %%edx\n\t" FAULT_BEGIN "divl %0" FAULT_END
                     :
                     : "r"(0u), "a"(1u)
                     : "edx", "memory", "cc");
    expect("#DE divide by zero", TRAP_DE, 0, fault_at);
}

/* TF set by popf traps after the instruction that follows: the nop. */
static void test_db(void)
{
    vmi_set_dr(6, 0);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\tnop" FAULT_END
                     :
                     :
                     : "memory", "cc");
    if (expect("#DB single step", TRAP_DB, 0, fault_resume))
        check("#DB saved EFLAGS.TF", fault.eflags & EFLAGS_TF, "eflags 0x%08x", fault.eflags);
    check("#DB TF cleared on return", !(read_eflags() & EFLAGS_TF), "eflags 0x%08x",
          read_eflags());
    const uint32_t dr6 = vmi_get_dr(6);
    check("#DB GetDR(6) has BS", dr6 & 0x4000, "DR6 0x%08x", dr6);
}

static void test_bp(void)
{
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "int3" FAULT_END ::: "memory");
    expect("#BP int3", TRAP_BP, 0, fault_resume);
}

static void test_of(void)
{
    fault_reset();
    __asm__ volatile("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\t" FAULT_BEGIN "into" FAULT_END
                     :
                     :
                     : "eax", "memory", "cc");
    expect("#OF into", TRAP_OF, 0, fault_resume);
}

static void test_br(void)
{
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "boundl %0, %1" FAULT_END
                     :
                     : "r"(20u), "m"(bound_pair)
                     : "memory");
    expect("#BR bound", TRAP_BR, 0, fault_at);
}

static void test_ud(void)
{
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "ud2" FAULT_END ::: "memory");
    expect("#UD ud2", TRAP_UD, 0, fault_at);
}

/* #NM: the fix-up does what Linux's math_state_restore does first (CLTS) and retries. */
static bool nm_fixup(struct trap_frame *f)
{
    if (f->vector != TRAP_NM)
        return false;
    vmi_clts();
    return true;
}

static void test_nm(void)
{
    vmi_set_cr0((vmi_get_cr0() & ~CR0_EM) | CR0_MP | CR0_TS);
    const uint32_t cr0 = vmi_get_cr0();
    check("#NM SetCR0 sets TS", cr0 & CR0_TS, "CR0 0x%08x", cr0);
    fault_reset();
    fault_set_fixup(nm_fixup);
    __asm__ volatile(FAULT_BEGIN "fninit" FAULT_END ::: "memory");
    fault_set_fixup(0);
    expect("#NM fninit with CR0.TS, CLTS and retry", TRAP_NM, 0, fault_at);
    const uint32_t after = vmi_get_cr0();
    check("#NM CLTS cleared TS", !(after & CR0_TS), "CR0 0x%08x", after);
}

static void test_gp(void)
{
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%ds" FAULT_END : : "r"(SEL_BEYOND) : "memory");
    expect("#GP selector beyond the GDT limit", TRAP_GP, SEL_BEYOND, fault_at);
    check("#GP DS unchanged", read_ds() == SEL_KDATA, "DS 0x%x", read_ds());
}

static void test_np_ss(void)
{
    desc_gdt_set(SEL_ABSENT >> 3,
                 desc_segment(0, 0xFFFFFFFF, ACC_DATA_R0 & ~ACC_PRESENT, true));
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%ds" FAULT_END : : "r"(SEL_ABSENT) : "memory");
    expect("#NP not-present segment into DS", TRAP_NP, SEL_ABSENT, fault_at);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movw %w0, %%ss" FAULT_END : : "r"(SEL_ABSENT) : "memory");
    expect("#SS not-present segment into SS", TRAP_SS, SEL_ABSENT, fault_at);
    check("#SS SS unchanged", read_ss() == SEL_KDATA, "SS 0x%x", read_ss());

    trap_set_present(VEC_ABSENT, false);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "int $0x41" FAULT_END ::: "memory");
    expect("#NP not-present IDT gate (error = vector*8 + IDT bit)", TRAP_NP,
           VEC_ABSENT * 8 + 2, fault_at);
    trap_set_present(VEC_ABSENT, true);
}

/* IRET with EFLAGS.NT set returns to the task in the TSS link field; a link that is not a
 * busy TSS (here the kernel data selector) raises #TS with that selector. */
static void test_ts(void)
{
    desc_tss.link = SEL_KDATA;
    fault_reset();
    __asm__ volatile("pushfl\n\torl $0x4000, (%%esp)\n\tpopfl\n\t" FAULT_BEGIN "iret" FAULT_END
                     :
                     :
                     : "memory", "cc");
    expect("#TS iret with NT and a bad TSS link", TRAP_TS, SEL_KDATA, fault_at);
    check("#TS NT cleared on return", !(read_eflags() & EFLAGS_NT), "eflags 0x%08x",
          read_eflags());
    desc_tss.link = 0;
}

static void expect_pf(const char *name, const char *cr2_name, uint32_t addr, uint32_t error)
{
    if (!expect(name, TRAP_PF, error, fault_at))
        return;
    const uint32_t cr2 = vmi_get_cr2();
    check(cr2_name, fault.cr2 == addr && cr2 == addr,
          "CR2 0x%08x in the handler, 0x%08x after; want 0x%08x", fault.cr2, cr2, addr);
}

static void test_pf(void)
{
    if ((uint32_t)(uintptr_t)__bss_end > IDENTITY_BYTES) {
        check("#PF", false, "kernel ends at 0x%08x, beyond the 4 MiB identity map",
              (uint32_t)(uintptr_t)__bss_end);
        return;
    }
    uint32_t *absent = pg_alloc_page(), *readonly = pg_alloc_page();
    pg_init();
    pg_map_range(0, 0, IDENTITY_BYTES, PTE_W);
    pg_unmap((uint32_t)(uintptr_t)absent);
    pg_map((uint32_t)(uintptr_t)readonly, (uint32_t)(uintptr_t)readonly, 0);
    pg_enable(true);
    const uint32_t a = (uint32_t)(uintptr_t)absent + 0x10, r = (uint32_t)(uintptr_t)readonly + 0x20;

    vmi_set_cr2(0);
    const uint32_t cr2 = vmi_get_cr2();
    check("#PF SetCR2/GetCR2", cr2 == 0, "CR2 0x%08x after SetCR2(0)", cr2);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movl (%0), %%eax" FAULT_END : : "r"(a) : "eax", "memory");
    expect_pf("#PF read, not present (error 0)", "#PF read, not present: CR2", a, 0);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movl %%eax, (%0)" FAULT_END : : "r"(a + 4) : "eax", "memory");
    expect_pf("#PF write, not present (error W)", "#PF write, not present: CR2", a + 4,
              PF_ERR_W);
    fault_reset();
    __asm__ volatile(FAULT_BEGIN "movl %%eax, (%0)" FAULT_END : : "r"(r) : "eax", "memory");
    expect_pf("#PF write, read-only with CR0.WP (error P|W)", "#PF write, read-only: CR2", r,
              PF_ERR_P | PF_ERR_W);
    fault_reset();
    const uint32_t v = *(volatile uint32_t *)(uintptr_t)r;
    check("#PF read of a read-only page does not fault", fault.count == 0 && v == 0,
          "%u fault(s), value 0x%x", fault.count, v);
}

/* #DE through a not-present gate: delivering it raises #NP, and two contributory exceptions
 * in a row make a double fault (error code 0). The saved EIP of #DF is architecturally
 * undefined: printed, not checked. */
static void test_df(void)
{
    trap_set_present(TRAP_DE, false);
    fault_reset();
    __asm__ volatile("xorl %%edx, %%edx\n\t" FAULT_BEGIN "divl %0" FAULT_END
                     :
                     : "r"(0u), "a"(1u)
                     : "edx", "memory", "cc");
    trap_set_present(TRAP_DE, true);
    kprintf("#DF saved eip 0x%08x (divl at 0x%08x)\n", fault.eip, fault_at);
    check("#DF #DE through a not-present gate", fault.count == 1 && fault.vector == TRAP_DF &&
              fault.error == 0,
          "%u fault(s), last vector %u error 0x%x; want one #DF (8) with error 0", fault.count,
          fault.vector, fault.error);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    kernel_start("exceptions");
    desc_gdt_init();
    desc_tss_init((uint32_t)(uintptr_t)(tss_stack + sizeof tss_stack));
    static const unsigned caught[] = {TRAP_DE, TRAP_DB, TRAP_BP, TRAP_OF, TRAP_BR, TRAP_UD, TRAP_NM,
                                      TRAP_DF, TRAP_TS, TRAP_NP, TRAP_SS, TRAP_GP, TRAP_PF};
    for (unsigned i = 0; i < sizeof caught / sizeof caught[0]; i++)
        fault_catch(caught[i]);

    test_de();
    test_db();
    test_bp();
    test_of();
    test_br();
    test_ud();
    test_nm();
    test_gp();
    test_np_ss();
    test_ts();
    test_pf();
    test_df();
    check_skip("#AC", "needs CPL 3: see the usermode kernel");
    check_finish("exceptions");
}
