/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON paths and a small tolerant scanner that finds where a path is in the
 * text (see json_pos.h for why this rescans instead of indexing).
 *
 * The scanner tracks a stack of containers with the path of each, reports
 * every token (key, value start, punctuation) with the path it belongs to,
 * and stops at the first thing that is not JSON or nests deeper than
 * SCAN_DEPTH. It does not validate numbers or literals: jansson already did,
 * or (for syntax errors) failed at a known offset before which the text is
 * well-formed enough to track.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "profile/json_pos.h"
#include "base/macro.h"

#define KEY_SHOW 40        /* bytes of a key shown in a path */
#define KEY_DECODE_MAX 64  /* bytes of a key the scanner decodes (>= KEY_SHOW) */
#define SCAN_DEPTH 16      /* containers tracked; the loader allows 8 */

/* ---- paths ------------------------------------------------------------- */

static bool is_ident(const char *s, size_t len)
{
        if (len == 0 || (s[0] >= '0' && s[0] <= '9') || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '$'))
                        return false;
        }
        return true;
}

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t n)
{
        size_t i = n;

        /* Step back over continuation bytes to the lead byte of the last
         * character, then keep it only if it is complete. */
        while (i > 0 && ((unsigned char) s[i - 1] & 0xC0) == 0x80)
                i--;
        if (i == 0)
                return n;
        unsigned char lead = (unsigned char) s[i - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return n - (i - 1) >= need ? n : i - 1;
}

/* Escape s[0..n) into out (JSON rules, control bytes as \u00XX). Returns the
 * length written, or SIZE_MAX when it does not fit (out is then garbage). */
static size_t escape(char *out, size_t size, const char *s, size_t n)
{
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char tmp[8];
                size_t tl;

                if (c == '"' || c == '\\') {
                        tmp[0] = '\\';
                        tmp[1] = (char) c;
                        tl = 2;
                } else if (c < 0x20 || c == 0x7f) {
                        (void) snprintf(tmp, sizeof(tmp), "\\u%04x", c);
                        tl = 6;
                } else {
                        tmp[0] = (char) c;
                        tl = 1;
                }
                if (o + tl >= size)
                        return SIZE_MAX;
                memcpy(out + o, tmp, tl);
                o += tl;
        }
        return o;
}

int json_path_append_key(char *path, size_t size, const char *key, size_t len)
{
        size_t start = strlen(path), o = start;
        size_t show = len < KEY_SHOW ? len : KEY_SHOW;

        if (len <= KEY_SHOW && is_ident(key, len)) {
                if (o + 1 + len >= size)
                        return -ENAMETOOLONG;
                path[o++] = '.';
                memcpy(path + o, key, len);
                path[o + len] = '\0';
                return 0;
        }

        show = utf8_cut(key, show);
        if (o + 2 >= size)
                return -ENAMETOOLONG;
        path[o++] = '[';
        path[o++] = '"';
        size_t n = escape(path + o, size - o, key, show);
        if (n == SIZE_MAX)
                goto too_long;
        o += n;
        const char *tail = len > show ? "...\"]" : "\"]";
        if (o + strlen(tail) >= size)
                goto too_long;
        strcpy(path + o, tail);
        return 0;
too_long:
        path[start] = '\0';
        return -ENAMETOOLONG;
}

int json_path_append_index(char *path, size_t size, size_t index)
{
        size_t o = strlen(path);
        int n = snprintf(path + o, size - o, "[%zu]", index);

        if (n < 0 || (size_t) n >= size - o) {
                path[o] = '\0';
                return -ENAMETOOLONG;
        }
        return 0;
}

int json_path_parent(char *path)
{
        size_t i = 1, last = 0;

        if (path[0] != '$')
                return -ENOENT;
        while (path[i]) {
                last = i;
                if (path[i] == '.') {
                        i++;
                        while (path[i] && path[i] != '.' && path[i] != '[')
                                i++;
                } else if (path[i] == '[' && path[i + 1] == '"') {
                        i += 2;
                        while (path[i] && path[i] != '"') {
                                if (path[i] == '\\' && path[i + 1])
                                        i++;
                                i++;
                        }
                        if (path[i])
                                i++; /* '"' */
                        if (path[i] == ']')
                                i++;
                } else if (path[i] == '[') {
                        while (path[i] && path[i] != ']')
                                i++;
                        if (path[i])
                                i++;
                } else
                        i++; /* not a path we wrote; still terminate */
        }
        if (last == 0)
                return -ENOENT;
        path[last] = '\0';
        return 0;
}

void json_quote(char *buf, size_t size, const char *s, size_t len, size_t max)
{
        size_t show = len < max ? len : max, n;

        if (size < 8) {
                if (size)
                        buf[0] = '\0';
                return;
        }
        show = utf8_cut(s, show);
        /* Leave room for the quotes and "...". */
        buf[0] = '"';
        n = escape(buf + 1, size - 6, s, show);
        while (n == SIZE_MAX && show > 0) {
                show = utf8_cut(s, show - 1);
                n = escape(buf + 1, size - 6, s, show);
        }
        if (n == SIZE_MAX)
                n = 0;
        strcpy(buf + 1 + n, show < len ? "\"..." : "\"");
}

/* ---- scanner ----------------------------------------------------------- */

enum tok_kind { TOK_KEY, TOK_VALUE, TOK_OTHER };

/* Called for every token with the path it belongs to; true stops the scan. */
typedef bool (*scan_cb)(void *ud, enum tok_kind kind, const char *path, size_t start,
                        int line, int column);

enum level_state {
        S_FIRST, /* after '{' or '[' */
        S_NEXT,  /* after ',' */
        S_COLON, /* object: after a key */
        S_VALUE, /* object: after ':' */
        S_AFTER, /* after a member or element */
};

struct level {
        bool object;
        enum level_state state;
        size_t index;    /* array: current element */
        size_t path_len; /* length of the container's own path */
};

struct scan {
        const char *s;
        size_t len, i;
        int line, col; /* of s[i] */
        unsigned depth;
        bool root_done;
        struct level lv[SCAN_DEPTH];
        char path[JSON_PATH_MAX];
};

static void advance(struct scan *sc)
{
        unsigned char b = (unsigned char) sc->s[sc->i++];

        if (b == '\n') {
                sc->line++;
                sc->col = 1;
        } else if ((b & 0xC0) != 0x80) /* a continuation byte is not a new column */
                sc->col++;
}

static void skip_ws(struct scan *sc)
{
        while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
                                   sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
                advance(sc);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* \uXXXX at s[i] (after the backslash and 'u'): the code unit or -1. */
static long hex4(const struct scan *sc, size_t i)
{
        long v = 0;

        if (i + 4 > sc->len)
                return -1;
        for (size_t k = 0; k < 4; k++) {
                int h = hexval(sc->s[i + k]);
                if (h < 0)
                        return -1;
                v = v * 16 + h;
        }
        return v;
}

static void put_byte(char *out, size_t *n, unsigned char b)
{
        if (out && *n < KEY_DECODE_MAX)
                out[*n] = (char) b;
        (*n)++;
}

static void put_utf8(char *out, size_t *n, unsigned long cp)
{
        if (cp < 0x80)
                put_byte(out, n, (unsigned char) cp);
        else if (cp < 0x800) {
                put_byte(out, n, (unsigned char) (0xC0 | (cp >> 6)));
                put_byte(out, n, (unsigned char) (0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
                put_byte(out, n, (unsigned char) (0xE0 | (cp >> 12)));
                put_byte(out, n, (unsigned char) (0x80 | ((cp >> 6) & 0x3F)));
                put_byte(out, n, (unsigned char) (0x80 | (cp & 0x3F)));
        } else {
                put_byte(out, n, (unsigned char) (0xF0 | (cp >> 18)));
                put_byte(out, n, (unsigned char) (0x80 | ((cp >> 12) & 0x3F)));
                put_byte(out, n, (unsigned char) (0x80 | ((cp >> 6) & 0x3F)));
                put_byte(out, n, (unsigned char) (0x80 | (cp & 0x3F)));
        }
}

/* Consume a string token at s[i] == '"'. With out, decode its first
 * KEY_DECODE_MAX bytes there and its full decoded length into *ret_len.
 * false when the text ends inside the string. */
static bool scan_string(struct scan *sc, char *out, size_t *ret_len)
{
        size_t n = 0;

        advance(sc); /* opening quote */
        while (sc->i < sc->len) {
                char c = sc->s[sc->i];

                if (c == '"') {
                        advance(sc);
                        if (ret_len)
                                *ret_len = n;
                        return true;
                }
                if (c != '\\') {
                        put_byte(out, &n, (unsigned char) c);
                        advance(sc);
                        continue;
                }
                advance(sc);
                if (sc->i >= sc->len)
                        return false;
                c = sc->s[sc->i];
                advance(sc);
                switch (c) {
                case 'b': put_byte(out, &n, '\b'); break;
                case 'f': put_byte(out, &n, '\f'); break;
                case 'n': put_byte(out, &n, '\n'); break;
                case 'r': put_byte(out, &n, '\r'); break;
                case 't': put_byte(out, &n, '\t'); break;
                case 'u': {
                        long u = hex4(sc, sc->i), lo;
                        unsigned long cp;

                        if (u < 0)
                                return false;
                        for (int k = 0; k < 4; k++)
                                advance(sc);
                        cp = (unsigned long) u;
                        /* A surrogate pair is one character (jansson decodes it so). */
                        if (u >= 0xD800 && u <= 0xDBFF && sc->i + 1 < sc->len &&
                            sc->s[sc->i] == '\\' && sc->s[sc->i + 1] == 'u' &&
                            (lo = hex4(sc, sc->i + 2)) >= 0xDC00 && lo <= 0xDFFF) {
                                for (int k = 0; k < 6; k++)
                                        advance(sc);
                                cp = 0x10000 + (((unsigned long) u - 0xD800) << 10) +
                                     ((unsigned long) lo - 0xDC00);
                        }
                        put_utf8(out, &n, cp);
                        break;
                }
                default: /* '"', '\\', '/' and anything jansson would reject */
                        put_byte(out, &n, (unsigned char) c);
                        break;
                }
        }
        return false;
}

static bool is_literal_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '-' || c == '.';
}

/* A value (or container) just ended: back to the parent's own path. */
static void value_done(struct scan *sc)
{
        if (sc->depth == 0) {
                sc->root_done = true;
                return;
        }
        struct level *top = &sc->lv[sc->depth - 1];
        sc->path[top->path_len] = '\0';
        top->state = S_AFTER;
}

static void run_scan(struct scan *sc, scan_cb cb, void *ud)
{
        for (;;) {
                skip_ws(sc);
                if (sc->i >= sc->len)
                        return;

                size_t start = sc->i;
                int line = sc->line, col = sc->col;
                char c = sc->s[start];
                struct level *top = sc->depth ? &sc->lv[sc->depth - 1] : NULL;
                bool want_value, want_key = false;

                if (!top)
                        want_value = !sc->root_done;
                else if (top->object) {
                        want_key = (top->state == S_FIRST || top->state == S_NEXT) && c == '"';
                        want_value = top->state == S_VALUE;
                } else
                        want_value = top->state == S_NEXT || (top->state == S_FIRST && c != ']');

                if (want_key) {
                        char key[KEY_DECODE_MAX];
                        size_t klen = 0;

                        if (!scan_string(sc, key, &klen))
                                return;
                        sc->path[top->path_len] = '\0';
                        (void) json_path_append_key(sc->path, sizeof(sc->path), key, klen);
                        top->state = S_COLON;
                        if (cb(ud, TOK_KEY, sc->path, start, line, col))
                                return;
                        continue;
                }

                if (want_value) {
                        if (top && !top->object)
                                (void) json_path_append_index(sc->path, sizeof(sc->path),
                                                              top->index);
                        if (cb(ud, TOK_VALUE, sc->path, start, line, col))
                                return;
                        if (c == '{' || c == '[') {
                                if (sc->depth >= SCAN_DEPTH)
                                        return;
                                advance(sc);
                                sc->lv[sc->depth++] = (struct level) {
                                        .object = c == '{',
                                        .state = S_FIRST,
                                        .path_len = strlen(sc->path),
                                };
                                continue;
                        }
                        if (c == '"') {
                                if (!scan_string(sc, NULL, NULL))
                                        return;
                        } else if (is_literal_char(c)) {
                                while (sc->i < sc->len && is_literal_char(sc->s[sc->i]))
                                        advance(sc);
                        } else
                                return;
                        value_done(sc);
                        continue;
                }

                /* Punctuation, or something out of place. */
                if (cb(ud, TOK_OTHER, sc->path, start, line, col))
                        return;
                if (!top)
                        return; /* junk after the document */
                if (top->object && top->state == S_COLON && c == ':') {
                        top->state = S_VALUE;
                } else if (top->state == S_AFTER && c == ',') {
                        top->state = S_NEXT;
                        if (!top->object)
                                top->index++;
                } else if ((top->state == S_AFTER || top->state == S_FIRST) &&
                           c == (top->object ? '}' : ']')) {
                        sc->depth--;
                        value_done(sc);
                } else
                        return;
                advance(sc);
        }
}

static void scan_init(struct scan *sc, const char *text, size_t len)
{
        *sc = (struct scan) { .s = text, .len = len, .line = 1, .col = 1 };
        strcpy(sc->path, "$");
}

struct find_state {
        const char *path;
        bool key;
        bool found;
        struct json_pos pos;
};

static bool find_cb(void *ud, enum tok_kind kind, const char *path, size_t start, int line,
                    int column)
{
        struct find_state *f = ud;

        if (kind != (f->key ? TOK_KEY : TOK_VALUE) || strcmp(path, f->path) != 0)
                return false;
        f->found = true;
        f->pos = (struct json_pos) { line, column };
        return true;
}

int json_pos_find(const char *text, size_t len, const char *path, bool key,
                  struct json_pos *ret)
{
        struct find_state f = { .path = path, .key = key };
        struct scan sc;

        scan_init(&sc, text, len);
        run_scan(&sc, find_cb, &f);
        if (!f.found)
                return -ENOENT;
        *ret = f.pos;
        return 0;
}

int json_pos_find_nearest(const char *text, size_t len, const char *path, bool key,
                          struct json_pos *ret)
{
        char p[JSON_PATH_MAX];

        if (json_pos_find(text, len, path, key, ret) == 0)
                return 0;
        if (strlen(path) >= sizeof(p))
                return -ENOENT;
        strcpy(p, path);
        while (json_path_parent(p) == 0)
                if (json_pos_find(text, len, p, false, ret) == 0)
                        return 0;
        *ret = (struct json_pos) { 1, 1 };
        return json_pos_find(text, len, "$", false, ret) == 0 ? 0 : -ENOENT;
}

struct at_state {
        size_t offset;
        char *path;
        size_t size;
};

static bool at_cb(void *ud, enum tok_kind kind, const char *path, size_t start, int line,
                  int column)
{
        struct at_state *a = ud;

        if (start >= a->offset)
                return true;
        if (strlen(path) < a->size)
                strcpy(a->path, path);
        return false;
}

void json_pos_path_at(const char *text, size_t len, size_t offset, char *path, size_t size)
{
        struct at_state a = { .offset = offset, .path = path, .size = size };
        struct scan sc;

        if (size < 2)
                return;
        strcpy(path, "$");
        scan_init(&sc, text, len);
        run_scan(&sc, at_cb, &a);
}
