/* The PC keyboard controller (an 8042 at ports 0x60 data and 0x64 status/command) with a PS/2
 * keyboard on its first port and nothing plugged into its second (AUX, the mouse port).
 *
 * Modelled: the status register, the 32 bytes of controller RAM (byte 0 is the command byte,
 * read with 0x20, written with 0x60), self-test 0xAA -> 0x55, interface tests 0xAB/0xA9 -> 0,
 * enabling and disabling either port (0xAD/0xAE, 0xA7/0xA8), the input port (0xC0), the output
 * port (0xD0/0xD1: bit 0 is the CPU reset line, bit 1 the A20 gate), writing the output buffer
 * as if from the keyboard or the AUX device (0xD2, 0xD3: the AUX loopback Linux tests with),
 * 0xDD/0xDF (A20 off/on), the test inputs (0xE0) and the output-line pulses 0xF0-0xFF: a pulse
 * with bit 0 low (0xFE, the classic reset) resets the CPU, as does an output-port write with
 * bit 0 low. The output buffer raises IRQ 1 (keyboard data) or IRQ 12 (AUX data) while it is
 * full and the command byte enables that interrupt.
 * The keyboard acknowledges every command with 0xFA: reset 0xFF (0xFA 0xAA), identify 0xF2
 * (0xFA 0xAB 0x41 translated or 0x83 not), LEDs 0xED, typematic rate 0xF3, scan-code set 0xF0
 * (0 reads it back), enable/disable scanning 0xF4/0xF5, defaults 0xF6, echo 0xEE (0xEE);
 * unknown commands get 0xFE (resend), as from a real keyboard.
 * A byte sent to the AUX device (0xD4) finds no device: the controller answers 0xFE with the
 * timeout bit, which Linux's psmouse takes as "nothing there" at once, without waiting.
 * Not modelled: A20 masking (vmiemu's A20 is always on: the gate bit reads back as written and
 * changes nothing), scan-code translation (bytes pushed with i8042_kbd_push arrive as given),
 * typematic repeat, the keyboard's own timing (replies are in the output buffer at once),
 * passwords and controller commands outside the list (ignored), the multiplexed AUX mode.
 *
 * Plain data: a snapshot copies the struct. The machine passes the two interrupt lines to
 * each call that can change them, and ends the run when a call returns I8042_RESET. */
#ifndef VMIEMU_I8042_H
#define VMIEMU_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/irq.h"
#include "emu/state_ser.h"

#define I8042_DATA_PORT 0x60u
#define I8042_COMMAND_PORT 0x64u
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* Status register bits. */
#define I8042_STR_OBF 0x01u     /* output buffer full */
#define I8042_STR_IBF 0x02u     /* input buffer full (never: writes are taken at once) */
#define I8042_STR_SYS 0x04u     /* system flag: self-test passed */
#define I8042_STR_CMD 0x08u     /* the last write was to the command port */
#define I8042_STR_UNLOCK 0x10u  /* keyboard not inhibited by the key lock */
#define I8042_STR_AUXDATA 0x20u /* the output buffer holds AUX data */
#define I8042_STR_TIMEOUT 0x40u /* the device did not answer */

/* Command byte (controller RAM byte 0) bits. */
#define I8042_CTR_KBDINT 0x01u
#define I8042_CTR_AUXINT 0x02u
#define I8042_CTR_SYS 0x04u
#define I8042_CTR_KBDDIS 0x10u
#define I8042_CTR_AUXDIS 0x20u
#define I8042_CTR_XLATE 0x40u

/* Output port bits. */
#define I8042_OUT_RESET 0x01u /* low = CPU held in reset */
#define I8042_OUT_A20 0x02u

#define I8042_QUEUE 16u

/* Bytes waiting for the output buffer, each with the status bits it brings (AUXDATA,
 * TIMEOUT) in the high byte. */
typedef struct i8042_queue {
    uint16_t item[I8042_QUEUE];
    uint8_t head, count;
} i8042_queue;

typedef struct i8042 {
    uint8_t status;     /* SYS, CMD, UNLOCK; OBF/AUXDATA/TIMEOUT come from the buffer */
    uint8_t ram[32];    /* controller RAM; ram[0] is the command byte */
    uint8_t outport;    /* output port as last written */
    uint8_t pending;    /* a command waiting for its data byte (0x60-0x7F, 0xD1-0xD4), 0 none */
    bool obf;           /* output buffer full */
    uint16_t out;       /* the output buffer's byte and its status bits (high byte) */
    i8042_queue ctl;    /* the controller's own replies: first in line */
    i8042_queue kbd;    /* bytes from the keyboard: held while its port is disabled */
    /* The keyboard. */
    uint8_t kbd_cmd;    /* a keyboard command waiting for its parameter (0xED, 0xF0, 0xF3), 0 none */
    bool kbd_scanning;  /* 0xF4/0xF5: whether key presses would be sent */
    uint8_t kbd_set;    /* scan-code set 1-3 (0xF0) */
    uint8_t kbd_leds;   /* 0xED */
    uint8_t kbd_rate;   /* 0xF3 */
} i8042;

/* The controller's two interrupt outputs. */
typedef struct i8042_irqs {
    irq_line kbd; /* IRQ 1 */
    irq_line aux; /* IRQ 12 */
} i8042_irqs;

typedef enum i8042_effect {
    I8042_NONE = 0,
    I8042_RESET, /* the guest pulled the CPU reset line: the machine resets */
} i8042_effect;

/* The controller as a BIOS leaves it: self-test passed, keyboard enabled with its interrupt
 * and translation on, AUX disabled, A20 on, output buffer empty. */
void i8042_init(i8042 *k);

uint8_t i8042_read_status(const i8042 *k);
/* Reading the data port empties the output buffer (the next waiting byte moves in). */
uint8_t i8042_read_data(i8042 *k, const i8042_irqs *irqs);
i8042_effect i8042_write_command(i8042 *k, const i8042_irqs *irqs, uint8_t v);
i8042_effect i8042_write_data(i8042 *k, const i8042_irqs *irqs, uint8_t v);

/* Bytes from the keyboard (host key presses, for a later input source): queued while the
 * keyboard scans, dropped when it does not or when the queue is full. Returns how many were
 * taken. */
size_t i8042_kbd_push(i8042 *k, const i8042_irqs *irqs, const uint8_t *bytes, size_t n);

/* Write the state field by field (emu/state_ser.h). */
void i8042_serialise(const i8042 *k, state_writer *w);

#endif
