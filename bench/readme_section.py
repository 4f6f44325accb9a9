"""The one way bench's report scripts write their results into a README:
between a begin and an end marker, with the chart copied beside it."""
import os
import shutil
import sys


def replace_section(readme, tag, lines, png, png_name):
    """Put @lines between <!-- TAG-begin --> and <!-- TAG-end --> in
    @readme, and copy @png next to it as @png_name."""
    begin, end = "<!-- %s-begin -->" % tag, "<!-- %s-end -->" % tag
    text = open(readme).read()
    if begin not in text or end not in text:
        sys.exit("report: %s has no %s ... %s markers" % (readme, begin, end))
    pre, rest = text.split(begin, 1)
    _, post = rest.split(end, 1)
    with open(readme, "w") as fh:
        fh.write(pre + begin + "\n" + "\n".join(lines) + "\n" + end + post)
    shutil.copyfile(png, os.path.join(os.path.dirname(os.path.abspath(readme)), png_name))
