/* The record reader (--replay's file) on any bytes: open, read every entry to the end or the
 * first bad chunk, then seek back to marks it gave (the start, just after the first entry,
 * just before the last) and read on from each, as replay's time travel does. */
#include "emu/machine.h"
#include "emu/record.h"
#include "emu/recplay.h"
#include "fuzzutil.h"

#define MAX_ENTRIES 100000 /* a chunk holds at most REC_MAX_CHUNK bytes of entries */

static void read_on(rec_reader *r, unsigned limit)
{
    rec_entry e;
    vm_error err = {0};
    for (unsigned i = 0; i < limit && rec_next(r, &e, &err) == 1; i++)
        (void)rec_reader_position(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_scratch_file(data, size);
    static rec_header h; /* 2 KiB of names: not on the stack */
    vm_error err = {0};
    rec_reader *r = rec_open(path, &h, &err);
    if (!r)
        return 0;
    machine_config cfg;
    machine_config_defaults(&cfg);
    recplay_config(&h, &cfg);

    rec_entry e;
    rec_mark marks[3] = {{0}};
    unsigned n = 0;
    while (n < MAX_ENTRIES && rec_next(r, &e, &err) == 1) {
        if (n == 0)
            marks[1] = rec_reader_mark(r, false);
        marks[2] = rec_reader_mark(r, true);
        n++;
    }
    for (unsigned k = 0; k < 3; k++) {
        vm_error serr = {0};
        if (rec_reader_seek(r, &marks[k], &serr))
            read_on(r, 64);
    }
    rec_close_reader(r);
    return 0;
}
