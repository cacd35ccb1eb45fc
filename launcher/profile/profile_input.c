/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of "inputs" across elements, for profile_validate(): what the
 * loader cannot see element by element. Pure: whether the node exists and
 * is an evdev device is host/input.c's, at run time.
 */
#include <errno.h>
#include <string.h>

#include "profile/profile.h"

#define FAIL(path, ...) vl_error_set_at(e, EINVAL, NULL, 0, 0, (path), __VA_ARGS__)

int profile_validate_inputs(const struct profile *p, struct vl_error *e)
{
        char path[64];

        if (p->n_inputs > PROFILE_INPUTS_MAX)
                return FAIL("$.inputs", "%u inputs are too many (at most %d)", p->n_inputs, PROFILE_INPUTS_MAX);
        for (unsigned i = 0; i < p->n_inputs; i++) {
                const struct profile_input *in = &p->inputs[i];

                (void) snprintf(path, sizeof(path), "$.inputs[%u].evdev", i);
                if (in->type != INPUT_EVDEV)
                        continue;
                if (in->evdev[0] != '/')
                        return FAIL(path, "\"%s\" is not an absolute path", in->evdev);
                /* QEMU's input-linux takes the device with EVIOCGRAB: two
                 * objects on one node, the second one's grab fails. Two
                 * links to one node are the host's check (host/input.c). */
                for (unsigned k = 0; k < i; k++)
                        if (p->inputs[k].type == INPUT_EVDEV && strcmp(p->inputs[k].evdev, in->evdev) == 0)
                                return FAIL(path, "\"%s\" is $.inputs[%u].evdev too", in->evdev, k);
        }
        return 0;
}
