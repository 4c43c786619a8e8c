/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lvmmeta.c: LVM2's on-disk label, metadata area header and text format,
 * read as lvm2's format_text does (lib/format_text/layout.h, the "LVM2 x[5A%r0N*>"
 * magic, the circular text buffer), for what the installer needs.
 */
#include "lvmmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "strutil.h"

#define SECTOR 512u
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define MAX_TEXT (UINT64_C(64) << 20)

static uint64_t le64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* ---- the text format: a tree of "key = value" and "name { ... }" ---------- */

typedef struct Node {
        char *key;
        char **values; /* a value, or a list's items; NULL for a block */
        struct Node *kids;
        size_t n_kids;
} Node;

typedef struct Lexer {
        const char *p;
        int depth;
} Lexer;

static void node_done(Node *n) {
        free(n->key);
        strv_free(n->values);
        for (size_t i = 0; i < n->n_kids; i++)
                node_done(&n->kids[i]);
        free(n->kids);
}

static void skip_space(Lexer *l) {
        for (;;) {
                while (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r')
                        l->p++;
                if (*l->p != '#')
                        return;
                l->p += strcspn(l->p, "\n");
        }
}

#define WORD_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-"

/* A word or a quoted string, or NULL. */
static char *scalar(Lexer *l) {
        skip_space(l);
        if (*l->p == '"') {
                l->p++;
                char *out = xmalloc(strlen(l->p) + 1), *o = out;
                while (*l->p && *l->p != '"') {
                        if (*l->p == '\\' && l->p[1])
                                l->p++;
                        *o++ = *l->p++;
                }
                if (*l->p != '"') {
                        free(out);
                        return NULL;
                }
                l->p++;
                *o = 0;
                return out;
        }
        size_t n = strspn(l->p, WORD_CHARS);
        if (n == 0)
                return NULL;
        char *w = xstrndup(l->p, n);
        l->p += n;
        return w;
}

static int parse_block(Lexer *l, Node *parent, bool top);

static int parse_entry(Lexer *l, Node *parent) {
        char *key = scalar(l);
        if (!key)
                return -EBADMSG;
        parent->kids = xrealloc(parent->kids, (parent->n_kids + 1) * sizeof(Node));
        Node *n = &parent->kids[parent->n_kids++];
        *n = (Node) { .key = key };
        skip_space(l);
        if (*l->p == '{') {
                l->p++;
                if (++l->depth > 32)
                        return -EBADMSG;
                int r = parse_block(l, n, false);
                l->depth--;
                return r;
        }
        if (*l->p != '=')
                return -EBADMSG;
        l->p++;
        n->values = xcalloc(1, sizeof(char *));
        skip_space(l);
        if (*l->p != '[') {
                char *v = scalar(l);
                if (!v)
                        return -EBADMSG;
                strv_consume(&n->values, v);
                return 0;
        }
        l->p++;
        for (;;) {
                skip_space(l);
                if (*l->p == ']') {
                        l->p++;
                        return 0;
                }
                char *v = scalar(l);
                if (!v)
                        return -EBADMSG;
                strv_consume(&n->values, v);
                skip_space(l);
                if (*l->p == ',')
                        l->p++;
        }
}

static int parse_block(Lexer *l, Node *parent, bool top) {
        for (;;) {
                skip_space(l);
                if (!*l->p)
                        return top ? 0 : -EBADMSG;
                if (*l->p == '}') {
                        if (top)
                                return -EBADMSG;
                        l->p++;
                        return 0;
                }
                int r = parse_entry(l, parent);
                if (r < 0)
                        return r;
        }
}

static const Node *child(const Node *n, const char *key) {
        for (size_t i = 0; n && i < n->n_kids; i++)
                if (streq(n->kids[i].key, key))
                        return &n->kids[i];
        return NULL;
}

static bool number(const Node *n, const char *key, uint64_t *ret) {
        const Node *c = child(n, key);
        if (!c || !c->values || !c->values[0])
                return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(c->values[0], &end, 10);
        if (errno || end == c->values[0] || *end)
                return false;
        *ret = v;
        return true;
}

static const char *string(const Node *n, const char *key) {
        const Node *c = child(n, key);
        return c && c->values && c->values[0] ? c->values[0] : NULL;
}

static bool same_uuid(const char *with_dashes, const char *plain) {
        for (;; with_dashes++) {
                if (*with_dashes == '-')
                        continue;
                if (*with_dashes != *plain)
                        return false;
                if (!*plain)
                        return true;
                plain++;
        }
}

int lvm_meta_parse(const char *text, const char *pv_uuid, LvmMeta *ret) {
        *ret = (LvmMeta) {};
        Node root = {};
        Lexer l = { .p = text };
        int r = parse_block(&l, &root, true);
        /* The volume group: the one block at the top. */
        const Node *vg = NULL;
        for (size_t i = 0; r >= 0 && i < root.n_kids; i++)
                if (!root.kids[i].values) {
                        vg = &root.kids[i];
                        break;
                }
        uint64_t extent = 0;
        if (r < 0 || !vg || !number(vg, "extent_size", &extent) || extent == 0 || extent > (UINT64_MAX / SECTOR)) {
                node_done(&root);
                return -EBADMSG;
        }
        ret->vg = xstrdup(vg->key);
        ret->extent_size = extent * SECTOR;
        const Node *pvs = child(vg, "physical_volumes");
        for (size_t i = 0; pvs && i < pvs->n_kids; i++) {
                const Node *pv = &pvs->kids[i];
                const char *id = string(pv, "id");
                uint64_t pe = 0;
                if ((!pv_uuid || (id && same_uuid(id, pv_uuid))) && number(pv, "pe_start", &pe) && pe <= UINT64_MAX / SECTOR) {
                        ret->pv = xstrdup(pv->key);
                        ret->pe_start = pe * SECTOR;
                        break;
                }
        }
        const Node *lvs = child(vg, "logical_volumes");
        for (size_t i = 0; lvs && i < lvs->n_kids; i++) {
                const Node *lv = &lvs->kids[i];
                if (lv->values)
                        continue;
                uint64_t extents = 0, first_pv_extent = 0;
                const char *first_pv = NULL;
                bool ok = true;
                for (size_t s = 0; s < lv->n_kids; s++) {
                        const Node *seg = &lv->kids[s];
                        uint64_t n = 0, start = 0;
                        if (seg->values || !startswith(seg->key, "segment"))
                                continue;
                        if (!number(seg, "extent_count", &n) || __builtin_add_overflow(extents, n, &extents))
                                ok = false;
                        const Node *stripes = child(seg, "stripes");
                        if (number(seg, "start_extent", &start) && start == 0 && stripes && stripes->values &&
                            strv_length(stripes->values) >= 2) {
                                first_pv = stripes->values[0];
                                first_pv_extent = strtoull(stripes->values[1], NULL, 10);
                        }
                }
                uint64_t bytes;
                if (!ok || __builtin_mul_overflow(extents, ret->extent_size, &bytes))
                        continue;
                ret->lvs = xrealloc(ret->lvs, (ret->n_lvs + 1) * sizeof(LvmVolume));
                ret->lvs[ret->n_lvs++] = (LvmVolume) {
                        .name = xstrdup(lv->key),
                        .size = bytes,
                        .pv = first_pv ? xstrdup(first_pv) : NULL,
                        .pv_extent = first_pv_extent,
                };
        }
        node_done(&root);
        return 0;
}

/* ---- on the disk ------------------------------------------------------------ */

int lvm_meta_read(int fd, uint64_t offset, uint64_t size, LvmMeta *ret) {
        *ret = (LvmMeta) {};
        /* The label: "LABELONE" in one of the first four sectors, then the PV
         * header: its UUID, the device size, the data areas, then the
         * metadata areas, each list ended by a zero entry. */
        uint8_t buf[4 * SECTOR];
        if (pread(fd, buf, sizeof buf, (off_t) offset) != (ssize_t) sizeof buf)
                return -ENOENT;
        const uint8_t *label = NULL;
        for (unsigned sec = 0; sec < 4; sec++)
                if (memcmp(buf + sec * SECTOR, "LABELONE", 8) == 0 && memcmp(buf + sec * SECTOR + 24, "LVM2 001", 8) == 0) {
                        label = buf + sec * SECTOR;
                        break;
                }
        if (!label)
                return -ENOENT;
        uint32_t hdr = le32(label + 20);
        if (hdr < 32 || hdr > SECTOR - 32 - 8 - 16)
                return -EBADMSG;
        char uuid[33];
        memcpy(uuid, label + hdr, 32);
        uuid[32] = 0;
        const uint8_t *p = label + hdr + 32 + 8, *end = label + SECTOR - 16;
        while (p <= end && le64(p)) /* data areas */
                p += 16;
        p += 16;
        if (p > end)
                return -EBADMSG;
        uint64_t mda = le64(p), mda_size = le64(p + 8);
        if (!mda || mda_size < 2 * SECTOR || (size && (mda >= size || mda_size > size - mda)))
                return -EBADMSG;
        /* The metadata area header: magic, then where the newest text is. */
        uint8_t h[SECTOR];
        if (pread(fd, h, sizeof h, (off_t) (offset + mda)) != (ssize_t) sizeof h || memcmp(h + 4, MDA_MAGIC, 16) != 0)
                return -EBADMSG;
        uint64_t text_off = le64(h + 40), text_size = le64(h + 48);
        if (text_off < SECTOR || !text_size || text_off >= mda_size || text_size > MIN(mda_size - SECTOR, MAX_TEXT))
                return -EBADMSG;
        /* The text may wrap round the end of the area, on to just after its header. */
        _cleanup_free_ char *text = xmalloc(text_size + 1);
        size_t first = (size_t) MIN(text_size, mda_size - text_off);
        if (pread(fd, text, first, (off_t) (offset + mda + text_off)) != (ssize_t) first ||
            (text_size > first &&
             pread(fd, text + first, text_size - first, (off_t) (offset + mda + SECTOR)) != (ssize_t) (text_size - first)))
                return -EBADMSG;
        text[text_size] = 0;
        if (strlen(text) != text_size && strlen(text) + 1 != text_size)
                return -EBADMSG;
        return lvm_meta_parse(text, uuid, ret);
}

void lvm_meta_done(LvmMeta *m) {
        if (!m)
                return;
        free(m->vg);
        free(m->pv);
        for (size_t i = 0; i < m->n_lvs; i++) {
                free(m->lvs[i].name);
                free(m->lvs[i].pv);
        }
        free(m->lvs);
        *m = (LvmMeta) {};
}

const LvmVolume *lvm_meta_find(const LvmMeta *m, const char *lv) {
        for (size_t i = 0; m && i < m->n_lvs; i++)
                if (streq(m->lvs[i].name, lv))
                        return &m->lvs[i];
        return NULL;
}
