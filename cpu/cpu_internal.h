/* The CPU's private state, shared by the files of cpu/ only. */
#ifndef VMIEMU_CPU_INTERNAL_H
#define VMIEMU_CPU_INTERNAL_H

#include <unicorn/unicorn.h>

#include "cpu/blockcache.h"
#include "cpu/blockpatch.h"
#include <stddef.h>

#include "cpu/calibrate.h"
#include "cpu/cpu.h"
#include "cpu/disasm.h"
#include "mmu/tlb.h"
#include "mmu/translate.h"

#define CALL_REGS (CPU_CS + 1) /* the registers a ROM call reads: EAX..EDI, EIP, EFLAGS, CS (its CPL) */
#define MAX_BLOCK_BYTES 8192u /* a TB spans at most two pages */
#define TLB_RESIZE_INSNS (1ull << 22) /* instructions between the TLB flushes that let it grow */

/* An answer of block_index (cpu.c): instructions of block (pc, size) before eip. */
typedef struct index_answer {
    uint64_t changes; /* counts.changes when it was decoded */
    uint32_t pc, size, eip, index;
    bool valid;
    /* The block holds exactly one port I/O instruction, io_index instructions in: inside the
     * port hook (in_port_io) that is where EIP is, so the count needs no EIP read. */
    bool io_single;
    uint32_t io_index;
} index_answer;

#define INDEX_CACHE_SIZE 64 /* a power of two */

/* A trap-stepping check (trapstep.c) from `eip` inside block (pc, size): its first `safe`
 * instructions may be stepped by the trap flag. Valid under the same rule as index_answer. */
typedef struct trap_answer {
    uint64_t changes;
    uint32_t pc, size, eip, safe;
    bool valid, code16;
} trap_answer;

#define TRAP_CACHE_SIZE 32 /* a power of two */
#define EXIT_DROP_MAX 256 /* blocks dropped one by one for the exit checks, then a full flush */

struct cpu {
    uc_engine *uc;
    physmem *pm;
    cpu_ops ops;
    vcpu_model_id model; /* model.h: what CPUID reports and the checks around Unicorn */
    uint64_t tsc_adjust; /* IA32_TSC_ADJUST (max): added to the instruction clock's TSC */
    disasm *dis;
    blockcache counts;
    blockpatch patch;    /* counts kept in translations (blockpatch.c) */

    uint64_t icount;     /* retired, counting the whole current block in fast mode */
    uint64_t target;     /* vcpu_run's target count */
    uint64_t limit;      /* target, or 0 while block_care is set: the block hook's one compare */
    uint64_t blk_icount; /* icount before the current block */
    uint32_t blk_pc, blk_size;
    bool running, at_block_start;
    /* The last block_index answer (cpu.c): a port read in a loop asks the same one each time.
     * Valid while counts.changes has not moved (the code it was decoded from is watched). */
    index_answer index_memo;
    /* Earlier answers, by block and EIP: the RDTSCs of a kernel come from a few dozen places,
     * taken in turns (sched_clock, delay loops, the timekeeping code). */
    index_answer index_cache[INDEX_CACHE_SIZE];
    trap_answer trap_cache[TRAP_CACHE_SIZE]; /* trapstep.c: stretches start at a few places */
    bool in_port_io;     /* on_in/on_out are calling the machine's port handler */
    /* The host wrote EIP while the engine ran (an exception delivered from the interrupt hook,
     * sysenter, a ROM return settled by the host): Unicorn then skips its EIP sync before the
     * hooks until it next leaves a block through an exit check, so the next block start makes
     * it do that (cpu.c, resync_pc). Keeps `limit` at 0 while set. */
    bool pc_resync;
    /* The conditions the block hook must look at before counting a block, overlaid on one word
     * so that its slow path tests them all with one load; setting one sets `limit` to 0, which
     * sends every block down that path. */
    union {
        struct {
            bool exact;          /* stepping one block instruction by instruction */
            bool stop_requested;
            bool watch_hit;      /* a watched access happened: stop at the next block */
            bool if_rose;        /* irq_window is on and IF may have been set since the last
                                  * look (cpu/ifwatch.c): look at the next block start */
            bool replan;         /* stop at the next block: the machine re-plans */
            bool smc_cut;        /* counted code was written: the block may have been cut */
            bool tlb_after;      /* an invalidating instruction is about to run: settle it at
                                  * the next block start at the latest (mmu_fill.c) */
            bool block_watch;    /* watch_rom || watch_iret: look at each block start */
        };
        uint64_t block_care;
    };
    bool irq_window;     /* stop when IF becomes set (looked at when if_rose) */
    uint64_t exact_left;
    bool watch_rom;       /* call ops.block_watch at each block (vcpu_watch_blocks) */
    bool watch_iret;      /* report retired irets to ops.iret (vcpu_watch_iret) */
    bool iret_armed;      /* the block starting at iret_blk ends in the iret at iret_pc */
    uint32_t iret_blk, iret_pc;
    bool deadline_hit;   /* the next block would have crossed the target */
    cpu_stop stop;
    cpu_fault fault;
    uc_hook hooks[10];
    vcpu_layout layout;   /* where Unicorn keeps its hidden exception state */
    uc_context *scratch;  /* for reading and resetting that state */
    bool exact_aborted;   /* an exception moved execution out of the exactly-stepped block */
    bool io_hit;          /* the next block has port I/O that needs a permission check */
    bool rom_refused;     /* a ROM call was refused at its privilege level: #GP(0) at the slot */
    uint32_t io_index;    /* instructions before that I/O instruction */
    bool task_hit;        /* the next block ends in a switch vmiemu may have to do (task_step) */
    uint32_t task_index;  /* instructions before that lcall/ljmp/iret */
    uint32_t task_cs_base;/* that block's linear start minus EIP there */
    bool task_pass;       /* task_step left the instruction at task_pass_pc (linear) to Unicorn */
    uint32_t task_pass_pc;
    /* The last event reported to the interrupt hook, to catch a delivery that made no progress. */
    struct {
        uint64_t icount;
        uint32_t vector, eip, esp, repeats;
        bool esp_known; /* ESP is read only once the count, vector and EIP repeat */
    } last_event;
    bool exact_entered;   /* exact stepping has entered its block (leaving it stops) */
    struct vcpu_mmio {
        vcpu_mmio_read rd;
        vcpu_mmio_write wr;
        void *opaque;
    } mmio[9]; /* as many as the machine maps: MACHINE_MMIO_SLOTS (emu/machine.h) */
    int nmmio;
    uint32_t breakpoints[VCPU_MAX_BREAKPOINTS];
    uc_hook bp_hooks[VCPU_MAX_BREAKPOINTS];
    int nbreakpoints;
    bool bp_hit;
    bool bp_skip_armed;   /* the next arrival at bp_skip_at runs it instead of stopping */
    uc_hook watch_hooks[2 * VCPU_MAX_WATCHPOINTS];
    int nwatch;
    vcpu_watch_hit last_watch;
    uc_hook store_anchor; /* vcpu_trace_stores: keeps stores off the inline fast path */
    uc_hook store_hooks[2];
    int nstore_hooks;
    bool store_traced;
    vcpu_store_fn store_fn;
    void *store_ctx;
    uint32_t bp_skip_at;
    bool window_hit;
    uint32_t smc_eip;     /* the store that wrote counted code (smc_cut) */
    uint64_t smc_icount;  /* the count before it */
    /* mmu_fill.c */
    uint8_t *code_pages;  /* one bit per physical RAM page code has been fetched from */
    /* One bit per physical RAM page a cached block count was taken from: no TLB entry for it
     * may be writable, so the first store to it comes back to the fill hook, which drops the
     * counts. */
    uint8_t *watched_pages;
    /* One bit per physical RAM page the fill hook made writable since vcpu_mmu_flush_tlb. */
    uint8_t *writable_pages;
    uc_hook tlb_hook;
    bool mmu_refused;     /* the last TLB fill was refused: step with Unicorn's own MMU */
    bool mmu_reference;   /* stepping with Unicorn's own MMU (UC_TLB_CPU) right now */
    /* CR0/CR3/CR4 (and EFER.NXE) as last read inside this stretch of a run, by a ROM call or
     * a TLB fill: kept from one ROM call to the next (a page-table walk of the guest's memory
     * costs three register reads less). Every write that changes how linear addresses map
     * flushes Unicorn's TLB, so the next block cannot start before a fill has read them again;
     * host writes, state loads and each uc_emu_start invalidate them. Not kept while Unicorn's
     * own MMU runs (mmu_reference: no fill hook). */
    bool mmu_regs_valid;
    mmu_regs mmu_cached;
    uint64_t tlb_flushed_at; /* icount of the last TLB flush vcpu_run made */
    /* The architectural TLB (mmu/tlb.h): machine state, which Unicorn's TLB only caches. */
    mmu_tlb *tlb;
    uint32_t tlb_cr0, tlb_cr3, tlb_cr4; /* the paging registers its entries were made under */
    /* An invalidating instruction whose code hook fired (mmu_fill.c: vcpu_tlb_op). */
    bool tlb_pending;
    uint8_t tlb_op;       /* TLB_OP_* */
    uint32_t tlb_op_pc, tlb_op_linear;
    /* Addresses of invalidating instructions found in blocks, each with a code hook; the ones
     * found since the last stop wait in sites_new until vcpu_run hooks them. */
    struct tlb_site {
        uint32_t pc;
        uc_hook hook;
    } *sites;
    uint32_t nsites, sites_cap, sites_hooked;
    uint32_t nsites_tlb, nsites_priv; /* of them: invalidating and such; privileged only (checker) */
    /* --check-vmi: the RAM write hook, and linear pages whose TLB entry may be stale. */
    uc_hook check_hook;
    uint32_t stale_pages[VCPU_STALE_WATCH];
    unsigned nstale;
    /* A ROM call done whose slot `ret` is still to run (ESP and EIP after it in call_regs).
     * rom_ret_pc skips a breakpoint at the slot once, for the call has already been performed. */
    bool rom_ret_pending, rom_ret_bp_skip;
    uint32_t rom_ret_pc;
    /* EAX..CS during a ROM call, read as asked for (cpu.c: fill_call_regs). */
    uint32_t call_regs_have; /* bit r: call_regs[r] holds register r */
    uint32_t call_regs[CALL_REGS];
    void *call_reg_ptrs[CALL_REGS]; /* &call_regs[r]: a run of them is a batch read's argument */
    /* Linear pages seen mapping the ROM at an address whose low 20 bits are not the ROM's. */
    uint32_t rom_aliases[8];
    unsigned rom_alias_next;
    /* A port write that ended the run (the exit port): the run ends right after it. */
    bool end_after_insn;  /* the stop was asked for by the instruction running now */
    bool end_contained;   /* ...in a block run whole: its remaining instructions must not count */
    uint64_t end_icount;  /* the instruction count and EIP just after it, and the CPU state */
    uint32_t end_eip;     /* there (end_ctx), restored when the run stops */
    uc_context *end_ctx;
    /* model.c: an instruction a site hook refused (a mov to CR4 of a bit the model lacks, a
     * misaligned SSE operand, rdpmc, mwait...); it has not run, EIP is at it, and vcpu_run
     * raises refused_vector there: #GP(0) or #UD (or performs sysenter: REFUSED_SYSENTER). */
    bool insn_refused;
    uint32_t refused_vector;
    /* Where it is, and CR4 before a refused mov to CR4: in a translation without exit checks
     * (exitcheck.c) the refused instruction runs before the run stops (it ends its block), and
     * vcpu_run undoes it (cpu.c: undo_refused). */
    uint32_t refused_pc, refused_cr4;
    bool refused_cr4_valid;
    /* exitcheck.c: Unicorn's no_exit_request flag (NULL: not found, checks always on); a site
     * was found whose refusal could not be undone, so translations keep the checks from now
     * on (exit_checks_flush: drop the translations made without them at the next stop). */
    uint8_t *no_exit_flag;
    bool exit_checks_sticky, exit_checks_flush;
    /* Sticky, and every cached translation made with the checks (a full flush since): no
     * block needs dropping for them any more. Until then each block found holding such a site
     * has its translation dropped once (mmu_fill.c, vcpu_tlb_note_block), listed here. */
    bool exit_checks_all;
    uint16_t exit_dropped, exit_drop_done;
    uint32_t exit_drop_pc[EXIT_DROP_MAX], exit_drop_size[EXIT_DROP_MAX];
    /* cpuid_direct.c: this engine's cpuid may be answered inside Unicorn's helper once bound */
    bool cpuid_direct_ok;
    /* regs_direct.c: a ROM call's registers read from the engine's CPU state once bound */
    bool regs_direct_ok;
    void *regs_state;    /* the bound state, NULL before */
    void *regs_rejected; /* a state that failed the check (another engine's) */
    /* vcpu_dr_writes + 1 when DR7 was last read with no breakpoint enabled; 0 (read it again,
     * vcpu_slot_runs_whole) after a host write of DR7, a state loaded, a reset */
    uint64_t dr7_clear_at;
    /* An iret is about to run (at rf_iret_pc): EFLAGS.RF it loads is cleared at the next block
     * start, after the one instruction it stands for (model.c). */
    bool rf_after_iret;
    uint32_t rf_iret_pc;
    /* trapstep.c */
    bool trap_step;       /* exact stepping by EFLAGS.TF: each #DB retires one instruction */
    uint32_t trap_dr6;    /* the guest's DR6, which each step trap changes */
    /* taskswitch.c: a block ending in lcall/ljmp/iret has been entered (TR then, the block);
     * resolved at the next block or where the run stops, never kept across vcpu_run. */
    bool ts_armed;
    uint16_t ts_tr;
    uint32_t ts_tr_base, ts_lo, ts_size;
};

_Static_assert(sizeof(bool) == 1, "block_care overlays its flags on one 64-bit word");
_Static_assert(offsetof(struct cpu, block_watch) - offsetof(struct cpu, exact) < sizeof(uint64_t),
               "block_care holds at most eight flags: the last one must lie inside the word");

/* Linear addresses whose low 20 bits fall in the ROM: a block there may be a VMI call. */
static inline bool in_rom_window(uint32_t pc) { return (pc & 0xFFFFFu) - PHYS_ROM_BASE < PHYS_ROM_SIZE; }

/* The TLB filled by vmiemu (mmu_fill.c). */
void vcpu_mmu_regs(cpu *c, mmu_regs *r);
VM_MUST_CHECK bool vcpu_mmu_open(cpu *c, vm_error *err);
void vcpu_mmu_close(cpu *c);
/* Before caching the count of the block at pc: remember the physical pages its bytes are on
 * and watch them for stores. False if it cannot (the count must not be cached). */
bool vcpu_mmu_watch_block(cpu *c, uint32_t pc, uint32_t size);
/* Flush Unicorn's TLB (every flush vmiemu makes goes through here). */
void vcpu_mmu_flush_tlb(cpu *c);
const void *vcpu_block_hook(void); /* the block hook, as blockpatch.c compares call targets */
/* Registers `which` (none below CALL_REGS: SS, CR0, CR3, CR4, ...) in one engine call. */
void vcpu_get_some(cpu *c, const cpu_reg *which, uint32_t *out, int n);
/* A guest store is writing counted code on physical page `phys` (from the fill hook, EIP at
 * the store). */
void vcpu_code_store(cpu *c, uint64_t phys);
/* Runs `step` (one instruction) with Unicorn's own MMU, after a refused fill. */
uc_err vcpu_mmu_reference_step(cpu *c, uc_err (*step)(cpu *c));

/* The architectural TLB. tlb_note_block: the block at pc (its code: size bytes) holds
 * invalidating instructions at these byte offsets; true if one is new, or is the first whose
 * refusal needs exit checks (exitcheck.c), so the run must stop to hook it before the block
 * runs. tlb_hook_sites: hooks them (between runs); true if there were any (or translations
 * were dropped for the exit checks). settle: apply an
 * invalidating instruction that has run (at the next block start). settle_at_stop: the same,
 * or drop it if it did not run (EIP still at it), and follow the paging registers. cancel: it
 * faulted. */
bool vcpu_tlb_note_block(cpu *c, uint32_t pc, const uint8_t *code, uint32_t size, const uint32_t *offsets, int n);
bool vcpu_tlb_hook_sites(cpu *c);
void vcpu_tlb_settle(cpu *c);
void vcpu_tlb_settle_at_stop(cpu *c);
void vcpu_tlb_cancel_at(cpu *c, uint32_t fault_eip);
void vcpu_tlb_reset(cpu *c);

/* The linear address of a decoded memory operand (an invlpg's, an SSE instruction's); false if
 * it was not decoded (16-bit addressing). */
bool vcpu_operand_linear(cpu *c, const disasm_tlb_op *op, uint32_t *linear);
/* True if the code running now is 32-bit protected-mode code (CS.D set, not virtual-8086). */
bool vcpu_code32(cpu *c);
/* True if the code running now is known to be 16-bit: real or virtual-8086 mode, or a code
 * segment with D clear in the table. A table entry that is no code segment (a GDT reloaded
 * before CS is: Linux's boot) says nothing: 32-bit, as vmiemu always decoded. */
bool vcpu_code16(cpu *c);
/* Make c->dis decode the current code segment's way (16-bit in real and virtual-8086 mode and
 * in a code segment with D clear): block counts, indexes and trap-step checks. */
void vcpu_decode_mode(cpu *c);

/* The CPU model's checks (model.c), from the code hook at each site disasm_decode_site finds,
 * just before the instruction runs: true if it refused the instruction (insn_refused, and the
 * run stops before it). settle_rf: an iret has run, clear the RF it loaded (at the next block
 * start, or at a stop past it). */
bool vcpu_model_check_site(cpu *c, uint32_t pc, const disasm_tlb_op *op);
void vcpu_model_settle_rf(cpu *c);

/* Unicorn's stop check after each guest memory access (exitcheck.c): on only while a
 * translation may need it. */
void vcpu_exit_checks_open(cpu *c);
bool vcpu_exit_checks_wanted(const cpu *c);
void vcpu_exit_checks(cpu *c, bool on);

/* sysenter (sysenter.c), which Unicorn does not perform: the model's site hook refuses it with
 * REFUSED_SYSENTER and vcpu_run performs it here, stopped before it (the count exact). */
#define REFUSED_SYSENTER 0x100u
typedef enum { VCPU_SYSENTER_DONE, VCPU_SYSENTER_GP, VCPU_SYSENTER_UNSUPPORTED } vcpu_sysenter_result;
vcpu_sysenter_result vcpu_sysenter(cpu *c, char *why, size_t whylen);

/* Port I/O permission (ioperm.c). */
bool vcpu_io_needs_check(cpu *c);
bool vcpu_io_decode(cpu *c, uint32_t eip, uint16_t *port, int *size);
bool vcpu_io_permitted(cpu *c, uint16_t port, int size);

/* Exact stepping by the trap flag (trapstep.c). begin: set TF to step k instructions from EIP,
 * if the guest cannot notice; false to step with a per-instruction hook instead. trap: the
 * interrupt hook's share while stepping; true if intno was the step trap (one instruction
 * retired). exception: before delivering any other exception or #UD. end: put TF and DR6 back. */
bool vcpu_trap_step_begin(cpu *c, uint32_t eip, uint64_t k);
bool vcpu_trap_step_trap(cpu *c, uint32_t intno);
void vcpu_trap_step_exception(cpu *c);
void vcpu_trap_step_end(cpu *c);

/* Read the error code and "raised by int" of the exception being reported, and reset the
 * previous-exception state so the next fault is not escalated to #DF. */
void vcpu_exception_state(cpu *c, uint32_t *error, bool *is_int);
/* Only the reset: after a host call that may have raised a fault Unicorn then swallowed. */
void vcpu_forget_previous_exception(cpu *c);

/* A fault found by the host's share of the CPU's microcode (delivery, task switches). */
typedef struct vcpu_fault {
    uint32_t vector, error;
} vcpu_fault;

/* Hardware task switches (taskswitch.c). What started one decides the busy bits, the back link
 * and NT (SDM vol. 3, table 8-2): a task gate in the IDT counts as a call. */
enum { VCPU_TASK_JMP, VCPU_TASK_CALL, VCPU_TASK_IRET, VCPU_TASK_INT /* an IDT task gate: a call */ };
/* Switch to the task whose TSS selector is `sel` (32- or 16-bit, from a 32- or 16-bit task);
 * the old task resumes at ret_eip. ext: the EXT bit of error codes. 0: switched; 1: a fault in
 * *f (the old task's state, nothing switched); -1: something vmiemu cannot do (a task at CPL 1
 * or 2, no TSS in TR), said in why. */
int vcpu_task_switch(cpu *c, uint16_t sel, int source, uint32_t ret_eip, uint32_t ext, vcpu_fault *f, char *why,
                     size_t whylen);
/* The lcall, ljmp (direct or through memory) or iret at EIP (CS-relative, cs_base + eip linear), stopped before it
 * runs: if it switches to or from a 16-bit task, which Unicorn gets wrong, it is performed here
 * (0: retired, EIP the new task's). 1: a fault in *f in its place; VCPU_TASK_FAULT_AFTER: the
 * switch retired and *f is raised in the new task; -1: unsupported (why); VCPU_TASK_UNICORN:
 * not such a switch, Unicorn runs the instruction. */
enum { VCPU_TASK_FAULT_AFTER = 2, VCPU_TASK_UNICORN = 3 };
int vcpu_task_insn(cpu *c, uint32_t cs_base, uint32_t eip, vcpu_fault *f, char *why, size_t whylen);
/* The code segment's base in protected mode, from its descriptor (0 if unreadable); 0 in real
 * and virtual-8086 mode (where vmiemu takes EIP for the linear address, as it always has). */
uint32_t vcpu_cs_base(cpu *c);
/* The raw descriptor a selector names, from the GDT or the LDT; false past the table's limit
 * or unreadable. */
bool vcpu_read_descriptor(cpu *c, uint16_t sel, uint64_t *raw);
/* #PF for a supervisor access at `linear` (sets CR2). */
vcpu_fault vcpu_page_fault(cpu *c, uint32_t linear, bool write);
/* Make `cpl` (0 or 3) the current privilege level from the host, so that a stack segment of
 * that ring can be loaded next; false for rings 1 and 2. */
bool vcpu_enter_ring(cpu *c, uint32_t cpl);
/* RDTSC answered in Unicorn's helper (cpuid_direct.c) into the CPU state's regs[]; false if
 * Unicorn's helper must run instead. */
bool vcpu_rdtsc_direct(cpu *c, uint64_t *regs);
/* Unicorn's own task switches: arm when a block ending in lcall/ljmp/iret is entered; check
 * at the next block's start (true: EIP must become *fixed, stop there); settle where the
 * run stops (applies the fix, disarms). */
void vcpu_task_arm(cpu *c, uint32_t pc, uint32_t size);
bool vcpu_task_check(cpu *c, uint32_t eip, uint32_t *fixed);
bool vcpu_task_settle(cpu *c); /* true if it moved EIP */
/* An exception raised inside Unicorn's switch that the CPU would not raise (a conforming CS
 * with DPL < RPL): finish the switch instead (true: the switching instruction retired). */
bool vcpu_task_finish(cpu *c, const vcpu_event *ev);

#endif
