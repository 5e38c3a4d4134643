/* The table of VMI calls: number, name, arguments, handler, and the spec paragraph that
 * `explain` shows. A NULL handler means this build does not implement the call yet, and
 * GetRelocationInfo answers NONE so the guest keeps its native instruction. */
#include <stddef.h>
#include <strings.h>

#include "rom/rom.h"
#include "rom/rom_handlers.h"

#define H ROM_T_HEX
#define D ROM_T_DEC
#define Q ROM_T_U64
#define NONE ROM_T_NONE
#define CALL ROM_RELOC_CALL_REL
#define JUMP ROM_RELOC_JUMP_REL

#define ARGS0 0, {0}, {0}
#define ARGS1(a, ta) 1, {a}, {ta}
#define ARGS2(a, ta, b, tb) 2, {a, b}, {ta, tb}
#define ARGS3(a, ta, b, tb, c, tc) 3, {a, b, c}, {ta, tb, tc}
#define ARGS4(a, ta, b, tb, c, tc, d, td) 4, {a, b, c, d}, {ta, tb, tc, td}
#define ARGS5(a, ta, b, tb, c, tc, d, td, e, te) 5, {a, b, c, d, e}, {ta, tb, tc, td, te}

static const uint8_t iret_code[] = {0xCF};              /* iret: the frame is on top (JUMP_REL) */
static const uint8_t sysexit_code[] = {0xFB, 0x0F, 0x35}; /* sti; sysexit (EDX = eip, ECX = esp) */

const rom_call rom_entry_init = {
    0, "Init", CALL, rom_do_init, NULL, 0, ARGS0, H,
    "Init (rom+0x80): activates the ROM; returns 0 in EAX on success. Afterwards the guest "
    "reads CS & 3 as its kernel privilege level; vmiemu keeps the kernel at ring 0."};

const rom_call rom_entry_reloc = {
    0, "GetRelocationInfo", CALL, rom_do_get_reloc, NULL, 0, ARGS1("call", ROM_T_CALL), ROM_T_RELOC,
    "GetRelocationInfo (rom+0x88): EAX = call number. Returns EAX = linear address of the "
    "call's implementation (relative to the alias the ROM was called through) and DL = type: "
    "0 NONE (keep the native instruction), 1 CALL_REL, 2 JUMP_REL (IRET, SYSEXIT), 3 NOP."};

static const rom_call calls[ROM_NUM_CALLS] = {
    {0, "CPUID", CALL, rom_do_cpuid, NULL, 0, ARGS3("leaf", H, "", NONE, "subleaf", H), ROM_T_CPUID,
     "CPUID: like the instruction. In: EAX leaf, ECX subleaf. Out: EAX, EBX, ECX, EDX. vmiemu "
     "answers the same values the CPUID instruction gives inside the guest."},
    {1, "WRMSR", CALL, NULL, NULL, 0, ARGS3("msr", H, "lo", H, "hi", H), NONE,
     "WRMSR(msr, lo, hi): write a model-specific register. Unused by Linux."},
    {2, "RDMSR", CALL, NULL, NULL, 0, ARGS1("msr", H), Q, "RDMSR(msr) -> EDX:EAX. Unused by Linux."},
    {3, "SetGDT", CALL, NULL, NULL, 0, ARGS1("desc", H), NONE,
     "SetGDT(pointer to 6-byte limit/base): load the GDT register."},
    {4, "SetLDT", CALL, NULL, NULL, 0, ARGS1("selector", H), NONE, "SetLDT(selector or 0): load LDTR."},
    {5, "SetIDT", CALL, NULL, NULL, 0, ARGS1("desc", H), NONE,
     "SetIDT(pointer to 6-byte limit/base): load the IDT register."},
    {6, "SetTR", CALL, NULL, NULL, 0, ARGS1("selector", H), NONE, "SetTR(selector): load the task register."},
    {7, "GetGDT", CALL, NULL, NULL, 0, ARGS1("dest", H), NONE, "GetGDT(pointer): store the GDT register."},
    {8, "GetLDT", CALL, NULL, NULL, 0, ARGS0, H, "GetLDT() -> LDT selector."},
    {9, "GetIDT", CALL, NULL, NULL, 0, ARGS1("dest", H), NONE, "GetIDT(pointer): store the IDT register."},
    {10, "GetTR", CALL, NULL, NULL, 0, ARGS0, H, "GetTR() -> task register selector."},
    {11, "WriteGDTEntry", CALL, NULL, NULL, 0, ARGS4("table", H, "index", D, "lo", H, "hi", H), NONE,
     "WriteGDTEntry(table base, index, low word, high word): write one GDT descriptor."},
    {12, "WriteLDTEntry", CALL, NULL, NULL, 0, ARGS4("table", H, "index", D, "lo", H, "hi", H), NONE,
     "WriteLDTEntry(table base, index, low word, high word): write one LDT descriptor."},
    {13, "WriteIDTEntry", CALL, NULL, NULL, 0, ARGS4("table", H, "index", D, "lo", H, "hi", H), NONE,
     "WriteIDTEntry(table base, index, low word, high word): write one IDT gate."},
    {14, "UpdateKernelStack", CALL, NULL, NULL, 0, ARGS2("selector", H, "esp0", H), NONE,
     "UpdateKernelStack(selector, esp0): the ring-0 stack used on a privilege change."},
    {15, "SetCR0", CALL, NULL, NULL, 0, ARGS1("value", H), NONE, "SetCR0(value)."},
    {16, "SetCR2", CALL, NULL, NULL, 0, ARGS1("value", H), NONE, "SetCR2(value)."},
    {17, "SetCR3", CALL, NULL, NULL, 0, ARGS1("value", H), NONE, "SetCR3(value): switch page directory."},
    {18, "SetCR4", CALL, NULL, NULL, 0, ARGS1("value", H), NONE, "SetCR4(value)."},
    {19, "GetCR0", CALL, NULL, NULL, 0, ARGS0, H, "GetCR0() -> CR0."},
    {20, "GetCR2", CALL, NULL, NULL, 0, ARGS0, H, "GetCR2() -> CR2 (last page-fault address)."},
    {21, "GetCR3", CALL, NULL, NULL, 0, ARGS0, H, "GetCR3() -> CR3."},
    {22, "GetCR4", CALL, NULL, NULL, 0, ARGS0, H, "GetCR4() -> CR4."},
    {23, "WBINVD", CALL, NULL, NULL, 0, ARGS0, NONE, "WBINVD(): write back and invalidate caches."},
    {24, "SetDR", CALL, NULL, NULL, 0, ARGS2("regno", D, "value", H), NONE, "SetDR(regno, value)."},
    {25, "GetDR", CALL, NULL, NULL, 0, ARGS1("regno", D), H, "GetDR(regno) -> value."},
    {26, "RDPMC", CALL, NULL, NULL, 0, ARGS1("counter", D), Q, "RDPMC(counter) -> EDX:EAX."},
    {27, "RDTSC", CALL, rom_do_rdtsc, NULL, 0, ARGS0, Q,
     "RDTSC() -> EDX:EAX: the time-stamp counter. In vmiemu one instruction is one cycle, so "
     "the TSC is the number of cycles since boot at the cycle frequency (--cpu-mhz)."},
    {28, "CLTS", CALL, NULL, NULL, 0, ARGS0, NONE, "CLTS(): clear CR0.TS."},
    {29, "EnableInterrupts", CALL, NULL, NULL, 0, ARGS0, NONE, "EnableInterrupts(): sti; clobbers nothing."},
    {30, "DisableInterrupts", CALL, NULL, NULL, 0, ARGS0, NONE, "DisableInterrupts(): cli; clobbers nothing."},
    {31, "GetInterruptMask", CALL, NULL, NULL, 0, ARGS0, H, "GetInterruptMask() -> EFLAGS-style word (IF = 0x200)."},
    {32, "SetInterruptMask", CALL, NULL, NULL, 0, ARGS1("flags", H), NONE, "SetInterruptMask(word): set IF from bit 9."},
    {33, "IRET", JUMP, rom_do_native, iret_code, sizeof iret_code, ARGS3("eip", H, "cs", H, "eflags", H), NONE,
     "IRET: does not return; an iret on the guest's behalf. Reached by jmp (JUMP_REL), the "
     "interrupt frame is on top of the stack. vmiemu's slot holds a real iret, which the CPU "
     "runs after the call is logged."},
    {34, "SYSEXIT", JUMP, rom_do_native, sysexit_code, sizeof sysexit_code, ARGS2("eip", H, "esp", H), NONE,
     "SYSEXIT: does not return; enables interrupts and returns to ring 3 at EDX with ESP = ECX. "
     "vmiemu's slot holds a real sti; sysexit."},
    {35, "Halt", CALL, rom_do_halt, NULL, 0, ARGS0, NONE,
     "Halt(): the safe halt: enable interrupts and halt until one arrives. With nothing that can "
     "raise an interrupt, the run ends with 'guest halted with no pending events'."},
    {36, "Reboot", CALL, rom_do_reboot, NULL, 0, ARGS0, NONE,
     "Reboot(): ends the run with the reboot status, or restarts the machine with --reboot-restarts."},
    {37, "Shutdown", CALL, rom_do_shutdown, NULL, 0, ARGS0, NONE, "Shutdown(): powers the machine off; exit status 0."},
    {38, "SetPxE", CALL, NULL, NULL, 0, ARGS3("entry", H, "ptr", H, "flags", H), NONE,
     "SetPxE(new entry, pointer to entry, flags): the ROM stores a page-table entry."},
    {39, "SetPxELong", CALL, NULL, NULL, 0, ARGS4("lo", H, "hi", H, "ptr", H, "flags", H), NONE,
     "SetPxELong(64-bit entry, pointer, flags): PAE version of SetPxE."},
    {40, "UpdatePxE", CALL, NULL, NULL, 0, ARGS2("ptr", H, "flags", H), NONE,
     "UpdatePxE(pointer, flags): the guest already stored the entry; notification."},
    {41, "UpdatePxELong", CALL, NULL, NULL, 0, ARGS2("ptr", H, "flags", H), NONE, "UpdatePxELong(pointer, flags)."},
    {42, "MachineToPhysical", CALL, NULL, NULL, 0, ARGS1("pfn", H), H, "MachineToPhysical: unused by Linux."},
    {43, "PhysicalToMachine", CALL, NULL, NULL, 0, ARGS1("pfn", H), H, "PhysicalToMachine: unused by Linux."},
    {44, "AllocatePage", CALL, NULL, NULL, 0,
     ARGS5("pfn", H, "flags", H, "clone_pfn", H, "clone_start", D, "clone_count", D), NONE,
     "AllocatePage(pfn, flags, clone pfn, clone start, clone count): the page becomes a page table."},
    {45, "ReleasePage", CALL, NULL, NULL, 0, ARGS2("pfn", H, "flags", H), NONE, "ReleasePage(pfn, flags)."},
    {46, "InvalPage", CALL, NULL, NULL, 0, ARGS1("linear", H), NONE, "InvalPage(linear address): like invlpg."},
    {47, "FlushTLB", CALL, NULL, NULL, 0, ARGS1("flags", H), NONE, "FlushTLB(flags: 1 non-global, 2 also global)."},
    {48, "SetLinearMapping", CALL, NULL, NULL, 0, ARGS4("slot", D, "linear", H, "pages", D, "pfn", H), NONE,
     "SetLinearMapping(slot, linear address, page count, first pfn): where the kernel maps memory."},
    [61] = {61, "SetIOPLMask", CALL, NULL, NULL, 0, ARGS1("mask", H), NONE, "SetIOPLMask(mask 0x3000)."},
    [62] = {62, "SetInitialAPState", CALL, NULL, NULL, 0, ARGS2("state", H, "apic_id", D), NONE,
            "SetInitialAPState(pointer to state, APIC id): start state for a secondary CPU."},
    [63] = {63, "APICWrite", CALL, NULL, NULL, 0, ARGS2("reg", H, "value", H), NONE, "APICWrite(register offset, value)."},
    [64] = {64, "APICRead", CALL, NULL, NULL, 0, ARGS1("reg", H), H, "APICRead(register offset) -> value."},
    [65] = {65, "IODelay", CALL, rom_do_iodelay, NULL, 0, ARGS0, NONE,
            "IODelay(): the delay a port-0x80 write gives. Virtual time counts instructions, so "
            "it costs nothing but is logged."},
    [66] = {66, "GetCycleFrequency", CALL, rom_do_cycle_frequency, NULL, 0, ARGS0, Q,
            "GetCycleFrequency() -> EDX:EAX cycles per second (--cpu-mhz * 10^6). Linux also "
            "takes it as the TSC rate."},
    [67] = {67, "GetCycleCounter", CALL, rom_do_cycle_counter, NULL, 0, ARGS1("counter", ROM_T_COUNTER), Q,
            "GetCycleCounter(counter) -> EDX:EAX. 0 real: cycles since boot; 1 available: cycles "
            "the CPU could run (equal to real: nothing steals time here); 2 stolen: 0."},
    [68] = {68, "SetAlarm", CALL, NULL, NULL, 0, ARGS5("flags", H, "expiry_lo", H, "expiry_hi", H, "period_lo", H, "period_hi", H), NONE,
            "SetAlarm(flags, expiry, period): arm the one-shot or periodic alarm."},
    [69] = {69, "CancelAlarm", CALL, NULL, NULL, 0, ARGS1("flags", H), H, "CancelAlarm(flags) -> non-zero if one was pending."},
    [70] = {70, "GetWallclockTime", CALL, rom_do_wallclock, NULL, 0, ARGS0, ROM_T_NS,
            "GetWallclockTime() -> EDX:EAX nanoseconds since 1970: --epoch plus the cycles since "
            "boot at the cycle frequency."},
    [71] = {71, "WallclockUpdated", CALL, rom_do_wallclock_updated, NULL, 0, ARGS0, H,
            "WallclockUpdated() -> non-zero if the wall clock was changed since the last call; "
            "vmiemu never changes it, so 0."},
    [73] = {73, "SetLazyMode", CALL, NULL, NULL, 0, ARGS1("mode", D), NONE,
            "SetLazyMode(0 none, 1 lazy MMU, 2 lazy CPU): batching hint."},
};

const rom_call *rom_call_find(uint32_t num)
{
    if (num >= ROM_NUM_CALLS || calls[num].name == NULL)
        return NULL;
    return &calls[num];
}

const rom_call *rom_call_by_name(const char *name)
{
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++)
        if (calls[n].name && strcasecmp(calls[n].name, name) == 0)
            return &calls[n];
    if (strcasecmp(name, rom_entry_init.name) == 0)
        return &rom_entry_init;
    if (strcasecmp(name, rom_entry_reloc.name) == 0)
        return &rom_entry_reloc;
    return NULL;
}

rom_reloc rom_reloc_of(uint32_t num)
{
    const rom_call *c = rom_call_find(num);
    return c && c->handler ? c->reloc : ROM_RELOC_NONE;
}
