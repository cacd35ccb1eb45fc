/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the import's files: the walk's context and the helpers that
 * read the tree AND mark what they read, so that the sweep at the end
 * (ix_sweep) can list everything nobody read as an omission.
 *
 * Marking uses libxml2's `_private` field of nodes and attributes, which
 * the library leaves to the application.
 */
#pragma once

#include <libxml/tree.h>
#include <stdbool.h>

#include "import/import.h"

#define IX_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0" /* <qemu:commandline> */

struct ix {
        const char *file;
        const struct import_host *host;
        struct import_result *res;
        json_t *p;          /* the profile being built */
        int err;            /* first allocation failure, reported at the end */
};

/* Mark a node (element or attribute) as accounted for. */
void ix_take(void *node);
/* Mark an element and everything in it. */
void ix_take_all(xmlNode *n);
bool ix_taken(const void *node);

/* The first child element called name (NULL: none), not marked. */
xmlNode *ix_child(xmlNode *parent, const char *name);
/* The next sibling element called name after n. */
xmlNode *ix_next(xmlNode *n, const char *name);
#define ix_for_each(c, parent, name) for (xmlNode *c = ix_child(parent, name); c; c = ix_next(c, name))

/* An attribute's value, marked read; NULL when absent. */
const char *ix_attr(xmlNode *n, const char *name);
/* An element's text (its first text child), the element marked; "" none. */
const char *ix_text(xmlNode *n);

/* "XPATH: why" lines; node may be an attribute (xmlAttr *). Marks it and,
 * for an element, everything in it. */
void ix_omit(struct ix *x, void *node, const char *fmt, ...) _printf_(3, 4);
void ix_note(struct ix *x, void *node, const char *fmt, ...) _printf_(3, 4);
/* The attribute node for ix_omit, or the element when it has none. */
void *ix_attr_node(xmlNode *n, const char *name);

/* Parse "0x06" / "6" / "06" (libvirt's numbers): 0 or -EINVAL. */
int ix_uint(const char *s, unsigned long long max, unsigned long long *ret);
/* libvirt's yes/no and on/off: 1, 0, or -EINVAL. */
int ix_bool(const char *s);

/* json helpers: set key (the value is stolen) and record ENOMEM. */
void ix_set(struct ix *x, json_t *o, const char *key, json_t *v);
/* The object at key, made when absent. NULL only without memory. */
json_t *ix_obj(struct ix *x, json_t *o, const char *key);
json_t *ix_arr(struct ix *x, json_t *o, const char *key);

/* A device's <boot order='N'/> into o's "boot" (import_map_devices.c). */
void ix_boot(struct ix *x, xmlNode *dev, json_t *o);

/* Everything not marked, as omissions, in document order. */
void ix_sweep(struct ix *x, xmlNode *root);

/* The mapping tables. */
void ix_map_machine(struct ix *x, xmlNode *dom);  /* import_map.c */
void ix_map_cpu(struct ix *x, xmlNode *dom);      /* import_map_cpu.c */
void ix_map_devices(struct ix *x, xmlNode *dom);  /* import_map_devices.c */
void ix_map_storage(struct ix *x, xmlNode *devs); /* import_map_disks.c: disks and nics */
