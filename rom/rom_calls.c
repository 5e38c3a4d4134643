/* The table of VMI calls: number, name, arguments, handler, the spec paragraph that `explain`
 * shows, and who may make the call (rom_priv). A call with neither a handler nor native code is
 * not implemented, and GetRelocationInfo answers NONE so the guest keeps its native
 * instruction. */
#include <stddef.h>
#include <strings.h>

#include "rom/rom.h"
#include "rom/rom_handlers.h"
#include "rom/rom_native.h"

#define H ROM_T_HEX
#define D ROM_T_DEC
#define Q ROM_T_U64
#define NONE ROM_T_NONE
#define CALL ROM_RELOC_CALL_REL
#define JUMP ROM_RELOC_JUMP_REL
#define NOP ROM_RELOC_NOP

#define ARGS0 0, {0}, {0}
#define ARGS1(a, ta) 1, {a}, {ta}
#define ARGS2(a, ta, b, tb) 2, {a, b}, {ta, tb}
#define ARGS3(a, ta, b, tb, c, tc) 3, {a, b, c}, {ta, tb, tc}
#define ARGS4(a, ta, b, tb, c, tc, d, td) 4, {a, b, c, d}, {ta, tb, tc, td}
#define ARGS5(a, ta, b, tb, c, tc, d, td, e, te) 5, {a, b, c, d, e}, {ta, tb, tc, td, te}

#define NAT(code) code, sizeof code
#define HOST NULL, 0

/* Who may make the call (rom.h, rom_priv). */
#define KERNEL ROM_PRIV_KERNEL
#define ANY ROM_PRIV_ANY
#define TSD ROM_PRIV_TSD
#define PCE ROM_PRIV_PCE
#define IO_DELAY ROM_PRIV_IO_DELAY
#define NATIVE ROM_PRIV_NATIVE

const rom_call rom_entry_init = {
    ROM_NUM_INIT, "Init", CALL, rom_do_init, HOST, ARGS0, H,
    "Init (rom+0x80): activates the ROM; returns 0 in EAX on success. Afterwards the guest "
    "reads CS & 3 as its kernel privilege level; vmiemu keeps the kernel at ring 0.", KERNEL};

const rom_call rom_entry_reloc = {
    ROM_NUM_RELOC, "GetRelocationInfo", CALL, rom_do_get_reloc, HOST, ARGS1("call", ROM_T_CALL), ROM_T_RELOC,
    "GetRelocationInfo (rom+0x88): EAX = call number. Returns EAX = linear address of the "
    "call's implementation (relative to the alias the ROM was called through) and DL = type: "
    "0 NONE (keep the native instruction), 1 CALL_REL, 2 JUMP_REL (IRET, SYSEXIT), 3 NOP.", ANY};

#define PTE ROM_T_PTE
#define PF ROM_T_PAGEFLAGS

/* Each entry at its call number's index, and that number in the entry, both from the one
 * rom_call_id name (so they cannot disagree; test_rom and rom_table_check confirm it). */
#define ENTRY(id, ...) [VMI_CALL_##id] = {VMI_CALL_##id, #id, __VA_ARGS__},

static const rom_call calls[ROM_NUM_CALLS] = {
    ENTRY(CPUID, CALL, rom_do_cpuid, HOST, ARGS3("leaf", H, "", NONE, "subleaf", H), ROM_T_CPUID,
     "CPUID: like the instruction. In: EAX leaf, ECX subleaf. Out: EAX, EBX, ECX, EDX. vmiemu "
     "answers the same values the CPUID instruction gives inside the guest.", ANY)
    ENTRY(WRMSR, CALL, NULL, NAT(rom_native_wrmsr), ARGS3("msr", H, "lo", H, "hi", H), NONE,
     "WRMSR(msr, lo, hi): write a model-specific register; runs a real wrmsr (a bad MSR raises #GP "
     "in the guest). Unused by Linux.", NATIVE)
    ENTRY(RDMSR, CALL, NULL, NAT(rom_native_rdmsr), ARGS1("msr", H), Q,
     "RDMSR(msr) -> EDX:EAX; runs a real rdmsr. Unused by Linux.", NATIVE)
    ENTRY(SetGDT, CALL, NULL, NAT(rom_native_setgdt), ARGS1("desc", H), NONE,
     "SetGDT(pointer to 6-byte limit/base): load GDTR; runs a real lgdt.", NATIVE)
    ENTRY(SetLDT, CALL, NULL, NAT(rom_native_setldt), ARGS1("selector", H), NONE,
     "SetLDT(selector or 0): load LDTR from the GDT; runs a real lldt (a bad selector raises #GP).", NATIVE)
    ENTRY(SetIDT, CALL, NULL, NAT(rom_native_setidt), ARGS1("desc", H), NONE,
     "SetIDT(pointer to 6-byte limit/base): load IDTR; runs a real lidt. Exceptions and interrupts "
     "are then delivered through this table.", NATIVE)
    ENTRY(SetTR, CALL, NULL, NAT(rom_native_settr), ARGS1("selector", H), NONE,
     "SetTR(selector): load the task register and mark the TSS busy; runs a real ltr.", NATIVE)
    ENTRY(GetGDT, CALL, NULL, NAT(rom_native_getgdt), ARGS1("dest", H), NONE, "GetGDT(pointer): sgdt.", NATIVE)
    ENTRY(GetLDT, CALL, NULL, NAT(rom_native_getldt), ARGS0, H, "GetLDT() -> LDT selector: sldt.", NATIVE)
    ENTRY(GetIDT, CALL, NULL, NAT(rom_native_getidt), ARGS1("dest", H), NONE, "GetIDT(pointer): sidt.", NATIVE)
    ENTRY(GetTR, CALL, NULL, NAT(rom_native_gettr), ARGS0, H,
     "GetTR() -> task register selector: str.", NATIVE)
    ENTRY(WriteGDTEntry, CALL, rom_do_write_desc, HOST, ARGS4("table", H, "index", D, "lo", ROM_T_DESCLO, "hi", H), NONE,
     "WriteGDTEntry(table base, index, low word, high word): store one 8-byte GDT descriptor at "
     "table + 8 * index (a linear address).", KERNEL)
    ENTRY(WriteLDTEntry, CALL, rom_do_write_desc, HOST, ARGS4("table", H, "index", D, "lo", ROM_T_DESCLO, "hi", H), NONE,
     "WriteLDTEntry(table base, index, low word, high word): store one LDT descriptor.", KERNEL)
    ENTRY(WriteIDTEntry, CALL, rom_do_write_desc, HOST, ARGS4("table", H, "index", D, "lo", ROM_T_GATELO, "hi", H), NONE,
     "WriteIDTEntry(table base, index, low word, high word): store one IDT gate.", KERNEL)
    ENTRY(UpdateKernelStack, CALL, rom_do_update_kernel_stack, HOST, ARGS2("selector", H, "esp0", H), NONE,
     "UpdateKernelStack(selector, esp0): the ring-0 stack used on a privilege change. A notification: "
     "the kernel stores esp0 in its TSS itself (Linux passes its data selector first); vmiemu only "
     "logs it, whatever TR holds, and writes no guest memory.", KERNEL)
    ENTRY(SetCR0, CALL, NULL, NAT(rom_native_setcr0), ARGS1("value", H), NONE, "SetCR0(value): mov cr0.", NATIVE)
    ENTRY(SetCR2, CALL, NULL, NAT(rom_native_setcr2), ARGS1("value", H), NONE, "SetCR2(value): mov cr2.", NATIVE)
    ENTRY(SetCR3, CALL, NULL, NAT(rom_native_setcr3), ARGS1("value", H), NONE,
     "SetCR3(value): switch page directory and flush non-global TLB entries: mov cr3.", NATIVE)
    ENTRY(SetCR4, CALL, NULL, NAT(rom_native_setcr4), ARGS1("value", H), NONE, "SetCR4(value): mov cr4.", NATIVE)
    ENTRY(GetCR0, CALL, NULL, NAT(rom_native_getcr0), ARGS0, H, "GetCR0() -> CR0.", NATIVE)
    ENTRY(GetCR2, CALL, NULL, NAT(rom_native_getcr2), ARGS0, H,
     "GetCR2() -> CR2 (last page-fault address).", NATIVE)
    ENTRY(GetCR3, CALL, NULL, NAT(rom_native_getcr3), ARGS0, H, "GetCR3() -> CR3.", NATIVE)
    ENTRY(GetCR4, CALL, NULL, NAT(rom_native_getcr4), ARGS0, H, "GetCR4() -> CR4.", NATIVE)
    ENTRY(WBINVD, CALL, NULL, NAT(rom_native_wbinvd), ARGS0, NONE,
     "WBINVD(): write back and invalidate caches.", NATIVE)
    ENTRY(SetDR, CALL, rom_do_set_dr, HOST, ARGS2("regno", D, "value", H), NONE,
     "SetDR(regno, value): write debug register 0-7 (4 and 5 alias 6 and 7).", KERNEL)
    ENTRY(GetDR, CALL, rom_do_get_dr, HOST, ARGS1("regno", D), H, "GetDR(regno) -> value.", KERNEL)
    ENTRY(RDPMC, CALL, rom_do_rdpmc, HOST, ARGS1("counter", D), Q,
     "RDPMC(counter) -> EDX:EAX. vmiemu models no performance counters: always 0.", PCE)
    ENTRY(RDTSC, CALL, rom_do_rdtsc, HOST, ARGS0, Q,
     "RDTSC() -> EDX:EAX: the time-stamp counter. In vmiemu one instruction is one cycle, so "
     "the TSC is the number of cycles since boot at the cycle frequency (--cpu-mhz).", TSD)
    ENTRY(CLTS, CALL, NULL, NAT(rom_native_clts), ARGS0, NONE, "CLTS(): clear CR0.TS.", NATIVE)
    ENTRY(EnableInterrupts, CALL, NULL, NAT(rom_native_sti), ARGS0, NONE,
     "EnableInterrupts(): sti; clobbers nothing. A pending interrupt is delivered after the return.", NATIVE)
    ENTRY(DisableInterrupts, CALL, NULL, NAT(rom_native_cli), ARGS0, NONE,
     "DisableInterrupts(): cli; clobbers nothing.", NATIVE)
    ENTRY(GetInterruptMask, CALL, NULL, NAT(rom_native_getim), ARGS0, H,
     "GetInterruptMask() -> EFLAGS (IF = 0x200).", NATIVE)
    ENTRY(SetInterruptMask, CALL, NULL, NAT(rom_native_setim), ARGS1("flags", H), NONE,
     "SetInterruptMask(word): restore EFLAGS from a GetInterruptMask word (popf); clobbers nothing.", NATIVE)
    ENTRY(IRET, JUMP, NULL, NAT(rom_native_iret), ARGS3("eip", H, "cs", H, "eflags", H), NONE,
     "IRET: does not return; an iret on the guest's behalf. Reached by jmp (JUMP_REL), the "
     "interrupt frame is on top of the stack. vmiemu's slot holds a real iret, which the CPU "
     "runs after the call is logged.", NATIVE)
    ENTRY(SYSEXIT, JUMP, NULL, NAT(rom_native_sysexit), ARGS2("eip", H, "esp", H), NONE,
     "SYSEXIT: does not return; enables interrupts and returns to ring 3 at EDX with ESP = ECX. "
     "vmiemu's slot holds a real sti; sysexit.", NATIVE)
    ENTRY(Halt, CALL, rom_do_halt, HOST, ARGS0, NONE,
     "Halt(): the safe halt: enable interrupts and halt until one arrives; virtual time jumps "
     "to the next event. With nothing that can ever raise an interrupt, the run ends with "
     "'guest halted with no pending events'.", KERNEL)
    ENTRY(Reboot, CALL, rom_do_reboot, HOST, ARGS0, NONE,
     "Reboot(): ends the run with the reboot status, or restarts the machine with --reboot-restarts.", KERNEL)
    ENTRY(Shutdown, CALL, rom_do_shutdown, HOST, ARGS0, NONE,
     "Shutdown(): powers the machine off; exit status 0.", KERNEL)
    ENTRY(SetPxE, CALL, NULL, NAT(rom_native_setpxe), ARGS3("entry", PTE, "ptr", H, "flags", PF), NONE,
     "SetPxE(new entry, pointer to entry, flags): the ROM stores the 32-bit page-table entry at "
     "the pointer (a linear address). Flags say which level and, with CURRENT_AS, which linear "
     "address the entry maps. The TLB is not flushed: the guest calls InvalPage or FlushTLB.", NATIVE)
    ENTRY(SetPxELong, CALL, NULL, NAT(rom_native_setpxelong), ARGS4("lo", PTE, "hi", H, "ptr", H, "flags", PF), NONE,
     "SetPxELong(64-bit entry, pointer, flags): PAE version of SetPxE; as native PAE code, a new low "
     "half without P (a clear) is stored first, otherwise the high half first.", NATIVE)
    ENTRY(UpdatePxE, CALL, rom_do_update_pxe, HOST, ARGS2("ptr", H, "flags", PF), PTE,
     "UpdatePxE(pointer, flags): the guest already stored the entry; notification. The log shows "
     "the entry found there.", KERNEL)
    ENTRY(UpdatePxELong, CALL, rom_do_update_pxe, HOST, ARGS2("ptr", H, "flags", PF), PTE,
     "UpdatePxELong(pointer, flags): PAE version of UpdatePxE.", KERNEL)
    ENTRY(MachineToPhysical, CALL, rom_do_identity, HOST, ARGS1("pfn", H), H,
     "MachineToPhysical(pfn): machine and physical frames are the same in vmiemu. Unused by Linux.", KERNEL)
    ENTRY(PhysicalToMachine, CALL, rom_do_identity, HOST, ARGS1("pfn", H), H,
     "PhysicalToMachine(pfn): identity. Unused by Linux.", KERNEL)
    ENTRY(AllocatePage, CALL, rom_do_allocate_page, HOST,
     ARGS5("pfn", H, "flags", ROM_T_ALLOCFLAGS, "clone_pfn", H, "clone_start", D, "clone_count", D), NONE,
     "AllocatePage(pfn, flags, clone pfn, clone start, clone count): the page becomes a page table "
     "of the level in flags; vmiemu tracks it. CLONE says entries [start, start+count) were copied "
     "from clone pfn; ZEROED is a hint, not a promise.", KERNEL)
    ENTRY(ReleasePage, CALL, rom_do_release_page, HOST, ARGS2("pfn", H, "flags", ROM_T_ALLOCFLAGS), NONE,
     "ReleasePage(pfn, flags): the page is no longer a page table.", KERNEL)
    ENTRY(InvalPage, CALL, NULL, NAT(rom_native_invlpg), ARGS1("linear", H), NONE,
     "InvalPage(linear address): invlpg.", NATIVE)
    ENTRY(FlushTLB, CALL, NULL, NAT(rom_native_flushtlb), ARGS1("flags", H), NONE,
     "FlushTLB(flags: 1 non-global, 2 also global): reload CR3, and toggle CR4.PGE for flag 2.", NATIVE)
    ENTRY(SetLinearMapping, CALL, rom_do_set_linear_mapping, HOST, ARGS4("slot", D, "linear", H, "pages", D, "pfn", H), NONE,
     "SetLinearMapping(slot, linear address, page count, first pfn): where the kernel maps "
     "physical memory (Linux: slot 0, PAGE_OFFSET). vmiemu records up to 4 slots.", KERNEL)
    ENTRY(SetIOPLMask, CALL, NULL, NAT(rom_native_setiopl), ARGS1("mask", H), NONE,
            "SetIOPLMask(mask): set EFLAGS.IOPL from mask & 0x3000 (popf at ring 0).", NATIVE)
    ENTRY(SetInitialAPState, CALL, rom_do_set_ap_state, HOST, ARGS2("state", H, "apic_id", D), NONE,
            "SetInitialAPState(pointer to state, APIC id): start state for a secondary CPU. vmiemu "
            "records it; it runs one CPU, so a secondary CPU never starts.", KERNEL)
    ENTRY(APICWrite, CALL, rom_do_apic_write, HOST, ARGS2("reg", H, "value", H), NONE,
            "APICWrite(register offset, value): write a local APIC register (0xB0 EOI, 0x320 timer "
            "LVT, ...). An offset that is not a register fails the call and is ignored.", KERNEL)
    ENTRY(APICRead, CALL, rom_do_apic_read, HOST, ARGS1("reg", H), H,
            "APICRead(register offset) -> value of a local APIC register.", KERNEL)
    ENTRY(IODelay, NOP, rom_do_iodelay, HOST, ARGS0, NONE,
            "IODelay(): the delay a port-0x80 write gives. Virtual time counts instructions, so no "
            "delay is needed: GetRelocationInfo answers NOP and Linux drops the call (its "
            "io_delay becomes an empty function). A guest that calls the entry anyway gets a "
            "logged call that does nothing.", IO_DELAY)
    ENTRY(GetCycleFrequency, CALL, rom_do_cycle_frequency, HOST, ARGS0, Q,
            "GetCycleFrequency() -> EDX:EAX cycles per second (--cpu-mhz * 10^6). Linux also "
            "takes it as the TSC rate.", ANY)
    ENTRY(GetCycleCounter, CALL, rom_do_cycle_counter, HOST, ARGS1("counter", ROM_T_COUNTER), Q,
            "GetCycleCounter(counter) -> EDX:EAX. 0 real: cycles since boot; 1 available: cycles "
            "the CPU could run (equal to real: nothing steals time here); 2 stolen: 0.", TSD)
    ENTRY(SetAlarm, CALL, rom_do_set_alarm, HOST,
            ARGS5("flags", ROM_T_ALARM, "expiry", ROM_T_U64LO, "", NONE, "period", ROM_T_U64LO, "", NONE), NONE,
            "SetAlarm(flags, expiry, period): arm the alarm of counter flags & 0xFF (0 real, 1 "
            "available), one-shot or periodic (0x100), at the absolute cycle count `expiry`, "
            "repeating every `period` cycles. Wiring 0x00000 raises IRQ 0 at the PIC; 0x10000 "
            "raises the vector in the local APIC's timer LVT. Delivered at the exact cycle.", KERNEL)
    ENTRY(CancelAlarm, CALL, rom_do_cancel_alarm, HOST, ARGS1("flags", ROM_T_ALARM), H,
            "CancelAlarm(flags) -> non-zero if an alarm was pending on that counter.", KERNEL)
    ENTRY(GetWallclockTime, CALL, rom_do_wallclock, HOST, ARGS0, ROM_T_NS,
            "GetWallclockTime() -> EDX:EAX nanoseconds since 1970: --epoch plus the cycles since "
            "boot at the cycle frequency.", TSD)
    ENTRY(WallclockUpdated, CALL, rom_do_wallclock_updated, HOST, ARGS0, H,
            "WallclockUpdated() -> non-zero if the wall clock was changed since the last call; "
            "vmiemu never changes it, so 0.", ANY)
    ENTRY(SetLazyMode, CALL, rom_do_set_lazy_mode, HOST, ARGS1("mode", D), NONE,
            "SetLazyMode(0 none, 1 lazy MMU, 2 lazy CPU): batching hint; vmiemu applies every "
            "update at once, so it only records the mode.", KERNEL)
};

bool rom_table_check(void)
{
    for (uint32_t n = 0; n < ROM_NUM_CALLS; n++)
        if (calls[n].name && calls[n].num != n)
            return false;
    return rom_entry_init.num == ROM_NUM_INIT && rom_entry_reloc.num == ROM_NUM_RELOC;
}

const rom_call *rom_call_find(uint32_t num)
{
    if (num >= ROM_NUM_CALLS || calls[num].name == NULL)
        return NULL;
    return &calls[num];
}

const rom_call *rom_call_logged(uint32_t num)
{
    if (num == ROM_NUM_INIT)
        return &rom_entry_init;
    if (num == ROM_NUM_RELOC)
        return &rom_entry_reloc;
    return rom_call_find(num);
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
    return rom_call_implemented(c) ? c->reloc : ROM_RELOC_NONE;
}
