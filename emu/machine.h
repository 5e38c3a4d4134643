/* The machine: one struct holding everything the guest is (CPU, RAM, ROM, devices, clock,
 * event log), and the run loop. Frontends drive it through this API only. */
#ifndef VMIEMU_MACHINE_H
#define VMIEMU_MACHINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "emu/acpi_pm.h"
#include "emu/alarm.h"
#include "emu/apic.h"
#include "emu/boot.h"
#include "emu/cmos.h"
#include "emu/device.h"
#include "emu/evlog.h"
#include "emu/fwcfg.h"
#include "emu/hpet.h"
#include "emu/i8042.h"
#include "emu/ioapic.h"
#include "emu/loader.h"
#include "emu/pci.h"
#include "emu/pctestdev.h"
#include "emu/pic.h"
#include "emu/pit.h"
#include "emu/port92.h"
#include "emu/uart.h"
#include "emu/vga.h"
#include "mmu/dirty.h"
#include "mmu/error.h"
#include "mmu/physmem.h"
#include "rom/rom.h"

#define MACHINE_DEFAULT_MIB 128u
#define MACHINE_DEFAULT_MHZ 100u
#define MACHINE_DEFAULT_EPOCH 1767225600ll /* 2026-01-01 00:00:00 UTC */
#define MACHINE_EXIT_PORT 0xF4u
#define MACHINE_DEFAULT_SNAP_EVERY 10000000u /* instructions between automatic snapshots */
#define MACHINE_DEFAULT_SNAP_MIB 256u

typedef struct machine_config {
    uint32_t ram_mib;
    const char *cmdline;   /* kernel command line (Multiboot cmdline, Linux --append), may be NULL */
    const char *initrd;    /* Linux initrd file, may be NULL */
    uint64_t max_insns;    /* 0 = no limit */
    bool rom_enabled;
    uint32_t cpu_mhz;      /* nominal cycles per microsecond; one instruction = one cycle */
    uint8_t cpu_model;     /* a vcpu_model_id (cpu/model.h): what the CPU has and reports */
    int64_t epoch;         /* guest wall clock at cycle 0, seconds since 1970 */
    bool reboot_restarts;
    uint64_t snap_every;   /* instructions between automatic snapshots; 0 = no snapshots */
    uint32_t snap_mem_mib; /* memory all snapshots may use; older ones are thinned out */
    uint32_t log_mem_mib;  /* compressed event-log chunks kept in memory; older ones are spilled */
    bool check_vmi;        /* run the VMI compliance checker (emu/vmicheck.h) */
    uint8_t quiet_calls;   /* MACHINE_QUIET_* bits: calls run without the host (--quiet-calls) */
} machine_config;

/* --quiet-calls irqflags: the four interrupt-flag calls run in their ROM slots like the guest's
 * own code, neither logged nor recorded (emu/machine_rom.c, machine_rom_kind); a VMI-call
 * breakpoint on one of them brings it back to the ROM trap while it is set. */
#define MACHINE_QUIET_IRQFLAGS 1u
#define MACHINE_QUIET_ALL MACHINE_QUIET_IRQFLAGS

void machine_config_defaults(machine_config *cfg);

/* Why a run ended. */
typedef enum machine_end {
    END_RUNNING = 0,
    END_SHUTDOWN,  /* VMI Shutdown, or ACPI power-off (S5) */
    END_EXIT_PORT, /* write to the isa-debug-exit port; exit_value holds the value */
    END_HALTED,    /* halted with nothing that can wake it */
    END_REBOOT,    /* VMI Reboot, or the ACPI reset register (without --reboot-restarts) */
    END_LIMIT,     /* --max-insns reached */
    END_CRASH,     /* the guest did something the machine cannot continue from */
    END_ERROR,     /* the emulator itself failed */
    END_DIVERGED,  /* a replay found the run differing from its record */
    END_STOPPED,   /* stopped before the guest ended: by the user (quit, end of a script, gdb kill,
                      SIGINT), or by a replay where its recording was stopped */
} machine_end;

#define MACHINE_VMI_BREAKS 0x102 /* call numbers 0..73, Init (0x100), GetRelocationInfo (0x101) */

/* The host seam: one hook, called by machine_run at every multiple of `every` instructions
 * since power-on (an exact icount, so inputs it delivers land where a replay re-injects them)
 * and once at every stop (at_stop). It polls the host (serial input, SIGINT, a debugger's
 * socket) and returns true to pause the run right there (machine_run returns END_RUNNING with
 * m->host_paused set); to end the run it calls machine_stop. */
struct machine;
typedef bool (*machine_host_fn)(struct machine *m, void *ctx, bool at_stop);
#define MACHINE_HOST_EVERY 1000000u /* default instructions between host hook calls */

/* A typed host input: bytes for one device. */
typedef enum host_device {
    HOST_COM1,     /* COM1's receive side (emu/uart.c) */
    HOST_KEYBOARD, /* the i8042's keyboard port: scan-code bytes (emu/i8042.c) */
    HOST_DEVICES
} host_device;

typedef enum host_input_kind {
    HOST_BYTES, /* bytes as the device receives them */
} host_input_kind;

typedef struct host_input {
    host_device device;
    host_input_kind kind;
    const uint8_t *bytes;
    size_t len;
} host_input;

/* "com1", "keyboard"; "?" for anything else. */
const char *host_device_name(unsigned dev);

/* One stretch of physical memory above RAM (machine_mmio.c): a device's MMIO range, or open
 * bus (dev NULL); where it starts, for the log. */
typedef struct machine_mmio_slot {
    struct machine *m;
    const device_mmio *dev;
    uint64_t base;
} machine_mmio_slot;
#define MACHINE_MMIO_SLOTS 9 /* up to 4 device ranges and the open bus around them */

/* Everything of the machine that is not in Unicorn and changes while it runs: devices, clock,
 * the ROM's own state. Plain data without pointers: a snapshot copies it with one assignment
 * (emu/snapshot.c), its digest serialises it field by field (emu/state_ser.h). Callbacks and
 * host resources (serial sink, input, log, timeline) are machine fields outside it. */
#define MACHINE_STATE_FIELDS                                                                         \
    uart com1;                                                                                      \
    cmos rtc;                                                                                       \
    pic pic;                                                                                        \
    pit pit;                                                                                        \
    apic lapic;                                                                                     \
    ioapic ioapic;              /* the IO-APIC at 0xFEC00000 (emu/ioapic.h) */                      \
    acpi_pm acpi;               /* ACPI PM1 and reset registers (emu/acpi_pm.h) */                  \
    alarms alarms;                                                                                  \
    i8042 kbc;                  /* keyboard controller, ports 0x60/0x64 */                          \
    port92 sysctl;              /* system control port A (fast A20, reset) */                       \
    pci_bus pci;                /* PCI configuration mechanism #1 and the host bridge */            \
    fwcfg fwcfg;                                                                                    \
    pctestdev testdev;                                                                              \
    hpet hpet;                  /* the HPET at 0xFED00000 (emu/hpet.h) */                           \
    vga vga;                    /* VGA registers; the text buffer is RAM at 0xB8000 */              \
    bool halt_requested;        /* VMI Halt: wait for an interrupt at the next stop */              \
    bool step_shadow;           /* an interrupt waits for the instruction after `sti` */           \
    bool nmi_blocked;           /* an NMI handler runs: no NMI until the next iret */              \
    rom_state rom;              /* the ROM's own state (rom/rom.h) */                               \
    uint64_t insns_before_boot; /* instructions retired by earlier boots (--reboot-restarts) */     \
    uint64_t idle_cycles;       /* cycles spent halted (time that passes without instructions) */  \
    uint32_t reboots;

typedef struct machine_state {
    MACHINE_STATE_FIELDS
} machine_state;

typedef struct machine {
    machine_config cfg;
    char *kernel_path;
    uint8_t *kernel;
    size_t kernel_size;
    uint8_t *initrd;
    size_t initrd_size;
    boot_result boot; /* how the kernel was loaded and entered (emu/boot.h) */

    physmem mem;
    cpu *cpu;
    /* The state as one value (m->state) and its fields by name (m->pic, m->rom, ...): the same
     * members twice over one storage, so code names a device directly and a snapshot copies
     * all of them at once. emu/machine.c checks that the two layouts agree. */
    union {
        machine_state state;
        struct {
            MACHINE_STATE_FIELDS
        };
    };
    evlog log;
    uint8_t *pt_pages;    /* per physical page: VMI page flags if AllocatePage made it a page table */
    struct vmicheck *check; /* the VMI compliance checker (--check-vmi); NULL when off */

    machine_end end;
    uint32_t exit_value;
    char end_message[256];

    struct timeline *timeline; /* snapshots (emu/snapshot.c); NULL when off */
    struct recplay *recplay;   /* recording or replay (emu/recplay.c); NULL when neither */
    struct history *history;   /* a history collection running (emu/history.c); NULL: none */
    struct whatif *whatif;     /* a VMI call result to override (emu/whatif.c); NULL: none */
    struct call_timing *timing; /* host time per ROM call, measured while set (the shell's
                                   `stats`); host-only, never seen by the guest */
    uint64_t flag_calls_short; /* interrupt-flag calls taken the short way (machine_rom_tagged_call):
                                  host-only, for tests and profiles, not machine state */
    dirty_map dirty;
    machine_mmio_slot mmio[MACHINE_MMIO_SLOTS]; /* above RAM, as mapped (machine_mmio.c) */
    uint64_t pause_at;         /* machine_run_until's stop point */
    bool break_hit;            /* the last run stopped before a breakpoint address or VMI call */
    bool vmi_breaks[MACHINE_VMI_BREAKS]; /* stop before these VMI calls (event numbers) */
    uint64_t vmi_break_skip;   /* the call stopped at, which running on performs */
    bool watch_hit;            /* the last run stopped after a watched write */
    vcpu_watch_hit watch;      /* that write; icount counts from power-on */
    bool in_goto;              /* snap_goto is running forward: no precise-stop rewinds */
    uart_tx_fn serial_out;     /* where COM1's transmitted bytes go (the frontend's; NULL: nowhere) */
    void *serial_ctx;
    machine_host_fn host_fn;   /* the host hook (machine_set_host_hook); NULL: none */
    void *host_ctx;
    uint64_t host_every;       /* instructions between host boundaries (never 0) */
    uint64_t host_next;        /* the next boundary, a multiple of host_every */
    uint64_t host_last;        /* the boundary the hook was last called at (UINT64_MAX: none) */
    bool host_paused;          /* the last run was paused at a host boundary */
    bool in_run;               /* machine_run is running (the hook may call machine_stop) */
    volatile sig_atomic_t host_interrupt; /* machine_interrupt: pause at the next boundary */
    uint64_t furthest;         /* the furthest instruction count any run has reached */
} machine;

/* Read and load the kernel, build the ROM, reset the CPU. */
VM_MUST_CHECK bool machine_init(machine *m, const machine_config *cfg, const char *kernel_path, vm_error *err);
void machine_free(machine *m);

/* Send COM1's transmitted bytes to tx(ctx, byte); NULL drops them. */
void machine_set_serial_out(machine *m, uart_tx_fn tx, void *ctx);

/* Install the host hook (fn NULL: none), called every `every` instructions (0: MACHINE_HOST_EVERY)
 * and at stops. A frontend that adds a hook for a while (the GDB stub) saves m->host_fn,
 * host_ctx and host_every, calls the saved one from its own, and restores it. */
void machine_set_host_hook(machine *m, uint64_t every, machine_host_fn fn, void *ctx);
/* Safe from a signal handler: the run pauses at the next host boundary (flag cleared by the
 * caller that starts the next run, with machine_clear_interrupt). */
void machine_interrupt(machine *m);
void machine_clear_interrupt(machine *m);

/* A host input arrives now (from the host, or re-injected from a record): routed to its
 * device, logged as EV_INPUT naming the device (in chunks of 16 bytes), recorded. Returns how
 * many bytes the device took (a full keyboard buffer drops the rest, unlogged). */
size_t machine_host_input(machine *m, const host_input *in);

/* Run until the guest ends, the limit, or the host hook pauses it; returns why. A resume:
 * a breakpoint at the current EIP (the stop the user saw) runs. */
machine_end machine_run(machine *m);
/* The same, going on after a pause nobody saw (the host hook's): a breakpoint at the current
 * EIP stops the run before it does anything. */
machine_end machine_run_on(machine *m);

/* Run until exactly `insns` instructions have retired since power-on, or the guest ends first,
 * or a breakpoint is reached (m->break_hit). Returns END_RUNNING unless the guest ended. */
machine_end machine_run_until(machine *m, uint64_t insns);

/* Instructions retired since power-on, across reboots. */
uint64_t machine_insns(machine *m);
/* Virtual time: cycles since power-on (instructions retired plus idle cycles). */
uint64_t machine_cycles(machine *m);
uint64_t machine_cycle_hz(const machine *m);
/* Guest wall clock in nanoseconds since 1970. */
uint64_t machine_wall_ns(machine *m);

/* A run that has not ended is stopped here by its user (quit, end of a script, gdb kill, SIGINT):
 * it ends as END_STOPPED "stopped by WHY", logged like any end. Does nothing once it has ended. */
void machine_stop(machine *m, const char *why);

/* Append an event to the log. A log that cannot take it (host memory or the spill file ran
 * out) ends the run with END_ERROR: the history would have a hole. */
void machine_log(machine *m, const vm_event *ev);

/* End the run (from a device, the ROM or a fault); the first reason wins. */
void machine_end_run(machine *m, machine_end why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Answer CPUID for both the instruction and the VMI call: regs in EAX, ECX; out EAX..EDX. */
void machine_cpuid(machine *m, uint32_t regs[4]);

/* True while the machine re-runs instructions it has run before (after going back in time):
 * output then repeats what was already shown. */
static inline bool machine_replaying_past(machine *m) { return machine_insns(m) < m->furthest; }

/* Device halves of machine_host_input: queue bytes at COM1 (emu/dev_com1.c) or the keyboard
 * (emu/dev_kbc.c) without logging; return how many were taken. */
size_t machine_serial_input(machine *m, const uint8_t *bytes, size_t n);

/* Map what lies above RAM: the devices' MMIO ranges and an open bus (machine_mmio.c). */
VM_MUST_CHECK bool machine_map_high_memory(machine *m, vm_error *err);

/* The cycle count of the next timed event of any device, UINT64_MAX if none. */
uint64_t machine_next_event(machine *m);
/* Bring every device up to the current cycle count, raising the interrupts that are due. */
void machine_fire_due(machine *m);
/* Deliver a pending external interrupt if the CPU can take one now; otherwise arrange to stop
 * when it can. */
void machine_service_interrupts(machine *m);
/* The platform's interrupt lines (machine_irq.c). GSI n drives the IO-APIC's pin n and, below
 * 16, the PIC's input n; ISA IRQ n is GSI n, but IRQ 0 (the PIT) is GSI 2 on the IO-APIC (the
 * MADT's interrupt source override). A device drives its ISA line through
 * machine_isa_irq_line; machine_isa_irq_masked: masked at both the PIC and the IO-APIC. */
void machine_gsi(machine *m, int gsi, int level);
irq_line machine_isa_irq_line(machine *m, int irq);
bool machine_isa_irq_masked(const machine *m, int irq);
/* An edge on ISA IRQ `irq` whatever its level (the VMI alarms on IRQ 0). */
void machine_isa_irq_pulse(machine *m, int irq);
/* A write to the local APIC (its page, or VMI APICWrite): the EOI of a level-triggered vector
 * is broadcast to the IO-APIC (dev_lapic.c). */
apic_status machine_lapic_write(machine *m, uint32_t offset, uint32_t value);
/* The same for a wrmsr of an x2APIC register (apic_x2apic_msr_write; APIC_BAD_REGISTER: #GP). */
apic_status machine_lapic_msr_write(machine *m, uint32_t msr, uint64_t value);

/* An iret retired while NMIs were blocked (cpu_ops.iret): the blocking ends, and an NMI that
 * waited is delivered before the next instruction. */
void machine_nmi_iret(machine *m);
/* The CPU waits for an interrupt (hlt, or VMI Halt): jump virtual time to the next event that
 * can wake it, or end the run if nothing ever can. */
void machine_idle(machine *m);

/* Deliver an exception or interrupt through the guest IDT and log it; on failure (triple
 * fault, unsupported gate) the run ends as a crash and false is returned. */
bool machine_deliver(machine *m, const vcpu_event *ev);

/* The VMI ROM (machine_rom.c). machine_rom_call: a block starts at linear `pc` that may be a
 * ROM entry: perform or begin the call; returns VCPU_ROM_*. machine_rom_block: a block starts
 * while a native call is in flight (vcpu_watch_blocks): log it if its slot has returned.
 * machine_rom_fault: an exception is about to be delivered: a native call faulting inside its
 * slot is logged as failed. machine_rom_end: the run ended; calls still in flight are logged
 * as failed. */
int machine_rom_call(machine *m, uint32_t pc);

/* Host time spent serving ROM calls (the trap, the call and logging it), by event number
 * (EV_NUM_RELOC is the largest), for statistics: wall-clock, so it is reported, never compared
 * or fed to the guest. A native call is timed up to handing the slot to the CPU. */
#define CALL_TIMING_NUMS (EV_NUM_RELOC + 1u)
typedef struct call_timing {
    uint64_t ns[CALL_TIMING_NUMS];
    uint64_t count[CALL_TIMING_NUMS];
} call_timing;
void machine_rom_block(machine *m, uint32_t pc);
void machine_rom_fault(machine *m, const vcpu_event *ev);
void machine_rom_end(machine *m);
VM_MUST_CHECK bool machine_rom_open(machine *m, vm_error *err);
void machine_rom_reset(machine *m);
/* machine_rom_kind: what a ROM block at linear pc is to the CPU (cpu_ops.rom_kind):
 * VCPU_ROM_PLAIN for plain code (one inside a native call's slot past its entry, or an
 * interrupt-flag call's slot under --quiet-calls irqflags unless a VMI-call breakpoint is on
 * that call), the tag of an interrupt-flag call's entry, which machine_rom_tagged_call then
 * takes the short way, or 0. machine_rom_breaks_changed: the VMI-call breakpoints were set
 * anew (`before`: m->vmi_breaks as they were): blocks are counted again if a quiet call's
 * changed. */
int machine_rom_kind(machine *m, uint32_t pc);
int machine_rom_tagged_call(machine *m, uint32_t pc, int tag);
void machine_rom_breaks_changed(machine *m, const bool before[MACHINE_VMI_BREAKS]);
/* Whether the CPU is at a VMI ROM entry (EIP, through the page tables): its event number. */
bool machine_rom_entry_here(machine *m, uint16_t *num);

size_t machine_key_input(machine *m, const uint8_t *bytes, size_t n);

/* Draw the VGA text screen as it is now (emu/vga.h: VGA_WIDTH x VGA_HEIGHT, 0x00RRGGBB);
 * blink_on: the phase in which blinking text and the cursor show. Reads only. */
void machine_render_screen(const machine *m, bool blink_on, uint32_t *rgb);

/* Row `row` of the VGA text screen as it is now, as text (emu/vga.h: vga_text_row). */
void machine_screen_row(const machine *m, unsigned row, char *out);

/* Short name of an end reason ("shutdown", "halted", ...). */
const char *machine_end_name(machine_end why);

#endif
