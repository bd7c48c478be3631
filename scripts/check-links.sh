#!/usr/bin/env bash
# Checks the relative links of every tracked Markdown file (`git ls-files '*.md'`), offline:
#   [text](path)          the file or directory exists (relative to the Markdown file);
#   [text](path#anchor)   …and `anchor` is the GitHub slug of one of its headings
#   [text](#anchor)       …in the same file.
# Also reference-style definitions (`[label]: path#anchor`). External links (http:, https:,
# mailto:) are skipped: nothing is fetched. Links inside fenced code blocks and `code spans`
# are not links and are ignored.
# Prints every broken link as `file:line: target` and exits 1 if there is any.
#   scripts/check-links.sh            every tracked .md file
#   scripts/check-links.sh FILE…      only these (tracked or not)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -gt 0 ]; then
  printf '%s\n' "$@"
else
  git ls-files -z '*.md' | tr '\0' '\n'
fi | python3 -c '
import os, re, sys, urllib.parse

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) or ![alt](target), with an optional "title"; text may hold `code`.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.I)

def strip_code_spans(line):
    # Replaces `…` spans (any number of backticks) by spaces, keeping columns.
    out, i = [], 0
    while i < len(line):
        if line[i] == "`":
            j = i
            while j < len(line) and line[j] == "`":
                j += 1
            ticks = line[i:j]
            end = line.find(ticks, j)
            if end == -1:
                out.append(line[i:j]); i = j; continue
            out.append(" " * (end + len(ticks) - i)); i = end + len(ticks)
        else:
            out.append(line[i]); i += 1
    return "".join(out)

def slug(text):
    # GitHub: strip inline markup, lowercase, drop punctuation except "-" and "_", spaces to "-".
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)   # links keep their text
    text = re.sub(r"<[^>]+>", "", text)                      # inline HTML tags
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")

anchor_cache = {}
def anchors(path):
    if path not in anchor_cache:
        found, counts, fence = set(), {}, None
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = FENCE.match(line)
                if fence:
                    if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                        fence = None
                    continue
                if m:
                    fence = m.group(1); continue
                for a in HTML_ANCHOR.findall(line):
                    found.add(a)
                h = HEADING.match(line)
                if h:
                    base = slug(h.group(2))
                    n = counts.get(base, 0)
                    found.add(base if n == 0 else f"{base}-{n}")
                    counts[base] = n + 1
        anchor_cache[path] = found
    return anchor_cache[path]

def targets(path):
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = FENCE.match(line)
            if fence:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                    fence = None
                continue
            if m:
                fence = m.group(1); continue
            line = strip_code_spans(line)
            for t in INLINE.findall(line):
                yield number, t
            r = REFDEF.match(line)
            if r:
                yield number, r.group(1)

broken = 0
for md in (l.strip() for l in sys.stdin):
    if not md:
        continue
    if not os.path.isfile(md):
        print(f"{md}:0: (no such Markdown file)"); broken += 1; continue
    here = os.path.dirname(md)
    for number, target in targets(md):
        target = target.strip("<>")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):   # http:, https:, mailto:, …
            continue
        path, _, anchor = target.partition("#")
        path = urllib.parse.unquote(path.split("?", 1)[0])
        file = md if path == "" else os.path.normpath(os.path.join(here, path))
        if path.startswith("/"):
            file = os.path.normpath(path.lstrip("/"))
        if not os.path.exists(file):
            print(f"{md}:{number}: {target}"); broken += 1; continue
        if anchor:
            if os.path.isdir(file) or not file.endswith((".md", ".markdown")):
                continue   # GitHub line anchors (#L10) and the like: not checked
            if urllib.parse.unquote(anchor).lower() not in anchors(file):
                print(f"{md}:{number}: {target}"); broken += 1
sys.exit(1 if broken else 0)
'
