/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "journal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "strutil.h"

void journal_init(Journal *j, const char *identity, uint64_t seed) {
        *j = (Journal) { .seed = seed, .steps = xcalloc(1, sizeof(char *)), .layout = xcalloc(1, sizeof(char *)),
                         .previous = xcalloc(1, sizeof(char *)) };
        snprintf(j->identity, sizeof j->identity, "%s", strempty(identity));
}

void journal_set_layout(Journal *j, char *const *layout, char *const *previous) {
        strv_free(j->layout);
        strv_free(j->previous);
        j->layout = strv_copy(layout);
        j->previous = strv_copy(previous);
}

bool journal_finished(const Journal *j) {
        size_t n = strv_length(j->steps);
        return n && (streq(j->steps[n - 1], "done") || streq(j->steps[n - 1], "storage"));
}

void journal_release(Journal *j) {
        strv_free(j->steps);
        strv_free(j->layout);
        strv_free(j->previous);
        free(j->path);
        *j = (Journal) {};
}

int journal_parse(const char *text, Journal *j) {
        journal_init(j, NULL, 0);
        _cleanup_strv_free_ char **lines = strv_split_lines(text);
        if (!lines[0] || (!streq(lines[0], JOURNAL_MAGIC) && !streq(lines[0], JOURNAL_MAGIC_2))) {
                /* An older journal: bare step names, no identity. */
                for (char **l = lines; *l; l++)
                        strv_push(&j->steps, *l);
                return -EINVAL;
        }
        for (char **l = lines + 1; *l; l++) {
                if (startswith(*l, "identity "))
                        snprintf(j->identity, sizeof j->identity, "%s", *l + strlen("identity "));
                else if (startswith(*l, "seed "))
                        j->seed = strtoull(*l + strlen("seed "), NULL, 16);
                else if (startswith(*l, "layout "))
                        strv_push(&j->layout, *l + strlen("layout "));
                else if (startswith(*l, "previous "))
                        strv_push(&j->previous, *l + strlen("previous "));
                else if (!journal_done(j, *l))
                        strv_push(&j->steps, *l);
        }
        return isempty(j->identity) ? -EINVAL : 0;
}

char *journal_format(const Journal *j) {
        char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);
        if (!f)
                oom();
        fprintf(f, JOURNAL_MAGIC "\nidentity %s\nseed %016" PRIx64 "\n", j->identity, j->seed);
        for (char **l = j->previous; l && *l; l++)
                fprintf(f, "previous %s\n", *l);
        for (char **l = j->layout; l && *l; l++)
                fprintf(f, "layout %s\n", *l);
        for (char **l = j->steps; *l; l++)
                fprintf(f, "%s\n", *l);
        if (fclose(f) != 0)
                oom();
        return text;
}

bool journal_done(const Journal *j, const char *step) {
        return strv_contains(j->steps, step);
}

static int journal_write(const Journal *j) {
        if (!j->path)
                return 0;
        _cleanup_free_ char *text = journal_format(j);
        int r = write_file_atomic(j->path, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "cannot write the install journal '%s': %m", j->path);
        return 0;
}

void journal_maybe_stop(const char *step) {
        const char *stop = getenv("HYPERION_STOP_AFTER");
        if (stop && streq(stop, step)) {
                log_warning("HYPERION_STOP_AFTER=%s: stopping here, as a power cut would", step);
                sync();
                _exit(137);
        }
}

int journal_add(Journal *j, const char *step) {
        if (!journal_done(j, step))
                strv_push(&j->steps, step);
        log_debug("journal: %s", step);
        int r = journal_write(j);
        if (r < 0)
                return r;
        journal_maybe_stop(step);
        return 0;
}

int journal_attach(Journal *j, const char *root) {
        _cleanup_free_ char *path = path_join(root, JOURNAL_PATH), *text = NULL;
        if (read_full_file(path, &text, NULL) == 0) {
                Journal old;
                /* make_plan checked it is this plan's; an unreadable one is replaced. */
                if (journal_parse(text, &old) == 0 && streq(old.identity, j->identity)) {
                        for (char **s = old.steps; *s; s++)
                                if (!journal_done(j, *s))
                                        strv_push(&j->steps, *s);
                        log_info("resuming: the journal of an earlier run lists %zu steps done", strv_length(old.steps));
                }
                journal_release(&old);
        }
        _cleanup_free_ char *dir = path_join(root, "var/lib/hyperion");
        int r = RUN(NULL, "mkdir", "-p", dir);
        if (r < 0)
                return r;
        free(j->path);
        j->path = TAKE_PTR(path);
        return journal_write(j);
}
