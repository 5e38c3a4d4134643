/* One contract for every device of the machine. A device is a const, static descriptor of code
 * (this struct) over state that lives in machine_state as plain data; the machine knows devices
 * only through the table machine_devices[] (emu/devices.c) and iterates it for reset, port and
 * MMIO dispatch, timer planning, waking a halted CPU, interrupt delivery and the state digest.
 * Every hook is optional (NULL): a device without timers has no next_event/advance/can_wake, one
 * that is no interrupt controller has no irq_pending/irq_acknowledge. A device raises its
 * interrupt by driving a line of an interrupt controller from its own file (pic_set_irq,
 * apic_accept): the wiring belongs to the device. Adding a device: docs/ARCHITECTURE.md. */
#ifndef VMIEMU_DEVICE_H
#define VMIEMU_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/state_ser.h"

typedef struct machine machine;

/* Port handlers get the port itself (not an offset), so one device may split its ports into
 * ranges that differ only in affects_interrupts. `size` is 1, 2 or 4; the machine masks the
 * value written and the value read to it. */
typedef uint32_t (*device_port_read_fn)(machine *m, uint16_t port, int size);
typedef void (*device_port_write_fn)(machine *m, uint16_t port, int size, uint32_t value);

typedef struct device_ports {
    uint16_t base, len; /* len 0 ends the list */
    device_port_read_fn read;
    device_port_write_fn write;
    /* A write here can change when the next interrupt arrives or whether a pending one gets
     * through (mask, EOI, a timer's count, an interrupt enable): the CPU stops at the next block
     * so that the machine re-plans. */
    bool affects_interrupts;
} device_ports;

/* MMIO handlers get the offset into the range. */
typedef struct device_mmio {
    uint64_t base, size; /* size 0: the device has no MMIO */
    uint32_t (*read)(machine *m, uint64_t offset, unsigned size);
    void (*write)(machine *m, uint64_t offset, unsigned size, uint32_t value);
    bool affects_interrupts;
} device_mmio;

#define DEVICE_MAX_PORTS 4

typedef struct device {
    const char *name;
    /* Power-on state when the machine is made; NULL: reset does it. */
    void (*init)(machine *m);
    /* Every power-on, a --reboot-restarts reboot too; NULL: the state survives a reboot (the
     * CMOS's battery-backed RAM). */
    void (*reset)(machine *m);
    device_ports ports[DEVICE_MAX_PORTS];
    device_mmio mmio;
    /* The cycle of the device's next timed event, UINT64_MAX if none. */
    uint64_t (*next_event)(machine *m);
    /* Bring the device up to cycle `now`, raising the interrupts that fell due on its line. */
    void (*advance)(machine *m, uint64_t now);
    /* Could a timed event still pending raise an interrupt the CPU would take (its line not
     * masked)? A halted CPU sleeps only while some device says yes. */
    bool (*can_wake)(machine *m);
    /* An interrupt controller in front of the CPU: is a vector pending, and take it. The
     * table's order is the priority (the local APIC before the PIC). */
    bool (*irq_pending)(const machine *m);
    int (*irq_acknowledge)(machine *m);
    /* The device's state, field by field, for the digest (emu/state_ser.h). */
    void (*serialise)(const machine *m, state_writer *w);
} device;

/* Every device of the machine, in the order they advance, take interrupts and serialise. */
extern const device *const machine_devices[];
extern const size_t machine_device_count;

/* The device and range claiming `port`, or NULL (an open bus). */
const device_ports *device_find_port(uint16_t port, const device **owner);

/* Check the table: no two port ranges or MMIO ranges overlap. On a clash writes the names to
 * why and returns false. */
bool device_table_check(char *why, size_t why_len);

#endif
