/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI address parsing. Strict on purpose: kvmtool's parser accepted trailing
 * junk, and a launcher that writes to sysfs must never guess an address. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/pci_addr.h"

static int hex_field(const char *s, size_t len, unsigned *ret)
{
        unsigned v = 0;

        for (size_t i = 0; i < len; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 16 + (unsigned) (isdigit((unsigned char) s[i])
                                                 ? s[i] - '0'
                                                 : tolower((unsigned char) s[i]) - 'a' + 10);
        }
        *ret = v;
        return 0;
}

int pci_addr_parse(const char *s, struct pci_addr *ret)
{
        unsigned domain = 0, bus, slot, fn;
        size_t len;

        if (!s)
                return -EINVAL;
        len = strlen(s);
        if (len == 12) { /* DDDD:BB:SS.F */
                if (s[4] != ':' || hex_field(s, 4, &domain) < 0)
                        return -EINVAL;
                s += 5;
        } else if (len != 7) /* BB:SS.F */
                return -EINVAL;

        if (s[2] != ':' || s[5] != '.' || hex_field(s, 2, &bus) < 0 ||
            hex_field(s + 3, 2, &slot) < 0 || hex_field(s + 6, 1, &fn) < 0)
                return -EINVAL;
        if (slot > 31 || fn > 7)
                return -EINVAL;

        *ret = (struct pci_addr) {
                .domain = (uint16_t) domain,
                .bus = (uint8_t) bus,
                .slot = (uint8_t) slot,
                .function = (uint8_t) fn,
        };
        return 0;
}

char *pci_addr_format(const struct pci_addr *a, char buf[static PCI_ADDR_STRLEN])
{
        (void) snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot & 0x1fu,
                        a->function & 0x7u);
        return buf;
}

bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b)
{
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
               a->function == b->function;
}
