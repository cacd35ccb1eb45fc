/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A PCI address (domain:bus:slot.function): parse and format. Pure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct pci_addr {
        uint16_t domain;
        uint8_t bus;
        uint8_t slot;     /* 0..31 */
        uint8_t function; /* 0..7 */
};

/* "DDDD:BB:SS.F" or "BB:SS.F" (domain 0000). Hex digits, either case, exact
 * field widths, nothing after. Returns 0 or -EINVAL. */
int pci_addr_parse(const char *s, struct pci_addr *ret);

/* Always "dddd:bb:ss.f", lower case, as sysfs names devices. */
#define PCI_ADDR_STRLEN sizeof("0000:00:00.0")
char *pci_addr_format(const struct pci_addr *a, char buf[static PCI_ADDR_STRLEN]);

bool pci_addr_equal(const struct pci_addr *a, const struct pci_addr *b);
