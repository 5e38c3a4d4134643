/* The GDB stub's packet parser and every command it dispatches, against a running machine
 * (hello, snapshots every 1000 instructions so bs/bc work). The first input byte picks how the
 * rest reaches the stub: odd, as raw bytes (framing, acks, escapes, bad checksums); even, as
 * packet bodies one a line, each framed "$BODY#CS" with its right checksum, so the fuzzer
 * spends its time on the commands rather than on guessing checksums. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/gdbstub.h"
#include "fuzzutil.h"

#define MAX_INSNS 200000u

static void drain(gdbstub *s)
{
    size_t n;
    (void)gdbstub_output(s, &n);
    gdbstub_consume(s, n);
}

static void feed_framed(gdbstub *s, const uint8_t *body, size_t n)
{
    uint8_t *pkt = malloc(n + 4);
    if (!pkt)
        abort();
    uint8_t sum = 0;
    pkt[0] = '$';
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + (pkt[1 + i] = body[i]));
    static const char hex[] = "0123456789abcdef";
    pkt[n + 1] = '#';
    pkt[n + 2] = (uint8_t)hex[sum >> 4];
    pkt[n + 3] = (uint8_t)hex[sum & 15];
    gdbstub_feed(s, pkt, n + 4);
    free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static machine m;
    fz_boot_hello(&m, 4, 1000, MAX_INSNS);
    dbg d;
    dbg_init(&d, &m);
    gdbstub *s = gdbstub_new(&d);
    if (!s)
        abort();
    const uint8_t *p = data + 1, *end = data + size;
    if (data[0] & 1) {
        gdbstub_feed(s, p, (size_t)(end - p));
        drain(s);
    } else {
        while (p < end && gdbstub_get_state(s) == GDBSTUB_ACTIVE) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            feed_framed(s, p, n);
            drain(s);
            p += n + (nl != NULL);
        }
    }
    gdbstub_free(s);
    machine_free(&m);
    return 0;
}
