/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "strutil.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void oom(void) {
        fputs("hyperion: out of memory\n", stderr);
        abort();
}

void *grow_array(void *array, size_t *allocated, size_t need, size_t elsize) {
        if (need <= *allocated)
                return array;
        size_t n = MAX(need, *allocated * 2);
        n = MAX(n, (size_t) 8);
        if (n > SIZE_MAX / elsize)
                oom();
        array = xrealloc(array, n * elsize);
        memset((char *) array + *allocated * elsize, 0, (n - *allocated) * elsize);
        *allocated = n;
        return array;
}

char *xvasprintf(const char *fmt, va_list ap) {
        char *s;
        if (vasprintf(&s, fmt, ap) < 0)
                oom();
        return s;
}

char *xasprintf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

void strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **m = xrealloc(*l, (n + 2) * sizeof(char *));
        m[n] = s;
        m[n + 1] = NULL;
        *l = m;
}

void strv_push(char ***l, const char *s) {
        strv_consume(l, xstrdup(s));
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

char **strv_copy(char *const *l) {
        char **r = xcalloc(strv_length(l) + 1, sizeof(char *));
        size_t i = 0;
        for (; l && *l; l++)
                r[i++] = xstrdup(*l);
        return r;
}

char **strv_split_ws(const char *s) {
        char **r = xcalloc(1, sizeof(char *));
        while (s && *s) {
                while (*s && isspace((unsigned char) *s))
                        s++;
                const char *e = s;
                while (*e && !isspace((unsigned char) *e))
                        e++;
                if (e > s)
                        strv_consume(&r, xstrndup(s, (size_t) (e - s)));
                s = e;
        }
        return r;
}

char **strv_split_lines(const char *s) {
        char **r = xcalloc(1, sizeof(char *));
        while (s && *s) {
                const char *e = strchr(s, '\n');
                size_t n = e ? (size_t) (e - s) : strlen(s);
                if (n > 0)
                        strv_consume(&r, xstrndup(s, n));
                s = e ? e + 1 : NULL;
        }
        return r;
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 0, k = strlen(sep);
        for (char *const *i = l; i && *i; i++)
                n += strlen(*i) + k;
        char *r = xmalloc(n + 1), *p = r;
        *p = 0;
        for (char *const *i = l; i && *i; i++) {
                if (i != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *i);
        }
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);
        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_str);
}

char *path_join(const char *a, const char *b) {
        size_t la = strlen(a);
        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        if (la == 0)
                return xstrdup(b);
        return xasprintf("%.*s%s%s", (int) la, a, (la == 1 && a[0] == '/') ? "" : "/", b);
}

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strstrip(char *s) {
        char *p = s;
        while (isspace((unsigned char) *p))
                p++;
        size_t n = strlen(p);
        while (n > 0 && isspace((unsigned char) p[n - 1]))
                n--;
        memmove(s, p, n);
        s[n] = 0;
        return s;
}

/* The length of the valid UTF-8 sequence at s (1-4) and its code point,
 * or 0 when it is not one (overlong, surrogate, past U+10FFFF, cut). */
static size_t utf8_char(const unsigned char *s, uint32_t *cp) {
        size_t n;
        uint32_t c, min;
        if (s[0] < 0x80) {
                *cp = s[0];
                return 1;
        } else if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2, c = s[0] & 0x1f, min = 0x80;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3, c = s[0] & 0x0f, min = 0x800;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4, c = s[0] & 0x07, min = 0x10000;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80) /* the NUL ends it too */
                        return 0;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

char *str_terminal_safe(char *s) {
        unsigned char *r = (unsigned char *) s, *w = r;
        while (*r) {
                uint32_t cp;
                size_t n = utf8_char(r, &cp);
                if (n == 0) {
                        *w++ = '?';
                        r++;
                } else if (cp < 0x20 || cp == 0x7f) {
                        *w++ = ' ';
                        r++;
                } else if (cp >= 0x80 && cp <= 0x9f) {
                        *w++ = '?';
                        r += n;
                } else {
                        memmove(w, r, n);
                        w += n;
                        r += n;
                }
        }
        *w = 0;
        return s;
}

size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *row = xcalloc(lb + 1, sizeof(size_t));
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = tolower((unsigned char) a[i - 1]) != tolower((unsigned char) b[j - 1]);
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
                        diag = up;
                }
        }
        return row[lb];
}

char *shell_quote(const char *arg) {
        if (*arg && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "-_./=:,+@%") == strlen(arg))
                return xstrdup(arg);
        size_t n = 2;
        for (const char *p = arg; *p; p++)
                n += *p == '\'' ? 4 : 1;
        char *r = xmalloc(n + 1), *q = r;
        *q++ = '\'';
        for (const char *p = arg; *p; p++) {
                if (*p == '\'') {
                        memcpy(q, "'\\''", 4);
                        q += 4;
                } else
                        *q++ = *p;
        }
        *q++ = '\'';
        *q = 0;
        return r;
}

char *argv_to_display(char *const *argv) {
        _cleanup_strv_free_ char **q = xcalloc(1, sizeof(char *));
        for (char *const *i = argv; i && *i; i++)
                strv_consume(&q, shell_quote(*i));
        return strv_join(q, " ");
}

char *read_attribute(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);
        char *t = NULL;
        if (read_full_file(p, &t, NULL) < 0)
                return xstrdup("");
        return strstrip(t);
}

int read_full_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t n = 0, allocated = 0;
        _cleanup_free_ char *buf = NULL;
        for (;;) {
                GROW(buf, allocated, n + 65536 + 1);
                ssize_t k = read(fd, buf + n, allocated - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        GROW(buf, allocated, n + 1);
        buf[n] = 0;
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, int mode) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmp-hyperion", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        const char *p = data;
        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        unlink(tmp);
                        return r;
                }
                p += k;
                size -= (size_t) k;
        }
        if (fchmod(fd, (mode_t) mode) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        /* The rename itself reaches the disk with its folder. */
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = 0;
        _cleanup_close_ int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return -errno;
        return 0;
}

int write_file_under(const char *root, const char *rel, const char *text, int mode) {
        _cleanup_free_ char *p = path_join(root, rel);
        int r = write_file_atomic(p, text, strlen(text), mode);
        if (r < 0)
                return log_error_errno(r, "cannot write '%s': %m", p);
        return 0;
}
