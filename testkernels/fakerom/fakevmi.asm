; fakevmi: a tiny VMI ROM for plain QEMU (qemu-system-i386 -option-rom fakevmi.rom), so the
; test kernels' VMI path can be checked without vmiemu. It is NOT vmiemu's ROM: every call it
; provides is done with the native instruction (the ROM stores SetPxE entries and
; Write*Entry descriptors itself, reading the high word at [esp+4]; the page and stack
; notifications just return), plus a fixed wall clock (1700000000 s) that shows the ROM
; answered. Left NONE (so the kernels' native code runs): MSRs, RDPMC, M2P/P2M,
; SetInitialAPState, the APIC, alarms, and GetCycleFrequency (the TSC rate is not known here).
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
f_getfl:  pushfd
          pop eax
          ret
f_setfl:  push eax
          popfd
          ret
f_setgdt: lgdt [eax]
          ret
f_setidt: lidt [eax]
          ret
f_setldt: lldt ax
          ret
f_settr:  ltr ax
          ret
f_getgdt: sgdt [eax]
          ret
f_getidt: sidt [eax]
          ret
f_getldt: xor eax, eax
          sldt ax
          ret
f_gettr:  xor eax, eax
          str ax
          ret
f_wrdesc: mov [eax + edx*8], ecx    ; Write{GDT,LDT,IDT}Entry(base, index, lo, [esp+4] hi)
          mov ecx, [esp + 4]
          mov [eax + edx*8 + 4], ecx
          ret
f_setcr0: mov cr0, eax
          ret
f_setcr2: mov cr2, eax
          ret
f_setcr3: mov cr3, eax
          ret
f_setcr4: mov cr4, eax
          ret
f_getcr0: mov eax, cr0
          ret
f_getcr2: mov eax, cr2
          ret
f_getcr3: mov eax, cr3
          ret
f_getcr4: mov eax, cr4
          ret
f_wbinvd: wbinvd
          ret
f_clts:   clts
          ret
f_setdr:  cmp eax, 0                ; SetDR(regno EAX, value EDX)
          jne .1
          mov dr0, edx
.1:       cmp eax, 1
          jne .2
          mov dr1, edx
.2:       cmp eax, 2
          jne .3
          mov dr2, edx
.3:       cmp eax, 3
          jne .6
          mov dr3, edx
.6:       cmp eax, 6
          jne .7
          mov dr6, edx
.7:       cmp eax, 7
          jne .done
          mov dr7, edx
.done:    ret
f_getdr:  mov edx, eax              ; GetDR(regno EAX) -> EAX
          xor eax, eax
          cmp edx, 0
          jne .1
          mov eax, dr0
.1:       cmp edx, 1
          jne .2
          mov eax, dr1
.2:       cmp edx, 2
          jne .3
          mov eax, dr2
.3:       cmp edx, 3
          jne .6
          mov eax, dr3
.6:       cmp edx, 6
          jne .7
          mov eax, dr6
.7:       cmp edx, 7
          jne .done
          mov eax, dr7
.done:    ret
f_setpxe: mov [edx], eax            ; SetPxE(entry EAX, pointer EDX, flags ECX): the ROM stores
          ret
f_setpxel: mov [ecx + 4], edx       ; SetPxELong(EDX:EAX, pointer ECX, flags [esp+4])
          mov [ecx], eax
          ret
f_invlpg: invlpg [eax]
          ret
f_flush:  mov ecx, cr4              ; FlushTLB(how EAX): 2 = global too (toggle CR4.PGE)
          test eax, 2
          jz .cr3
          test ecx, 0x80
          jz .cr3
          and ecx, ~0x80
          mov cr4, ecx
          or ecx, 0x80
.cr3:     mov edx, cr3
          mov cr3, edx
          mov cr4, ecx
          ret
f_iopl:   and eax, 0x3000           ; SetIOPLMask(mask EAX)
          pushfd
          and dword [esp], ~0x3000
          or [esp], eax
          popfd
          ret

; Relocation type of each call (1 CALL_REL, 2 JUMP_REL, 0 NONE) and its offset. Left NONE:
; MSRs, RDPMC, M2P/P2M, SetInitialAPState, APIC, alarms and GetCycleFrequency (the TSC rate
; is unknown here; the kernels measure it), so those run natively.
%macro SLOT 3               ; call number, relocation type, function (for reading)
    times (%1) - ($ - types) db 0
    db %2
%endmacro
types:
    SLOT 0, 1, f_cpuid
    SLOT 3, 1, f_setgdt
    SLOT 4, 1, f_setldt
    SLOT 5, 1, f_setidt
    SLOT 6, 1, f_settr
    SLOT 7, 1, f_getgdt
    SLOT 8, 1, f_getldt
    SLOT 9, 1, f_getidt
    SLOT 10, 1, f_gettr
    SLOT 11, 1, f_wrdesc
    SLOT 12, 1, f_wrdesc
    SLOT 13, 1, f_wrdesc
    SLOT 14, 1, f_ret
    SLOT 15, 1, f_setcr0
    SLOT 16, 1, f_setcr2
    SLOT 17, 1, f_setcr3
    SLOT 18, 1, f_setcr4
    SLOT 19, 1, f_getcr0
    SLOT 20, 1, f_getcr2
    SLOT 21, 1, f_getcr3
    SLOT 22, 1, f_getcr4
    SLOT 23, 1, f_wbinvd
    SLOT 24, 1, f_setdr
    SLOT 25, 1, f_getdr
    SLOT 27, 1, f_rdtsc
    SLOT 28, 1, f_clts
    SLOT 29, 1, f_sti
    SLOT 30, 1, f_cli
    SLOT 31, 1, f_getfl
    SLOT 32, 1, f_setfl
    SLOT 33, 2, f_iret
    SLOT 34, 2, f_sysexit
    SLOT 35, 1, f_halt
    SLOT 36, 1, f_reboot
    SLOT 37, 1, f_shutdown
    SLOT 38, 1, f_setpxe
    SLOT 39, 1, f_setpxel
    SLOT 40, 1, f_ret
    SLOT 41, 1, f_ret
    SLOT 44, 1, f_ret
    SLOT 45, 1, f_ret
    SLOT 46, 1, f_invlpg
    SLOT 47, 1, f_flush
    SLOT 48, 1, f_ret
    SLOT 61, 1, f_iopl
    SLOT 65, 1, f_ret
    SLOT 67, 1, f_counter
    SLOT 70, 1, f_wall
    SLOT 71, 1, f_zero
    SLOT 73, 1, f_ret
    times 74 - ($ - types) db 0

%macro OFF 2
    times (%1)*2 - ($ - offs) db 0
    dw %2
%endmacro
offs:
    OFF 0, f_cpuid
    OFF 3, f_setgdt
    OFF 4, f_setldt
    OFF 5, f_setidt
    OFF 6, f_settr
    OFF 7, f_getgdt
    OFF 8, f_getldt
    OFF 9, f_getidt
    OFF 10, f_gettr
    OFF 11, f_wrdesc
    OFF 12, f_wrdesc
    OFF 13, f_wrdesc
    OFF 14, f_ret
    OFF 15, f_setcr0
    OFF 16, f_setcr2
    OFF 17, f_setcr3
    OFF 18, f_setcr4
    OFF 19, f_getcr0
    OFF 20, f_getcr2
    OFF 21, f_getcr3
    OFF 22, f_getcr4
    OFF 23, f_wbinvd
    OFF 24, f_setdr
    OFF 25, f_getdr
    OFF 27, f_rdtsc
    OFF 28, f_clts
    OFF 29, f_sti
    OFF 30, f_cli
    OFF 31, f_getfl
    OFF 32, f_setfl
    OFF 33, f_iret
    OFF 34, f_sysexit
    OFF 35, f_halt
    OFF 36, f_reboot
    OFF 37, f_shutdown
    OFF 38, f_setpxe
    OFF 39, f_setpxel
    OFF 40, f_ret
    OFF 41, f_ret
    OFF 44, f_ret
    OFF 45, f_ret
    OFF 46, f_invlpg
    OFF 47, f_flush
    OFF 48, f_ret
    OFF 61, f_iopl
    OFF 65, f_ret
    OFF 67, f_counter
    OFF 70, f_wall
    OFF 71, f_zero
    OFF 73, f_ret
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
