/* Entry from a Multiboot v1 loader: protected mode, paging off, interrupts off,
 * EAX = 0x2BADB002, EBX = physical address of the Multiboot info. */

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003 /* page-align modules + memory info; no bit 16: use ELF */
#define STACK_SIZE 16384
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define TEST_FAIL 0x11

    .section .multiboot, "a"
    .align 4
    .long MB_HEADER_MAGIC
    .long MB_HEADER_FLAGS
    .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

    .text
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl %eax, %esi              /* magic; EBX keeps the info pointer (stosl leaves it alone) */

    /* Multiboot says the loader's GDT may be gone: load ours before touching a segment. */
    lgdt gdt_desc
    ljmp $KERNEL_CS, $1f
1:  movw $KERNEL_DS, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss

    /* Zero .bss ourselves rather than trust every loader (the stack lives there too). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    movl $boot_stack_top, %esp
    xorl %ebp, %ebp              /* end of the frame chain for debuggers */
    pushl $0
    popfl                        /* known EFLAGS: IF=0, DF=0, IOPL=0, NT=0 */

    pushl %ebx
    pushl %esi
    call trap_init               /* report stray exceptions instead of triple-faulting */
    call kmain                   /* kmain(magic, mbi): arguments already pushed */
    pushl $TEST_FAIL             /* kmain must not return */
    call test_exit
2:  hlt
    jmp 2b
    .size _start, . - _start

    .data
    .align 8
gdt:                             /* flat 4 GiB segments; accessed bits preset so the CPU
                                    never writes to the table */
    .quad 0
    .quad 0x00CF9B000000FFFF     /* 0x08: code, ring 0, 32-bit */
    .quad 0x00CF93000000FFFF     /* 0x10: data, ring 0 */
gdt_end:
    .align 4
    .word 0                      /* pad so the 6-byte descriptor's base is aligned */
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .bss
    .align 16
boot_stack:
    .skip STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
