/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * suite.h: the profile checked against the target suite itself, before the
 * long stages: its time zone, locale and keymap are ones that suite ships.
 */
#pragma once

#include "build.h"

/* 0 when the suite has them; else each missing one at FILE:LINE, -EINVAL. */
int suite_check(Build *b);
