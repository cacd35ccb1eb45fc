/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* doctor_groups(): every IOMMU group with its devices and drivers (doctor.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "host/pci.h"
#include "report/doctor.h"

/* Base/sub class names as pci.ids spells them, for the classes a
 * passthrough host shows; anything else is printed as its code only. */
static const char *class_name(uint32_t class_code)
{
        static const struct {
                uint16_t code;
                const char *name;
        } names[] = {
                { 0x0100, "SCSI storage controller" }, { 0x0101, "IDE interface" },
                { 0x0106, "SATA controller" }, { 0x0107, "Serial Attached SCSI controller" },
                { 0x0108, "Non-Volatile memory controller" }, { 0x0200, "Ethernet controller" },
                { 0x0280, "Network controller" }, { 0x0300, "VGA compatible controller" },
                { 0x0302, "3D controller" }, { 0x0380, "Display controller" },
                { 0x0401, "Multimedia audio controller" }, { 0x0403, "Audio device" },
                { 0x0500, "RAM memory" }, { 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" },
                { 0x0604, "PCI bridge" }, { 0x0780, "Communication controller" },
                { 0x0806, "IOMMU" }, { 0x0880, "System peripheral" }, { 0x0c03, "USB controller" },
                { 0x0c05, "SMBus" }, { 0x1180, "Signal processing controller" },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].code == class_code >> 8)
                        return names[i].name;
        return "";
}

static int group_cmp(const void *a, const void *b)
{
        const struct pci_device *x = a, *y = b;

        uint64_t ka = (uint64_t) x->addr.domain << 24 | x->addr.bus << 16 | x->addr.slot << 8 | x->addr.function;
        uint64_t kb = (uint64_t) y->addr.domain << 24 | y->addr.bus << 16 | y->addr.slot << 8 | y->addr.function;

        if (x->iommu_group != y->iommu_group)
                return x->iommu_group < y->iommu_group ? -1 : 1;
        return ka < kb ? -1 : ka > kb;
}

static int groups_json(const struct pci_device *devs, size_t n, char **ret)
{
        json_t *root = json_object(), *groups = json_array(), *cur = NULL;
        int last = -1, r = -ENOMEM;

        if (!root || !groups || json_object_set(root, "groups", groups) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                const struct pci_device *d = &devs[i];
                char a[PCI_ADDR_STRLEN], cls[8], ids[10];
                json_t *o;
                if (d->iommu_group < 0)
                        continue;
                if (d->iommu_group != last) {
                        json_t *g;
                        cur = json_array();
                        g = json_pack("{s:i, s:o}", "group", d->iommu_group, "devices", cur);
                        if (!g || json_array_append_new(groups, g) < 0)
                                goto out;
                        last = d->iommu_group;
                }
                pci_addr_format(&d->addr, a);
                (void) snprintf(cls, sizeof(cls), "%04x", (unsigned) (d->class_code >> 8));
                (void) snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor_id, d->device_id);
                o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "address", a, "class", cls, "class_name",
                              class_name(d->class_code), "ids", ids, "vendor", d->vendor_name, "device",
                              d->device_name, "driver", d->driver);
                if (!o || json_array_append_new(cur, o) < 0)
                        goto out;
        }
        *ret = json_dumps(root, JSON_INDENT(2));
        r = *ret ? 0 : -ENOMEM;
out:
        json_decref(groups);
        json_decref(root);
        return r;
}

static int groups_text(const struct pci_device *devs, size_t n, char **ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = NULL;
        size_t size = 0;
        int last = -1;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct pci_device *d = &devs[i];
                const char *cn = class_name(d->class_code);
                char a[PCI_ADDR_STRLEN];
                if (d->iommu_group < 0)
                        continue;
                if (d->iommu_group != last)
                        fprintf(f, "IOMMU group %d\n", d->iommu_group);
                last = d->iommu_group;
                pci_addr_format(&d->addr, a);
                /* lspci -nn's shape: class name [code]: vendor device [ids] */
                fprintf(f, "  %s %s%s[%04x]: %s%s%s [%04x:%04x] driver=%s\n", a, cn, cn[0] ? " " : "",
                        (unsigned) (d->class_code >> 8), d->vendor_name[0] ? d->vendor_name : "",
                        d->vendor_name[0] && d->device_name[0] ? " " : "", d->device_name, d->vendor_id,
                        d->device_id, d->driver[0] ? d->driver : "none");
        }
        if (fclose(TAKE_PTR(f)) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int doctor_groups(const char *sysfs_root, const char *pci_ids, bool json, char **ret, struct vl_error *e)
{
        _cleanup_pci_ctx_ struct pci_ctx *c = NULL;
        _cleanup_free_ struct pci_device *devs = NULL;
        size_t n = 0;
        int r;

        if (!pci_iommu_enabled(sysfs_root))
                return vl_error_set(e, ENODEV,
                                    "the IOMMU is off: %s/kernel/iommu_groups is empty (enable VT-d / AMD-Vi in the "
                                    "firmware setup and boot with intel_iommu=on on Intel)",
                                    sysfs_root);
        r = pci_ctx_new(sysfs_root, pci_ids, &c, e);
        if (r < 0)
                return r;
        r = pci_scan(c, &devs, &n, e);
        if (r < 0)
                return r;
        qsort(devs, n, sizeof(*devs), group_cmp);
        r = json ? groups_json(devs, n, ret) : groups_text(devs, n, ret);
        if (r < 0)
                return vl_error_set(e, -r, "out of memory");
        return 0;
}
