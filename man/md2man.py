#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""md2man.py: fpt's man pages from markdown.

    md2man.py [--version V] [--date YYYY-MM-DD] [--counters fpt.h] -o OUT IN.md

IN.md starts with "# name(section)".  "## X" becomes a section (.SH X in
capitals), "### X" a subsection (.SS); paragraphs, "*"/"-" bullet lists
(continued by indented lines), "term" + ": definition" lists, indented or
fenced code blocks, "|" tables (tbl), `code` (bold), **bold**, *italic* and [text](link) are understood;
that is all fpt's markdown uses.  Anything else is an error, not a guess.

Directives (HTML comments, on a line of their own):
  <!-- include FILE#Heading -->   the section of FILE (relative to IN.md)
        whose heading is "Heading" (backquotes ignored, a prefix is
        enough), with its subsections; its level is kept (## -> .SH)
  <!-- counters -->                 a table of fpt's counters, from the
        FPT_COUNTERS list of include/uapi/linux/fpt.h (--counters)
  <!-- run PROGRAM ARG... -->       what PROGRAM (relative to IN.md) prints,
        as a code block (a program's --help, the one source of its options)
Other HTML comments are dropped.  In the NAME section the first " — "
becomes the " \\- " that whatis/lexgrog need.

The date is SOURCE_DATE_EPOCH's (reproducible builds), else --date, else
today.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys

SPECIAL = {
    "—": r"\(em", "–": r"\(en", "→": r"\(->", "←": r"\(<-", "≥": r"\(>=",
    "≤": r"\(<=", "×": r"\(mu", "…": r"\&.\|.\|.", "“": r"\(lq", "”": r"\(rq",
    "‘": r"\(oq", "’": r"\(cq", "−": r"\-", "≈": r"\(~~", "µ": r"\(mc",
}


def die(msg):
    sys.exit(f"md2man: {msg}")


def esc_text(s):
    """Escape plain text for roff (no font changes inside)."""
    out = []
    for ch in s:
        if ch == "\\":
            out.append(r"\e")
        elif ch == "-":
            out.append(r"\-")
        elif ch in SPECIAL:
            out.append(SPECIAL[ch])
        elif ord(ch) > 127:
            out.append(r"\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


INLINE = re.compile(
    r"(`+)(.+?)\1"                       # code span
    r"|\*\*(?=\S)(.+?)(?<=\S)\*\*"       # bold
    r"|(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"  # italic
    r"|\[([^\]]+)\]\(([^)\s]+)\)"        # link
)


def inline(s):
    """Markdown inline markup -> roff, fonts restored to the previous one."""
    out, pos = [], 0
    for m in INLINE.finditer(s):
        out.append(esc_text(s[pos:m.start()]))
        if m.group(1):
            # no hyphenation inside the word that holds the code (\% at
            # its start; in the middle of a word \% would allow a break)
            done = "".join(out)
            k = len(done)
            while k > 0 and not done[k - 1].isspace():
                k -= 1
            if not done[k:].startswith(r"\%"):
                done = done[:k] + r"\%" + done[k:]
            out = [done, r"\fB" + esc_text(m.group(2).strip()) + r"\fP"]
        elif m.group(3) is not None:
            out.append(r"\fB" + inline(m.group(3)) + r"\fP")
        elif m.group(4) is not None:
            out.append(r"\fI" + inline(m.group(4)) + r"\fP")
        else:
            text, link = m.group(5), m.group(6)
            out.append(inline(text))
            if not link.startswith("#"):
                out.append(" <" + esc_text(link) + ">")
        pos = m.end()
    out.append(esc_text(s[pos:]))
    return "".join(out)


def line_safe(s):
    """A text line must not start with a control character."""
    return "\\&" + s if s[:1] in (".", "'") else s


def norm_heading(h):
    return re.sub(r"\s+", " ", h.replace("`", "")).strip().lower()


def include(path, heading):
    """Lines of the section of PATH headed HEADING (with subsections)."""
    try:
        lines = open(path, encoding="utf-8").read().split("\n")
    except OSError as e:
        die(f"include: {e}")
    want = norm_heading(heading)
    start = level = None
    fence = False
    for i, l in enumerate(lines):
        if l.startswith("```"):
            fence = not fence
        if fence:
            continue
        m = re.match(r"(#{2,6}) (.*)", l)
        if not m:
            continue
        if start is None:
            if norm_heading(m.group(2)).startswith(want):
                start, level = i, len(m.group(1))
        elif len(m.group(1)) <= level:
            return lines[start:i]
    if start is None:
        die(f"include: no heading '{heading}' in {path}")
    return lines[start:]


def counters_table(header):
    """The FPT_COUNTERS X(ENUM, name, "help") list as a markdown table."""
    try:
        text = open(header, encoding="utf-8").read()
    except OSError as e:
        die(f"counters: {e}")
    m = re.search(r"#define FPT_COUNTERS\(X\)(.*?)\n\n", text, re.S)
    if not m:
        die(f"counters: no FPT_COUNTERS in {header}")
    rows = re.findall(r'X\(\s*\w+\s*,\s*(\w+)\s*,\s*"([^"]*)"\s*\)', m.group(1))
    if not rows:
        die(f"counters: FPT_COUNTERS in {header} is empty")
    out = ["| counter | meaning |", "|---|---|"]
    out += [f"| `{n}` | {h} |" for n, h in rows]
    return out


def split_row(l):
    cells = re.split(r"(?<!\\)\|", l.strip())
    if cells and cells[0].strip() == "":
        cells = cells[1:]
    if cells and cells[-1].strip() == "":
        cells = cells[:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


def plain_len(c):
    return len(re.sub(r"[`*]", "", c))


def table(rows):
    head, body = rows[0], rows[2:]
    n = len(head)
    for r in body:
        if len(r) != n:
            die(f"table row with {len(r)} cells, header has {n}: {'|'.join(r)}")
    if sum(max(plain_len(r[i]) for r in body + [head]) for i in range(n - 1)) > 34:
        return tagged_list(head, body)
    # The last column, and any other with long cells, share what is left
    # of the line width (x) and wrap (T{ ... T}); short columns keep their
    # width.
    wide = [i == n - 1 or max(plain_len(r[i]) for r in body) > 28 for i in range(n)]
    # groff 1.22's tbl warns when a text block (T{) is taller than what is
    # left of the page, and man renders one long page (cR=1) that grows
    # only at .ne: ask for the table's height (generously) first.
    height = 3 + sum(1 + sum(plain_len(c) for c in r) // 30 for r in body)
    out = [".PP", f".ne {height}v", ".TS", "tab(\a);"]
    out.append(" ".join(["lb"] * n))
    out.append(" ".join(["lx" if w else "l" for w in wide]) + ".")
    out.append("\a".join(inline(c) for c in head))
    out.append("_")
    for r in body:
        cells = []
        for c, w in zip(r, wide):
            t = inline(c)
            if not t:
                cells.append("\\&")
            elif w and plain_len(c) > 12:
                cells.append("T{\n" + line_safe(t) + "\nT}")
            else:
                cells.append(line_safe(t))
        out.append("\a".join(cells))
    out.append(".TE")
    return out


def tagged_list(head, body):
    """A table too wide for a terminal, as .TP paragraphs: the first cell
    is the tag (an empty first cell repeats the one above, as the markdown
    means it), the middle cells "header: value" after it, the last cell
    the paragraph."""
    # A first column with empty cells groups the rows ("[daemon]", then
    # its keys): the tag is then the group and the second cell.
    grouped = len(head) > 2 and any(not r[0] for r in body)
    k = 2 if grouped else 1
    out, first = [], ""
    for r in body:
        first = r[0] or first
        tag = inline(first) + (" " + inline(r[1]) if grouped else "")
        extra = "; ".join(f"{inline(h)}: {inline(c)}" for h, c in zip(head[k:-1], r[k:-1]) if c)
        out.append(".TP")
        out.append(line_safe(tag + (f" ({extra})" if extra else "")))
        out.append(line_safe(inline(r[-1])) if r[-1] else r"\&")
    return out


def convert(src, args):
    base = os.path.dirname(os.path.abspath(src))
    raw = open(src, encoding="utf-8").read().split("\n")
    m = re.match(r"# ([\w.-]+)\((\d)\)\s*$", raw[0]) if raw else None
    if not m:
        die(f"{src}: the first line must be '# name(section)'")
    name, section = m.group(1), m.group(2)

    # expand directives first
    lines = []
    for l in raw[1:]:
        d = re.match(r"\s*<!--\s*(include\s+(\S+)#(.+?)|counters|run\s+(.+?))\s*-->\s*$", l)
        if d and d.group(4):
            argv = d.group(4).split()
            try:
                text = subprocess.run([os.path.join(base, argv[0])] + argv[1:], check=True,
                                      capture_output=True, text=True).stdout
            except (OSError, subprocess.CalledProcessError) as e:
                die(f"run {d.group(4)}: {e}")
            lines += ["```"] + text.rstrip("\n").split("\n") + ["```"]
        elif d and d.group(1) == "counters":
            if not args.counters:
                die("<!-- counters --> needs --counters FILE")
            lines += counters_table(args.counters)
        elif d:
            lines += include(os.path.join(base, d.group(2)), d.group(3))
        else:
            lines.append(l)

    if os.environ.get("SOURCE_DATE_EPOCH"):
        date = datetime.datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]),
                                               datetime.timezone.utc).strftime("%Y-%m-%d")
    else:
        date = args.date or datetime.date.today().isoformat()
    ver = f"fpt {args.version}" if args.version else "fpt"
    out = ["'\\\" t",
           f".\\\" {name}({section}), generated by man/md2man.py from {os.path.basename(src)}: edit that",
           f'.TH {name.upper()} {section} "{date}" "{ver}" "fpt manual"',
           ".ad l"]

    i, section_name, para = 0, "", []
    in_comment = False

    def flush():
        if para:
            text = " ".join(p.strip() for p in para)
            if section_name == "NAME":
                text = text.replace(" — ", " - ", 1)
            if not out[-1].startswith((".SH", ".SS")):
                out.append(".PP")
            out.append(line_safe(inline(text)))
            para.clear()

    while i < len(lines):
        l = lines[i]
        if in_comment:
            in_comment = "-->" not in l
            i += 1
            continue
        if l.strip().startswith("<!--"):
            flush()
            in_comment = "-->" not in l
            i += 1
            continue
        h = re.match(r"(#{2,3}) (.*)", l)
        if h:
            flush()
            title = h.group(2).strip()
            if len(h.group(1)) == 2:
                section_name = norm_heading(title).upper()
                out.append(".SH " + inline(section_name.replace('"', "")))
            else:
                out.append('.SS "' + inline(title).replace('"', "") + '"')
            i += 1
            continue
        if l.startswith("#"):
            die(f"{src}: heading level not supported: {l}")
        if l.startswith("```"):
            flush()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            if j == len(lines):
                die(f"{src}: unterminated code fence")
            code(out, lines[i + 1:j])
            i = j + 1
            continue
        if l.startswith("    ") and not para:
            j = i
            block = []
            while j < len(lines) and (lines[j].startswith("    ") or lines[j].strip() == ""):
                block.append(lines[j][4:])
                j += 1
            while block and block[-1].strip() == "":
                block.pop()
            code(out, block)
            i = j
            continue
        if l.lstrip().startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            if len(rows) < 2 or not all(re.fullmatch(r":?-+:?", c) for c in rows[1]):
                die(f"{src}: a table needs a header and a |---| line: {rows[0]}")
            out += table(rows)
            continue
        b = re.match(r"([*-]|\d+\.) (.*)", l)
        if b:
            flush()
            item = [b.group(2)]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i])
                i += 1
            mark = r"\(bu" if b.group(1) in "*-" else b.group(1)
            out.append(f".IP {mark} 4" if mark != r"\(bu" else r".IP \(bu 2")
            out.append(line_safe(inline(" ".join(x.strip() for x in item))))
            continue
        if l.strip() == "":
            flush()
            i += 1
            continue
        if not para and i + 1 < len(lines) and lines[i + 1].startswith(": "):
            # definition list: "term" then ": text" (continued by indented lines)
            out.append(".TP")
            out.append(line_safe(inline(l.strip())))
            item = [lines[i + 1][2:]]
            i += 2
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i])
                i += 1
            out.append(line_safe(inline(" ".join(x.strip() for x in item))))
            continue
        para.append(l)
        i += 1
    flush()
    # no empty lines (they are blank lines in roff), no empty requests
    return "\n".join(x for x in out if x != "") + "\n"


def code(out, block):
    out += [".PP", ".RS 4", ".EX"]
    for c in block:
        t = esc_text(c)
        out.append(line_safe(t) if t else r"\&")
    out += [".EE", ".RE"]


def main():
    ap = argparse.ArgumentParser(description="markdown -> man page (fpt)")
    ap.add_argument("input")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--version", default="")
    ap.add_argument("--date", default="")
    ap.add_argument("--counters", default="")
    args = ap.parse_args()
    text = convert(args.input, args)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
