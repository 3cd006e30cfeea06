#!/usr/bin/env python3
"""Method lengths in the main Java sources, per module and in all.

A method's length is its lines from the declaration to the closing brace, both included (a
one-line body counts 3), without blank lines and comment-only lines; the body alone is that
less 2. The parse is a brace count over the sources with strings, text blocks and
comments blanked: good enough for a trend, not a compiler.

    python3 scripts/method_lengths.py            # every module
    python3 scripts/method_lengths.py cli --top 10
"""
import argparse
import glob
import os
import re
import statistics

MODULES = ["policy", "audit", "client-sdk", "engine", "clinical", "training", "server", "console",
           "spark", "cli", "testing"]
DECL = re.compile(
    r"^(\s+)(?!return\b|new\b|throw\b|else\b|if\b|for\b|while\b|switch\b|catch\b|try\b|do\b)"
    r"(?:@\w+(?:\([^)]*\))?\s+)*"
    r"(?:(?:public|protected|private|static|final|synchronized|abstract|default)\s+)*"
    r"(?:<[^>]+>\s+)?(?:[\w.<>\[\]?, @]+\s+)?(\w+)\s*\(")
CONTROL = {"if", "for", "while", "switch", "catch", "synchronized"}


def blanked(text):
    """The source with string literals, text blocks and comments emptied, line for line."""
    out, in_block, in_text = [], False, False
    for line in text.split("\n"):
        if '"""' in line:
            if line.count('"""') % 2:
                in_text = not in_text
            out.append("")
            continue
        if in_text:
            out.append("")
            continue
        s = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
        s = re.sub(r"'(?:\\.|[^'\\])*'", "''", s)
        s = re.sub(r"//.*", "", s)
        if in_block:
            if "*/" not in s:
                out.append("")
                continue
            in_block, s = False, s.split("*/", 1)[1]
        s = re.sub(r"/\*.*?\*/", "", s)
        if "/*" in s:
            in_block, s = True, s.split("/*")[0]
        out.append(s)
    return out


def methods(path):
    lines = blanked(open(path, encoding="utf-8").read())
    i, found = 0, []
    while i < len(lines):
        m = DECL.match(lines[i])
        head = lines[i].split("(")[0]
        if m and m.group(2) not in CONTROL and "=" not in head and not re.search(
                r"\b(class|record|interface|enum)\b", lines[i]):
            j = i
            while j < len(lines) and j - i < 8 and "{" not in lines[j]:
                if lines[j].rstrip().endswith(";"):
                    break
                j += 1
            if j < len(lines) and "{" in lines[j] and j - i < 8:
                depth, k = 0, j
                while k < len(lines):
                    depth += lines[k].count("{") - lines[k].count("}")
                    if depth <= 0:
                        break
                    k += 1
                code = sum(1 for line in lines[i : k + 1] if line.strip())
                found.append((code, path, i + 1, m.group(2)))
                i = k + 1
                continue
        i += 1
    return found


def report(name, found):
    lengths = [f[0] for f in found]
    over = sum(1 for n in lengths if n > 30)
    print(f"{name:<11} methods {len(lengths):5d}  median {statistics.median(lengths):4.1f}"
          f"  (body {statistics.median(lengths) - 2:4.1f})"
          f"  over 30 lines {over:3d} ({100 * over / len(lengths):.1f}%)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("modules", nargs="*", default=MODULES)
    p.add_argument("--top", type=int, default=0, help="list the N longest methods")
    a = p.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    every = []
    for module in a.modules:
        found = []
        for f in sorted(glob.glob(f"{root}/{module}/src/main/java/**/*.java", recursive=True)):
            found += methods(f)
        if found:
            report(module, found)
            every += found
    report("all", every)
    for n, path, line, name in sorted(every, reverse=True)[: a.top]:
        print(f"  {n:4d}  {os.path.relpath(path, root)}:{line} {name}")


if __name__ == "__main__":
    main()
