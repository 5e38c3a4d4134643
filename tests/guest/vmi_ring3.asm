; Ring 3 calls the VMI ROM directly (paging off: the ROM is reachable). Every privileged host call
; must fault with #GP(0) at its ROM entry and change nothing; the handler records the fault and
; returns past the call as `ret` would. Queries user code may make natively work. Phase 2 runs
; with CR4.TSD and CR4.PCE set and IOPL 3: the clock queries fault, RDPMC and IODelay work.
%include "common.inc"
%define KSTACK 0x280000
%define USTACK 0x290000
%define NFAULT (RESULT + 0)         ; #GP count
%define OUT (RESULT + 0x40)         ; what the unprivileged calls returned
%define FAULTS (RESULT + 0x100)     ; per #GP: error code, eip, cs, 0
start:
    ring3_gdt_load
    mov dword [NFAULT], 0
    mov dword [phase], 0
    mov dword [tss + 4], KSTACK     ; esp0
    mov dword [tss + 8], 0x10       ; ss0
    mov word [tss + 0x66], 104      ; no I/O bitmap: past the TSS limit
    mov ax, 0x28
    ltr ax
    gate 13, h_gp, 0x8E
    gate 0x80, h_sys, 0xEE          ; DPL 3: the way back to ring 0
    lidt [idtr]
    mov eax, 7                      ; ring 0 may make the same calls
    vmi 25                          ; GetDR(7)
    mov [OUT + 44], eax
    mov eax, 0x30
    vmi 64                          ; APICRead(version)
    mov [OUT + 48], eax
    vmi 65                          ; IODelay
    mov eax, 2
    vmi 73                          ; SetLazyMode(2)
    xor eax, eax
    vmi 73                          ; SetLazyMode(0)
    enter_ring3 user, USTACK

user:                               ; ring 3, CR4.TSD and PCE clear, IOPL 0
    call ROM + 0x80                 ; Init
    vmi 11                          ; WriteGDTEntry
    vmi 12                          ; WriteLDTEntry
    vmi 13                          ; WriteIDTEntry
    vmi 14                          ; UpdateKernelStack
    mov eax, 7
    mov edx, 1
    vmi 24                          ; SetDR(7, L0): would arm a breakpoint
    vmi 25                          ; GetDR
    vmi 26                          ; RDPMC (CR4.PCE clear)
    vmi 35                          ; Halt
    vmi 36                          ; Reboot
    vmi 37                          ; Shutdown
    vmi 40                          ; UpdatePxE
    vmi 41                          ; UpdatePxELong
    vmi 42                          ; MachineToPhysical
    vmi 43                          ; PhysicalToMachine
    push 0
    push 0
    mov eax, 0x300
    mov edx, 1
    xor ecx, ecx
    vmi 44                          ; AllocatePage(0x300, PT): would track a page table
    add esp, 8
    vmi 45                          ; ReleasePage
    vmi 48                          ; SetLinearMapping
    mov eax, 0x6000
    xor edx, edx
    vmi 62                          ; SetInitialAPState: would record a state
    vmi 63                          ; APICWrite
    vmi 64                          ; APICRead
    vmi 65                          ; IODelay (IOPL 0, no I/O bitmap)
    push 0
    push 0x10000
    mov eax, 0x100
    mov edx, 0x10000
    xor ecx, ecx
    vmi 68                          ; SetAlarm(periodic, real): would arm it
    add esp, 8
    vmi 69                          ; CancelAlarm
    mov eax, 1
    vmi 73                          ; SetLazyMode(1): would record it
    vmi 50                          ; a call number VMI does not define
    call ROM + 0x100 + 27 * 32 + 1  ; into the middle of a host call's slot
    mov eax, 1
    xor ecx, ecx
    vmi 0                           ; CPUID
    mov [OUT + 0], eax
    mov eax, 27
    call ROM + 0x88                 ; GetRelocationInfo(RDTSC)
    mov [OUT + 4], eax
    mov [OUT + 8], edx
    vmi 27                          ; RDTSC
    mov [OUT + 12], eax
    vmi 66                          ; GetCycleFrequency
    mov [OUT + 16], eax
    xor eax, eax
    vmi 67                          ; GetCycleCounter(real)
    mov [OUT + 20], eax
    vmi 70                          ; GetWallclockTime
    mov [OUT + 24], edx
    mov eax, 0x5a5a
    vmi 71                          ; WallclockUpdated
    mov [OUT + 28], eax
    int 0x80

user2:                              ; ring 3, CR4.TSD and PCE set, IOPL 3
    vmi 27                          ; RDTSC
    xor eax, eax
    vmi 67                          ; GetCycleCounter
    vmi 70                          ; GetWallclockTime
    mov eax, 0x5a5a
    vmi 65                          ; IODelay
    mov eax, 0x5a5a
    xor ecx, ecx
    vmi 26                          ; RDPMC
    mov [OUT + 32], eax
    vmi 66                          ; GetCycleFrequency
    mov [OUT + 36], eax
    int 0x80

h_sys:                              ; frame: eip, cs, eflags, esp, ss
    cmp dword [phase], 0
    jne .done
    mov dword [phase], 1
    mov eax, cr4
    or eax, 0x104                   ; TSD, PCE
    mov cr4, eax
    mov dword [esp], user2
    or dword [esp + 8], 0x3000      ; IOPL 3
    iretd
.done:
    mov al, 0
    out 0xf4, al                    ; the machine ran to here: exit status 1

h_gp:                               ; frame: error, eip, cs, eflags, esp, ss
    push eax
    push ebx
    mov ebx, [NFAULT]
    shl ebx, 4
    mov eax, [esp + 8]
    mov [FAULTS + ebx], eax         ; error code
    mov eax, [esp + 12]
    mov [FAULTS + ebx + 4], eax     ; eip
    mov eax, [esp + 16]
    mov [FAULTS + ebx + 8], eax     ; cs
    inc dword [NFAULT]
    mov ebx, [esp + 24]             ; user esp: the call's return address is on top
    mov eax, [ebx]
    mov [esp + 12], eax             ; resume there, as the ROM's `ret` would
    add dword [esp + 24], 4
    pop ebx
    pop eax
    add esp, 4
    iretd

align 4
phase: dd 0
align 8
    ring3_tables
