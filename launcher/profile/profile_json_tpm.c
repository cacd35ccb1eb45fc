/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's "tpm": { "model": "crb" | "tis" | "none" } ("none": no TPM,
 * the way out of the one "os": "windows11" puts under the profile). Part of the strict
 * loader: profile_json.c calls it for the top-level key; the readers are
 * profile_json_read.c's.
 */
#include "profile/profile_json_read.h"

int profile_json_parse_tpm(struct ctx *c, json_t *root, struct profile_tpm *t)
{
        static const char *const keys[] = { "model", NULL };
        int r, model = TPM_MODEL_CRB;
        size_t m;
        json_t *o = pj_enter_typed(c, root, "tpm", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = pj_opt_enum(c, o, "model", profile_tpm_model_name, &model)) < 0)
                return r;
        t->enabled = model != TPM_MODEL_NONE;
        t->model = (enum tpm_model) model;
        pj_leave(c, m);
        return 0;
}
