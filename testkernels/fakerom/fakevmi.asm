; fakevmi: a tiny VMI ROM for plain QEMU (qemu-system-i386 -option-rom fakevmi.rom), so the
; test kernels' VMI path can be checked without vmiemu. It is NOT vmiemu's ROM: it provides
; only CPUID, RDTSC, the interrupt flag, IRET/SYSEXIT (JUMP_REL), Halt, Reboot, Shutdown
; (exit port), IODelay and the timer reads, all done with native instructions, plus a fixed
; wall clock (1700000000 s) and cycle frequency (1 GHz) that show the ROM answered.
; SeaBIOS copies it into the 0xC0000-0xE0000 option-ROM area after the VGA BIOS.
; Build: see CMakeLists.txt (assembled twice: the second pass sets the checksum byte).
BITS 16
ORG 0
hdr:
    dw 0xAA55
    db 4                    ; 4 * 512 bytes
    retf                    ; 0x03: BIOS init entry
    times 0x08-($-hdr) db 0
    dd 0x696d5663
    db 0                    ; minor
    db 3                    ; major
    db 0, 0
    dd 0                    ; virtual_top
    dw 0
    dw license
    dw pcir
    dw pnp
    dd 0
    times 0x80-($-hdr) db 0
BITS 32
init:                       ; 0x80
    xor eax, eax
    ret
    times 0x88-($-hdr) db 0x90
    jmp get_reloc           ; 0x88
    times 0x90-($-hdr) db 0x90

get_reloc:
    call .here
.here:
    pop ecx
    sub ecx, .here - hdr    ; ecx = ROM base as called
    cmp eax, 74
    jae .none
    movzx edx, byte [ecx + types + eax]
    test edx, edx
    jz .none
    movzx eax, word [ecx + offs + eax*2]
    add eax, ecx
    ret
.none:
    xor eax, eax
    xor edx, edx
    ret

f_cpuid:  cpuid
          ret
f_rdtsc:  rdtsc
          ret
f_cli:    cli
          ret
f_sti:    sti
          ret
f_iret:   iret
f_sysexit: sti
          sysexit
f_halt:   sti
          hlt
          ret
f_reboot: mov al, 0xFE
          out 0x64, al
          ret
f_shutdown: mov eax, 0x10
          out 0xF4, eax
          ret
f_ret:    ret
f_freq:   mov eax, 1000000000
          xor edx, edx
          ret
f_counter: cmp eax, 2
          je .zero
          rdtsc
          ret
.zero:    xor eax, eax
          xor edx, edx
          ret
f_wall:   mov eax, 0x362a0000
          mov edx, 0x17979cfe
          ret
f_zero:   xor eax, eax
          ret

%macro SLOT 3               ; call number, relocation type, function (for reading)
    times (%1) - ($ - types) db 0
    db %2
%endmacro
types:
    SLOT 0, 1, f_cpuid
    SLOT 27, 1, f_rdtsc
    SLOT 29, 1, f_sti
    SLOT 30, 1, f_cli
    SLOT 33, 2, f_iret
    SLOT 34, 2, f_sysexit
    SLOT 35, 1, f_halt
    SLOT 36, 1, f_reboot
    SLOT 37, 1, f_shutdown
    SLOT 65, 1, f_ret
    SLOT 66, 1, f_freq
    SLOT 67, 1, f_counter
    SLOT 70, 1, f_wall
    SLOT 71, 1, f_zero
    times 74 - ($ - types) db 0

%macro OFF 2
    times (%1)*2 - ($ - offs) db 0
    dw %2
%endmacro
offs:
    OFF 0, f_cpuid
    OFF 27, f_rdtsc
    OFF 29, f_sti
    OFF 30, f_cli
    OFF 33, f_iret
    OFF 34, f_sysexit
    OFF 35, f_halt
    OFF 36, f_reboot
    OFF 37, f_shutdown
    OFF 65, f_ret
    OFF 66, f_freq
    OFF 67, f_counter
    OFF 70, f_wall
    OFF 71, f_zero
    times 148 - ($ - offs) db 0

license: db "GPL v2", 0
mfr:     db "Fake VMI Inc.", 0
product: db "fakevmi test ROM", 0
    align 4
pcir:
    db "PCIR"
    dw 0x15AD, 0x0801, 0, 24
    db 0, 0, 0, 0
    dw 4, 1
    db 0, 0x80
    dw 0
pnp:
    db "$PnP"
    db 1, 2
    dw 0
    db 0, 0
    dd 0
    dw mfr, product
    times 32 - ($ - pnp) db 0
%ifndef CHECKSUM
%define CHECKSUM 0
%endif
    times 2047 - ($ - hdr) db 0
    db CHECKSUM             ; makes the bytes sum to 0 mod 256
