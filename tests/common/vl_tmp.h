/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Temporary trees of the tests (fake sysfs/proc roots, run folders): made
 * with mkdtemp(), removed with vl_rm_tree() in the teardown.
 */
#ifndef VL_TMP_H
#define VL_TMP_H

/* Remove path and everything below it, without following links (a tree a
 * test made may hold links out of it). Returns 0, or -1 with errno set (a
 * teardown may ignore it). */
int vl_rm_tree(const char *path);

#endif
