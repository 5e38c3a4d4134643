/* Stack unwinding for `bt` on i386 kernels, with or without frame pointers (Linux 2.6.32's
 * vmlinux is built without CONFIG_FRAME_POINTER and has no DWARF), reading guest memory
 * through the guest's page tables.
 *
 * Each frame's return address is found the way gdb's i386 prologue analysis and Linux's own
 * stack dumper do, in this order:
 *   - at the function's first instruction, or at a `ret`: the word at ESP;
 *   - after `push ebp` (a function that starts `push ebp; mov ebp, esp`): the word above it;
 *   - inside such a frame-pointer function: EBP+4, and the caller's EBP at EBP (checked: EBP
 *     lies above ESP and the return address follows a call);
 *   - otherwise, a scan up the stack for a word that points just after a call instruction.
 *     A direct call (or `call *ADDR`, as paravirt calls through pv_ops look) to the function
 *     we are in is proof, and the first one wins; failing that, the first indirect call
 *     (`call *%eax`) is taken as a guess; failing that, the first direct call to some other
 *     function (likely a stale word), also a guess.
 * Up to the next 8 KiB boundary above ESP any of these counts: i386 Linux kernel stacks
 * (THREAD_SIZE) are 8 KiB, aligned, and end there. Another 8 KiB beyond, for stacks laid out
 * otherwise (a Multiboot kernel's), only proof counts, so the walk does not wander into the
 * stale words of the next task's stack. Every read is checked; an unreadable or implausible
 * frame ends the walk. */
#ifndef VMIEMU_UNWIND_H
#define VMIEMU_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/debug.h"
#include "frontend/symbols.h"

#define UNWIND_STACK_SPAN 0x2000u /* where a stack is believed to end: the next boundary of this size */

typedef struct unwind_frame {
    uint32_t pc;
    uint32_t sp; /* the frame's ESP (for #0 the CPU's; above: just past the return address) */
    bool guessed; /* found by the stack scan without proof it is the caller */
} unwind_frame;

/* Up to max frames from the current registers; returns how many (at least 1). */
size_t unwind(dbg *d, const symtab *syms, unwind_frame *frames, size_t max);

#define UNWIND_MAX_FRAMES 256

/* The backtrace as `bt` and `monitor bt` print it, one frame a line:
 * "#1  0xc1001464 <kernel_thread+0x94>", with " ?" after a guessed frame. At most max frames
 * (up to UNWIND_MAX_FRAMES); the text is cut to len. */
void unwind_format(dbg *d, const symtab *syms, size_t max, char *buf, size_t len);

#endif
