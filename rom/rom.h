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
 * 20 bits differ), then the slot's `ret` returns to the caller. A native call's slot holds the real instructions (lgdt, mov cr3, invlpg,
 * the page-table store, sti, iret, ...; see rom_native.c), which run after the call is logged:
 * the CPU itself is the reference for their semantics, faults included. */
#ifndef VMIEMU_ROM_H
#define VMIEMU_ROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

struct machine;
struct rom_call;

/* One call in progress: decoded arguments in, result out. */
typedef struct rom_frame {
    uint32_t args[5];   /* EAX, EDX, ECX, [esp+4], [esp+8] as the call's convention has them */
    uint64_t result;    /* EDX:EAX, or EAX for 32-bit results */
    uint32_t cpuid[4];  /* CPUID only: EAX, EBX, ECX, EDX out */
    uint32_t linear_base; /* the linear address the ROM was reached through */
    bool failed;        /* the call refused its arguments (logged as such) */
} rom_frame;

typedef void (*rom_handler)(struct machine *m, rom_frame *f);

typedef struct rom_call {
    uint8_t num;
    const char *name;
    rom_reloc reloc;     /* what GetRelocationInfo answers once implemented */
    rom_handler handler; /* host call: performs it; native call: optional, for the log */
    const uint8_t *native_code; /* non-NULL: the slot holds these real instructions, which
                                 * run after the call is logged (IRET, SYSEXIT) */
    uint8_t native_len;
    uint8_t nargs;
    const char *arg_names[5];
    rom_type arg_types[5];
    rom_type result_type;
    const char *spec;    /* one paragraph for `explain` */
    rom_priv priv;       /* host calls: the privilege levels that may make it */
} rom_call;

/* The call with this number, or NULL if VMI defines none. */
const rom_call *rom_call_find(uint32_t num);
/* Case-insensitive lookup by name, or NULL. */
const rom_call *rom_call_by_name(const char *name);

/* The two entries that are not numbered calls. */
extern const rom_call rom_entry_init;
extern const rom_call rom_entry_reloc;

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

#endif
