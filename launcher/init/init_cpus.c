/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's CPUs, chosen from the snapshot's topology (init.h). Pure.
 *
 *  - whole cores: a vCPU pair of the guest is one host core and its SMT
 *    sibling, so the guest's idea of which threads share a core is true
 *    (-smp threads=2 with each pair pinned to siblings);
 *  - the host's first core stays the host's, with QEMU's other threads on
 *    it and on every CPU the guest does not get (cpu.emulator_pin);
 *  - on a CPU with two kinds of cores (Intel hybrid: the kernel's cpu_core
 *    and cpu_atom PMUs list them; else cpu_capacity or the maximum
 *    frequency) only the big ones: a vCPU on a small core slows the guest
 *    down unpredictably;
 *  - cores that share one L3 (one AMD CCX/CCD) when the count fits one: a
 *    guest spread over two L3s pays their latency on every shared line;
 *    then the L3 the host's core is not in, so host and guest do not evict
 *    each other.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "init/init_internal.h"

/* A CPU of a second kind when its capacity or frequency is below this
 * share of the highest: small cores are far below (Intel E-cores ~75%,
 * ARM little cores less), while one kind's spread (AMD preferred cores)
 * stays within a few percent. */
#define BIG_PERCENT 85

struct core {
        struct cpuset cpus;   /* its online threads */
        unsigned first, n;    /* lowest CPU, thread count */
        int domain;           /* index into the L3 domains */
        bool big;
};

struct topo {
        struct core cores[CPUSET_MAX];
        unsigned n_cores;
        struct cpuset domains[CPUSET_MAX]; /* L3 sharing sets (or package+die) */
        unsigned n_domains;
        const char *kinds;    /* NULL: one kind; else what told the kinds apart */
};

static bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
        return memcmp(a, b, sizeof(*a)) == 0;
}

static void cpuset_or(struct cpuset *a, const struct cpuset *b)
{
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                a->bits[i] |= b->bits[i];
}

static void cpuset_and(struct cpuset *a, const struct cpuset *b)
{
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                a->bits[i] &= b->bits[i];
}

static const struct init_cpu *cpu_of(const struct init_host *h, unsigned id)
{
        for (unsigned i = 0; i < h->n_cpus; i++)
                if (h->cpus[i].id == id)
                        return &h->cpus[i];
        return NULL;
}

/* The L3 domain key of a CPU: its L3 sharing set, else every CPU of its
 * package and die. */
static void domain_of(const struct init_host *h, const struct init_cpu *c, struct cpuset *ret)
{
        struct cpuset online = {};

        *ret = (struct cpuset) {};
        for (unsigned i = 0; i < h->n_cpus; i++) {
                cpuset_add(&online, h->cpus[i].id);
                if (cpuset_count(&c->l3) == 0 && h->cpus[i].package == c->package && h->cpus[i].die == c->die)
                        cpuset_add(ret, h->cpus[i].id);
        }
        if (cpuset_count(&c->l3) > 0) {
                *ret = c->l3;
                cpuset_and(ret, &online);
        }
}

/* Which cores are big: the hybrid PMUs, else cpu_capacity, else the maximum
 * frequency; one kind when none tells them apart. */
static void classify(const struct init_host *h, struct topo *t)
{
        unsigned max_cap = 0, max_khz = 0;
        bool all_cap = true, all_khz = true;

        for (unsigned i = 0; i < h->n_cpus; i++) {
                const struct init_cpu *c = &h->cpus[i];

                all_cap = all_cap && c->capacity > 0;
                all_khz = all_khz && c->max_khz > 0;
                max_cap = c->capacity > max_cap ? c->capacity : max_cap;
                max_khz = c->max_khz > max_khz ? c->max_khz : max_khz;
        }
        t->kinds = NULL;
        for (unsigned k = 0; k < t->n_cores; k++) {
                struct core *core = &t->cores[k];
                const struct init_cpu *c = cpu_of(h, core->first);

                if (h->hybrid) {
                        core->big = cpuset_has(&h->perf_cpus, core->first);
                        if (!core->big)
                                t->kinds = "cpu_core/cpu_atom";
                } else if (all_cap && max_cap > 0) {
                        core->big = (uint64_t) c->capacity * 100 >= (uint64_t) max_cap * BIG_PERCENT;
                        if (!core->big)
                                t->kinds = "cpu_capacity";
                } else if (all_khz && max_khz > 0) {
                        core->big = (uint64_t) c->max_khz * 100 >= (uint64_t) max_khz * BIG_PERCENT;
                        if (!core->big)
                                t->kinds = "cpuinfo_max_freq";
                } else
                        core->big = true;
        }
}

static void build_topo(const struct init_host *h, struct topo *t)
{
        struct cpuset online = {};

        t->n_cores = t->n_domains = 0;
        for (unsigned i = 0; i < h->n_cpus; i++)
                cpuset_add(&online, h->cpus[i].id);
        for (unsigned i = 0; i < h->n_cpus; i++) {
                const struct init_cpu *c = &h->cpus[i];
                struct cpuset sib = c->siblings, dom;
                bool known = false;
                unsigned d;

                cpuset_add(&sib, c->id);
                cpuset_and(&sib, &online);
                for (unsigned k = 0; k < t->n_cores && !known; k++)
                        known = cpuset_equal(&t->cores[k].cpus, &sib);
                if (known)
                        continue;
                domain_of(h, c, &dom);
                for (d = 0; d < t->n_domains; d++)
                        if (cpuset_equal(&t->domains[d], &dom))
                                break;
                if (d == t->n_domains)
                        t->domains[t->n_domains++] = dom;
                t->cores[t->n_cores++] = (struct core) {
                        .cpus = sib, .first = (unsigned) cpuset_first_missing(&sib, &(struct cpuset) {}),
                        .n = cpuset_count(&sib), .domain = (int) d,
                };
        }
        /* By their first CPU: the snapshot lists CPUs by id, and a core
         * appears at its first. */
        classify(h, t);
}

static void fmt(const struct cpuset *s, char *buf, size_t size)
{
        if (cpuset_format(s, buf, size) < 0)
                (void) snprintf(buf, size, "(%u CPUs)", cpuset_count(s));
}

int ib_cpus(struct ib *b, json_t *cpu)
{
        const struct init_host *h = b->h;
        _cleanup_free_ struct topo *t = calloc(1, sizeof(*t));
        struct cpuset guest = {}, rest = {}, online = {}, big = {}, small = {};
        unsigned eligible[CPUSET_MAX], n_elig = 0, width = 0, want, k, chosen[CPUSET_MAX], n_chosen = 0;
        unsigned per_domain[CPUSET_MAX] = {};
        const struct core *host;
        char s1[512], s2[512], s3[512];
        json_t *pin;
        int best = -1;

        if (!t)
                return -ENOMEM;
        build_topo(h, t);
        if (t->n_cores == 0)
                return vl_error_set(b->e, EINVAL, "no online CPU in the host's sysfs");
        host = &t->cores[0];
        for (unsigned i = 0; i < h->n_cpus; i++)
                cpuset_add(&online, h->cpus[i].id);

        /* The SMT width of the guest's cores: that of the first big core
         * after the host's. Cores of another width are not mixed in. */
        for (unsigned c = 1; c < t->n_cores && !width; c++)
                if (t->cores[c].big)
                        width = t->cores[c].n;
        for (unsigned c = 1; c < t->n_cores; c++)
                if (t->cores[c].big && t->cores[c].n == width) {
                        eligible[n_elig++] = c;
                        per_domain[t->cores[c].domain]++;
                }
        for (unsigned c = 0; c < t->n_cores; c++)
                cpuset_or(t->cores[c].big ? &big : &small, &t->cores[c].cpus);
        if (n_elig == 0)
                return vl_error_set(b->e, EINVAL,
                                    "this host has one %score: none is left for a guest after the host's",
                                    t->kinds ? "big " : "");

        want = b->o->cpus ? b->o->cpus : n_elig * width;
        if (want % width != 0)
                return vl_error_set(b->e, EINVAL,
                                    "--cpus %u: whole cores only, and this host's have %u threads: a multiple of %u",
                                    want, width, width);
        if (want > n_elig * width || want > PROFILE_VCPUS_MAX)
                return vl_error_set(b->e, EINVAL,
                                    "--cpus %u: at most %u (%u %scores x %u threads: every one but the host's first)",
                                    want, n_elig * width < PROFILE_VCPUS_MAX ? n_elig * width : PROFILE_VCPUS_MAX,
                                    n_elig, t->kinds ? "big " : "", width);
        k = want / width;

        /* One L3 when k cores fit one: not the host's L3 first, then the
         * fullest fit (fewest cores left over), then the first. */
        for (unsigned d = 0; d < t->n_domains; d++) {
                if (per_domain[d] < k)
                        continue;
                if (best < 0)
                        best = (int) d;
                else {
                        bool dh = (int) d == host->domain, bh = best == host->domain;

                        if ((bh && !dh) || (dh == bh && per_domain[d] < per_domain[best]))
                                best = (int) d;
                }
        }
        if (best >= 0) {
                for (unsigned i = 0; i < n_elig && n_chosen < k; i++)
                        if (t->cores[eligible[i]].domain == best)
                                chosen[n_chosen++] = eligible[i];
        } else {
                /* Over several: whole L3s, the largest first, the host's
                 * last; then by core order (eligible[] is sorted). */
                bool taken[CPUSET_MAX] = {};

                while (n_chosen < k) {
                        int d = -1;

                        for (unsigned x = 0; x < t->n_domains; x++) {
                                if (taken[x] || per_domain[x] == 0)
                                        continue;
                                if (d < 0 || ((int) x != host->domain && d == host->domain) ||
                                    (((int) x == host->domain) == (d == host->domain) &&
                                     per_domain[x] > per_domain[d]))
                                        d = (int) x;
                        }
                        if (d < 0)
                                break;
                        taken[d] = true;
                        for (unsigned i = 0; i < n_elig && n_chosen < k; i++)
                                if (t->cores[eligible[i]].domain == d)
                                        chosen[n_chosen++] = eligible[i];
                }
        }
        /* vCPU order = core order: QEMU numbers a core's threads together. */
        for (unsigned i = 1; i < n_chosen; i++)
                for (unsigned j = i; j > 0 && t->cores[chosen[j - 1]].first > t->cores[chosen[j]].first; j--) {
                        unsigned x = chosen[j];

                        chosen[j] = chosen[j - 1];
                        chosen[j - 1] = x;
                }

        ib_set(b, cpu, "sockets", json_integer(1));
        ib_set(b, cpu, "cores", json_integer(k));
        ib_set(b, cpu, "threads", json_integer(width));
        pin = json_array();
        ib_set(b, cpu, "pin", pin);
        s1[0] = '\0';
        for (unsigned i = 0; i < n_chosen; i++) {
                const struct core *c = &t->cores[chosen[i]];
                size_t len = strlen(s1);

                cpuset_or(&guest, &c->cpus);
                fmt(&c->cpus, s2, sizeof(s2));
                if (snprintf(s1 + len, sizeof(s1) - len, "%s%s", i ? " " : "", s2) < 0)
                        s1[len] = '\0';
                for (unsigned cpu_id = 0; cpu_id < CPUSET_MAX; cpu_id++) {
                        char one[16];

                        if (!cpuset_has(&c->cpus, cpu_id))
                                continue;
                        (void) snprintf(one, sizeof(one), "%u", cpu_id);
                        if (!pin || json_array_append_new(pin, json_string(one)) < 0)
                                b->err = -ENOMEM;
                }
        }
        rest = online;
        for (size_t i = 0; i < ELEMENTSOF(rest.bits); i++)
                rest.bits[i] &= ~guest.bits[i];
        fmt(&rest, s3, sizeof(s3));
        ib_set(b, cpu, "emulator_pin", json_string(s3));

        if (t->kinds) {
                fmt(&big, s2, sizeof(s2));
                fmt(&small, s3, sizeof(s3));
                ib_line(b, "cpu: two kinds of cores (%s): the guest gets big ones only (CPUs %s); the small "
                           "ones (%s) stay the host's",
                        t->kinds, s2, s3);
        }
        if (width > 1)
                ib_line(b, "cpu: %u vCPUs = %u cores x %u threads, each vCPU pinned to one host CPU, whole cores "
                           "with their SMT siblings: %s; --cpus N for another count",
                        want, k, width, s1);
        else
                ib_line(b, "cpu: %u vCPU%s = %u core%s (no SMT), each vCPU pinned to one host core: %s; --cpus N "
                           "for another count",
                        want, want == 1 ? "" : "s", k, k == 1 ? "" : "s", s1);
        if (t->n_domains > 1) {
                unsigned span = 0, fit = 0;
                bool seen[CPUSET_MAX] = {};

                for (unsigned i = 0; i < n_chosen; i++)
                        if (!seen[t->cores[chosen[i]].domain]) {
                                seen[t->cores[chosen[i]].domain] = true;
                                span++;
                        }
                for (unsigned d = 0; d < t->n_domains; d++)
                        fit = per_domain[d] > fit ? per_domain[d] : fit;
                if (span == 1) {
                        fmt(&t->domains[t->cores[chosen[0]].domain], s2, sizeof(s2));
                        ib_line(b, "cpu: the cores share one L3 (CPUs %s)%s", s2,
                                t->cores[chosen[0]].domain != host->domain ? ", not the host's core's" : "");
                } else
                        ib_line(b, "cpu: the cores span %u L3 caches: threads on different ones share data "
                                   "slowly; --cpus %u or less fits one",
                                span, fit * width);
        }
        fmt(&host->cpus, s2, sizeof(s2));
        fmt(&rest, s3, sizeof(s3));
        ib_line(b, "cpu: the first core (CPU%s %s) stays the host's; QEMU's other threads run on every CPU the "
                   "guest does not get (emulator_pin %s)",
                host->n == 1 ? "" : "s", s2, s3);
        return 0;
}
