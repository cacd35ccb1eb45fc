/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the domain XML, with the limits a file from anywhere needs, and
 * the marking helpers of import_internal.h.
 *
 * Hostile input (the file may come from a forum post): libxml2 is told
 * nothing that would make it expand or fetch — no XML_PARSE_NOENT (entity
 * substitution), no XML_PARSE_DTDLOAD, XML_PARSE_NONET, no XML_PARSE_HUGE
 * (its own caps stay) — and on top of that a <!DOCTYPE> stops the parse the
 * moment it is seen, before any entity declaration is read (libvirt never
 * writes one), the external entity loader refuses everything, the file is
 * read whole under IMPORT_FILE_MAX first, and element nesting is capped at
 * IMPORT_DEPTH_MAX while parsing.
 *
 * libxml2 is opened when a domain is imported (base/dl.h), not when
 * vfio-launch starts: every other command would pay the loader for it, ICU
 * and libstdc++.
 */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dl.h"
#include "import/import_internal.h"

DL_FN(xmlSAX2GetLineNumber);
DL_FN(xmlSAX2GetColumnNumber);
DL_FN(xmlStopParser);
DL_FN(xmlFreeParserCtxt);
DL_FN(xmlFreeDoc);
DL_FN(xmlSetGenericErrorFunc);
DL_FN(xmlSetStructuredErrorFunc);
DL_FN(xmlSetExternalEntityLoader);
DL_FN(xmlNewParserCtxt);
DL_FN(xmlCtxtReadMemory);
DL_FN(xmlCtxtGetLastError);
DL_FN(xmlDocGetRootElement);
DL_FN(xmlHasProp);
DL_FN(xmlGetNodePath);
DL_FN(xmlGetLineNo);
/* A variable of libxml2, not a function: the free() its allocations go
 * back through. Resolved as data: the address of that variable. */
static xmlFreeFunc *sym_xmlFree;

static const struct dl_sym xml_syms[] = {
        DL_SYM(xmlSAX2GetLineNumber),
        DL_SYM(xmlSAX2GetColumnNumber),
        DL_SYM(xmlStopParser),
        DL_SYM(xmlFreeParserCtxt),
        DL_SYM(xmlFreeDoc),
        DL_SYM(xmlSetGenericErrorFunc),
        DL_SYM(xmlSetStructuredErrorFunc),
        DL_SYM(xmlSetExternalEntityLoader),
        DL_SYM(xmlNewParserCtxt),
        DL_SYM(xmlCtxtReadMemory),
        DL_SYM(xmlCtxtGetLastError),
        DL_SYM(xmlDocGetRootElement),
        DL_SYM(xmlHasProp),
        DL_SYM(xmlGetNodePath),
        DL_SYM(xmlGetLineNo),
        DL_SYM(xmlFree),
};

static struct dl_lib libxml2 = {
        .soname = "libxml2.so.2",
        .package = "libxml2",
        .syms = xml_syms,
        .n_syms = ELEMENTSOF(xml_syms),
};

/* What the SAX hooks found, with where (1-based). */
struct guard {
        const char *why; /* static text; NULL = nothing refused */
        int line, column;
        int root_line, root_column;
        startElementNsSAX2Func start;
};

static void guard_stop(xmlParserCtxtPtr ctxt, const char *why)
{
        struct guard *g = ctxt->_private;

        if (!g->why) {
                g->why = why;
                g->line = sym_xmlSAX2GetLineNumber(ctxt);
                g->column = sym_xmlSAX2GetColumnNumber(ctxt);
        }
        sym_xmlStopParser(ctxt);
}

static void refuse_dtd(void *ctx, const xmlChar *name _unused_, const xmlChar *ext _unused_,
                       const xmlChar *sys _unused_)
{
        guard_stop(ctx, "a <!DOCTYPE> is not accepted (libvirt writes none; its entities could "
                        "expand without bound or read files)");
}

static void refuse_reference(void *ctx, const xmlChar *name _unused_)
{
        guard_stop(ctx, "an entity reference is not accepted (only &lt; &gt; &amp; &quot; &apos; "
                        "and character references)");
}

static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                          int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                          int nb_defaulted, const xmlChar **attributes)
{
        xmlParserCtxtPtr ctxt = ctx;
        struct guard *g = ctxt->_private;

        /* nameNr counts the open ancestors: this element is one deeper. */
        if (ctxt->nameNr + 1 > IMPORT_DEPTH_MAX) {
                guard_stop(ctxt, "elements nested deeper than " STRINGIFY(IMPORT_DEPTH_MAX) " levels");
                return;
        }
        if (ctxt->nameNr == 0 && g->root_line == 0) {
                g->root_line = sym_xmlSAX2GetLineNumber(ctxt);
                g->root_column = sym_xmlSAX2GetColumnNumber(ctxt);
        }
        g->start(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
                 attributes);
}

static xmlParserInputPtr refuse_load(const char *url _unused_, const char *id _unused_,
                                     xmlParserCtxtPtr ctxt _unused_)
{
        return NULL; /* no external DTD, entity or XInclude, from anywhere */
}

static void silent(void *ctx _unused_, const char *msg _unused_, ...)
{
}

static void silent_structured(void *ctx _unused_, xmlErrorPtr err _unused_)
{
}

/* All of fd, at most IMPORT_FILE_MAX bytes: a regular file, or a pipe
 * (`virsh dumpxml NAME | vfio-launch import -`). A device (/dev/zero) or a
 * FIFO someone else may never close is refused. */
static int read_limited(int fd, const char *path, bool pipe_ok, char **ret, size_t *ret_len,
                        struct vl_error *e)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct stat st;

        if (fstat(fd, &st) < 0)
                return vl_error_set_at(e, errno, path, 0, 0, "", "cannot read it: %m");
        if (!S_ISREG(st.st_mode) && !(pipe_ok && S_ISFIFO(st.st_mode)))
                return vl_error_set_at(e, EINVAL, path, 0, 0, "", "not a regular file%s",
                                       pipe_ok ? " or a pipe" : "");
        if ((unsigned long long) st.st_size > IMPORT_FILE_MAX)
                return vl_error_set_at(e, EFBIG, path, 0, 0, "",
                                       "larger than %u bytes (a domain XML is a few KiB): refused",
                                       IMPORT_FILE_MAX);
        buf = malloc(IMPORT_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        /* Read to the cap + 1, not to st_size: the file may grow meanwhile. */
        for (;;) {
                ssize_t k = read(fd, buf + len, IMPORT_FILE_MAX + 1 - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return vl_error_set_at(e, errno, path, 0, 0, "", "cannot read it: %m");
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > IMPORT_FILE_MAX)
                        return vl_error_set_at(e, EFBIG, path, 0, 0, "",
                                               "larger than %u bytes (a domain XML is a few KiB): refused",
                                               IMPORT_FILE_MAX);
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* The cleanups below see a non-NULL object only after libxml2 was opened. */
static void ctxtp(xmlParserCtxtPtr *c)
{
        if (*c)
                sym_xmlFreeParserCtxt(*c);
}

static void docp(xmlDocPtr *d)
{
        if (*d)
                sym_xmlFreeDoc(*d);
}

/* libxml2's messages end in a newline and some span two lines ("indicate
 * encoding !\nBytes: 0x8F ..."): a refusal is one line, so every control
 * character becomes a space and the trailing ones go. */
static void one_line(char *s)
{
        size_t n;

        for (char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = ' ';
        n = strlen(s);
        while (n > 0 && s[n - 1] == ' ')
                s[--n] = '\0';
}

static int parse(const char *path, const char *buf, size_t len, xmlDocPtr *ret, struct vl_error *e)
{
        _cleanup_(ctxtp) xmlParserCtxtPtr ctxt = NULL;
        _cleanup_(docp) xmlDocPtr doc = NULL;
        struct guard g = {};
        xmlNode *root;
        int r;

        r = dl_open(&libxml2, e);
        if (r < 0)
                return r;

        /* Only the CLI prints: libxml2's own reports go nowhere. */
        sym_xmlSetGenericErrorFunc(NULL, silent);
        sym_xmlSetStructuredErrorFunc(NULL, silent_structured);
        sym_xmlSetExternalEntityLoader(refuse_load);

        ctxt = sym_xmlNewParserCtxt();
        if (!ctxt)
                return -ENOMEM;
        ctxt->_private = &g;
        ctxt->sax->internalSubset = refuse_dtd;
        ctxt->sax->externalSubset = refuse_dtd;
        ctxt->sax->reference = refuse_reference;
        g.start = ctxt->sax->startElementNs;
        ctxt->sax->startElementNs = start_element;
        if (len > (size_t) INT32_MAX)
                return -EFBIG;
        doc = sym_xmlCtxtReadMemory(ctxt, buf, (int) len, path, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (g.why)
                return vl_error_set_at(e, strstr(g.why, "nested") ? ELOOP : EINVAL, path, g.line, g.column,
                                       "", "%s", g.why);
        if (!doc || !ctxt->wellFormed) {
                xmlErrorPtr err = sym_xmlCtxtGetLastError(ctxt);
                char msg[256] = "not well-formed XML";

                if (err && err->message) {
                        snprintf(msg, sizeof(msg), "%s", err->message);
                        one_line(msg);
                }
                return vl_error_set_at(e, EINVAL, path, err ? err->line : 0, err ? err->int2 : 0, "",
                                       "%s", msg);
        }
        root = sym_xmlDocGetRootElement(doc);
        if (!root || root->ns || strcmp((const char *) root->name, "domain") != 0)
                return vl_error_set_at(e, EINVAL, path, g.root_line, g.root_column, "",
                                       "not a libvirt domain: the root element is <%s>, expected <domain>",
                                       root ? (const char *) root->name : "");
        *ret = TAKE_PTR(doc);
        return 0;
}

/* The profile's top-level keys in the order profiles/README.md lists them,
 * so that the output does not depend on the order of the mapping. */
static const char *const top_order[] = {
        "$schema", "name", "machine", "user", "memory", "hugepages", "firmware", "boot", "cpu",
        "hostdevs", "iothreads", "disks", "nics", "sound", "display", "balloon", "tpm", "usb",
        "shmem", "inputs", "os", "clock", "smbios", "watchdog", "qemu_args",
};

static int reorder(json_t **p)
{
        json_t *o = json_object();
        const char *k;
        json_t *v;

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(top_order); i++)
                if ((v = json_object_get(*p, top_order[i])) && json_object_set(o, top_order[i], v) < 0)
                        goto oom;
        json_object_foreach(*p, k, v)
                if (!json_object_get(o, k) && json_object_set(o, k, v) < 0)
                        goto oom;
        json_decref(*p);
        *p = o;
        return 0;
oom:
        json_decref(o);
        return -ENOMEM;
}

/* Into document order, keeping the mapping's order within a line (a stable
 * insertion sort: a domain has a few dozen lines to report at most). */
static void lines_sort(struct import_lines *l)
{
        for (size_t i = 1; i < l->n; i++)
                for (size_t j = i; j > 0 && l->line[j - 1] > l->line[j]; j--) {
                        char *s = l->v[j];
                        long k = l->line[j];

                        l->v[j] = l->v[j - 1];
                        l->line[j] = l->line[j - 1];
                        l->v[j - 1] = s;
                        l->line[j - 1] = k;
                }
}

int import_domain_file(const char *path, const struct import_host *host, struct import_result *ret,
                       struct vl_error *e)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        if (fd < 0)
                return vl_error_set_at(e, errno, path, 0, 0, "", "cannot read it: %m");
        if ((r = read_limited(fd, path, false, &buf, &len, e)) < 0)
                return r;
        return import_domain_buffer(path, buf, len, host, ret, e);
}

int import_domain_fd(const char *name, int fd, const struct import_host *host, struct import_result *ret,
                     struct vl_error *e)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        if ((r = read_limited(fd, name, true, &buf, &len, e)) < 0)
                return r;
        return import_domain_buffer(name, buf, len, host, ret, e);
}

int import_domain_buffer(const char *name, const char *buf, size_t len, const struct import_host *host,
                         struct import_result *ret, struct vl_error *e)
{
        _cleanup_(docp) xmlDocPtr doc = NULL;
        struct import_result res = {};
        struct ix x = { .file = name, .host = host, .res = &res };
        xmlNode *root;
        int r;

        if (len > IMPORT_FILE_MAX)
                return vl_error_set_at(e, EFBIG, name, 0, 0, "",
                                       "larger than %u bytes (a domain XML is a few KiB): refused", IMPORT_FILE_MAX);
        if ((r = parse(name, buf, len, &doc, e)) < 0)
                return r;
        root = sym_xmlDocGetRootElement(doc);
        x.p = json_object();
        if (!x.p)
                return -ENOMEM;
        res.profile = x.p;
        ix_set(&x, x.p, "$schema", json_string("vfio-launch.schema.json"));
        ix_map_machine(&x, root);
        ix_map_cpu(&x, root);
        ix_map_devices(&x, root);
        ix_sweep(&x, root);
        lines_sort(&res.omitted);
        lines_sort(&res.notes);
        if (x.err == 0)
                x.err = reorder(&res.profile);
        if (x.err < 0) {
                import_result_done(&res);
                return vl_error_set(e, -x.err, "%s: out of memory", name);
        }
        *ret = res;
        return 0;
}

static void lines_done(struct import_lines *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        free(l->line);
        *l = (struct import_lines) {};
}

void import_result_done(struct import_result *r)
{
        if (!r)
                return;
        json_decref(r->profile);
        lines_done(&r->omitted);
        lines_done(&r->notes);
        r->profile = NULL;
}

/* ---- marking and reading ---- */

static char taken_mark; /* the address is the mark */

void ix_take(void *node)
{
        if (node)
                ((xmlNode *) node)->_private = &taken_mark; /* xmlAttr has _private at the same place */
}

bool ix_taken(const void *node)
{
        return ((const xmlNode *) node)->_private == &taken_mark;
}

void ix_take_all(xmlNode *n)
{
        ix_take(n);
        for (xmlAttr *a = n->properties; a; a = a->next)
                ix_take(a);
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        ix_take_all(c);
}

static bool is(xmlNode *n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && !n->ns && strcmp((const char *) n->name, name) == 0;
}

xmlNode *ix_child(xmlNode *parent, const char *name)
{
        for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
                if (is(c, name))
                        return c;
        return NULL;
}

xmlNode *ix_next(xmlNode *n, const char *name)
{
        for (xmlNode *c = n->next; c; c = c->next)
                if (is(c, name))
                        return c;
        return NULL;
}

void *ix_attr_node(xmlNode *n, const char *name)
{
        xmlAttr *a = sym_xmlHasProp(n, (const xmlChar *) name);

        return a ? (void *) a : (void *) n;
}

const char *ix_attr(xmlNode *n, const char *name)
{
        xmlAttr *a = n ? sym_xmlHasProp(n, (const xmlChar *) name) : NULL;

        if (!a || a->type != XML_ATTRIBUTE_NODE)
                return NULL;
        ix_take(a);
        /* Without entities (refused above) an attribute is one text node. */
        return a->children && a->children->content ? (const char *) a->children->content : "";
}

const char *ix_text(xmlNode *n)
{
        ix_take(n);
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_TEXT_NODE && c->content)
                        return (const char *) c->content;
        return "";
}

/* libxml2's allocations go back through its own xmlFree (it may be set to
 * other than free()). */
static void xmlfreep(xmlChar **p)
{
        if (*p)
                (*sym_xmlFree)(*p);
}

/* Values from the document reach a terminal: a control character (an
 * escape sequence, a newline that would fake a second line) becomes \xNN. */
static int escape_controls(char **line)
{
        size_t n = 0;
        char *out, *o;

        for (const char *s = *line; *s; s++)
                n += (unsigned char) *s < 0x20 || *s == 0x7f ? 4 : 1;
        if (n == strlen(*line))
                return 0;
        o = out = malloc(n + 1);
        if (!out)
                return -ENOMEM;
        for (const char *s = *line; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        o += sprintf(o, "\\x%02x", (unsigned char) *s);
                else
                        *o++ = *s;
        *o = '\0';
        free(*line);
        *line = out;
        return 0;
}

static void add_line(struct ix *x, struct import_lines *l, void *node, const char *fmt, va_list ap)
        _printf_(4, 0);
static void add_line(struct ix *x, struct import_lines *l, void *node, const char *fmt, va_list ap)
{
        _cleanup_(xmlfreep) xmlChar *xp = sym_xmlGetNodePath(node);
        char why[IMPORT_LINE_MAX], *line;
        xmlNode *el = ((xmlNode *) node)->type == XML_ELEMENT_NODE ? node : ((xmlNode *) node)->parent;
        char **v;
        long *no;

        vsnprintf(why, sizeof(why), fmt, ap);
        if (asprintf(&line, "%s: %s", xp ? (const char *) xp : "?", why) < 0) {
                x->err = -ENOMEM;
                return;
        }
        if (escape_controls(&line) < 0) {
                free(line);
                x->err = -ENOMEM;
                return;
        }
        v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v) {
                free(line);
                x->err = -ENOMEM;
                return;
        }
        l->v = v;
        no = realloc(l->line, (l->n + 1) * sizeof(*no));
        if (!no) {
                free(line);
                x->err = -ENOMEM;
                return;
        }
        l->line = no;
        l->line[l->n] = sym_xmlGetLineNo(el);
        l->v[l->n++] = line;
        if (((xmlNode *) node)->type == XML_ELEMENT_NODE)
                ix_take_all(node);
        else
                ix_take(node);
}

void ix_omit(struct ix *x, void *node, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        add_line(x, &x->res->omitted, node, fmt, ap);
        va_end(ap);
}

void ix_note(struct ix *x, void *node, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        add_line(x, &x->res->notes, node, fmt, ap);
        va_end(ap);
}

void ix_sweep(struct ix *x, xmlNode *n)
{
        if (!ix_taken(n)) {
                ix_omit(x, n, "no profile key for <%s%s%s>", n->ns && n->ns->prefix ? (const char *) n->ns->prefix : "",
                        n->ns && n->ns->prefix ? ":" : "", (const char *) n->name);
                return;
        }
        for (xmlAttr *a = n->properties; a; a = a->next)
                if (!ix_taken(a))
                        ix_omit(x, a, "attribute %s=\"%s\" not mapped", (const char *) a->name,
                                a->children && a->children->content ? (const char *) a->children->content : "");
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        ix_sweep(x, c);
}

/* ---- values ---- */

int ix_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
        unsigned long long v;
        char *end;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        /* libvirt writes addresses as "0x06", everything else in decimal
         * ("08" is eight, not a bad octal number). */
        v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int ix_bool(const char *s)
{
        if (!s)
                return -EINVAL;
        if (!strcmp(s, "yes") || !strcmp(s, "on"))
                return 1;
        if (!strcmp(s, "no") || !strcmp(s, "off"))
                return 0;
        return -EINVAL;
}

void ix_set(struct ix *x, json_t *o, const char *key, json_t *v)
{
        if (!v || !o || json_object_set_new(o, key, v) < 0)
                x->err = -ENOMEM;
}

json_t *ix_obj(struct ix *x, json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!v) {
                v = json_object();
                ix_set(x, o, key, v);
        }
        return v;
}

json_t *ix_arr(struct ix *x, json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!v) {
                v = json_array();
                ix_set(x, o, key, v);
        }
        return v;
}
