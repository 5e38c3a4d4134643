/* "1 call", "2 calls": the count's noun in the singular for exactly one. */
#ifndef VMIEMU_PLURAL_H
#define VMIEMU_PLURAL_H

static inline const char *plural_s(unsigned long long n) { return n == 1 ? "" : "s"; }

#endif
