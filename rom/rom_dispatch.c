/* The ROM call trap: turns "a block starts at ROM code" into a call record. The ROM performs
 * host calls through the services in rom_ctx; emu/ applies the record (registers, return,
 * log, record file). A native call's record waits in rom_state until its slot has run. */
#include <string.h>

#include "rom/rom.h"

#define CR4_TSD 0x4u
#define CR4_PCE 0x100u
#define IO_DELAY_PORT 0x80u

/* Where the call instruction that pushed `ret` starts, for the log: a direct `call rel32`
 * (Linux's patched sites) or the common indirect forms; otherwise the return address. */
static uint32_t caller_eip(rom_ctx *x, uint32_t ret)
{
    uint8_t b[7] = {0};
    if (ret < 7 || !x->svc->read(x->o, ret - 7, b, sizeof b))
        return ret;
    if (b[2] == 0xE8)
        return ret - 5; /* call rel32 */
    if (b[5] == 0xFF && (b[6] & 0xF8) == 0xD0)
        return ret - 2; /* call *%reg */
    if (b[1] == 0xFF && (b[2] == 0x15 || (b[2] & 0xF8) == 0x90))
        return ret - 6; /* call *abs32 / call *disp32(%reg) */
    if (b[4] == 0xFF && (b[5] & 0xF8) == 0x50)
        return ret - 3; /* call *disp8(%reg) */
    return ret;
}

/* The registers a result occupies, by how the log shows it. */
static void put_result(rom_record *r, const rom_call *call, const rom_frame *f)
{
    switch (call->result_type) {
    case ROM_T_NONE:
        break;
    case ROM_T_CPUID:
        r->out_mask |= 1u << ROM_EAX | 1u << ROM_EBX | 1u << ROM_ECX | 1u << ROM_EDX;
        r->out[ROM_EAX] = f->cpuid[0];
        r->out[ROM_EBX] = f->cpuid[1];
        r->out[ROM_ECX] = f->cpuid[2];
        r->out[ROM_EDX] = f->cpuid[3];
        break;
    case ROM_T_U64:
    case ROM_T_NS:
    case ROM_T_RELOC:
        r->out_mask |= 1u << ROM_EDX;
        r->out[ROM_EDX] = (uint32_t)(f->result >> 32);
        /* fall through */
    default:
        r->out_mask |= 1u << ROM_EAX;
        r->out[ROM_EAX] = (uint32_t)f->result;
        break;
    }
}

/* The call's part of the record: number, arguments, result. */
static void put_call(rom_record *r, const rom_call *call, const rom_frame *f, uint32_t eip)
{
    r->is_call = true;
    r->num = call->num; /* Init and GetRelocationInfo carry ROM_NUM_INIT, ROM_NUM_RELOC */
    r->nargs = call->nargs;
    r->eip = eip;
    memcpy(r->args, f->args, sizeof r->args);
    r->result = f->result;
    memcpy(r->extra, &f->cpuid[1], sizeof r->extra);
    r->failed = f->failed;
}

/* The guest's arguments as the call convention places them: EAX, EDX, ECX, then the stack
 * above the return address. False if the stack cannot be read. */
static bool read_args(rom_ctx *x, const rom_call *call, rom_frame *f, uint32_t *ret)
{
    uint32_t esp = x->regs[ROM_ESP], stack_args[2] = {0};
    f->args[0] = x->regs[ROM_EAX];
    f->args[1] = x->regs[ROM_EDX];
    f->args[2] = x->regs[ROM_ECX];
    if (!x->svc->read(x->o, esp, ret, sizeof *ret) ||
        (call->nargs > 3 && !x->svc->read(x->o, esp + 4, stack_args, sizeof stack_args)))
        return false;
    f->args[3] = stack_args[0];
    f->args[4] = stack_args[1];
    return true;
}

/* A native call: the CPU runs the slot's real instructions, which fault in the guest if the
 * arguments are bad. The record holds the arguments now; rom_native_finish adds the result
 * from the registers after the slot's ret (or marks it failed if the slot faulted). */
static void begin_native(rom_ctx *x, const rom_call *call, uint32_t pc, uint32_t offset, rom_record *out)
{
    rom_record r;
    memset(&r, 0, sizeof r);
    r.action = ROM_ACT_NATIVE;
    r.offset = offset;
    r.slot_pc = pc;
    r.slot_len = call->native_len;
    rom_frame f = {0};
    uint32_t eip = pc, ret = 0;
    if (call->reloc == ROM_RELOC_JUMP_REL && call->nargs == 3) { /* IRET: the frame is on top */
        x->svc->read(x->o, x->regs[ROM_ESP], f.args, 3 * sizeof f.args[0]);
    } else if (call->reloc == ROM_RELOC_JUMP_REL) { /* SYSEXIT: EDX = eip, ECX = esp */
        f.args[0] = x->regs[ROM_EDX];
        f.args[1] = x->regs[ROM_ECX];
    } else if (read_args(x, call, &f, &ret)) {
        eip = caller_eip(x, ret);
        r.ret_eip = ret;
        r.ret_esp = x->regs[ROM_ESP] + 4;
    } else {
        r.ret_esp = 1; /* unreadable stack: the slot's ret faults (no block starts at ESP 1) */
    }
    put_call(&r, call, &f, eip);
    rom_state *st = x->st;
    if (st->npending == ROM_PENDING_MAX) { /* the caller finishes one first (machine_rom.c) */
        memmove(st->pending, st->pending + 1, (ROM_PENDING_MAX - 1) * sizeof st->pending[0]);
        st->npending--;
    }
    st->pending[st->npending++] = r;
    *out = r;
}

#define EFLAGS_TF 0x100u
#define EFLAGS_IF 0x200u
#define EFLAGS_RF 0x10000u
#define EFLAGS_VM 0x20000u

/* The instructions an interrupt-flag call's slot runs to its return, its ret included
 * (rom_native.c); 0 for every other call. */
static uint32_t irqflag_insns(uint16_t num)
{
    switch (num) {
    case VMI_CALL_EnableInterrupts:  /* sti; ret */
    case VMI_CALL_DisableInterrupts: /* cli; ret */
        return 2;
    case VMI_CALL_GetInterruptMask:  /* pushfd; pop eax; ret */
    case VMI_CALL_SetInterruptMask:  /* push eax; popfd; ret */
        return 3;
    default:
        return 0;
    }
}

/* An interrupt-flag call whose whole outcome is fixed by the state at its entry, logged there
 * with no record waiting for the return: a million times a Linux boot. It applies only where
 * its slot cannot fault or be left early, so the event is the one the return would log (same
 * caller, arguments, result, icount and insns, nothing logged between): CPL 0 outside
 * virtual-8086 mode (cli, sti and popfd check IOPL elsewhere), no guest TF (a #DB after each
 * instruction), the machine's word that the CPU runs the slot whole (slot_whole: no stop, step,
 * breakpoint, debug register or waiting interrupt), a stack page the pushes may write (the
 * return address read on the same page), and a return address on the page of the byte before
 * it, the call's last (the caller's code was fetched from there). False: the usual native
 * path. */
static bool irqflag_at_entry(rom_ctx *x, const rom_call *call, uint32_t pc, uint32_t offset, rom_record *out)
{
    uint32_t n = irqflag_insns(call->num);
    const uint32_t *g = x->regs;
    uint32_t esp = g[ROM_ESP], ret;
    bool pushes = n == 3;
    if (!n || !x->svc->slot_whole || (g[ROM_EFLAGS] & (EFLAGS_VM | EFLAGS_TF)) || (g[ROM_CS] & 3u) ||
        (pushes && (esp & 0xFFFu) < 4))
        return false;
    bool sets_if = call->num == VMI_CALL_EnableInterrupts ||
                   (call->num == VMI_CALL_SetInterruptMask && (g[ROM_EAX] & EFLAGS_IF));
    if (!x->svc->slot_whole(x->o, pc, call->native_len, n, sets_if))
        return false;
    uint64_t phys;
    rom_frame f = {0};
    if (x->svc->stack_top) { /* the calls take EAX at most (nargs <= 3): only the return address */
        if (!x->svc->stack_top(x->o, esp, pushes, &ret))
            return false;
        f.args[0] = g[ROM_EAX];
    } else if ((pushes && !x->svc->translate(x->o, esp - 4, true, &phys)) || !read_args(x, call, &f, &ret))
        return false;
    if ((ret & 0xFFFu) == 0)
        return false;
    uint32_t eip = caller_eip(x, ret);
    if (call->num == VMI_CALL_GetInterruptMask)
        f.result = g[ROM_EFLAGS] & ~(EFLAGS_RF | EFLAGS_VM); /* as pushfd pushes it */
    out->action = ROM_ACT_LOGGED;
    put_call(out, call, &f, eip);
    out->offset = offset;
    out->insns = n;
    return true;
}

bool rom_irqflag_entry(rom_ctx *x, uint16_t num, uint32_t pc, rom_record *r)
{
    const rom_call *call = rom_call_is_irqflag(num) ? rom_call_find(num) : NULL;
    return call && call->native_code && irqflag_at_entry(x, call, pc, ROM_SLOT_BASE + ROM_SLOT_SIZE * num, r);
}

bool rom_native_may_return(const rom_state *st, uint32_t pc)
{
    for (int i = (int)st->npending - 1; i >= 0; i--) {
        const rom_record *p = &st->pending[i];
        if (p->ret_esp == 0 ? pc - p->slot_pc >= p->slot_len : pc == p->ret_eip)
            return true;
    }
    return false;
}

int rom_native_returned(const rom_state *st, uint32_t pc, uint32_t esp)
{
    for (int i = (int)st->npending - 1; i >= 0; i--) {
        const rom_record *p = &st->pending[i];
        if (p->ret_esp == 0 ? pc - p->slot_pc >= p->slot_len /* IRET, SYSEXIT: once out of the slot */
                            : pc == p->ret_eip && esp == p->ret_esp)
            return i;
    }
    return -1;
}

int rom_native_faulted(const rom_state *st, uint32_t fault_eip)
{
    for (int i = (int)st->npending - 1; i >= 0; i--)
        if (fault_eip - st->pending[i].slot_pc < st->pending[i].slot_len)
            return i;
    return -1;
}

rom_record rom_native_finish(rom_ctx *x, int index, const uint32_t *regs_after, bool faulted)
{
    rom_state *st = x->st;
    rom_record r = st->pending[index];
    memmove(&st->pending[index], &st->pending[index + 1], (st->npending - (uint32_t)index - 1) * sizeof r);
    memset(&st->pending[--st->npending], 0, sizeof r);
    const rom_call *call = rom_call_find(r.num);
    r.failed = faulted;
    if (!faulted && call) {
        switch (call->result_type) {
        case ROM_T_NONE:
            break;
        case ROM_T_U64:
            r.result = (uint64_t)regs_after[ROM_EDX] << 32 | regs_after[ROM_EAX];
            break;
        default:
            r.result = regs_after[ROM_EAX];
            break;
        }
    }
    return r;
}

/* May the guest make this host call at its present privilege level? The rule is the one of the
 * instruction the call stands for (rom.h, rom_priv); the kernel's own calls cost one look at
 * CS, read with the call's registers. */
static bool call_permitted(rom_ctx *x, const rom_call *call)
{
    if (call->priv == ROM_PRIV_ANY || x->svc->cpl(x->o) == 0)
        return true;
    switch (call->priv) {
    case ROM_PRIV_TSD:
        return !(x->svc->get(x->o, ROM_CR4) & CR4_TSD);
    case ROM_PRIV_PCE:
        return x->svc->get(x->o, ROM_CR4) & CR4_PCE;
    case ROM_PRIV_IO_DELAY:
        return x->svc->io_allowed(x->o, IO_DELAY_PORT, 1);
    default:
        return false;
    }
}

/* A host call made from a privilege level that may not make it: not performed, logged as a
 * failed call, and the CPU raises #GP(0) with EIP at the ROM entry and the return address still
 * on the stack. The entry is where the guest's view of the privileged instruction is: a native
 * call's slot faults at the same place, and the kernel's #GP handler sees a fault in ROM code
 * reached from user mode. */
static void refuse(rom_ctx *x, const rom_call *call, uint32_t pc, uint32_t offset, rom_record *r)
{
    *r = (rom_record){.action = ROM_ACT_REFUSED, .offset = offset};
    rom_frame f = {.failed = true};
    uint32_t ret, eip = pc;
    if (read_args(x, call, &f, &ret))
        eip = caller_eip(x, ret);
    put_call(r, call, &f, eip);
}

const char *rom_error_text(rom_error e)
{
    static const char *const text[] = {
        [ROM_ERR_NONE] = "no error",
        [ROM_ERR_NOT_AN_ENTRY] = "execution inside the VMI ROM that is not a call entry",
        [ROM_ERR_UNREADABLE_STACK] = "VMI call with an unreadable stack",
        [ROM_ERR_UNIMPLEMENTED] = "called a VMI call this build does not implement (GetRelocationInfo answers NONE for it)",
    };
    return (unsigned)e < sizeof text / sizeof text[0] ? text[e] : "unknown ROM error";
}

static void guest_error(rom_record *r, uint32_t pc, uint32_t offset, rom_action action, rom_error what)
{
    *r = (rom_record){.action = action, .eip = pc, .offset = offset, .error = what};
}

/* A host call performed: only what its action reads is written (rom.h), so the call that runs
 * millions of times in a boot (IODelay, RDTSC) zeroes no ~150-byte record, twice. */
static void host_done(rom_record *r, const rom_call *call, const rom_frame *f, uint32_t eip, uint32_t offset)
{
    r->action = ROM_ACT_DONE;
    r->is_call = true;
    r->failed = f->failed;
    r->nargs = call->nargs;
    r->num = call->num;
    r->eip = eip;
    memcpy(r->args, f->args, sizeof r->args);
    r->result = f->result;
    memcpy(r->extra, &f->cpuid[1], sizeof r->extra);
    r->offset = offset;
    r->out_mask = 0;
    r->error = ROM_ERR_NONE;
    r->slot_pc = r->slot_len = 0;
    r->entry_icount = 0;
    put_result(r, call, f);
}

void rom_dispatch(rom_ctx *x, uint32_t pc, rom_record *r)
{
    uint64_t phys;
    if (!x->svc->translate(x->o, pc, false, &phys) || phys < ROM_PHYS_BASE || phys >= ROM_PHYS_BASE + ROM_IMAGE_SIZE) {
        r->action = ROM_ACT_RUN;
        return;
    }
    uint32_t offset = (uint32_t)(phys - ROM_PHYS_BASE);
    const rom_call *call = rom_entry_at(offset);
    if (!call) {
        if (rom_inside_native_code(offset))
            r->action = ROM_ACT_RUN;
        /* User code off any entry must not end the machine: refused like a privileged call. */
        else if (x->svc->cpl(x->o) > 0)
            guest_error(r, pc, offset, ROM_ACT_REFUSED, ROM_ERR_NONE);
        else
            guest_error(r, pc, offset, ROM_ACT_CRASH, ROM_ERR_NOT_AN_ENTRY);
        return;
    }
    /* Only now: most blocks reaching the ROM hook are inside a native slot, not at an entry, and
     * the register batch was a tenth of a page-table-heavy guest's host time. */
    /* An interrupt-flag call reads no EDX or ECX: its arguments are EAX at most (the event's
     * others stay 0, whichever way it is logged). */
    const uint32_t in_regs = (1u << ROM_IN_REGS) - 1, all = (1u << ROM_CALL_REGS) - 1,
                   irqflag = 1u << ROM_EAX | 1u << ROM_ESP | 1u << ROM_EFLAGS | 1u << ROM_CS;
    x->svc->call_regs(x->o, x->regs, !call->native_code ? all : irqflag_insns(call->num) ? irqflag : in_regs);
    if (x->svc->break_before(x->o, call->num)) {
        r->action = ROM_ACT_BREAK;
        return;
    }
    if (call->native_code && irqflag_insns(call->num) && x->svc->quiet && x->svc->quiet(x->o, call->num)) {
        r->action = ROM_ACT_RUN; /* reached only while a breakpoint is on it (emu/machine_rom.c) */
        return;
    }
    if (call->native_code) {
        if (!irqflag_at_entry(x, call, pc, offset, r))
            begin_native(x, call, pc, offset, r);
        return;
    }
    if (!call_permitted(x, call)) {
        refuse(x, call, pc, offset, r);
        return;
    }

    uint32_t ret;
    rom_frame f;
    memset(f.cpuid, 0, sizeof f.cpuid);
    f.result = 0;
    f.failed = false;
    if (!read_args(x, call, &f, &ret)) {
        guest_error(r, pc, offset, ROM_ACT_CRASH, ROM_ERR_UNREADABLE_STACK);
        return;
    }
    f.linear_base = pc - offset;
    uint32_t eip = caller_eip(x, ret);
    if (!rom_call_implemented(call)) {
        *r = (rom_record){.action = ROM_ACT_CRASH, .offset = offset, .error = ROM_ERR_UNIMPLEMENTED};
        f.failed = true;
        put_call(r, call, &f, eip);
        return;
    }
    call->handler(x, &f);
    host_done(r, call, &f, eip, offset);
    r->ret_esp = x->regs[ROM_ESP] + 4;
    r->ret_eip = ret;
}
