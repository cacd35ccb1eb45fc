/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * macvtap and tap links for a run, over rtnetlink with libmnl: see net.h.
 * Every host change is journalled before it is made, so that `recover`
 * can delete what a killed launcher left. Runs in the launcher (never in the
 * forked child); nothing here prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "host/journal.h"
#include "host/net.h"

/* libmnl's MNL_SOCKET_BUFFER_SIZE is computed with sysconf() at run time,
 * which -Wvla rejects as an array size; 8 KiB is its upper value and far
 * more than one request or ack (with extended-ack text) needs. */
#define NET_NL_BUF 8192


struct nl {
        struct mnl_socket *sock;
        unsigned portid;
        unsigned seq;
};

static void nl_close(struct nl *nl)
{
        if (nl->sock)
                mnl_socket_close(nl->sock);
        nl->sock = NULL;
}

static int nl_open(struct nl *nl)
{
        /* mnl_socket_open2: the only way to get SOCK_CLOEXEC from libmnl. */
        nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->sock)
                return -errno;
        if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                nl_close(nl);
                return r;
        }
        nl->portid = mnl_socket_get_portid(nl->sock);
        nl->seq = (unsigned) time(NULL);
        return 0;
}

/* Send one request with NLM_F_ACK and wait for its ack. Returns 0 or the
 * kernel's -errno (mnl_cb_run() turns NLMSG_ERROR into errno). */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh)
{
        char buf[NET_NL_BUF];
        ssize_t n;
        int r;

        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = ++nl->seq;
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                r = mnl_cb_run(buf, (size_t) n, nl->seq, nl->portid, NULL, NULL);
                if (r < 0)
                        return errno > 0 ? -errno : -EIO;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int ifindex,
                                 struct ifinfomsg **ret_ifm)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifm;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = ifindex;
        if (ret_ifm)
                *ret_ifm = ifm;
        return nlh;
}

static uint32_t macvlan_mode(enum macvtap_mode m)
{
        switch (m) {
        case MACVTAP_VEPA:
                return MACVLAN_MODE_VEPA;
        case MACVTAP_PRIVATE:
                return MACVLAN_MODE_PRIVATE;
        case MACVTAP_PASSTHRU:
                return MACVLAN_MODE_PASSTHRU;
        case MACVTAP_BRIDGE:
        default:
                return MACVLAN_MODE_BRIDGE;
        }
}

static int link_create_macvtap(struct nl *nl, const char *ifname, int lower, const uint8_t mac[6],
                               enum macvtap_mode mode)
{
        char buf[NET_NL_BUF];
        struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, NULL);
        struct nlattr *info, *data;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t) lower);
        /* The guest's own MAC: macvtap delivers only frames for the link's
         * address to the tap, so it must be the one QEMU gives the guest. */
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvtap"); /* the kernel's rtnl_link_ops name */
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, macvlan_mode(mode));
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        return nl_talk(nl, nlh);
}

/* Set a link up and, when master > 0, enslave it (a tap to its bridge). */
static int link_up(struct nl *nl, int ifindex, int master)
{
        char buf[NET_NL_BUF];
        struct ifinfomsg *ifm;
        struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex, &ifm);

        ifm->ifi_flags = IFF_UP;
        ifm->ifi_change = IFF_UP;
        if (master > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) master);
        return nl_talk(nl, nlh);
}

/* Delete by index: what was checked is what goes, whatever took the name
 * since. */
static int link_delete(struct nl *nl, int ifindex)
{
        char buf[NET_NL_BUF];
        struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, ifindex, NULL);

        return nl_talk(nl, nlh);
}

/* A link as the kernel reports it. */
struct link_info {
        int ifindex;
        char mac[18];  /* "52:54:00:..."; "" when it has none */
        char kind[32]; /* rtnl_link_ops name: "macvtap", "tun", "veth"...; "" for none */
};

static int link_info_attr(const struct nlattr *a, void *data)
{
        struct link_info *li = data;

        if (mnl_attr_get_type(a) == IFLA_ADDRESS && mnl_attr_get_payload_len(a) == 6) {
                const uint8_t *m = mnl_attr_get_payload(a);
                (void) snprintf(li->mac, sizeof(li->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                                m[4], m[5]);
        } else if (mnl_attr_get_type(a) == IFLA_LINKINFO) {
                const struct nlattr *in;
                mnl_attr_for_each_nested(in, a)
                        if (mnl_attr_get_type(in) == IFLA_INFO_KIND && mnl_attr_validate(in, MNL_TYPE_STRING) >= 0)
                                (void) snprintf(li->kind, sizeof(li->kind), "%s", mnl_attr_get_str(in));
        }
        return MNL_CB_OK;
}

static int link_info_msg(const struct nlmsghdr *nlh, void *data)
{
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        struct link_info *li = data;

        li->ifindex = ifm->ifi_index;
        return mnl_attr_parse(nlh, sizeof(*ifm), link_info_attr, data);
}

/* The link named ifname: 0 with *ret filled; -ENODEV when there is none;
 * other -errno. */
static int link_get(struct nl *nl, const char *ifname, struct link_info *ret)
{
        char buf[NET_NL_BUF];
        struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_REQUEST, 0, NULL);
        ssize_t n;
        int r;

        *ret = (struct link_info) {};
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
        nlh->nlmsg_seq = ++nl->seq;
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
        if (n < 0)
                return -errno;
        r = mnl_cb_run(buf, (size_t) n, nl->seq, nl->portid, link_info_msg, ret);
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        return ret->ifindex > 0 ? 0 : -ENODEV;
}

int net_link_name(const char *name, unsigned index, char *buf, size_t size)
{
        uint32_t h = 2166136261u; /* FNV-1a */
        int keep, n;

        if (size < IFNAMSIZ || index >= PROFILE_NICS_MAX)
                return -EINVAL;
        n = snprintf(buf, size, "vl-%s-%u", name, index);
        if (n > 0 && n < IFNAMSIZ)
                return 0; /* the whole name: unique, as VM names are */
        /* Cut, two VMs could share a name ("vl-secaud-lon-0" for both
         * "secaud-long-a" and "secaud-long-b"): the cut name carries a hash
         * of the whole one, after a '+' that no VM name has. */
        for (const char *c = name; *c; c++)
                h = (h ^ (uint8_t) *c) * 16777619u;
        keep = IFNAMSIZ - 1 - (int) strlen("vl-+XXXXXX-0");
        (void) snprintf(buf, size, "vl-%.*s+%06x-%u", keep, name, (unsigned) (h & 0xffffff), index);
        return 0;
}

static int check_ifname(const char *sysfs_root, const char *source, unsigned i, const char *field,
                        const char *ifname, bool bridge, struct vl_error *e)
{
        char path[4096], jp[64];
        int r;

        snprintf(jp, sizeof(jp), "$.nics[%u].%s", i, field);
        if (!ifname[0] || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') || strcmp(ifname, ".") == 0 ||
            strcmp(ifname, "..") == 0)
                return vl_error_set_at(e, EINVAL, source, 0, 0, jp, "\"%s\" is not a network device name",
                                       ifname);
        r = fs_join(path, sizeof(path), sysfs_root, "class/net/%s", ifname);
        if (r < 0)
                return vl_error_set_at(e, -r, source, 0, 0, jp, "sysfs path too long");
        if (!fs_exists(path))
                return vl_error_set_at(e, ENODEV, source, 0, 0, jp,
                                       "network device \"%s\" does not exist (no %s): name an existing %s "
                                       "(see `ip link`)%s",
                                       ifname, path, bridge ? "bridge" : "interface",
                                       bridge ? " or create it first" : "");
        if (!bridge)
                return 0;
        r = fs_join(path, sizeof(path), sysfs_root, "class/net/%s/bridge", ifname);
        if (r < 0)
                return vl_error_set_at(e, -r, source, 0, 0, jp, "sysfs path too long");
        if (!fs_exists(path))
                return vl_error_set_at(e, ENODEV, source, 0, 0, jp,
                                       "network device \"%s\" is not a bridge (no %s): name an existing bridge "
                                       "(see `ip -d link show type bridge`), or use backend \"macvtap\" "
                                       "on an interface",
                                       ifname, path);
        return 0;
}

int net_check(const struct profile *p, const char *sysfs_root, struct vl_error *e)
{
        int r;

        for (unsigned i = 0; i < p->n_nics; i++) {
                const struct profile_nic *n = &p->nics[i];
                if (n->backend == NIC_MACVTAP)
                        r = check_ifname(sysfs_root, p->source, i, "dev", n->dev, false, e);
                else if (n->backend == NIC_TAP)
                        r = check_ifname(sysfs_root, p->source, i, "bridge", n->bridge, true, e);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

void net_close_fds(int *fds, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        close(fds[i]);
                        fds[i] = -1;
                }
}

/* The macvtap's character device. The kernel names it tapIFINDEX and
 * publishes its number in sysfs; /dev/tapN appears only with devtmpfs or
 * udev. Without it (or when the node there is not that device: ifindexes are
 * per network namespace), a node is made in the VM's run dir, opened and
 * unlinked at once: the open fd is all QEMU needs. A run dir on a nodev
 * mount (systemd mounts /run nodev) cannot hold a usable node: then it is
 * made in DEV under a name of its own, never over an existing node. */
static int open_macvtap(const struct host_roots *roots, const char *vm, const char *ifname, int ifindex,
                        struct vl_error *e)
{
        char path[4096], num[32];
        unsigned maj, min;
        struct statvfs sv;
        struct stat st;
        dev_t devnum;
        int fd, r;

        r = fs_join(path, sizeof(path), roots->sysfs, "class/net/%s/macvtap/tap%d/dev", ifname, ifindex);
        if (r >= 0)
                r = fs_read(path, num, sizeof(num));
        if (r < 0)
                return vl_error_set(e, -r, "cannot read the device number of macvtap \"%s\" (%s): %s", ifname,
                                    path, strerror(-r));
        if (sscanf(num, "%u:%u", &maj, &min) != 2)
                return vl_error_set(e, EINVAL, "%s: \"%s\" is not MAJOR:MINOR", path, num);
        devnum = makedev(maj, min);

        r = fs_join(path, sizeof(path), roots->dev, "tap%d", ifindex);
        if (r < 0)
                return vl_error_set(e, -r, "path too long");
        if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == devnum) {
                fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return vl_error_set(e, errno, "cannot open '%s' for macvtap \"%s\": %s", path, ifname,
                                            strerror(errno));
                return fd;
        }

        r = fs_join(path, sizeof(path), roots->run, "%s", vm);
        if (r >= 0 && statvfs(path, &sv) == 0 && (sv.f_flag & ST_NODEV))
                r = fs_join(path, sizeof(path), roots->dev, ".vl-%s-tap%d", vm, ifindex);
        else if (r >= 0)
                r = fs_join(path, sizeof(path), roots->run, "%s/tap%d", vm, ifindex);
        if (r < 0)
                return vl_error_set(e, -r, "path too long");
        (void) unlink(path); /* a node left by a killed run */
        if (mknod(path, S_IFCHR | 0600, devnum) < 0)
                return vl_error_set(e, errno, "cannot create '%s' (%u:%u) for macvtap \"%s\": %s", path, maj, min,
                                    ifname, strerror(errno));
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        r = -errno;
        (void) unlink(path);
        if (fd < 0)
                return vl_error_set(e, -r, "cannot open '%s' for macvtap \"%s\": %s", path, ifname, strerror(-r));
        return fd;
}

/* A tap made through /dev/net/tun lives as long as an fd is attached (not
 * TUNSETPERSIST): QEMU's copy keeps it, and it vanishes with QEMU even if
 * this process is killed. IFF_VNET_HDR stays off: qemu_argv does not pass
 * vnet_hdr=on, and QEMU probes the fd's flags itself. */
static int open_tap(const struct host_roots *roots, const char *ifname, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {};
        char path[4096];
        int r;

        r = fs_join(path, sizeof(path), roots->dev, "net/tun");
        if (r < 0)
                return vl_error_set(e, -r, "path too long");
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s (is the tun module loaded?)", path,
                                    strerror(errno));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return vl_error_set(e, errno, "cannot create tap \"%s\" (TUNSETIFF): %s", ifname, strerror(errno));
        return TAKE_FD(fd);
}

/* NIC i: its journal entry goes to *ret_x once it is journaled (before the
 * link exists); kind _JOURNAL_KIND_MAX while nothing was. */
static int setup_one(const struct host_roots *roots, struct nl *nl, const struct profile *p, unsigned i,
                     int *ret_fd, struct journal_entry *ret_x, struct vl_error *e)
{
        const struct profile_nic *n = &p->nics[i];
        const bool mv = n->backend == NIC_MACVTAP;
        const char *other = mv ? n->dev : n->bridge;
        _cleanup_close_ int fd = -EBADF;
        struct journal_entry x = { .kind = mv ? JOURNAL_MACVTAP : JOURNAL_TAP }, made;
        struct link_info li;
        char *ifname = x.link.name;
        int other_index, ifindex, r;

        ret_x->kind = _JOURNAL_KIND_MAX;
        net_link_name(p->name, i, ifname, sizeof(x.link.name));
        (void) snprintf(x.link.peer, sizeof(x.link.peer), "%s", other);
        /* A macvtap gets the guest's MAC, known now; a tap's the kernel
         * chooses: recorded once the link exists. */
        if (mv)
                (void) snprintf(x.link.mac, sizeof(x.link.mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
                                n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
        other_index = (int) if_nametoindex(other);
        if (other_index == 0)
                return vl_error_set(e, ENODEV, "$.nics[%u].%s: network device \"%s\" is gone", i,
                                    mv ? "dev" : "bridge", other);
        /* Checked before the journal names it, so that an undo never deletes
         * a link this run did not make. */
        if (if_nametoindex(ifname) != 0)
                return vl_error_set(e, EEXIST,
                                    "a network link \"%s\" exists already: another run of \"%s\"? If it is a "
                                    "leftover: `ip link delete %s`",
                                    ifname, p->name, ifname);
        r = journal_add_entry(roots, p->name, &x, e);
        if (r < 0)
                return r;
        *ret_x = x;

        if (mv) {
                r = link_create_macvtap(nl, ifname, other_index, n->mac, n->mode);
                if (r < 0) {
                        vl_error_set(e, -r, "$.nics[%u]: cannot create macvtap \"%s\" on \"%s\": %s", i, ifname,
                                     other, strerror(-r));
                        /* Not made: the entry goes, and EEXIST means it is someone else's. */
                        (void) journal_remove_entry(roots, p->name, &x, NULL);
                        ret_x->kind = _JOURNAL_KIND_MAX;
                        return r;
                }
        } else {
                fd = open_tap(roots, ifname, e);
                if (fd < 0) {
                        (void) journal_remove_entry(roots, p->name, &x, NULL);
                        ret_x->kind = _JOURNAL_KIND_MAX;
                        return fd;
                }
        }
        r = link_get(nl, ifname, &li);
        if (r < 0)
                return vl_error_set(e, -r, "the new link \"%s\" is not there: %s", ifname, strerror(-r));
        ifindex = li.ifindex;
        /* Which link is ours, for the undo. */
        made = x;
        made.link.ifindex = (uint64_t) li.ifindex;
        (void) snprintf(made.link.mac, sizeof(made.link.mac), "%s", li.mac);
        r = journal_update_entry(roots, p->name, &x, &made, e);
        if (r < 0)
                return r;
        *ret_x = made;
        r = link_up(nl, ifindex, mv ? 0 : other_index);
        if (r < 0)
                return vl_error_set(e, -r, "$.nics[%u]: cannot set %s up%s%s: %s", i, ifname,
                                    mv ? "" : " on bridge ", mv ? "" : other, strerror(-r));
        if (mv) {
                fd = open_macvtap(roots, p->name, ifname, ifindex, e);
                if (fd < 0)
                        return fd;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int net_setup(const struct host_roots *roots, const struct profile *p, int ret_fds[PROFILE_NICS_MAX],
              struct vl_error *e)
{
        struct journal_entry made[PROFILE_NICS_MAX];
        struct nl nl = {};
        int fds[PROFILE_NICS_MAX];
        unsigned n = 0;
        int r = 0;

        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++)
                fds[i] = ret_fds[i] = -1;
        for (unsigned i = 0; i < p->n_nics; i++)
                if (p->nics[i].backend != NIC_USER)
                        n++;
        if (n == 0)
                return 0;

        r = nl_open(&nl);
        if (r < 0)
                return vl_error_set(e, -r, "cannot open a netlink socket: %s", strerror(-r));
        n = 0;
        for (unsigned i = 0; i < p->n_nics && r >= 0; i++) {
                if (p->nics[i].backend == NIC_USER)
                        continue;
                r = setup_one(roots, &nl, p, i, &fds[i], &made[n], e);
                if (r >= 0)
                        n++;
        }
        nl_close(&nl);
        if (r >= 0) {
                memcpy(ret_fds, fds, sizeof(fds));
                return 0;
        }
        net_close_fds(fds, PROFILE_NICS_MAX);
        /* The one that failed was journaled too, and may exist half made. */
        if (n < PROFILE_NICS_MAX && made[n].kind != _JOURNAL_KIND_MAX)
                n++;
        while (n-- > 0) {
                struct vl_error ue = {};
                int u = net_undo_link(roots, &made[n], &ue);
                if (u >= 0)
                        u = journal_remove_entry(roots, p->name, &made[n], &ue);
                if (u < 0) {
                        vl_error_prefix(e, "links NOT all deleted (%s; run `vfio-launch recover %s`)", ue.msg,
                                        p->name);
                        break;
                }
        }
        return r;
}

int net_undo_link(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e)
{
        const char *want = x->kind == JOURNAL_MACVTAP ? "macvtap" : "tun";
        struct link_info li;
        struct nl nl = {};
        int r;

        if (x->kind != JOURNAL_MACVTAP && x->kind != JOURNAL_TAP)
                return vl_error_set(e, EINVAL, "not a network link entry");
        r = nl_open(&nl);
        if (r < 0)
                return vl_error_set(e, -r, "cannot open a netlink socket: %s", strerror(-r));
        r = link_get(&nl, x->link.name, &li);
        /* Ours only if all that is known of it matches: the name may have
         * been taken since by another VM's link, or anyone's. A tap goes
         * with QEMU's last fd: gone is the usual case. */
        if (r >= 0 && strcmp(li.kind, want) == 0 && (!x->link.ifindex || x->link.ifindex == (uint64_t) li.ifindex) &&
            (!x->link.mac[0] || strcmp(x->link.mac, li.mac) == 0))
                r = link_delete(&nl, li.ifindex);
        nl_close(&nl);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return vl_error_set(e, -r, "cannot delete %s \"%s\": %s", journal_kind_to_string(x->kind),
                                    x->link.name, strerror(-r));
        return 0;
}

/* --- what is configured on a link (read only) ------------------------------ */

/* A dump answer is several messages per datagram; the kernel sizes its
 * dump skbs by the reader's buffer, up to 32 KiB (libmnl's
 * MNL_SOCKET_DUMP_SIZE), so a smaller buffer only means more datagrams. */
#define NET_NL_DUMP_BUF 32768

struct usage_ctx {
        int ifindex;
        struct net_link_usage *u;
};

static int addr_attr(const struct nlattr *a, void *data)
{
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(a);

        if (mnl_attr_type_valid(a, IFA_MAX) >= 0 && (type == IFA_ADDRESS || type == IFA_LOCAL))
                tb[type] = a;
        return MNL_CB_OK;
}

static int addr_msg(const struct nlmsghdr *nlh, void *data)
{
        struct usage_ctx *c = data;
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[IFA_MAX + 1] = {};
        const struct nlattr *a;
        char text[INET6_ADDRSTRLEN];
        size_t len = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;

        if (nlh->nlmsg_type != RTM_NEWADDR || (int) ifa->ifa_index != c->ifindex || len == 0)
                return MNL_CB_OK;
        if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb) < 0)
                return MNL_CB_ERROR;
        /* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on a
         * point-to-point link, and the only one IPv6 sends. */
        a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (a && mnl_attr_get_payload_len(a) >= len && c->u->n_addrs < NET_LINK_ADDRS_MAX &&
            inet_ntop(ifa->ifa_family, mnl_attr_get_payload(a), text, sizeof(text)))
                (void) snprintf(c->u->addrs[c->u->n_addrs], sizeof(c->u->addrs[0]), "%s/%u", text,
                                ifa->ifa_prefixlen);
        c->u->n_addrs++;
        return MNL_CB_OK;
}

static int route_attr(const struct nlattr *a, void *data)
{
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(a);

        if (mnl_attr_type_valid(a, RTA_MAX) >= 0 && (type == RTA_OIF || type == RTA_MULTIPATH || type == RTA_TABLE))
                tb[type] = a;
        return MNL_CB_OK;
}

static bool multipath_has(const struct nlattr *mp, int ifindex)
{
        const struct rtnexthop *nh = mnl_attr_get_payload(mp);
        size_t left = mnl_attr_get_payload_len(mp);

        while (left >= sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
                size_t step = RTNH_ALIGN(nh->rtnh_len);
                if (nh->rtnh_ifindex == ifindex)
                        return true;
                if (step >= left)
                        break;
                left -= step;
                nh = RTNH_NEXT(nh);
        }
        return false;
}

static int route_msg(const struct nlmsghdr *nlh, void *data)
{
        struct usage_ctx *c = data;
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[RTA_MAX + 1] = {};
        uint32_t table;

        if (nlh->nlmsg_type != RTM_NEWROUTE)
                return MNL_CB_OK;
        if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr, tb) < 0)
                return MNL_CB_ERROR;
        table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
        /* The local table holds the kernel's own local and broadcast
         * routes of every address: the addresses are counted already. */
        if (rtm->rtm_type != RTN_UNICAST || table == RT_TABLE_LOCAL)
                return MNL_CB_OK;
        if (!(tb[RTA_OIF] && (int) mnl_attr_get_u32(tb[RTA_OIF]) == c->ifindex) &&
            !(tb[RTA_MULTIPATH] && multipath_has(tb[RTA_MULTIPATH], c->ifindex)))
                return MNL_CB_OK;
        c->u->n_routes++;
        if (rtm->rtm_dst_len == 0)
                c->u->default_route = true;
        return MNL_CB_OK;
}

/* One NLM_F_DUMP request, each answer to cb, until NLMSG_DONE. */
static int nl_dump(struct nl *nl, uint16_t type, size_t hdrlen, mnl_cb_t cb, void *data)
{
        char buf[NET_NL_DUMP_BUF];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct rtgenmsg *g;
        ssize_t n;
        int r;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = ++nl->seq;
        /* ifaddrmsg and rtmsg both start with the family: AF_UNSPEC, all. */
        g = mnl_nlmsg_put_extra_header(nlh, hdrlen);
        g->rtgen_family = AF_UNSPEC;
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                r = mnl_cb_run(buf, (size_t) n, nl->seq, nl->portid, cb, data);
                if (r < 0)
                        return errno > 0 ? -errno : -EIO;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

int net_link_usage(int ifindex, struct net_link_usage *ret)
{
        struct nl nl = {};
        struct usage_ctx c = { .ifindex = ifindex, .u = ret };
        int r;

        memset(ret, 0, sizeof(*ret));
        if (ifindex <= 0)
                return -EINVAL;
        r = nl_open(&nl);
        if (r < 0)
                return r;
        r = nl_dump(&nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_msg, &c);
        if (r >= 0)
                r = nl_dump(&nl, RTM_GETROUTE, sizeof(struct rtmsg), route_msg, &c);
        nl_close(&nl);
        return r;
}
