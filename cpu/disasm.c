#include "cpu/disasm.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct disasm {
    csh handle;          /* the current one of the two below */
    csh handle32, handle16;
    cs_insn *insn; /* one reusable buffer for cs_disasm_iter */
    bool priv_sites; /* disasm_scan lists privileged instructions too (--check-vmi) */
    bool max_sites; /* disasm_scan lists DISASM_UMIP, _SYSCALL and _RDRAND sites (max) */
};

void disasm_set_priv_sites(disasm *d, bool on) { d->priv_sites = on; }
void disasm_set_max_sites(disasm *d, bool on) { d->max_sites = on; }

void disasm_set_code16(disasm *d, bool on) { d->handle = on ? d->handle16 : d->handle32; }

disasm *disasm_open(vm_error *err)
{
    disasm *d = calloc(1, sizeof *d);
    if (!d) {
        vm_fail(err, VM_ENOMEM, "out of memory for the disassembler");
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &d->handle32) != CS_ERR_OK) {
        free(d);
        vm_fail(err, VM_EENGINE, "capstone: cannot open an i386 disassembler");
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &d->handle16) != CS_ERR_OK) {
        cs_close(&d->handle32);
        free(d);
        vm_fail(err, VM_EENGINE, "capstone: cannot open an i386 disassembler");
        return NULL;
    }
    d->handle = d->handle32;
    d->insn = cs_malloc(d->handle32); /* no detail: the buffer suits both handles */
    if (!d->insn) {
        cs_close(&d->handle32);
        cs_close(&d->handle16);
        free(d);
        vm_fail(err, VM_ENOMEM, "out of memory for the disassembler");
        return NULL;
    }
    return d;
}

void disasm_close(disasm *d)
{
    if (!d)
        return;
    cs_free(d->insn, 1);
    cs_close(&d->handle32);
    cs_close(&d->handle16);
    free(d);
}

/* cs_disasm_iter, and the instructions Debian's capstone (4.0) does not decode in 32-bit mode
 * although the max CPU model runs them: rdpkru (0F 01 EE) and wrpkru (0F 01 EF). Without them a
 * block holding one was counted short and its later sites went unseen. */
static bool next_insn(disasm *d, const uint8_t **code, size_t *len, uint64_t *pc)
{
    if (cs_disasm_iter(d->handle, code, len, pc, d->insn))
        return true;
    const uint8_t *b = *code;
    if (*len < 3 || b[0] != 0x0F || b[1] != 0x01 || (b[2] != 0xEE && b[2] != 0xEF))
        return false;
    d->insn->id = X86_INS_INVALID;
    d->insn->address = *pc;
    d->insn->size = 3;
    memcpy(d->insn->bytes, b, 3);
    snprintf(d->insn->mnemonic, sizeof d->insn->mnemonic, "%s", b[2] == 0xEE ? "rdpkru" : "wrpkru");
    d->insn->op_str[0] = 0;
    *code += 3;
    *len -= 3;
    *pc += 3;
    return true;
}

uint32_t disasm_count_until(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint64_t stop)
{
    uint64_t pc = addr;
    uint32_t n = 0;
    while (len > 0 && pc < stop && next_insn(d, &code, &len, &pc))
        n++;
    return n;
}

bool disasm_ends_in_iret(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *at)
{
    uint64_t pc = addr, start = addr;
    unsigned last = X86_INS_INVALID;
    while (len > 0) {
        start = pc;
        if (!next_insn(d, &code, &len, &pc))
            return false;
        last = d->insn->id;
    }
    *at = (uint32_t)start;
    return last == X86_INS_IRET || last == X86_INS_IRETD;
}

static bool is_port_io(unsigned id)
{
    switch (id) {
    case X86_INS_IN: case X86_INS_OUT:
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD:
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD:
        return true;
    default:
        return false;
    }
}

bool disasm_only_port_io(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *index)
{
    uint64_t pc = addr;
    uint32_t n = 0, found = 0;
    while (len > 0 && next_insn(d, &code, &len, &pc)) {
        if (is_port_io(d->insn->id) && found++ == 0)
            *index = n;
        n++;
    }
    return found == 1;
}

static bool is_prefix(uint8_t p)
{
    return p == 0x66 || p == 0x67 || p == 0xF0 || p == 0xF2 || p == 0xF3 || p == 0x26 || p == 0x2E || p == 0x36 ||
           p == 0x3E || p == 0x64 || p == 0x65;
}

size_t disasm_msr_insn(const uint8_t *code, size_t len, bool *write)
{
    size_t i = 0;
    while (i < len && i < 14 && is_prefix(code[i]))
        i++;
    if (i + 2 > len || code[i] != 0x0F || (code[i + 1] != 0x30 && code[i + 1] != 0x32))
        return 0;
    *write = code[i + 1] == 0x30;
    return i + 2;
}

/* The default segment of a memory operand is SS when its base is ESP or EBP. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

static int override_of(uint8_t p)
{
    static const uint8_t bytes[] = {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65};
    for (int i = 0; i < 6; i++)
        if (bytes[i] == p)
            return i;
    return -1;
}

/* ModRM (and SIB, displacement) of a 32-bit memory operand starting at b[0]. */
static bool decode_mem32(const uint8_t *b, size_t n, disasm_tlb_op *op)
{
    uint8_t mod = b[0] >> 6, rm = b[0] & 7;
    size_t i = 1;
    op->base = rm;
    op->index = -1;
    op->scale = 1;
    if (rm == 4) {
        if (i >= n)
            return false;
        uint8_t sib = b[i++];
        op->scale = 1u << (sib >> 6);
        op->index = (sib >> 3 & 7) == 4 ? -1 : sib >> 3 & 7;
        op->base = sib & 7;
        if (op->base == 5 && mod == 0)
            op->base = -1, mod = 2; /* disp32, no base */
    } else if (rm == 5 && mod == 0) {
        op->base = -1;
        mod = 2;
    }
    size_t dlen = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (i + dlen > n)
        return false;
    op->disp = 0;
    if (dlen == 1)
        op->disp = (uint32_t)(int32_t)(int8_t)b[i];
    else if (dlen == 4)
        op->disp = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8 | (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 3] << 24;
    return true;
}

/* The memory operand at modrm (a 32-bit address; with op->addr16 it stays undecoded) and its
 * default segment. Always true: an operand cut short is treated like one not decoded. */
static bool decode_operand(const uint8_t *modrm, size_t n, disasm_tlb_op *op)
{
    if (op->addr16)
        return true;
    if (!decode_mem32(modrm, n, op))
        op->addr16 = true;
    if (op->seg < 0)
        op->seg = op->base == 4 || op->base == 5 ? SEG_SS : SEG_DS;
    return true;
}

bool disasm_decode_tlb_op(const uint8_t *b, size_t n, disasm_tlb_op *op)
{
    *op = (disasm_tlb_op){.kind = DISASM_TLB_NONE, .seg = -1};
    size_t i = 0;
    for (; i < n && is_prefix(b[i]); i++) {
        if (override_of(b[i]) >= 0)
            op->seg = override_of(b[i]);
        if (b[i] == 0x67)
            op->addr16 = true;
    }
    if (i + 2 >= n || b[i] != 0x0F)
        return false;
    uint8_t code = b[i + 1], modrm = b[i + 2], reg = modrm >> 3 & 7;
    if (code == 0x22) { /* mov crN, r32 */
        op->cr = reg;
        op->src = modrm & 7;
        op->kind = reg == 3 ? DISASM_TLB_MOV_CR3 : (reg == 0 || reg == 4) ? DISASM_TLB_MODE : DISASM_TLB_NONE;
        return op->kind != DISASM_TLB_NONE;
    }
    if (code != 0x01 || (reg != 6 && reg != 7) || (reg == 7 && modrm >> 6 == 3))
        return false; /* 0F 01 /7 with a register operand is swapgs/rdtscp, not invlpg */
    if (reg == 6) {   /* lmsw */
        op->kind = DISASM_TLB_MODE;
        return true;
    }
    op->kind = DISASM_TLB_INVLPG;
    return decode_operand(b + i + 2, n - i - 2, op);
}

/* The length of a 32-bit ModRM memory operand (ModRM, SIB, displacement) at b[0]. */
static size_t mem32_len(const uint8_t *b, size_t n)
{
    uint8_t mod = b[0] >> 6, rm = b[0] & 7;
    size_t len = 1;
    if (rm == 4 && n > 1) {
        len++;
        if ((b[1] & 7) == 5 && mod == 0)
            mod = 2;
    } else if (rm == 5 && mod == 0)
        mod = 2;
    return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/* A 16-bit ModRM memory operand: [BX+SI], [BX+DI], [BP+SI], [BP+DI], [SI], [DI], [BP], [BX]
 * (mod 0 rm 6: disp16 alone); BP-based ones default to SS. Returns its length, 0 if cut short. */
static size_t decode_mem16(const uint8_t *b, size_t n, disasm_far *out)
{
    static const int base[8] = {3, 3, 5, 5, 6, 7, 5, 3}, index[8] = {6, 7, 6, 7, -1, -1, -1, -1};
    uint8_t mod = b[0] >> 6, rm = b[0] & 7;
    size_t dlen = mod == 1 ? 1 : mod == 2 ? 2 : 0;
    out->base = base[rm];
    out->index = index[rm];
    out->scale = 1;
    if (mod == 0 && rm == 6) {
        out->base = -1;
        dlen = 2;
    }
    if (1 + dlen > n)
        return 0;
    out->disp = dlen == 1 ? (uint32_t)(int32_t)(int8_t)b[1] : dlen == 2 ? (uint32_t)(b[1] | b[2] << 8) : 0;
    if (out->seg < 0)
        out->seg = out->base == 5 ? SEG_SS : SEG_DS;
    return 1 + dlen;
}

bool disasm_decode_far(const uint8_t *b, size_t n, bool code32, disasm_far *out)
{
    *out = (disasm_far){.seg = -1, .op32 = code32, .addr16 = !code32};
    size_t i = 0;
    for (; i < n && i < 14 && is_prefix(b[i]); i++) {
        if (override_of(b[i]) >= 0)
            out->seg = override_of(b[i]);
        if (b[i] == 0x66)
            out->op32 = !code32;
        if (b[i] == 0x67)
            out->addr16 = code32;
    }
    if (i >= n)
        return false;
    uint8_t op = b[i++];
    if (op == 0xCF) {
        out->kind = DISASM_FAR_IRET;
        out->len = (uint32_t)i;
        return true;
    }
    if (op == 0x9A || op == 0xEA) {
        size_t off = out->op32 ? 4 : 2;
        if (i + off + 2 > n)
            return false;
        out->kind = op == 0x9A ? DISASM_FAR_CALL : DISASM_FAR_JMP;
        out->direct = true;
        out->sel = (uint16_t)(b[i + off] | b[i + off + 1] << 8);
        out->len = (uint32_t)(i + off + 2);
        return true;
    }
    if (op != 0xFF || i >= n)
        return false;
    uint8_t reg = b[i] >> 3 & 7;
    if ((reg != 3 && reg != 5) || b[i] >> 6 == 3)
        return false; /* not a far call or jmp, or a register operand (#UD: Unicorn's) */
    out->kind = reg == 3 ? DISASM_FAR_CALL : DISASM_FAR_JMP;
    size_t mlen;
    if (out->addr16) {
        mlen = decode_mem16(b + i, n - i, out);
    } else {
        disasm_tlb_op m = {.seg = out->seg};
        mlen = mem32_len(b + i, n - i);
        if (i + mlen > n || !decode_mem32(b + i, n - i, &m))
            return false;
        decode_operand(b + i, n - i, &m);
        out->seg = m.seg;
        out->base = m.base;
        out->index = m.index;
        out->scale = m.scale;
        out->disp = m.disp;
    }
    if (mlen == 0 || i + mlen > n)
        return false;
    out->len = (uint32_t)(i + mlen);
    return true;
}

/* 0F opcodes whose legacy SSE form needs a 16-byte aligned memory operand (#GP(0) otherwise:
 * SDM vol. 2, each instruction's "Protected Mode Exceptions"), by mandatory prefix: none, 66,
 * F3, F2. Not listed: the unaligned moves (movups, movupd, movdqu, lddqu), scalar and 64-bit
 * operands (ss/sd forms, movlps/movhps, cvt from m64, movq), MMX forms, register-only forms. */
static const uint8_t sse_aligned_none[] = {0x14, 0x15, 0x28, 0x29, 0x2B, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
                                           0x57, 0x58, 0x59, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2, 0xC6};
static const uint8_t sse_aligned_66[] = {
    0x14, 0x15, 0x28, 0x29, 0x2B, 0x2C, 0x2D, 0x51, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D,
    0x5E, 0x5F, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6F, 0x70,
    0x74, 0x75, 0x76, 0x7C, 0x7D, 0x7F, 0xC2, 0xC6, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD8, 0xD9, 0xDA, 0xDB,
    0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED,
    0xEE, 0xEF, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE};
static const uint8_t sse_aligned_f3[] = {0x12, 0x16, 0x5B, 0x70};
static const uint8_t sse_aligned_f2[] = {0x70, 0x7C, 0x7D, 0xD0, 0xE6};

static bool listed(const uint8_t *list, size_t n, uint8_t op)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == op)
            return true;
    return false;
}

#define LISTED(list, op) listed(list, sizeof list, op)

static bool decode_sse_aligned(const uint8_t *b, size_t n, disasm_tlb_op *op)
{
    *op = (disasm_tlb_op){.kind = DISASM_TLB_NONE, .seg = -1};
    size_t i = 0;
    uint8_t rep = 0;
    bool opsize = false;
    for (; i < n && is_prefix(b[i]); i++) {
        if (override_of(b[i]) >= 0)
            op->seg = override_of(b[i]);
        if (b[i] == 0x67)
            op->addr16 = true;
        if (b[i] == 0x66)
            opsize = true;
        if (b[i] == 0xF2 || b[i] == 0xF3)
            rep = b[i]; /* the last of F2/F3 is the mandatory prefix, and outranks 66 */
    }
    if (i + 2 >= n || b[i] != 0x0F || b[i + 2] >> 6 == 3)
        return false; /* not 0F xx, or a register operand */
    uint8_t code = b[i + 1];
    bool aligned = rep == 0xF3 ? LISTED(sse_aligned_f3, code)
                   : rep == 0xF2 ? LISTED(sse_aligned_f2, code)
                   : opsize ? LISTED(sse_aligned_66, code) : LISTED(sse_aligned_none, code);
    if (!aligned)
        return false;
    op->kind = DISASM_SSE_ALIGNED;
    return decode_operand(b + i + 2, n - i - 2, op);
}

bool disasm_decode_site(const uint8_t *b, size_t n, disasm_tlb_op *op)
{
    if (disasm_decode_tlb_op(b, n, op) || decode_sse_aligned(b, n, op))
        return true;
    size_t i = 0;
    *op = (disasm_tlb_op){.kind = DISASM_TLB_NONE, .seg = -1};
    for (; i < n && is_prefix(b[i]); i++)
        op->opsize |= b[i] == 0x66;
    if (i < n && b[i] == 0xCF)
        op->kind = DISASM_IRET;
    else if (i + 1 < n && b[i] == 0x0F && b[i + 1] == 0x33)
        op->kind = DISASM_RDPMC;
    else if (i + 1 < n && b[i] == 0x0F && b[i + 1] == 0x34)
        op->kind = DISASM_SYSENTER;
    else if (i + 1 < n && b[i] == 0x0F && (b[i + 1] == 0x05 || b[i + 1] == 0x07))
        op->kind = DISASM_SYSCALL; /* syscall, sysret */
    else if (i + 2 < n && b[i] == 0x0F && b[i + 1] == 0xC7 && b[i + 2] >> 6 == 3 && (b[i + 2] >> 3 & 7) >= 6)
        op->kind = DISASM_RDRAND; /* rdrand, rdseed (0F C7 /6, /7 with a register; F3: rdpid) */
    else if (i + 2 < n && b[i] == 0x0F && b[i + 1] == 0x01 && (b[i + 2] == 0xC8 || b[i + 2] == 0xC9))
        op->kind = DISASM_UNREPORTED; /* monitor, mwait */
    else if (i + 2 < n && b[i] == 0x0F && b[i + 1] == 0xAE && (b[i + 2] >> 3 & 7) == 7 && b[i + 2] >> 6 != 3)
        op->kind = DISASM_CLFLUSH; /* clflush, clflushopt (66): 0F AE /7 with memory, not sfence */
    else if (i + 2 < n && b[i] == 0x0F && b[i + 1] == 0x01 && (b[i + 2] & 0xF8) == 0xE0) {
        op->kind = DISASM_SMSW_REG; /* 0F 01 /4, register operand */
        op->src = b[i + 2] & 7;
    } else if (i + 2 < n && b[i] == 0x0F &&
               ((b[i + 1] == 0x01 && b[i + 2] >> 6 != 3 && ((b[i + 2] >> 3 & 7) <= 1 || (b[i + 2] >> 3 & 7) == 4)) ||
                (b[i + 1] == 0x00 && (b[i + 2] >> 3 & 7) <= 1)))
        op->kind = DISASM_UMIP; /* sgdt, sidt, smsw to memory; sldt, str */
    return op->kind != DISASM_TLB_NONE;
}

bool disasm_decode_priv(const uint8_t *b, size_t n, disasm_priv_insn *out)
{
    *out = (disasm_priv_insn){.kind = DISASM_PRIV_NONE};
    size_t i = 0;
    for (; i < n && is_prefix(b[i]); i++)
        if (b[i] == 0x66)
            out->opsize16 = true;
    if (i >= n)
        return false;
    uint8_t op = b[i], next = i + 1 < n ? b[i + 1] : 0, modrm = i + 2 < n ? b[i + 2] : 0;
    uint8_t reg = modrm >> 3 & 7;
    bool mem = i + 2 < n && modrm >> 6 != 3;
    switch (op) {
    case 0xFA: out->kind = DISASM_PRIV_CLI; break;
    case 0xFB: out->kind = DISASM_PRIV_STI; break;
    case 0x9D: out->kind = DISASM_PRIV_POPF; break;
    case 0xF4: out->kind = DISASM_PRIV_HLT; break;
    case 0xCF: out->kind = DISASM_PRIV_IRET; break;
    case 0x0F:
        if (next == 0x06)
            out->kind = DISASM_PRIV_CLTS;
        else if (next == 0x09)
            out->kind = DISASM_PRIV_WBINVD;
        else if ((next == 0x20 || next == 0x22) && i + 2 < n) {
            out->kind = next == 0x22 ? DISASM_PRIV_MOV_TO_CR : DISASM_PRIV_MOV_FROM_CR;
            out->cr = reg;
        } else if ((next == 0x21 || next == 0x23) && i + 2 < n)
            out->kind = DISASM_PRIV_MOV_DR;
        else if (next == 0x00 && i + 2 < n && (reg == 2 || reg == 3))
            out->kind = reg == 2 ? DISASM_PRIV_LLDT : DISASM_PRIV_LTR;
        else if (next == 0x01 && mem && (reg == 2 || reg == 3 || reg == 7))
            out->kind = reg == 2 ? DISASM_PRIV_LGDT : reg == 3 ? DISASM_PRIV_LIDT : DISASM_PRIV_INVLPG;
        else if (next == 0x01 && i + 2 < n && reg == 6) /* lmsw: writes CR0's low bits */
            out->kind = DISASM_PRIV_MOV_TO_CR;
        break;
    default:
        break;
    }
    return out->kind != DISASM_PRIV_NONE;
}

uint32_t disasm_scan(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t *first_io,
                     uint32_t *first_msr, uint32_t *tlb_ops, int *ntlb, int *task)
{
    int nsite = 0, npriv = 0;
    uint64_t pc = addr;
    uint32_t n = 0;
    *first_io = 0;
    *first_msr = 0;
    *ntlb = 0;
    *task = 0;
    bool popf = false;
    while (len > 0 && next_insn(d, &code, &len, &pc)) {
        unsigned id = d->insn->id;
        if (!*first_io && is_port_io(id))
            *first_io = n + 1;
        if (!*first_msr && (id == X86_INS_RDMSR || id == X86_INS_WRMSR))
            *first_msr = n + 1;
        disasm_tlb_op op;
        disasm_priv_insn priv;
        uint32_t off = (uint32_t)(d->insn->address - addr);
        bool site = disasm_decode_site(d->insn->bytes, d->insn->size, &op);
        if (site && (op.kind == DISASM_UMIP || op.kind == DISASM_SYSCALL || op.kind == DISASM_RDRAND) && !d->max_sites)
            site = false;
        if (site) {
            if (nsite < DISASM_MAX_TLB_OPS)
                tlb_ops[(*ntlb)++] = off, nsite++;
        } else if (d->priv_sites && npriv < DISASM_MAX_TLB_OPS &&
                   disasm_decode_priv(d->insn->bytes, d->insn->size, &priv)) {
            tlb_ops[(*ntlb)++] = off | DISASM_SITE_PRIV;
            npriv++;
        }
        if (id == X86_INS_POPF || id == X86_INS_POPFD)
            popf = true;
        if (id == X86_INS_IRET || id == X86_INS_IRETD)
            *task = popf ? DISASM_TASK_CHECK : DISASM_TASK_IRET;
        else if (id == X86_INS_LCALL || id == X86_INS_LJMP)
            *task = DISASM_TASK_CHECK;
        n++;
    }
    return n;
}

/* Instructions a host-set trap flag would show through or miscount: those that read or write
 * the EFLAGS image or a debug register, raise software interrupts or change privilege, repeat
 * (each iteration of a rep string instruction traps), hold off the trap for one more
 * instruction (mov/pop ss, sti) or halt (hlt: no trap, so it would go uncounted). Judged by the opcode bytes after the prefixes. */
static bool shows_trap_flag(const uint8_t *b, size_t n)
{
    size_t i = 0;
    for (; i < n; i++) {
        uint8_t p = b[i];
        if (p == 0xF2 || p == 0xF3)
            return true; /* rep, repne (and the few other F2/F3 forms: stepped by the hook) */
        if (p != 0x66 && p != 0x67 && p != 0xF0 && p != 0x26 && p != 0x2E && p != 0x36 && p != 0x3E &&
            p != 0x64 && p != 0x65)
            break;
    }
    if (i >= n)
        return true;
    uint8_t op = b[i], next = i + 1 < n ? b[i + 1] : 0;
    switch (op) {
    case 0x9C: case 0x9D: case 0xCF:             /* pushf, popf, iret */
    case 0x9A: case 0xEA:                        /* far call, jmp: a task switch loads EFLAGS */
    case 0xCC: case 0xCD: case 0xCE: case 0xF1:  /* int3, int n, into, int1 */
    case 0x17: case 0xFB:                        /* pop ss, sti */
    case 0xF4:                                   /* hlt: leaves the CPU loop before its trap */
        return true;
    case 0x8E:
        return ((next >> 3) & 7) == 2;           /* mov ss, r/m */
    case 0xFF:
        return ((next >> 3) & 7) == 3 || ((next >> 3) & 7) == 5; /* far call, jmp through memory */
    case 0x0F:                                   /* mov from/to DRn; syscall, sysret, sysenter, sysexit */
        return next == 0x21 || next == 0x23 || next == 0x05 || next == 0x07 || next == 0x34 || next == 0x35;
    default:
        return false;
    }
}

bool disasm_trap_step_safe(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t n)
{
    uint64_t pc = addr;
    for (uint32_t i = 0; i < n; i++)
        if (!next_insn(d, &code, &len, &pc) || shows_trap_flag(d->insn->bytes, d->insn->size))
            return false;
    return true;
}

uint32_t disasm_trap_step_safe_count(disasm *d, const uint8_t *code, size_t len, uint32_t addr, uint32_t max)
{
    uint64_t pc = addr;
    uint32_t n = 0;
    while (n < max && next_insn(d, &code, &len, &pc) && !shows_trap_flag(d->insn->bytes, d->insn->size))
        n++;
    return n;
}

uint32_t disasm_count(disasm *d, const uint8_t *code, size_t len, uint32_t addr)
{
    return disasm_count_until(d, code, len, addr, (uint64_t)addr + len);
}

size_t disasm_one(disasm *d, const uint8_t *code, size_t len, uint32_t addr, char *text, size_t textlen)
{
    uint64_t pc = addr;
    if (!next_insn(d, &code, &len, &pc)) {
        snprintf(text, textlen, "(bad)");
        return 0;
    }
    if (d->insn->op_str[0])
        snprintf(text, textlen, "%s %s", d->insn->mnemonic, d->insn->op_str);
    else
        snprintf(text, textlen, "%s", d->insn->mnemonic);
    return d->insn->size;
}
