/* The VMI ROM: the image vmiemu writes at 0xC0000 and the table of VMI calls.
 *
 * Image layout (offsets from the ROM start):
 *   0x000  option-ROM header (VMI.md section 1), Init at 0x80, GetRelocationInfo at 0x88
 *   0x100  one 32-byte slot per call number: slot n at ROM_SLOT_BASE + 32 * n
 *   0xB00  license string, PCI data structure, PnP header and its strings
 *   ...    zero padding; the last byte makes the image sum to 0 mod 256
 *
 * A host call's slot holds `ret`: the emulator performs the call when a block starts at the
 * slot (DESIGN.md decision 2; through any alias: the CPU notes ROM pages mapped where their low
 * 20 bits differ), then the slot's `ret` returns to the caller. A native call's slot holds the
 * real instructions (lgdt, mov cr3, invlpg, the page-table store, sti, iret, ...; see
 * rom_native.c): the CPU itself is the reference for their semantics, faults included, and the
 * call is logged once its slot has returned (rom_native_finish), or, for an interrupt-flag call
 * whose slot nothing can interrupt, at its entry with the same outcome (rom_dispatch.c).
 *
 * rom/ includes nothing from emu/: a call sees a rom_ctx (registers in, rom_state, and the
 * machine's services as function pointers) and dispatch returns a rom_record that emu/ applies
 * and logs (emu/machine_rom.c). */
#ifndef VMIEMU_ROM_H
#define VMIEMU_ROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROM_PHYS_BASE 0xC0000u /* where the machine maps the image (emu/ checks PHYS_ROM_BASE) */
#define ROM_IMAGE_SIZE 0x1000u
#define ROM_API_MAJOR 3
#define ROM_API_MINOR 0
#define ROM_SIGNATURE 0x696d5663u
#define ROM_INIT_OFFSET 0x80u
#define ROM_RELOC_OFFSET 0x88u
#define ROM_SLOT_BASE 0x100u
#define ROM_SLOT_SIZE 32u
#define ROM_NUM_CALLS 74u /* call numbers 0..73 */
#define ROM_LICENSE_OFFSET 0xB00u
#define ROM_PCI_OFFSET 0xB10u
#define ROM_PNP_OFFSET 0xB30u
#define ROM_PCI_VENDOR 0x15ADu
#define ROM_PCI_DEVICE 0x0801u

typedef enum rom_reloc {
    ROM_RELOC_NONE = 0,
    ROM_RELOC_CALL_REL = 1,
    ROM_RELOC_JUMP_REL = 2,
    ROM_RELOC_NOP = 3,
} rom_reloc;

/* How an argument or result is shown in the event log. */
typedef enum rom_type {
    ROM_T_NONE,
    ROM_T_HEX,     /* 32-bit value in hex */
    ROM_T_DEC,     /* 32-bit value in decimal */
    ROM_T_U64,     /* 64-bit value (a result, or an argument taking two slots) */
    ROM_T_COUNTER, /* cycle counter: real, available, stolen */
    ROM_T_CALL,    /* a VMI call number */
    ROM_T_RELOC,   /* GetRelocationInfo's EDX:EAX */
    ROM_T_CPUID,   /* CPUID's four output registers */
    ROM_T_NS,      /* nanoseconds since 1970 */
    ROM_T_PTE,     /* a page-table entry: frame and flags */
    ROM_T_PAGEFLAGS, /* SetPxE/UpdatePxE flags: level, CURRENT_AS (+ linear address), DEFER */
    ROM_T_ALLOCFLAGS, /* AllocatePage/ReleasePage flags: level, PAE, CLONE, ZEROED */
    ROM_T_ALARM,   /* alarm flags: counter, periodic, wiring */
    ROM_T_U64LO,   /* low half of a 64-bit argument; the next argument is the high half */
    ROM_T_DESCLO,  /* low word of a segment descriptor; the next argument is the high word */
    ROM_T_GATELO,  /* low word of an IDT gate; the next argument is the high word */
} rom_type;

/* Who may make a call. For a host call, the table says (below); a native call's own instruction
 * checks itself (ROM_PRIV_NATIVE). On hardware the
 * instruction a call stands for decides; a call with none (page-table, APIC, alarm, power,
 * lazy-mode and ROM-state calls) changes state only the kernel may change, so it is for CPL 0.
 * From a CPL the rule refuses, the call is not performed: the guest gets #GP(0) at the ROM
 * entry, as the privileged instruction would raise it (rom_dispatch.c). */
typedef enum rom_priv {
    ROM_PRIV_KERNEL,     /* CPL 0 only */
    ROM_PRIV_ANY,        /* any CPL: queries user code can make natively (CPUID, the ROM's own info) */
    ROM_PRIV_TSD,        /* CPL 0 only while CR4.TSD is set, as rdtsc: the clock queries */
    ROM_PRIV_PCE,        /* CPL 0 only while CR4.PCE is clear, as rdpmc */
    ROM_PRIV_IO_DELAY,   /* as `out 0x80, al`: CPL <= IOPL or the TSS I/O bitmap allows port 0x80 */
    ROM_PRIV_NATIVE,     /* a native call: the instruction in its slot checks, as on hardware */
} rom_priv;

/* The VMI call numbers (VMI.md section 4; the Linux client's vmi.h spells them the same). */
typedef enum rom_call_id {
    VMI_CALL_CPUID = 0, VMI_CALL_WRMSR = 1, VMI_CALL_RDMSR = 2, VMI_CALL_SetGDT = 3,
    VMI_CALL_SetLDT = 4, VMI_CALL_SetIDT = 5, VMI_CALL_SetTR = 6, VMI_CALL_GetGDT = 7,
    VMI_CALL_GetLDT = 8, VMI_CALL_GetIDT = 9, VMI_CALL_GetTR = 10, VMI_CALL_WriteGDTEntry = 11,
    VMI_CALL_WriteLDTEntry = 12, VMI_CALL_WriteIDTEntry = 13, VMI_CALL_UpdateKernelStack = 14,
    VMI_CALL_SetCR0 = 15, VMI_CALL_SetCR2 = 16, VMI_CALL_SetCR3 = 17, VMI_CALL_SetCR4 = 18,
    VMI_CALL_GetCR0 = 19, VMI_CALL_GetCR2 = 20, VMI_CALL_GetCR3 = 21, VMI_CALL_GetCR4 = 22,
    VMI_CALL_WBINVD = 23, VMI_CALL_SetDR = 24, VMI_CALL_GetDR = 25, VMI_CALL_RDPMC = 26,
    VMI_CALL_RDTSC = 27, VMI_CALL_CLTS = 28, VMI_CALL_EnableInterrupts = 29,
    VMI_CALL_DisableInterrupts = 30, VMI_CALL_GetInterruptMask = 31, VMI_CALL_SetInterruptMask = 32,
    VMI_CALL_IRET = 33, VMI_CALL_SYSEXIT = 34, VMI_CALL_Halt = 35, VMI_CALL_Reboot = 36,
    VMI_CALL_Shutdown = 37, VMI_CALL_SetPxE = 38, VMI_CALL_SetPxELong = 39, VMI_CALL_UpdatePxE = 40,
    VMI_CALL_UpdatePxELong = 41, VMI_CALL_MachineToPhysical = 42, VMI_CALL_PhysicalToMachine = 43,
    VMI_CALL_AllocatePage = 44, VMI_CALL_ReleasePage = 45, VMI_CALL_InvalPage = 46,
    VMI_CALL_FlushTLB = 47, VMI_CALL_SetLinearMapping = 48,
    VMI_CALL_SetIOPLMask = 61, VMI_CALL_SetInitialAPState = 62, VMI_CALL_APICWrite = 63,
    VMI_CALL_APICRead = 64, VMI_CALL_IODelay = 65, VMI_CALL_GetCycleFrequency = 66,
    VMI_CALL_GetCycleCounter = 67, VMI_CALL_SetAlarm = 68, VMI_CALL_CancelAlarm = 69,
    VMI_CALL_GetWallclockTime = 70, VMI_CALL_WallclockUpdated = 71, VMI_CALL_SetLazyMode = 73,
} rom_call_id;

/* Event numbers of the two entries that are not numbered calls (the log's call numbers). */
#define ROM_NUM_INIT 0x100u  /* Init (rom+0x80) */
#define ROM_NUM_RELOC 0x101u /* GetRelocationInfo (rom+0x88) */

/* Registers as the ROM names them: the CPU layer's order (emu/ checks that they agree). A call
 * may set the first ROM_CALL_REGS; it reads the first ROM_IN_REGS, in one batch, once it is
 * known to be a call entry. */
typedef enum rom_reg {
    ROM_EAX, ROM_ECX, ROM_EDX, ROM_EBX, ROM_ESP, ROM_EBP, ROM_ESI, ROM_EDI, ROM_EIP, ROM_EFLAGS,
    ROM_CS, ROM_SS, ROM_DS, ROM_ES, ROM_FS, ROM_GS, ROM_CR0, ROM_CR2, ROM_CR3, ROM_CR4,
    ROM_DR0, ROM_DR1, ROM_DR2, ROM_DR3, ROM_DR6, ROM_DR7,
} rom_reg;
#define ROM_CALL_REGS (ROM_CS + 1)
#define ROM_IN_REGS (ROM_ESP + 1) /* the arguments (EAX, EDX, ECX) and the stack */

#define ROM_LINEAR_SLOTS 4
#define ROM_AP_STATE_SIZE 92
#define ROM_PENDING_MAX 4 /* native calls in flight: one, or a few nested by interrupts */

/* What SetLinearMapping told: the kernel maps `pages` pages from `pfn` at `linear`. */
typedef struct rom_linear_mapping {
    uint32_t linear, pages, pfn;
    bool set;
} rom_linear_mapping;

/* What rom_dispatch tells its caller to do. */
typedef enum rom_action {
    ROM_ACT_RUN,     /* not a ROM entry, or inside a native slot: run the block */
    ROM_ACT_DONE,    /* a host call performed: write the out registers, return, log the call */
    ROM_ACT_NATIVE,  /* a native call begins: its record waits in rom_state until the slot returns */
    ROM_ACT_LOGGED,  /* an interrupt-flag call whose slot runs whole (rom_dispatch.c): the record is
                      * complete at its entry (`insns` the slot will run); log it now, run the slot */
    ROM_ACT_BREAK,   /* a VMI-call breakpoint: stop before the call */
    ROM_ACT_REFUSED, /* refused at this privilege level: log (call or stray guest error), #GP(0) */
    ROM_ACT_CRASH,   /* a guest error that ends the run: log, end with `error` */
} rom_action;

/* What a guest did wrong at a ROM entry (ROM_ACT_CRASH); rom_error_text says it in words. */
typedef enum rom_error {
    ROM_ERR_NONE,
    ROM_ERR_NOT_AN_ENTRY,
    ROM_ERR_UNREADABLE_STACK,
    ROM_ERR_UNIMPLEMENTED,
} rom_error;

const char *rom_error_text(rom_error e);

/* One call as dispatch saw it: everything the log, the record and the CPU need. Plain data
 * without pointers (a native call's record lives in rom_state until its slot returns, and
 * snapshots copy it). */
typedef struct rom_record {
    rom_action action;
    bool is_call;          /* a call event (else a guest error at `offset`) */
    bool failed;
    uint8_t nargs;
    uint16_t num;          /* call number, ROM_NUM_INIT or ROM_NUM_RELOC */
    uint32_t eip;          /* the caller's call instruction (or the slot, for IRET/SYSEXIT) */
    uint32_t args[5];
    uint64_t result;
    uint32_t extra[3];     /* CPUID: EBX, ECX, EDX out */
    uint32_t offset;       /* ROM offset of the entry */
    uint32_t out_mask;     /* host call: 1 << rom_reg of each register to write from out[] */
    uint32_t out[ROM_CALL_REGS];
    uint32_t ret_esp, ret_eip; /* host call: where it returns; native call: where its ret lands */
    uint32_t slot_pc, slot_len; /* native call: the linear range of its instructions */
    rom_error error;       /* ROM_ACT_CRASH: what the guest did */
    uint64_t entry_icount; /* native call: the machine's instruction count at its entry (set by
                            * emu/; not in the serialised state, the run it follows from is) */
    uint32_t insns;        /* ROM_ACT_LOGGED: the instructions its slot runs, its ret included */
} rom_record;

/* The ROM's own state: plain data, owned by rom/, held by the machine and copied by snapshots
 * in one go. The per-page table (which RAM pages are page tables) is beside it (rom_ctx). */
typedef struct rom_state {
    bool initialized;      /* the guest called Init */
    uint32_t pt_count;     /* pages AllocatePage made page tables */
    rom_linear_mapping linear_maps[ROM_LINEAR_SLOTS];
    uint32_t lazy_mode;
    uint8_t ap_state[ROM_AP_STATE_SIZE]; /* SetInitialAPState, recorded */
    uint32_t ap_state_apic;
    bool ap_state_set;
    uint32_t npending;     /* native calls whose slot has not returned yet (innermost last) */
    rom_record pending[ROM_PENDING_MAX];
} rom_state;

typedef enum rom_table { ROM_TABLE_LDTR, ROM_TABLE_TR } rom_table;
typedef enum rom_request {
    ROM_REQ_HALT,     /* VMI Halt: wait for an interrupt once the call has returned */
    ROM_REQ_REBOOT,
    ROM_REQ_SHUTDOWN,
    ROM_REQ_REPLAN,   /* the next interrupt may come at another time: stop after the call */
} rom_request;

/* What the handlers may ask of the machine, provided by emu/ (`o` is its opaque). */
typedef struct rom_services {
    uint32_t (*get)(void *o, rom_reg r);
    bool (*set)(void *o, rom_reg r, uint32_t value);
    bool (*read)(void *o, uint32_t linear, void *dst, uint32_t len);   /* through the page tables */
    bool (*write)(void *o, uint32_t linear, const void *src, uint32_t len);
    bool (*translate)(void *o, uint32_t linear, bool write, uint64_t *phys);
    bool (*table)(void *o, rom_table which, uint32_t *base, uint32_t *limit, uint16_t *selector);
    uint32_t (*cpl)(void *o);
    bool (*io_allowed)(void *o, uint16_t port, int size);
    uint64_t (*cycles)(void *o);
    uint64_t (*cycle_hz)(void *o);
    uint64_t (*wall_ns)(void *o);
    void (*cpuid)(void *o, uint32_t regs[4]);
    bool (*alarm_set)(void *o, uint32_t flags, uint64_t expiry, uint64_t period);
    bool (*alarm_cancel)(void *o, uint32_t flags);
    bool (*apic_write)(void *o, uint32_t reg, uint32_t value); /* false: not a plain register write */
    bool (*apic_read)(void *o, uint32_t reg, uint32_t *value);
    void (*forget_space)(void *o, uint32_t root);             /* a page-table root is released */
    void (*request)(void *o, rom_request what);
    bool (*break_before)(void *o, uint16_t num);              /* a VMI-call breakpoint stops here */
    /* The registers whose bit (1 << rom_reg) is in `want`, into regs[] (the others stay as they
     * were), in one batch: EAX..ESP for a native call, EAX..CS for a host call (its CPL check
     * reads EFLAGS and CS, its log entry the rest), EAX, ESP, EFLAGS and CS for an
     * interrupt-flag call. */
    void (*call_regs)(void *o, uint32_t regs[ROM_CALL_REGS], uint32_t want);
    /* An interrupt-flag call at linear pc (its slot of len bytes runs `insns` instructions):
     * true if the machine may log it at its entry, because the CPU will run the slot whole with
     * nothing stopping or interrupting it (sets_if: the slot may set IF) and nothing the machine
     * does at a call needs the registers after it. NULL: never. */
    bool (*slot_whole)(void *o, uint32_t pc, uint32_t len, uint32_t insns, bool sets_if);
    /* An interrupt-flag call left out of the log and the record (--quiet-calls): once past a
     * VMI-call breakpoint its slot just runs. NULL: never. */
    bool (*quiet)(void *o, uint16_t num);
    /* The word at `esp` (read), and if `push`, whether the guest may write esp - 4 (translate
     * for a write), in one page walk where it can. NULL: read and translate. */
    bool (*stack_top)(void *o, uint32_t esp, bool push, uint32_t *top);
} rom_services;

/* Everything a call sees: the machine's services, the ROM's state, and the registers in. */
typedef struct rom_ctx {
    const rom_services *svc;
    void *o;
    rom_state *st;
    uint8_t *pt_pages;     /* per RAM page: VMI page flags if AllocatePage made it a page table */
    uint32_t ram_pages;
    uint32_t regs[ROM_CALL_REGS]; /* the registers at the call that rom_dispatch reads at an entry
                                   * (rom_services.call_regs); zero before */
} rom_ctx;

struct rom_call;

/* One call in progress: decoded arguments in, result out. */
typedef struct rom_frame {
    uint32_t args[5];   /* EAX, EDX, ECX, [esp+4], [esp+8] as the call's convention has them */
    uint64_t result;    /* EDX:EAX, or EAX for 32-bit results */
    uint32_t cpuid[4];  /* CPUID only: EAX, EBX, ECX, EDX out */
    uint32_t linear_base; /* the linear address the ROM was reached through */
    bool failed;        /* the call refused its arguments (logged as such) */
} rom_frame;

typedef void (*rom_handler)(rom_ctx *x, rom_frame *f);

typedef struct rom_call {
    uint16_t num;        /* its index in the table (checked at compile time) */
    const char *name;
    rom_reloc reloc;     /* what GetRelocationInfo answers once implemented */
    rom_handler handler; /* host call: performs it */
    const uint8_t *native_code; /* non-NULL: the slot holds these real instructions */
    uint8_t native_len;
    uint8_t nargs;
    const char *arg_names[5];
    rom_type arg_types[5];
    rom_type result_type;
    const char *spec;    /* one paragraph for `explain` */
    rom_priv priv;       /* host calls: the privilege levels that may make it */
} rom_call;

/* True if every table entry holds the number of its index (checked at start-up). */
bool rom_table_check(void);

/* The call with this number, or NULL if VMI defines none. */
const rom_call *rom_call_find(uint32_t num);
/* Case-insensitive lookup by name, or NULL. */
const rom_call *rom_call_by_name(const char *name);

/* The two entries that are not numbered calls. */
extern const rom_call rom_entry_init;
extern const rom_call rom_entry_reloc;

/* The entry a logged call names: rom_call_find's, or Init (ROM_NUM_INIT) and
 * GetRelocationInfo (ROM_NUM_RELOC), which the event log numbers after the table; NULL if none. */
const rom_call *rom_call_logged(uint32_t num);

/* The four interrupt-flag calls (EnableInterrupts, DisableInterrupts, GetInterruptMask,
 * SetInterruptMask): a million a Linux boot, each fixed by the state at its entry. */
static inline bool rom_call_is_irqflag(uint32_t num)
{
    return num >= VMI_CALL_EnableInterrupts && num <= VMI_CALL_SetInterruptMask;
}

/* True if this build provides the call (host handler or native code). */
static inline bool rom_call_implemented(const rom_call *c) { return c && (c->handler || c->native_code); }

/* What GetRelocationInfo answers for `num` in this build. */
rom_reloc rom_reloc_of(uint32_t num);

/* Write the whole ROM image (ROM_IMAGE_SIZE bytes) to dst. */
void rom_build_image(uint8_t *dst);

/* True if the offset is inside (not at the start of) a native call's instructions: execution
 * resumed there after exact stepping or an interrupt. */
bool rom_inside_native_code(uint32_t offset);

/* Which entry a ROM offset is: the call, or NULL if the offset is not an entry start. */
const rom_call *rom_entry_at(uint32_t offset);

/* Performing calls (rom_dispatch.c). The guest is about to execute linear `pc` (x->regs
 * hold its registers): *r says what to do. Only the fields its action uses are written (RUN,
 * BREAK: only the action; DONE: all but out[] where out_mask has no bit), so the caller's
 * record need not be cleared first. */
void rom_dispatch(rom_ctx *x, uint32_t pc, rom_record *r);
/* The short way of rom_dispatch for an interrupt-flag call `num` entered at linear `pc`, which
 * the caller knows to be that call's entry (from when the block was first counted), without a
 * breakpoint on it and not left out (--quiet-calls). x->regs hold EAX, ESP and CS, and EFLAGS:
 * whole for GetInterruptMask (its result), at least the flags the CPU itself keeps (IF, TF,
 * VM) for the others. True: *r is the call, ROM_ACT_LOGGED, the same record rom_dispatch makes.
 * False: its slot may not run whole; rom_dispatch decides. Reads only. */
bool rom_irqflag_entry(rom_ctx *x, uint16_t num, uint32_t pc, rom_record *r);
/* Native calls in flight (x->st->pending, innermost last). rom_native_returned: the one whose
 * slot has returned once a block starts at `pc` with this ESP (at its return address, just
 * above it; IRET, SYSEXIT: anywhere outside the slot), or -1. rom_native_faulted: the
 * innermost whose slot holds `fault_eip`, or -1. rom_native_finish: remove call `index` and
 * complete its record: the result from regs_after (the ROM_CALL_REGS batch after the ret), or
 * failed if it faulted (or never returned). */
int rom_native_returned(const rom_state *st, uint32_t pc, uint32_t esp);
/* Whether a block at pc may be where a call in flight returns (rom_native_returned without its
 * ESP, which costs a register read on every block the slot runs). */
bool rom_native_may_return(const rom_state *st, uint32_t pc);
int rom_native_faulted(const rom_state *st, uint32_t fault_eip);
rom_record rom_native_finish(rom_ctx *x, int index, const uint32_t *regs_after, bool faulted);

/* The ROM's state as a stable byte stream for the machine's state digest: every field in
 * little-endian order, only the live native calls, no padding and no pointers. Writes at most
 * ROM_STATE_SER_MAX bytes to out and returns how many. The machine's STATE_SER_VERSION
 * (emu/state_ser.h) moves when this changes. */
#define ROM_STATE_SER_MAX 1024u
size_t rom_state_serialise(const rom_state *st, uint8_t out[ROM_STATE_SER_MAX]);

#endif
