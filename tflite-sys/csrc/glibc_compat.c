/* Link-time compatibility for the prebuilt ruy objects (Debian's libruy-dev, built against
 * glibc >= 2.38, whose headers map strtol to the C23 entry point __isoc23_strtol). On an older
 * glibc (Debian 12 has 2.36) that symbol does not exist; this weak definition forwards it.
 * The only difference of the C23 variant is accepting a "0b" prefix with base 0 or 2, which
 * ruy (parsing its RUY_PATHS environment variable) does not rely on. Where the C library has
 * the symbol, either definition behaves the same. */
#include <stdlib.h>

__attribute__((weak)) long __isoc23_strtol(const char *nptr, char **endptr, int base) {
  return strtol(nptr, endptr, base);
}
