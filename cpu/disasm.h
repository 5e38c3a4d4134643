/* Capstone-based i386 decoding: instruction counts for translated blocks and text for people. */
#ifndef VMIEMU_DISASM_H
#define VMIEMU_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/error.h"

typedef struct disasm disasm;

VM_MUST_CHECK disasm *disasm_open(vm_error *err);
void disasm_close(disasm *d);
/* Decode as 16-bit code (real and virtual-8086 mode, a code segment with D clear) from now on,
 * or as 32-bit code (the default). */
void disasm_set_code16(disasm *d, bool on);

/* Number of whole instructions in code[0..len) starting at address `addr`. Decoding stops at
 * the first byte capstone cannot decode; what was decoded before it counts. */
uint32_t disasm_count(disasm *d, const uint8_t *code, size_t len, uint32_t addr);

/* Instructions that invalidate TLB entries (invlpg, mov to CR0/CR3/CR4, lmsw), decoded from
 * their bytes; for invlpg also its memory operand, so the linear address can be computed; for
 * mov to CRn the register number and its source register. */
enum { DISASM_TLB_NONE, DISASM_TLB_INVLPG, DISASM_TLB_MOV_CR3, DISASM_TLB_MODE };
/* The other instructions a code hook looks at before they run (disasm_decode_site): a legacy
 * SSE instruction whose memory operand must be 16-byte aligned (its operand decoded as for
 * invlpg), iret (which may load EFLAGS.RF), rdpmc, and the instructions of features Unicorn's
 * Core Duo has but the CPU model does not report (monitor, mwait; clflush and clflushopt, which
 * only the max model reports), the instructions CR4.UMIP refuses at CPL > 0 (sgdt, sidt, sldt,
 * str, smsw to memory; smsw to a register is DISASM_SMSW_REG), syscall and sysret (#UD outside
 * 64-bit mode on Intel; Unicorn's Skylake runs them once EFER.SCE is set), rdrand and rdseed
 * (Unicorn's Skylake answers them with host randomness), sysenter
 * (which Unicorn does not perform) and smsw to a register (Unicorn writes only its low 16 bits
 * outside 64-bit code, also with a 32-bit operand: `src` is the register, `opsize` the 66 prefix). */
enum { DISASM_SSE_ALIGNED = DISASM_TLB_MODE + 1, DISASM_IRET, DISASM_RDPMC, DISASM_UNREPORTED, DISASM_SYSENTER,
       DISASM_SMSW_REG, DISASM_CLFLUSH, DISASM_UMIP, DISASM_SYSCALL, DISASM_RDRAND };
typedef struct disasm_tlb_op {
    int kind;
    bool addr16;     /* a memory operand with 16-bit addressing: not decoded */
    int seg;         /* segment register, 0..5 = ES CS SS DS FS GS (prefix order) */
    int base, index; /* 0..7 = EAX..EDI, -1 = none */
    uint32_t scale, disp;
    int cr, src;     /* mov to CRn: n and the source register (0..7 = EAX..EDI) */
    bool opsize;     /* smsw: a 66 prefix */
} disasm_tlb_op;
bool disasm_decode_tlb_op(const uint8_t *b, size_t n, disasm_tlb_op *op);
/* An invalidating instruction, an aligned SSE access with a memory operand, or iret. */
bool disasm_decode_site(const uint8_t *b, size_t n, disasm_tlb_op *op);

/* A far call or jmp (9A, EA ptr16:16/32; FF /3, FF /5 m16:16/32) or an iret (CF) decoded from
 * its bytes, for the host's share of task switches (cpu/taskswitch.c). code32: the code
 * segment's D bit (the default operand and address size). */
enum { DISASM_FAR_CALL, DISASM_FAR_JMP, DISASM_FAR_IRET };
typedef struct disasm_far {
    int kind;
    uint32_t len;   /* the instruction's length */
    bool direct;    /* 9A/EA: sel holds the selector; else the memory operand below */
    uint16_t sel;
    bool op32;      /* the offset is 32 bits (the selector follows it in memory) */
    bool addr16;    /* 16-bit addressing: the effective address wraps at 64 KiB */
    int seg;        /* 0..5 = ES CS SS DS FS GS */
    int base, index;/* 0..7 = EAX..EDI, -1 = none; index scaled by scale */
    uint32_t scale, disp;
} disasm_far;
bool disasm_decode_far(const uint8_t *b, size_t n, bool code32, disasm_far *out);

/* Privileged instructions for which a VMI call exists (the VMI checker, --check-vmi, reports
 * them when a kernel runs them itself). rdmsr/wrmsr are seen by the MSR path instead. */
typedef enum disasm_priv {
    DISASM_PRIV_NONE,
    DISASM_PRIV_MOV_TO_CR,   /* mov crN, r32; also lmsw (CR0) */
    DISASM_PRIV_MOV_FROM_CR, /* mov r32, crN */
    DISASM_PRIV_MOV_DR,      /* mov to or from drN */
    DISASM_PRIV_LGDT, DISASM_PRIV_LIDT, DISASM_PRIV_LLDT, DISASM_PRIV_LTR,
    DISASM_PRIV_INVLPG, DISASM_PRIV_CLTS, DISASM_PRIV_WBINVD,
    DISASM_PRIV_CLI, DISASM_PRIV_STI, DISASM_PRIV_POPF, DISASM_PRIV_HLT, DISASM_PRIV_IRET,
    DISASM_PRIV_KINDS
} disasm_priv;
typedef struct disasm_priv_insn {
    disasm_priv kind;
    int cr;       /* mov to/from CRn: n (lmsw: 0) */
    bool opsize16;/* a 66 prefix: popf/iret of 16-bit words */
} disasm_priv_insn;
/* Decodes a privileged instruction of the list above from its bytes; false for anything else. */
bool disasm_decode_priv(const uint8_t *b, size_t n, disasm_priv_insn *out);
/* While on, disasm_scan also lists privileged instructions (disasm_decode_priv) as sites, with
 * DISASM_SITE_PRIV set in their offset unless disasm_decode_site accepts them too. */
void disasm_set_priv_sites(disasm *d, bool on);
#define DISASM_SITE_PRIV 0x80000000u
/* While on, disasm_scan lists the DISASM_UMIP, _SYSCALL and _RDRAND sites too (the max model's
 * checks; off, the default model hooks none of them). */
void disasm_set_max_sites(disasm *d, bool on);

#define DISASM_MAX_TLB_OPS 16
/* Like disasm_count, and also *first_io = 1 + the index of the first port I/O instruction
 * (in, out, ins, outs), or 0 if there is none, *first_msr the same for rdmsr/wrmsr, the
 * byte offsets of up to DISASM_MAX_TLB_OPS instructions disasm_decode_site accepts (*ntlb of
 * them; tlb_ops holds room for DISASM_MAX_SITES: with privileged sites on, up to
 * DISASM_MAX_TLB_OPS of those follow, each counted apart so they never crowd out the others),
 * and *task: DISASM_TASK_IRET if the block ends in an iret (which may switch tasks), DISASM_TASK_CHECK
 * if it ends in a far call or jmp, or in an iret after a popf (which may set NT), else 0. */
enum { DISASM_TASK_IRET = 1, DISASM_TASK_CHECK = 2 };
#define DISASM_MAX_SITES (2 * DISASM_MAX_TLB_OPS)
uint32_t disasm_scan(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *first_io,
                     uint32_t *first_msr, uint32_t *tlb_ops, int *ntlb, int *task);

/* Length of the rdmsr (0F 32) or wrmsr (0F 30) at code[0..len), after any prefixes; 0 if it is
 * neither. *write: wrmsr. */
size_t disasm_msr_insn(const uint8_t *code, size_t len, bool *write);

/* True if the first n instructions in code[0..len) decode and none of them could tell, or
 * miscount, that the host set EFLAGS.TF to step them (pushf, popf, iret, int, mov ss, sti, hlt,
 * rep string instructions, debug-register moves...). */
bool disasm_trap_step_safe(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t n);
/* How many of the instructions from `addr` on, up to `max`, disasm_trap_step_safe would pass:
 * it passes n of them exactly when n is at most this. */
uint32_t disasm_trap_step_safe_count(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t max);

/* True if the last whole instruction in code[0..len) is an iret (any operand size); *at is its
 * address. A translated block ends at an iret, so this says whether running the block whole
 * executes one. */
bool disasm_ends_in_iret(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *at);

/* True if code[0..len) holds exactly one port I/O instruction (in, out, ins, outs); *index is
 * the number of instructions before it. */
bool disasm_only_port_io(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *index);

/* Number of whole instructions that start before `stop` (addr <= stop <= addr+len). */
uint32_t disasm_count_until(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint64_t stop);

/* Decode one instruction into `text` ("mnemonic operands"); returns its length, 0 if invalid. */
size_t disasm_one(disasm *d, const uint8_t *code, size_t len, uint32_t addr, char *text, size_t textlen);

#endif
