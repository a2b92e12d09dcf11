/* The version of the library actually loaded, as opposed to the header's. */
#include "snapconf.h"

#define SNAPCONF_STR_(x) #x
#define SNAPCONF_STR(x) SNAPCONF_STR_(x)

const char *snapconf_version_string(void)
{
    return SNAPCONF_STR(SNAPCONF_VERSION_MAJOR) "." SNAPCONF_STR(
        SNAPCONF_VERSION_MINOR) "." SNAPCONF_STR(SNAPCONF_VERSION_PATCH);
}

unsigned snapconf_version(void)
{
    return SNAPCONF_VERSION_HEX;
}
