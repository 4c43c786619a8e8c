/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the profile parser: the input is split at each
 * "\n%%\n" into profile.conf and drop-ins, loaded, validated and, when
 * valid, printed and loaded again (the normalised form must load).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "profile.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool init;
        if (!init) {
                log_set_level(LOG_LEVEL_ERROR + 1);
                init = true;
        }
        _cleanup_free_ char *text = xstrndup((const char *) data, size);
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *)), **texts = xcalloc(1, sizeof(char *));
        char *p = text;
        for (unsigned i = 0; p; i++) {
                char *sep = strstr(p, "\n%%\n");
                if (sep)
                        *sep = 0;
                strv_consume(&names, i == 0 ? xstrdup("profile.conf") : xasprintf("%02u-f.conf", i));
                strv_push(&texts, p);
                p = sep ? sep + 4 : NULL;
        }

        Profile *prof = NULL;
        char **errors = NULL;
        int r = profile_load_strings("fuzz", names, texts, &prof, &errors);
        if (r == 0) {
                if (!prof || errors[0])
                        abort();
                char *buf = NULL;
                size_t n = 0;
                FILE *f = open_memstream(&buf, &n);
                profile_print(prof, f);
                fclose(f);
                char *n2[] = { "profile.conf", NULL }, *t2[] = { buf, NULL };
                Profile *again = NULL;
                char **e2 = NULL;
                /* What we print, we must read back. */
                if (profile_load_strings("fuzz", n2, t2, &again, &e2) != 0)
                        abort();
                profile_free(again);
                strv_free(e2);
                free(buf);
        } else if (prof || !errors[0])
                abort();
        profile_free(prof);
        strv_free(errors);
        return 0;
}
