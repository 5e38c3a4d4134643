/* The Unicorn wrapper: one i386 CPU in 32-bit protected mode over guest physical memory.
 *
 * Time is the instruction count. A block hook adds each translated block's instruction count
 * (cached per block, see blockcache.h) before the block runs; a block that would cross the
 * target count is not run: the CPU then steps exactly to the target with a temporary
 * per-instruction hook bounded to that one block. So the count is exact without a
 * per-instruction hook on the hot path.
 *
 * Guest-visible side effects (port I/O, CPUID, RDTSC, ROM calls, exceptions) go to the
 * callbacks in cpu_ops; cpu/ knows nothing about VMI. */
#ifndef VMIEMU_CPU_H
#define VMIEMU_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/disasm.h"
#include "cpu/model.h"
#include "mmu/error.h"
#include "mmu/physmem.h"

typedef struct cpu cpu;

typedef enum cpu_reg {
    CPU_EAX, CPU_ECX, CPU_EDX, CPU_EBX, CPU_ESP, CPU_EBP, CPU_ESI, CPU_EDI,
    CPU_EIP, CPU_EFLAGS,
    CPU_CS, CPU_SS, CPU_DS, CPU_ES, CPU_FS, CPU_GS,
    CPU_CR0, CPU_CR2, CPU_CR3, CPU_CR4,
    CPU_DR0, CPU_DR1, CPU_DR2, CPU_DR3, CPU_DR6, CPU_DR7,
    CPU_NREGS
} cpu_reg;

extern const char *const vcpu_reg_names[CPU_NREGS];

typedef enum cpu_stop {
    CPU_STOP_TARGET,  /* reached the target instruction count */
    CPU_STOP_HALT,    /* the guest executed hlt */
    CPU_STOP_REQUEST, /* a callback called vcpu_request_stop() */
    CPU_STOP_FAULT,   /* an exception or interrupt nobody delivered: see vcpu_fault_info() */
    CPU_STOP_MEMORY,  /* access to unmapped or write-protected memory: see vcpu_fault_info() */
    CPU_STOP_ERROR,   /* Unicorn failed: see vcpu_fault_info()->message */
    CPU_STOP_IRQ_WINDOW, /* interrupts became enabled (see vcpu_request_irq_window) */
    CPU_STOP_BREAKPOINT, /* about to execute a breakpoint address (not yet executed) */
    CPU_STOP_WATCHPOINT, /* a watched location was written (see vcpu_last_watch) */
} cpu_stop;

typedef struct cpu_fault {
    uint32_t vector;   /* exception/interrupt number (CPU_STOP_FAULT) */
    uint32_t eip;      /* where it happened */
    uint64_t address;  /* memory address (CPU_STOP_MEMORY) */
    int access;        /* 'r', 'w' or 'x' (CPU_STOP_MEMORY) */
    uint64_t icount;   /* instruction count at the fault */
    char message[160];
} cpu_fault;

/* An exception or interrupt to deliver through the guest IDT. */
typedef struct vcpu_event {
    uint32_t vector;
    uint32_t error;
    bool has_error;
    bool software;  /* int n, int3, into: the gate's DPL must allow the current CPL */
    bool external;  /* a hardware interrupt: EXT is set in error codes it causes */
    uint32_t eip;   /* the EIP saved in the frame */
    uint32_t fault_eip; /* the EIP a fault during delivery saves (the int instruction itself) */
} vcpu_event;

typedef enum vcpu_delivery {
    VCPU_DELIVERED,
    VCPU_TRIPLE_FAULT,  /* delivery of #DF failed too: the CPU would shut down */
    VCPU_UNSUPPORTED,   /* a gate or segment vmiemu cannot deliver through (task gates, 16-bit) */
} vcpu_delivery;

enum { VCPU_ROM_RUN = 0, VCPU_ROM_DONE = 1, VCPU_ROM_BREAK = 2, VCPU_ROM_REFUSED = 3 };
enum { VCPU_ROM_PLAIN = -1, VCPU_ROM_TAG_MAX = 15 };
/* What the machine did with a rdmsr/wrmsr (cpu_ops.msr_read/msr_write). */
enum { VCPU_MSR_NATIVE = 0, VCPU_MSR_DONE = 1, VCPU_MSR_GP = 2 };

/* A watchpoint on guest-physical memory [addr, addr + len): access 'w' (writes), 'r' (reads)
 * or 'a' (both). */
typedef struct vcpu_watch {
    uint64_t addr;
    uint32_t len;
    char access;
} vcpu_watch;

typedef struct cpu_ops {
    void *ctx;
    /* A block starts at linear `pc` that may be a VMI ROM entry (its low 20 bits fall in the ROM
     * window, or it translates to the ROM). Return VCPU_ROM_DONE if the callee performed a ROM
     * call (and said where it returns with vcpu_return_from_rom, or ended the run),
     * VCPU_ROM_BREAK to stop before it (CPU_STOP_BREAKPOINT), VCPU_ROM_RUN to run the block,
     * VCPU_ROM_REFUSED if the call is refused as a privileged instruction would be: the CPU
     * raises #GP(0) at `pc` (nothing retires) and delivers it through ops.interrupt. `tag`:
     * what ops.rom_kind said of the block when it was first counted (0: nothing). */
    int (*rom_block)(void *ctx, uint32_t pc, int tag);
    uint32_t (*port_in)(void *ctx, uint16_t port, int size);
    void (*port_out)(void *ctx, uint16_t port, int size, uint32_t value);
    /* regs: in EAX, ECX; out EAX, EBX, ECX, EDX (indices 0..3 = a, b, c, d). */
    void (*cpuid)(void *ctx, uint32_t regs[4]);
    uint64_t (*tsc)(void *ctx);
    /* rdmsr/wrmsr of MSR `msr` (ECX) at CPL 0, EIP at the instruction. Unicorn 2.1.4 has no
     * hook for them and answers some MSRs wrongly (IA32_APICBASE reads 0): the machine answers
     * the ones it models (VCPU_MSR_DONE, or VCPU_MSR_GP for #GP(0)); VCPU_MSR_NATIVE leaves the
     * instruction to Unicorn. NULL: all native. */
    int (*msr_read)(void *ctx, uint32_t msr, uint64_t *value);
    int (*msr_write)(void *ctx, uint32_t msr, uint64_t value);
    /* Exception or software interrupt raised by the CPU. Return true if delivered (EIP moved). */
    bool (*interrupt)(void *ctx, const vcpu_event *ev);
    /* While vcpu_watch_blocks is on: a block starts at linear `pc`, before anything else looks
     * at it (a native ROM call's slot has returned when its caller's code starts again). */
    void (*block_watch)(void *ctx, uint32_t pc);
    /* A block at linear `pc` in the ROM, counted for the first time: VCPU_ROM_PLAIN if it is
     * to run as plain guest code, never given to rom_block (calls the machine runs without the
     * host), else a tag for rom_block, kept with the block's count (0, or 1..VCPU_ROM_TAG_MAX
     * for an entry the machine knows by it). vcpu_flush_code when the answer changes. NULL:
     * every ROM block goes to rom_block with tag 0. */
    int (*rom_kind)(void *ctx, uint32_t pc);
    /* While vcpu_watch_iret is on: an iret has just retired (the block it ended ran whole, no
     * exception came between), seen at the start of the next block, before it runs. The NMI
     * blocking of the machine ends here; vcpu_request_replan stops before that block. */
    void (*iret)(void *ctx);
    /* The VMI checker's eyes (--check-vmi); all NULL otherwise, and then nothing is hooked.
     * None of them may change what the guest sees. check_write: the guest is about to store
     * `size` bytes of `value` at physical `addr` (a memory hook over all RAM: vcpu_get(EIP) and
     * vcpu_icount are the storing instruction's). check_insn: a privileged instruction
     * (disasm_decode_priv) is about to run at linear `pc` (a code hook at the site; it may
     * still fault). check_stale: an access to linear page `linear` went through a TLB entry
     * (to physical `tlb_page`) that the page tables no longer give for it (vcpu_stale_watch
     * asked to look): what hardware with a stale TLB entry does. */
    void (*check_write)(void *ctx, uint64_t addr, int size, uint64_t value);
    void (*check_insn)(void *ctx, uint32_t pc, const disasm_priv_insn *insn);
    void (*check_stale)(void *ctx, uint32_t linear, uint64_t tlb_page, char access);
} cpu_ops;

/* A CPU of `model` (cpu/model.h): Unicorn's Core Duo for coreduo, its Skylake-Server for max. */
VM_MUST_CHECK cpu *vcpu_open(physmem *pm, const cpu_ops *ops, vcpu_model_id model, vm_error *err);
vcpu_model_id vcpu_model(const cpu *c);
/* IA32_TSC_ADJUST (always 0 on coreduo): the time-stamp counter is the cycle count plus it. */
uint64_t vcpu_tsc_adjust(const cpu *c);
void vcpu_close(cpu *c);

/* The state a boot protocol enters the kernel in (emu/boot.h fills it in): protected mode,
 * paging off, the GDT at gdt_base (already in guest memory, written by the loader) loaded,
 * CS and the data selector (DS, ES, FS, GS, SS) loaded from it, general registers as given. */
typedef struct vcpu_entry {
    uint32_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs, ds;
    uint32_t eip, esp, eflags;
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
} vcpu_entry;

/* Reset the CPU into the entry state `e` and zero the instruction count. */
VM_MUST_CHECK bool vcpu_reset(cpu *c, const vcpu_entry *e, vm_error *err);

/* Run until the instruction count reaches `target` or something stops the CPU. A breakpoint
 * at the starting EIP stops the run before it does anything unless `over_breakpoint`: set
 * it when resuming from a stop the user saw (a breakpoint reported there runs), clear it
 * when the machine only paused there for its own reasons (a snapshot, an event, a slice). */
cpu_stop vcpu_run(cpu *c, uint64_t target, bool over_breakpoint);

/* While on, the CPU stops (CPU_STOP_IRQ_WINDOW) at the first block boundary where EFLAGS.IF
 * is set. Every instruction that sets IF (sti, popf, iret) ends a translated block, so that
 * boundary is exactly the first point where an interrupt can be taken. */
void vcpu_request_irq_window(cpu *c, bool on);

/* True if the last instruction run was an `sti` that enabled interrupts: the CPU delivers
 * nothing until one more instruction has run (the interrupt shadow of `sti; hlt`). */
bool vcpu_in_irq_shadow(cpu *c);

/* Inside ops.rom_block: true if the next `insns` instructions, a native ROM slot of `len`
 * bytes at linear `pc`, run whole with nothing stopping, stepping or interrupting them (no stop
 * or planned stop due, no breakpoint in the slot, no guest debug register armed, and, if the
 * slot may set IF, no interrupt waiting for it): what they do is then known at their start. */
bool vcpu_slot_runs_whole(cpu *c, uint32_t pc, uint32_t len, uint32_t insns, bool sets_if);

/* The current privilege level: 0 in real mode, 3 in virtual-8086 mode, else CS's RPL. */
uint32_t vcpu_cpl(cpu *c);
/* True if the current privilege level may access `size` bytes at `port`: CPL <= IOPL, or the
 * TSS I/O bitmap allows it (as IN/OUT check). */
bool vcpu_io_allowed(cpu *c, uint16_t port, int size);

/* Called from a callback: stop the CPU before the next block (CPU_STOP_REQUEST). */
void vcpu_request_stop(cpu *c);
/* From a port or MMIO callback in the middle of a block: stop at the next block boundary (as
 * CPU_STOP_REQUEST) so the machine re-plans. Unicorn skips every hook of the instructions left
 * in a block once a stop is requested, so a callback must not stop the run in place. */
void vcpu_request_replan(cpu *c);

const cpu_fault *vcpu_fault_info(const cpu *c);

/* Instructions retired so far. Inside a callback: retired before the current instruction. */
uint64_t vcpu_icount(cpu *c);

uint32_t vcpu_get(cpu *c, cpu_reg r);
/* Registers 0..n-1 of cpu_reg at once (one engine call); n = CPU_NREGS for all of them. */
void vcpu_get_first(cpu *c, uint32_t *out, int n);
/* Each register r <= CPU_CS whose bit (1 << r) is in `want`, into out[r] (the others
 * untouched), in one engine call; inside ops.rom_block they are kept for the rest of it. */
void vcpu_get_call_regs(cpu *c, uint32_t want, uint32_t *out);
/* Inside ops.rom_block, an interrupt-flag call's registers the quick way: EAX, ESP, CS and
 * EFLAGS into out[] (EFLAGS whole if `whole_eflags`, else only the flags the CPU keeps itself:
 * IF, TF, VM, IOPL...), kept nowhere. False (nothing read) where only vcpu_get_call_regs can:
 * Unicorn's state not bound yet (cpu/regs_direct.c), or the host's TF in EFLAGS. */
VM_MUST_CHECK bool vcpu_get_flag_call_regs(cpu *c, bool whole_eflags, uint32_t *out);
VM_MUST_CHECK bool vcpu_set(cpu *c, cpu_reg r, uint32_t value);
/* vcpu_set of each register r < CPU_SS whose bit (1 << r) is in mask, to values[r]; the general
 * registers but ESP in one engine call. False if one could not be set. */
VM_MUST_CHECK bool vcpu_set_masked(cpu *c, uint32_t mask, const uint32_t *values);
/* vcpu_set for a register whose write cannot fail: anything but a segment selector (Unicorn
 * checks those against their descriptors). A failure is a vmiemu bug (VM_ASSERT). */
void vcpu_put(cpu *c, cpu_reg r, uint32_t value);

typedef enum cpu_table { CPU_GDTR, CPU_IDTR, CPU_LDTR, CPU_TR } cpu_table;

/* A descriptor-table register: base and limit (and the selector for LDTR and TR). */
typedef struct vcpu_table_reg {
    uint32_t base, limit;
    uint16_t selector;
} vcpu_table_reg;

VM_MUST_CHECK bool vcpu_get_table(cpu *c, cpu_table which, vcpu_table_reg *out);

/* Inside ops.rom_block: the call returns to `eip` with ESP = `esp`, as the slot's `ret` does.
 * The slot's own `ret` runs when execution goes on (writing EIP from a hook would make Unicorn
 * leave its CPU loop); vcpu_get already answers the values after it. */
void vcpu_return_from_rom(cpu *c, uint32_t esp, uint32_t eip);

/* Call ops.block_watch at every block start while `on` (every block then takes the slow path;
 * the ROM turns it on for the few blocks a native call's slot runs). */
void vcpu_watch_blocks(cpu *c, bool on);

/* Report each retired iret to ops.iret while `on` (NMI blocking: the machine turns it on when it
 * delivers an NMI). Every block then takes the slow path; only blocks ending in an iret are
 * decoded. Delivering an exception or interrupt (vcpu_deliver) and loading a state forget an
 * iret seen starting but not yet retired. Not seen: an iret returning into its own block. */
void vcpu_watch_iret(cpu *c, bool on);

/* Linear → physical as the guest's own supervisor access would go: through its TLB entry for
 * the page if it has one (a stale one included), else the page tables; no accessed/dirty
 * updates, and the TLB is left as it is. */
VM_MUST_CHECK bool vcpu_translate(cpu *c, uint32_t linear, bool write, uint64_t *phys);
VM_MUST_CHECK bool vcpu_read_linear(cpu *c, uint32_t linear, void *dst, uint32_t len);
VM_MUST_CHECK bool vcpu_write_linear(cpu *c, uint32_t linear, const void *src, uint32_t len);
/* The word at ESP (vcpu_read_linear), and if `push`, whether a push may write ESP-4
 * (vcpu_translate for a write): one page walk when both lie on one page. */
VM_MUST_CHECK bool vcpu_read_stack_top(cpu *c, uint32_t esp, bool push, uint32_t *top);

/* Deliver `ev` through the guest IDT as the CPU would: gate checks, stack switch through the
 * TSS on a privilege change, frame and error code, IF cleared for interrupt gates. A fault
 * during delivery becomes the exception it causes (or #DF, by the double-fault rules).
 * *delivered is what was finally delivered; `why` explains a failure. */
vcpu_delivery vcpu_deliver(cpu *c, const vcpu_event *ev, vcpu_event *delivered, char *why, size_t whylen);

/* True if the vector pushes an error code when raised as an exception. */
bool vcpu_vector_has_error(uint32_t vector);

/* The whole CPU state (registers, descriptor caches, control/debug registers, FPU/SSE), the
 * instruction count and the guest's TLB, as an opaque blob of vcpu_state_size() bytes (which
 * changes as the TLB fills: ask before each save). Loading drops every translation, block
 * count and host TLB entry, since guest memory may have changed under them. */
size_t vcpu_state_size(cpu *c);
/* The guest's TLB entries in order (a view for the state digest; valid until the CPU runs). */
void vcpu_tlb_state(cpu *c, const void **entries, size_t *bytes);
VM_MUST_CHECK bool vcpu_save_state(cpu *c, void *blob);
VM_MUST_CHECK bool vcpu_load_state(cpu *c, const void *blob);

/* Breakpoints: the CPU stops (CPU_STOP_BREAKPOINT) before executing any of these linear
 * addresses. Running again from a breakpoint executes it (the stop is taken once per arrival). */
#define VCPU_MAX_BREAKPOINTS 64
VM_MUST_CHECK bool vcpu_set_breakpoints(cpu *c, const uint32_t *addrs, int n);
bool vcpu_is_breakpoint(cpu *c, uint32_t addr);

/* Write watchpoints on physical memory. A write stops the run (CPU_STOP_WATCHPOINT) at the next
 * translated-block boundary; vcpu_watch_hit() gives the exact count just after the writing
 * instruction, so a caller with snapshots can go back to exactly there. */
#define VCPU_MAX_WATCHPOINTS 16
VM_MUST_CHECK bool vcpu_set_watchpoints(cpu *c, const vcpu_watch *w, int n);
typedef struct vcpu_watch_hit {
    uint64_t icount;   /* instructions retired including the write */
    uint64_t addr;     /* physical address written */
    uint32_t eip;      /* the writing instruction */
    uint64_t value;
    int size;
    char access;       /* 'w' or 'r': what the guest did */
} vcpu_watch_hit;
const vcpu_watch_hit *vcpu_last_watch(const cpu *c);

/* Guest stores into up to two physical ranges are shown to fn before they land: the address,
 * size and value as the CPU stores them, the instruction count before the storing instruction
 * and its EIP. For analyses that must see raw writes (history queries). vcpu_trace_stores
 * starts it with no range (translations are dropped once: memory hooks are built into them);
 * vcpu_trace_ranges moves the ranges as often as needed without dropping them again, so a
 * store costs a bound check unless it hits. */
typedef void (*vcpu_store_fn)(void *ctx, uint64_t phys, int size, uint64_t value, uint64_t icount, uint32_t eip);
VM_MUST_CHECK bool vcpu_trace_stores(cpu *c, vcpu_store_fn fn, void *ctx);
VM_MUST_CHECK bool vcpu_trace_ranges(cpu *c, int n, const uint64_t *at, const uint32_t *len);
void vcpu_untrace_stores(cpu *c);

/* Memory-mapped I/O: accesses to [base, base+size) call these instead of reaching RAM. */
typedef uint32_t (*vcpu_mmio_read)(void *opaque, uint64_t offset, unsigned size);
typedef void (*vcpu_mmio_write)(void *opaque, uint64_t offset, unsigned size, uint32_t value);
VM_MUST_CHECK bool vcpu_map_mmio(cpu *c, uint64_t base, uint64_t size, vcpu_mmio_read rd, vcpu_mmio_write wr, void *opaque,
                   vm_error *err);

/* The guest's TLB holds an entry for linear's page: report (ops.check_stale) the next access
 * through it if the page tables no longer allow that access. False if there is no entry (the
 * next access walks the tables anyway). Up to VCPU_STALE_WATCH pages are watched at once (the
 * oldest is forgotten); an access that walks the tables again forgets the page. */
#define VCPU_STALE_WATCH 64
bool vcpu_stale_watch(cpu *c, uint32_t linear);
/* Forget every watched page (the checker went back in time). */
void vcpu_stale_clear(cpu *c);

/* The page-table root at `page` was released: code run under it again is counted afresh. */
void vcpu_forget_space(cpu *c, uint32_t page);

/* Forget cached block counts and translated code (after the host rewrote guest code). */
void vcpu_flush_code(cpu *c);

#endif
