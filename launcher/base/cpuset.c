/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpulist parsing and formatting (cpuset.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpuset.h"

bool cpuset_has(const struct cpuset *c, unsigned cpu)
{
        return cpu < CPUSET_MAX && (c->bits[cpu / 64] >> (cpu % 64)) & 1;
}

void cpuset_add(struct cpuset *c, unsigned cpu)
{
        if (cpu < CPUSET_MAX)
                c->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

unsigned cpuset_count(const struct cpuset *c)
{
        unsigned n = 0;

        for (size_t i = 0; i < CPUSET_MAX / 64; i++)
                n += (unsigned) __builtin_popcountll(c->bits[i]);
        return n;
}

int cpuset_first_missing(const struct cpuset *a, const struct cpuset *b)
{
        for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++)
                if (cpuset_has(a, cpu) && !cpuset_has(b, cpu))
                        return (int) cpu;
        return -1;
}

static int number(const char **s, unsigned *ret)
{
        unsigned long v;
        char *end;

        if (!isdigit((unsigned char) **s))
                return -EINVAL;
        errno = 0;
        v = strtoul(*s, &end, 10);
        if (errno || v >= CPUSET_MAX)
                return -ERANGE;
        *s = end;
        *ret = (unsigned) v;
        return 0;
}

int cpuset_parse(const char *s, struct cpuset *ret)
{
        struct cpuset c = {};
        int r;

        for (;;) {
                unsigned a, b;

                while (*s == ' ')
                        s++;
                r = number(&s, &a);
                if (r < 0)
                        return r;
                b = a;
                if (*s == '-') {
                        s++;
                        r = number(&s, &b);
                        if (r < 0)
                                return r;
                        if (b < a)
                                return -EINVAL;
                }
                for (unsigned cpu = a; cpu <= b; cpu++)
                        cpuset_add(&c, cpu);
                if (*s == ',') {
                        s++;
                        continue;
                }
                if (*s == '\n')
                        s++;
                if (*s)
                        return -EINVAL;
                break;
        }
        *ret = c;
        return 0;
}

int cpuset_format(const struct cpuset *c, char *buf, size_t size)
{
        size_t off = 0;

        if (size == 0)
                return -ENAMETOOLONG;
        buf[0] = '\0';
        for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++) {
                unsigned end = cpu;
                int n;

                if (!cpuset_has(c, cpu))
                        continue;
                while (end + 1 < CPUSET_MAX && cpuset_has(c, end + 1))
                        end++;
                n = end == cpu ? snprintf(buf + off, size - off, "%s%u", off ? "," : "", cpu)
                               : snprintf(buf + off, size - off, "%s%u-%u", off ? "," : "", cpu, end);
                if (n < 0 || (size_t) n >= size - off)
                        return -ENAMETOOLONG;
                off += (size_t) n;
                cpu = end;
        }
        return 0;
}
