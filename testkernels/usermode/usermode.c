/* usermode: a TSS (SetTR) whose ring-0 stack is changed with UpdateKernelStack, ring-3 code
 * and data segments (WriteGDTEntry), an `int 0x80` gate with DPL 3 (WriteIDTEntry), and
 * ring-3 code entered through VMI IRET that makes system calls -- each one returns to
 * ring 3 through VMI IRET, one through VMI SYSEXIT. Checked: CPL 3 in user mode and 0 in the
 * handler, the handler ran on the stack UpdateKernelStack named, privileged instructions and
 * a DPL-0 gate give #GP from ring 3, SetIOPLMask opens and closes port I/O, a supervisor
 * page gives #PF with the U bit, and #AC when this CPU checks alignment. */
#include <stdint.h>

#include "check.h"
#include "cpu.h"
#include "ctx.h"
#include "desc.h"
#include "fault.h"
#include "kernel.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "pic.h"
#include "syscall.h"
#include "vmi.h"

#define STACK_BYTES 4096
#define MSR_SYSENTER_CS 0x174
#define CPUID1_EDX_SEP (1u << 11)
#define VEC_KERNEL_ONLY 0x81 /* a DPL-0 gate: `int 0x81` from ring 3 is a #GP */
#define MAX_SYSCALLS 16
#define USER_EFLAGS (EFLAGS_IF | 0x2u)

static uint8_t kstack[2][STACK_BYTES] __attribute__((aligned(16)));
static uint8_t ustack[STACK_BYTES] __attribute__((aligned(16)));
static uint32_t *secret; /* a page mapped without PTE_U */
static struct ctx kernel_ctx;

static uint32_t top(const uint8_t *stack) { return (uint32_t)(uintptr_t)stack + STACK_BYTES; }
static bool on_stack(uint32_t esp, const uint8_t *stack)
{
    return esp > (uint32_t)(uintptr_t)stack && esp <= top(stack);
}

/* --- kernel side: the system-call handler records what it saw --------------------------- */

struct syscall_seen {
    uint32_t nr, frame_cs, frame_esp, frame_ss, cpl, esp, want_stack;
};
static struct syscall_seen seen[MAX_SYSCALLS];
static unsigned nseen;
static unsigned want_stack; /* index into kstack that UpdateKernelStack last named */

static void set_kernel_stack(unsigned which)
{
    want_stack = which;
    vmi_update_kernel_stack(&desc_tss, SEL_KDATA, top(kstack[which]));
}

static void syscall_handler(struct trap_frame *f)
{
    uint32_t esp;
    __asm__ volatile("movl %%esp, %0" : "=r"(esp));
    if (nseen < MAX_SYSCALLS)
        seen[nseen++] = (struct syscall_seen){f->eax, f->cs, f->user_esp, f->user_ss,
                                              read_cs() & 3u, esp, want_stack};
    switch (f->eax) {
    case SYS_PRINT: kprintf("%s", (const char *)(uintptr_t)f->ebx); break;
    case SYS_TIME: {
        const uint64_t t = vmi_get_cycle_counter(VMI_CYCLES_REAL);
        f->eax = (uint32_t)t;
        f->edx = (uint32_t)(t >> 32);
        break;
    }
    case SYS_KSTACK: set_kernel_stack(f->ebx & 1); break;
    case SYS_IOPL: {
        /* like Linux's sys_iopl: the frame's EFLAGS and the VMI call both */
        const uint32_t mask = (f->ebx & 3) << 12;
        f->eflags = (f->eflags & ~VMI_IOPL_MASK) | mask;
        vmi_set_iopl_mask(mask);
        break;
    }
    case SYS_SYSEXIT:
        load_ds_es((uint16_t)f->ds);
        vmi_sysexit(f->eip, f->user_esp);
    case SYS_EXIT: ctx_resume(&kernel_ctx, 1);
    default: f->eax = (uint32_t)-1; break;
    }
}

/* --- user side: runs at ring 3, records results for the kernel to check ------------------ */

static uint32_t sys(uint32_t nr, uint32_t arg)
{
    uint32_t r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(arg) : "edx", "memory");
    return r;
}

static uint64_t sys_time(void)
{
    uint32_t lo, hi;
    __asm__ volatile("int $0x80" : "=a"(lo), "=d"(hi) : "a"(SYS_TIME) : "memory");
    return ((uint64_t)hi << 32) | lo;
}

uint32_t user_sysexit_call(void);

enum { R_CLI, R_HLT, R_INT81, R_IO_CLOSED, R_IO_OPEN, R_IO_CLOSED_AGAIN, R_PF_READ, R_PF_WRITE,
       R_AC, R_COUNT };
static struct fault_info results[R_COUNT];
static uint32_t results_at[R_COUNT];
static struct {
    uint32_t cpl, esp, eflags, sysexit_cs, sysexit_esp_ok;
    uint64_t t1, t2;
} user;
static bool try_sysexit, try_ac;

static void record(unsigned slot)
{
    results[slot] = (struct fault_info){fault.count, fault.vector, fault.error, fault.eip,
                                        fault.cs, fault.eflags, fault.cr2, fault.esp,
                                        fault.user_esp};
    results_at[slot] = fault_at;
    fault_reset();
}

static _Noreturn void user_main(void)
{
    __asm__ volatile("movl %%esp, %0" : "=r"(user.esp));
    user.cpl = read_cs() & 3u;
    user.eflags = read_eflags();
    sys(SYS_PRINT, (uint32_t)(uintptr_t)"usermode: hello from ring 3\n");
    user.t1 = sys_time();
    user.t2 = sys_time();
    sys(SYS_KSTACK, 0);
    sys(SYS_PRINT, (uint32_t)(uintptr_t)"usermode: kernel stack A in use\n");

    fault_reset();
    __asm__ volatile(FAULT_BEGIN "cli" FAULT_END ::: "memory");
    record(R_CLI);
    __asm__ volatile(FAULT_BEGIN "hlt" FAULT_END ::: "memory");
    record(R_HLT);
    __asm__ volatile(FAULT_BEGIN "int $0x81" FAULT_END ::: "memory");
    record(R_INT81);
    __asm__ volatile(FAULT_BEGIN "outb %%al, $0x80" FAULT_END ::: "memory");
    record(R_IO_CLOSED);
    sys(SYS_IOPL, 3);
    __asm__ volatile(FAULT_BEGIN "outb %%al, $0x80" FAULT_END ::: "memory");
    record(R_IO_OPEN);
    sys(SYS_IOPL, 0);
    __asm__ volatile(FAULT_BEGIN "outb %%al, $0x80" FAULT_END ::: "memory");
    record(R_IO_CLOSED_AGAIN);
    __asm__ volatile(FAULT_BEGIN "movl (%0), %%eax" FAULT_END : : "r"(secret) : "eax", "memory");
    record(R_PF_READ);
    __asm__ volatile(FAULT_BEGIN "movl %%eax, (%0)" FAULT_END : : "r"(secret + 1) : "memory");
    record(R_PF_WRITE);
    if (try_ac) {
        static uint32_t buf[2];
        __asm__ volatile("pushfl\n\torl $0x40000, (%%esp)\n\tpopfl\n\t" FAULT_BEGIN
                         "movl (%0), %%eax" FAULT_END
                         "pushfl\n\tandl $~0x40000, (%%esp)\n\tpopfl"
                         :
                         : "r"((uint8_t *)buf + 1)
                         : "eax", "memory", "cc");
        record(R_AC);
    }
    if (try_sysexit) {
        uint32_t before, after;
        __asm__ volatile("movl %%esp, %0" : "=r"(before));
        user.sysexit_cs = user_sysexit_call();
        __asm__ volatile("movl %%esp, %0" : "=r"(after));
        user.sysexit_esp_ok = before == after;
    }
    sys(SYS_PRINT, (uint32_t)(uintptr_t)"usermode: leaving ring 3\n");
    sys(SYS_EXIT, 0);
    __builtin_trap(); /* SYS_EXIT does not return: ud2 reports it if it does */
}

/* --- kernel side: set up, run user_main, check ----------------------------------------- */

static void check_user_fault(const char *name, unsigned slot, uint32_t vector, uint32_t error)
{
    const struct fault_info *r = &results[slot];
    check(name, r->count == 1 && r->vector == vector && r->error == error &&
              r->eip == results_at[slot] && (r->cs & 3) == 3 &&
              on_stack(r->esp, kstack[want_stack]) && on_stack(r->user_esp, ustack),
          "%u fault(s), vector %u error 0x%x eip 0x%08x cs 0x%x handler esp 0x%08x user esp "
          "0x%08x; want vector %u error 0x%x eip 0x%08x from ring 3 on kernel stack %c",
          r->count, r->vector, r->error, r->eip, r->cs, r->esp, r->user_esp, vector, error,
          results_at[slot], "AB"[want_stack]);
}

static void check_syscalls(void)
{
    unsigned bad = 0, first_bad = 0;
    for (unsigned i = 0; i < nseen; i++) {
        const struct syscall_seen *s = &seen[i];
        const bool ok = (s->frame_cs & 3) == 3 && s->cpl == vmi_kernel_ring() &&
                        on_stack(s->esp, kstack[s->want_stack]) &&
                        on_stack(s->frame_esp, ustack) && s->frame_ss == SEL_UDATA;
        if (!ok && bad++ == 0)
            first_bad = i;
    }
    const struct syscall_seen *b = &seen[first_bad];
    check("syscalls: from ring 3, handled at the kernel ring on the UpdateKernelStack stack",
          nseen >= 8 && bad == 0,
          "%u syscall(s), %u wrong; first wrong: nr %u cs 0x%x ss 0x%x cpl %u esp 0x%08x "
          "(stack %c)", nseen, bad, b->nr, b->frame_cs, b->frame_ss, b->cpl, b->esp,
          "AB"[b->want_stack]);
    unsigned on_a = 0;
    for (unsigned i = 0; i < nseen; i++)
        on_a += seen[i].want_stack == 0;
    check("UpdateKernelStack switched stacks (B, then A)", seen[0].want_stack == 1 && on_a > 0,
          "first syscall on stack %c, %u on A", "AB"[seen[0].want_stack], on_a);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    kernel_start("usermode");
    pic_init(0); /* ring 3 runs with interrupts on: keep every IRQ masked */
    desc_gdt_init();
    desc_tss_init(top(kstack[0]));
    const uint16_t tr = vmi_get_tr();
    check("SetTR/GetTR", tr == SEL_TSS, "GetTR 0x%x", tr);
    set_kernel_stack(1);
    trap_set_handler(SYSCALL_VECTOR, syscall_handler, 3);
    fault_catch(TRAP_GP);
    fault_catch(TRAP_PF);
    fault_catch(TRAP_AC);
    fault_catch(VEC_KERNEL_ONLY);

    /* paging with every page user-accessible except `secret` */
    secret = pg_alloc_page();
    pg_init();
    pg_map_range(0, 0, 4u << 20, PTE_W | PTE_U);
    pg_map((uint32_t)(uintptr_t)secret, (uint32_t)(uintptr_t)secret, PTE_W);
    pg_enable(true);

    try_sysexit = vmi_cpuid(1, 0).edx & CPUID1_EDX_SEP;
    if (try_sysexit)
        native_wrmsr(MSR_SYSENTER_CS, SEL_KCODE, 0); /* SYSEXIT: CS 0x1B, SS 0x23 */
    try_ac = true;
    vmi_set_cr0(vmi_get_cr0() | CR0_AM);

    load_ds_es(SEL_UDATA);
    if (ctx_save(&kernel_ctx) == 0) {
        const struct iret_frame to_user = {(uint32_t)(uintptr_t)user_main, SEL_UCODE, USER_EFLAGS,
                                           top(ustack), SEL_UDATA};
        vmi_iret(&to_user);
    }
    /* back from SYS_EXIT, on the boot stack, interrupts off */
    load_ds_es(SEL_KDATA);
    vmi_set_cr0(vmi_get_cr0() & ~CR0_AM);

    check("ring 3 entered through IRET: CPL 3, user stack, interrupts on",
          user.cpl == 3 && on_stack(user.esp, ustack) && (user.eflags & EFLAGS_IF),
          "CPL %u esp 0x%08x eflags 0x%08x", user.cpl, user.esp, user.eflags);
    check("SYS_TIME twice: the cycle counter increases", user.t2 > user.t1, "%llu then %llu",
          user.t1, user.t2);
    check_syscalls();
    check_user_fault("cli in ring 3: #GP(0)", R_CLI, TRAP_GP, 0);
    check_user_fault("hlt in ring 3: #GP(0)", R_HLT, TRAP_GP, 0);
    check_user_fault("int 0x81 (DPL 0 gate) in ring 3: #GP(0x81*8+2)", R_INT81, TRAP_GP,
                     VEC_KERNEL_ONLY * 8 + 2);
    check_user_fault("outb with IOPL 0: #GP(0)", R_IO_CLOSED, TRAP_GP, 0);
    check("outb after SetIOPLMask(3 << 12): no fault", results[R_IO_OPEN].count == 0,
          "%u fault(s), vector %u", results[R_IO_OPEN].count, results[R_IO_OPEN].vector);
    check_user_fault("outb after SetIOPLMask(0): #GP(0)", R_IO_CLOSED_AGAIN, TRAP_GP, 0);
    check_user_fault("read of a supervisor page: #PF(P|U)", R_PF_READ, TRAP_PF,
                     PF_ERR_P | PF_ERR_U);
    check("read of a supervisor page: CR2", results[R_PF_READ].cr2 == (uint32_t)(uintptr_t)secret,
          "CR2 0x%08x, want 0x%08x", results[R_PF_READ].cr2, (uint32_t)(uintptr_t)secret);
    check_user_fault("write to a supervisor page: #PF(P|W|U)", R_PF_WRITE, TRAP_PF,
                     PF_ERR_P | PF_ERR_W | PF_ERR_U);
    if (results[R_AC].count)
        check_user_fault("misaligned load with CR0.AM and EFLAGS.AC: #AC(0)", R_AC, TRAP_AC, 0);
    else
        check_skip("#AC", "no #AC raised: this CPU does not check alignment; QEMU's TCG never "
                          "does");
    if (try_sysexit)
        check("SYSEXIT back to ring 3 (EDX = EIP, ECX = ESP)",
              (user.sysexit_cs & 0xFFFF) == SEL_UCODE && user.sysexit_esp_ok,
              "CS 0x%x after, ESP %s", user.sysexit_cs, user.sysexit_esp_ok ? "kept" : "changed");
    else
        check_skip("SYSEXIT", "CPUID reports no SEP");
    check_finish("usermode");
}
