/* mixed: a kernel-like mix. Two user processes run at ring 3, each in its own address space
 * (own page directory: the low 4 MiB identity-mapped and user-accessible through one shared
 * page table, a private page at PRIV_VA through a page table of its own, and the kernel's
 * scratch slot SCRATCH_VA through a second shared table); one TSS whose ring-0 stack is the
 * running process's kernel stack. A periodic timer runs in the background the whole time:
 * with a ROM, VMI SetAlarm on the real counter wired to IRQ 0; natively PIT channel 0 in
 * mode 2; every `tick_us=T` microseconds (default 100). Its handler counts and sends the
 * EOI; the count is printed, never folded into the checksum. One iteration (`iters=N`,
 * default 10000) is one pass of the running process's loop:
 *
 *   user (ring 3, interrupts on):
 *     ALU work: 64 rounds of xorshift, rotate, add, multiply and a `div` by a variable
 *       divisor, every 4th round a read-modify-write of a word of the private page (16)
 *     system call: `int 0x80` SYS_WRITE(PRIV_VA, 4096) -- through a DPL-3 interrupt gate
 *       onto the kernel stack the TSS names
 *   kernel (ring 0):
 *     GetCycleCounter(real), checked not to go backwards                   1 VMI call
 *     kmap: SetPxE(scratch page i & 1) on SCRATCH_VA's PTE + InvalPage        2 VMI calls
 *     EnableInterrupts; copy the 4 KiB from the user's private page into the
 *       scratch page with one `rep movsd` (1024 words); DisableInterrupts     2 VMI calls
 *     check one word of the scratch page through its physical (identity) address, so a
 *       stale translation fails the run; fold the 4 KiB (FNV-1a over words) into the
 *       checksum, and return the fold to the user in EAX (it seeds its next ALU work)
 *     every `switch=K` iterations (default 8): context switch to the other process --
 *       SetCR3(its directory), UpdateKernelStack(its kernel stack), then the kernel stacks
 *       are switched (callee-saved registers and ESP, ctx.h)          2 VMI calls / K
 *     back to ring 3 through VMI IRET (trap.S)                                1 VMI call
 *
 * With a ROM: 6 VMI calls per iteration plus 2 per K, plus IRET per timer interrupt; natively
 * the library's fallbacks (rdtsc, stores, invlpg, sti/cli, mov cr3, iret). The work is fixed,
 * so the checksum is the same on every correct machine whenever the interrupts arrive.
 * Prints the checksum, the interrupt count, the counter before and after, "mixed: N
 * iterations" and PASS (exit 33) or FAIL (exit 35). */
#include <stdint.h>

#include "clock.h"
#include "ctx.h"
#include "desc.h"
#include "div64.h"
#include "exit.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "pic.h"
#include "pit.h"
#include "trap.h"
#include "vmi.h"

#define DEFAULT_ITERS 10000u
#define DEFAULT_SWITCH 8u
#define DEFAULT_TICK_US 100u
#define LOW_BYTES (4u << 20)
#define PRIV_VA 0x40000000u    /* per process: its own page table */
#define SCRATCH_VA 0x40400000u /* the kernel's kmap slot: a page table shared by both */
#define COPY_BYTES 4096u
#define COPY_WORDS (COPY_BYTES / 4)
#define ALU_ROUNDS 64
#define SYSCALL_VECTOR 0x80
#define SYS_WRITE 1
#define STACK_BYTES 4096
#define NPROC 2
#define USER_EFLAGS (EFLAGS_IF | 0x2u)
#define ALARM (VMI_CYCLES_REAL | VMI_ALARM_WIRED_IRQ0 | VMI_ALARM_IS_PERIODIC)
#define MIN_PIT_TICKS 2u /* irqloop.c: QEMU's PIT in mode 2 needs at least 2 */

struct proc {
    unsigned id;
    uint32_t pd;          /* page directory: CR3 */
    uint32_t *priv;       /* its private page, at its physical (identity) address */
    uint32_t kstack_top;  /* ring-0 stack: the TSS's esp0 while it runs */
    uint32_t ustack_top;
    bool started;
    struct ctx ctx;       /* its kernel context while the other one runs */
};

static uint8_t kstack[NPROC][STACK_BYTES] __attribute__((aligned(16)));
static uint8_t ustack[NPROC][STACK_BYTES] __attribute__((aligned(16)));
static struct proc procs[NPROC];
static struct proc *current;
static struct ctx kmain_ctx; /* where the last iteration returns to */

static uint32_t iters, switch_every;
static uint32_t iter;             /* iterations done */
static uint32_t sum = 0x811C9DC5u; /* the checksum */
static uint32_t *scratch[2];      /* the two pages the kmap slot alternates between */
static uint32_t *scratch_pte, scratch_flags;
static uint64_t last_t, c0;
static uint32_t backwards, stale, bad_calls, switches;

static volatile uint32_t ticks;
static bool rom_alarm;
static uint32_t period, pit_ticks;

static uint32_t phys(const volatile void *p) { return (uint32_t)(uintptr_t)p; }
static uint32_t top(const uint8_t *stack) { return phys(stack) + STACK_BYTES; }
static uint32_t rotl(uint32_t x, unsigned k) { return x << k | x >> (32 - k); }

static _Noreturn void fail(const char *why)
{
    kprintf("mixed: FAIL (%s)\n", why);
    test_exit(TEST_FAIL);
}

/* --- user side: ring 3 ------------------------------------------------------------------ */

static uint32_t sys_write(const void *buf, uint32_t len)
{
    uint32_t r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(SYS_WRITE), "b"(buf), "c"(len) : "memory");
    return r;
}

static uint32_t alu_work(uint32_t x, uint32_t *page)
{
    uint32_t y = x * 0x9E3779B1u, s = 0;
    for (unsigned r = 0; r < ALU_ROUNDS; r++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        y = rotl(y, 7) + x;
        s = s * 31 + x / ((y & 0xFFFF) | 1);
        if ((r & 3) == 3)
            page[y & (COPY_WORDS - 1)] ^= s;
    }
    return x ^ s;
}

static _Noreturn void user_main(unsigned id)
{
    uint32_t *const page = (uint32_t *)PRIV_VA;
    uint32_t x = 0x9E3779B9u * (id + 1);
    for (;;) {
        x = alu_work(x | 1, page); /* xorshift must not start at 0 */
        x ^= sys_write(page, COPY_BYTES);
    }
}

/* --- kernel side ------------------------------------------------------------------------ */

static void irq0(struct trap_frame *f)
{
    (void)f;
    ticks++;
    pic_eoi(PIC_IRQ_TIMER);
}

/* Ring 3 for the first time, on p's kernel stack: user_main(p->id) on p's user stack. */
static _Noreturn void enter_user(void *arg)
{
    const struct proc *p = arg;
    uint32_t *sp = (uint32_t *)(uintptr_t)p->ustack_top;
    *--sp = p->id; /* user_main's argument */
    *--sp = 0;     /* its return address: it never returns */
    load_ds_es(SEL_UDATA);
    const struct iret_frame to_user = {(uint32_t)(uintptr_t)user_main, SEL_UCODE, USER_EFLAGS,
                                       phys(sp), SEL_UDATA};
    vmi_iret(&to_user);
}

/* Run the other process: its address space, its kernel stack; returns when it switches back. */
static void switch_process(void)
{
    struct proc *prev = current, *next = &procs[current->id ^ 1];
    vmi_set_cr3(next->pd);
    vmi_update_kernel_stack(&desc_tss, SEL_KDATA, next->kstack_top);
    current = next;
    switches++;
    if (ctx_save(&prev->ctx) == 0) {
        if (!next->started) {
            next->started = true;
            ctx_call_on_stack(enter_user, next, next->kstack_top);
        }
        ctx_resume(&next->ctx, 1);
    }
}

static uint32_t fold(uint32_t h, const uint32_t *w, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++)
        h = (h ^ w[j]) * 0x01000193u;
    return h;
}

/* SYS_WRITE(buf = EBX, len = ECX): one iteration's kernel half (see the top). */
static void sys_write_handler(struct trap_frame *f)
{
    const uint32_t buf = f->ebx, len = f->ecx;
    if (f->eax != SYS_WRITE || buf != PRIV_VA || len != COPY_BYTES) {
        bad_calls++;
        f->eax = (uint32_t)-1;
        return;
    }
    const uint64_t t = vmi_get_cycle_counter(VMI_CYCLES_REAL);
    backwards += t < last_t;
    last_t = t;

    const unsigned k = iter & 1;
    vmi_set_pxe(phys(scratch[k]) | PTE_P | PTE_W, scratch_pte, scratch_flags);
    vmi_inval_page(SCRATCH_VA);
    uint32_t *dst = (uint32_t *)SCRATCH_VA;
    const uint32_t *src = (const uint32_t *)(uintptr_t)buf;
    uint32_t n = COPY_WORDS;
    vmi_enable_interrupts();
    __asm__ volatile("rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    vmi_disable_interrupts();

    const unsigned w = iter & (COPY_WORDS - 1);
    stale += scratch[k][w] != ((const uint32_t *)(uintptr_t)buf)[w];
    const uint32_t h = fold(0x811C9DC5u, (const uint32_t *)SCRATCH_VA, COPY_WORDS);
    sum = (rotl(sum, 5) ^ h) + iter;
    f->eax = h;

    if (++iter == iters)
        ctx_resume(&kmain_ctx, 1);
    if (iter % switch_every == 0)
        switch_process();
}

/* Start / stop the periodic IRQ 0 (irqloop.c): VMI SetAlarm, or natively the PIT. */
static void timer_start(void)
{
    if (rom_alarm)
        vmi_set_alarm(ALARM, clock_now() + period, period);
    else
        pit_periodic(pit_ticks);
}

static void timer_stop(void)
{
    if (rom_alarm)
        vmi_cancel_alarm(ALARM);
    else
        pit_stop();
}

static void timer_setup(uint32_t tick_us)
{
    rom_alarm = vmi_has(VMI_CALL_SetAlarm) && vmi_has(VMI_CALL_CancelAlarm) &&
                vmi_has(VMI_CALL_GetCycleFrequency);
    if (rom_alarm) {
        const uint64_t p = div64_u32(vmi_get_cycle_frequency() * tick_us, 1000000, 0);
        period = p > 0xFFFFFFFFu ? 0xFFFFFFFFu : p ? (uint32_t)p : 1;
        kprintf("mixed: timer: VMI alarm every %u cycles (%u us)\n", period, tick_us);
    } else {
        const uint64_t t = div64_u32((uint64_t)tick_us * PIT_HZ + 500000, 1000000, 0);
        pit_ticks = t < MIN_PIT_TICKS ? MIN_PIT_TICKS : t > 65536 ? 65536 : (uint32_t)t;
        kprintf("mixed: timer: PIT every %u ticks (%u us)\n", pit_ticks, tick_us);
    }
    pit_disable(); /* as Linux's vmi_time_init: silence the BIOS tick */
    pic_init(1u << PIC_IRQ_TIMER);
    trap_set_handler(PIC_VECTOR_BASE + PIC_IRQ_TIMER, irq0, 0);
}

/* Both address spaces. The library builds process 0's (its directory); process 1's gets the
 * same two shared page tables and a private table of its own, all through AllocatePage and
 * SetPxE (not the current address space: no CURRENT_AS). */
static void build_address_spaces(void)
{
    pg_init();
    for (unsigned p = 0; p < NPROC; p++)
        procs[p].priv = pg_alloc_page();
    scratch[0] = pg_alloc_page();
    scratch[1] = pg_alloc_page();
    if (!procs[0].priv || !procs[1].priv || !scratch[1] ||
        !pg_map_range(0, 0, LOW_BYTES, PTE_W | PTE_U) ||
        !pg_map(PRIV_VA, phys(procs[0].priv), PTE_W | PTE_U) ||
        !pg_map(SCRATCH_VA, phys(scratch[0]), PTE_W))
        fail("page-table pool exhausted");
    procs[0].pd = pg_directory();

    uint32_t *pd1 = pg_alloc_page(), *pt1 = pg_alloc_page();
    if (!pd1 || !pt1)
        fail("page-table pool exhausted");
    vmi_allocate_page(phys(pd1) >> 12, VMI_PAGE_PD | VMI_PAGE_ZEROED, 0, 0, 0);
    vmi_allocate_page(phys(pt1) >> 12, VMI_PAGE_PT | VMI_PAGE_ZEROED, 0, 0, 0);
    vmi_set_pxe(*pg_pde(0), &pd1[0], VMI_PAGE_PD);
    vmi_set_pxe(*pg_pde(SCRATCH_VA), &pd1[SCRATCH_VA >> 22], VMI_PAGE_PD);
    vmi_set_pxe(phys(pt1) | PDE_TABLE, &pd1[PRIV_VA >> 22], VMI_PAGE_PD);
    vmi_set_pxe(phys(procs[1].priv) | PTE_P | PTE_W | PTE_U, &pt1[(PRIV_VA >> 12) & 0x3FF],
                VMI_PAGE_PT);
    procs[1].pd = phys(pd1);

    for (unsigned p = 0; p < NPROC; p++) {
        procs[p].id = p;
        procs[p].kstack_top = top(kstack[p]);
        procs[p].ustack_top = top(ustack[p]);
        for (uint32_t j = 0; j < COPY_WORDS; j++)
            procs[p].priv[j] = j * 0x01010101u ^ (p + 1) * 0x5BD1E995u;
    }
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    kernel_start("mixed");
    const char *cmdline = mb_cmdline(magic, mbi);
    uint32_t tick_us = DEFAULT_TICK_US;
    iters = DEFAULT_ITERS;
    switch_every = DEFAULT_SWITCH;
    if (mb_cmdline_u32(cmdline, "iters", &iters) < 0 ||
        mb_cmdline_u32(cmdline, "switch", &switch_every) < 0 ||
        mb_cmdline_u32(cmdline, "tick_us", &tick_us) < 0 || switch_every == 0 || tick_us == 0)
        fail("bad iters=, switch= or tick_us= value");
    if (phys(__bss_end) > LOW_BYTES)
        fail("the kernel ends past 4 MiB");

    desc_gdt_init();
    desc_tss_init(top(kstack[0]));
    trap_set_handler(SYSCALL_VECTOR, sys_write_handler, 3);
    build_address_spaces();
    pg_enable(true);
    scratch_pte = pg_pte(SCRATCH_VA);
    scratch_flags = pg_vmi_flags(VMI_PAGE_PT, SCRATCH_VA);
    timer_setup(tick_us);
    kprintf("mixed: %u iterations, a context switch every %u\n", iters, switch_every);

    current = &procs[0];
    c0 = clock_now();
    last_t = c0;
    timer_start();
    if (iters == 0) {
        /* nothing to run */
    } else if (ctx_save(&kmain_ctx) == 0) {
        procs[0].started = true;
        ctx_call_on_stack(enter_user, &procs[0], procs[0].kstack_top);
    }
    /* back from the last iteration's system call: interrupts off, DS/ES the kernel's */
    const uint64_t c1 = clock_now();
    timer_stop();
    pic_init(0);
    load_ds_es(SEL_KDATA);

    kprintf("mixed: %u iterations\n", iter);
    kprintf("mixed: %u context switches, %u timer interrupts\n", switches, ticks);
    kprintf("mixed: counter %llu -> %llu\n", c0, c1);
    kprintf("mixed: checksum 0x%08x\n", sum);
    if (stale)
        kprintf("mixed: %u stale scratch mappings\n", stale);
    if (backwards)
        kprintf("mixed: the cycle counter went backwards %u times\n", backwards);
    if (bad_calls)
        kprintf("mixed: %u malformed system calls\n", bad_calls);
    if (iter != iters || stale || backwards || bad_calls)
        fail("see above");
    kprintf("mixed: PASS\n");
    test_exit(TEST_PASS);
}
