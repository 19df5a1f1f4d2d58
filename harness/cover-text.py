#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""harness/series: the cover letter's own text, from a format-patch cover
letter: its subject (without the [PATCH 00/NN] prefix), a blank line, then
the body up to the shortlog that format-patch writes.

Usage: harness/cover-text.py COVER_LETTER_PATCH
"""
import re, sys
lines = open(sys.argv[1]).read().split('\n')
i = next(n for n, l in enumerate(lines) if l.startswith('Subject: '))
subject = re.sub(r'^Subject: \[[^]]*\] ', '', lines[i])
i += 1
while lines[i].startswith(' '):		# folded subject
	subject += lines[i]
	i += 1
while lines[i] != '':			# other headers
	i += 1
body = lines[i + 1:]
# The shortlog: "Name (N):" then indented subjects.
end = max(n for n, l in enumerate(body) if re.match(r'^\S.* \(\d+\):$', l))
print(subject + '\n\n' + '\n'.join(body[:end]).rstrip('\n'))
