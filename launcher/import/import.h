/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libvirt domain XML (as `virsh dumpxml` writes it) to a vfio-launch
 * profile (profiles/README.md). Reading is libxml2's, with the limits a file
 * from anywhere needs (no DTD, no entities, no network, size and depth
 * caps); the mapping is a table per part of the domain. Every element and
 * attribute of the domain is either mapped, implied by what the launcher
 * does anyway, or listed as an omission with its XPath and why: nothing is
 * dropped silently (import_xml.c sweeps the tree after the mapping).
 *
 * Pure apart from reading the one file: no host access. What only the host
 * knows (a hostdev's vendor:device) comes through a callback of the caller.
 * It allocates freely: the CLI's process only, never the forked child. It
 * sets libxml2's global error and entity-loader hooks (to silence and to
 * refuse) on every call. libxml2 is opened on the first call (base/dl.h):
 * -ELIBACC / -ELIBBAD with e filled when it cannot be.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

#define IMPORT_FILE_MAX (4u << 20) /* bytes: a dumpxml is a few KiB */
#define IMPORT_DEPTH_MAX 16        /* element nesting; libvirt's deepest is ~6 */
#define IMPORT_LINE_MAX 512        /* one omission or note line, cut beyond */

/* Lines for stderr: "XPATH: why", one line each (a control character from
 * the document is written \xNN). Owned by the result. */
struct import_lines {
        char **v;
        long *line; /* the XML line each is about: the lines come in document order */
        size_t n;
};

struct import_result {
        json_t *profile;              /* owned: the profile, keys in a fixed order */
        struct import_lines omitted;  /* what has no place in the profile */
        struct import_lines notes;    /* mapped, but not one to one (network → user NAT) */
};

/* What the domain cannot say. pci_ids fills ret ("10de:11c0") for a host PCI
 * address ("0000:03:00.0") and returns 0, or -ENOENT when it does not know
 * the device (the key is then left out, with a note). NULL = never known. */
struct import_host {
        int (*pci_ids)(const char *addr, char ret[10], void *userdata);
        void *userdata;
};

/* Read and map the domain at path. 0 with *ret filled (the caller frees it
 * with import_result_done()); -EINVAL with e = "FILE:LINE:COL: what" for a
 * file that is not a well-formed domain (or breaks a limit: -EFBIG, -ELOOP
 * for the depth); -errno for a file that cannot be read; -ENOMEM. */
int import_domain_file(const char *path, const struct import_host *host, struct import_result *ret,
                       struct vl_error *e);

/* The same for an open file or pipe (not closed); name is for messages. */
int import_domain_fd(const char *name, int fd, const struct import_host *host, struct import_result *ret,
                     struct vl_error *e);

/* The same for a domain in memory; name is the file name for messages. */
int import_domain_buffer(const char *name, const char *buf, size_t len, const struct import_host *host,
                         struct import_result *ret, struct vl_error *e);

void import_result_done(struct import_result *r);
