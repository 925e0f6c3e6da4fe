#!/usr/bin/env python3
"""Placeholder; replaced by the real generator (sorted, deduplicated word
array for iam/pwpolicy.c)."""
import sys
words = set()
for p in sys.argv[2:]:
    with open(p, encoding="utf-8") as f:
        for line in f:
            w = line.strip().lower()
            if w and not w.startswith("#"):
                words.add(w)
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("#include <stddef.h>\n")
    out.write("const char *const anfu_dict_words[] = {\n")
    for w in sorted(words):
        out.write('\t"%s",\n' % w)
    out.write("};\nconst size_t anfu_dict_count = %d;\n" % len(words))
