; SMAP and SMEP (the max CPU model): the low 4 MiB identity-mapped, supervisor pages but for
; USER_DATA and USER_CODE (a `ret`). With CR4.SMAP, ring 0's accesses to the user page fault
; unless EFLAGS.AC is set (stac, or popf); with CR4.SMEP, ring 0 cannot run the user page's code.
; RESULT+4*i: #PFs after step i: 1 read AC=0, 2 read after stac, 3 write after clac, 4 write
; with AC set by popf, 5 call into the user page with SMEP; RESULT+0x20 + 4*i the #PF error
; code after step i; RESULT+0x40 #GPs (CR4 writes refused), 0x44 #UDs (stac/clac absent),
; 0x48 the value read with AC set, 0x4C done.
%include "common.inc"
%include "model_fault.inc"
%define PD 0x10000
%define PT0 0x11000
%define USER_DATA 0x300000
%define USER_CODE 0x301000
%macro step 1
    mov eax, [pf_count]
    mov [RESULT + 4*(%1)], eax
    mov eax, [pf_error]
    mov [RESULT + 0x20 + 4*(%1)], eax
%endmacro
start:
    model_fault_gates
    lidt [idtr]
    identity_pt PT0, 3                  ; supervisor, writable
    mov dword [PT0 + (USER_DATA >> 12) * 4], USER_DATA | 7
    mov dword [PT0 + (USER_CODE >> 12) * 4], USER_CODE | 7
    mov dword [PD], PT0 | 7
    mov dword [USER_DATA], 0x5AFE
    mov byte [USER_CODE], 0xC3          ; ret
    paging_on PD
    mov dword [resume], c1
    mov eax, cr4
    or eax, 0x200000                    ; SMAP
    mov cr4, eax
c1: mov dword [resume], r1
    clac
    mov eax, [USER_DATA]
r1: step 1
    mov dword [resume], r2
    stac
    mov eax, [USER_DATA]
    mov [RESULT + 0x48], eax
r2: step 2
    mov dword [resume], r3
    clac
    mov dword [USER_DATA], 1
r3: step 3
    mov dword [resume], r4
    pushfd
    or dword [esp], 0x40000             ; AC
    popfd
    mov dword [USER_DATA], 2
r4: pushfd
    and dword [esp], ~0x40000
    popfd
    step 4
    mov dword [resume], c2
    mov eax, cr4
    or eax, 0x100000                    ; SMEP
    mov cr4, eax
c2: mov dword [resume], r5
    mov ebx, esp
    call USER_CODE
r5: mov esp, ebx
    step 5
    mov eax, [gp_count]
    mov [RESULT + 0x40], eax
    mov eax, [ud_count]
    mov [RESULT + 0x44], eax
    mov dword [RESULT + 0x4C], 1
    cli
    hlt
    model_fault_code
    idt_table
