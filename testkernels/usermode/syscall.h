/* usermode's system calls: `int $0x80`, number in EAX, argument in EBX, result in EAX
 * (EDX:EAX for SYS_TIME). Shared by usermode.c and user_sysexit.S. */
#ifndef USERMODE_SYSCALL_H
#define USERMODE_SYSCALL_H

#define SYSCALL_VECTOR 0x80
#define SYS_PRINT 1        /* EBX = NUL-terminated string */
#define SYS_TIME 2         /* -> EDX:EAX = GetCycleCounter(real) */
#define SYS_KSTACK 3       /* EBX = 0: kernel stack A, 1: B (UpdateKernelStack) */
#define SYS_IOPL 4         /* EBX = IOPL 0..3 (SetIOPLMask and the frame's EFLAGS) */
#define SYS_SYSEXIT 5      /* return through SYSEXIT instead of IRET (EAX..EDX lost) */
#define SYS_EXIT 6         /* leave user mode for good */

#endif
