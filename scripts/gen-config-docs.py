#!/usr/bin/python3
"""Regenerates what the option tables produce (the platform's and every
module's of the build's list): etc/anfu.conf.example and the reference table
in docs/configuration.md (between the table header line and the first line
after it that is not a table row).

Usage: scripts/gen-config-docs.py BUILD_DIR
BUILD_DIR is a production build (`make build`: build/): the documents
describe the product, not the test-only modules of a test build
(tests/api/test_docs.py compares them with the production build).
"""
import subprocess
import sys


def main():
    anfu = sys.argv[1] + "/anfu"
    example = subprocess.run([anfu, "config", "example"], capture_output=True, text=True,
                             check=True).stdout
    with open("etc/anfu.conf.example", "w", encoding="utf-8") as f:
        f.write(example)
    table = subprocess.run([anfu, "config", "describe"], capture_output=True, text=True,
                           check=True).stdout
    with open("docs/configuration.md", encoding="utf-8") as f:
        lines = f.read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("| Section | Key |"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    new = lines[:start] + table.rstrip("\n").split("\n") + lines[end:]
    with open("docs/configuration.md", "w", encoding="utf-8") as f:
        f.write("\n".join(new))


if __name__ == "__main__":
    main()
