#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Aggregate the benchmark's @@BENCH lines into tables, CSV, JSON and charts.

usage: report.py --out DIR [--command CMD] [--readme README.md]
                 SERIES=RAW.txt [SERIES=RAW.txt ...]

Each RAW line: "@@BENCH kernel=K round=R config=C workload=W key=value ...".
Per series writes DIR/SERIES/results.{txt,csv,json} and DIR/SERIES/bench.png;
DIR/bench.png has one panel per series; DIR/summary.md is the Markdown
section that --readme puts between the markers of README.md (and the chart
is then copied next to it as bench.png).

Per workload and configuration: the median over the rounds, the spread
((max - min) / median of the time), speed = median time of base4k / median
time of the configuration (> 1: faster than 4 KB pages), faults (minor
faults, getrusage), RSS (present pages of the region, pagemap; servers:
of all private anonymous memory), coverage (share of that memory in
aligned contiguous 64 KB runs) and fallbacks.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
from readme_section import replace_section

CONFIGS = ["base4k", "fpt_off", "mthp64k", "fpt_folio", "fpt_reserve", "thp2m"]
LABELS = {
    "base4k": "4 KB pages (baseline)",
    "fpt_off": "fpt.ko loaded, not opted in",
    "mthp64k": "kernel 64 KB mTHP always (no fpt)",
    "fpt_folio": "fpt on, folio backend",
    "fpt_reserve": "fpt on, reserve backend",
    "thp2m": "2 MB THP (MADV_HUGEPAGE)",
}
COLORS = {
    "base4k": "#888888", "fpt_off": "#bbbbbb", "mthp64k": "#1f77b4",
    "fpt_folio": "#2ca02c", "fpt_reserve": "#98df8a", "thp2m": "#ff7f0e",
}
WORKLOADS = ["touch", "gups", "seqread", "cow", "sparse", "redis", "memcached"]
WDESC = {
    "touch": "first touch, 1 write per 4 KB page",
    "gups": "random 8-byte updates (ns/op)",
    "seqread": "sequential read",
    "cow": "fork + child writes every page",
    "sparse": "1 page per 64 KB (RSS cost)",
    "redis": "redis SET fill (redis-benchmark)",
    "memcached": "memcached set fill (bench-mcload)",
}


def parse(path):
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("@@BENCH "):
                continue
            d = {}
            for tok in line.split()[1:]:
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    d[k] = v
            if "workload" in d and "config" in d:
                rows.append(d)
    return rows


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def metrics(r):
    """The per-run numbers of one measurement, by workload."""
    w = r["workload"]
    m = {
        "time": num(r.get("time_ns")),
        "faults": num(r.get("minflt")),
        "rss_kb": num(r.get("present_kb")),
        "coverage": num(r.get("coverage_pct")),
        "anon_huge_kb": num(r.get("anon_huge_kb")),
        "fallbacks": num(r.get("fallbacks")),
    }
    if w == "gups":
        m["time"] = num(r.get("ns_per_op"))
    if w == "cow":   # the CoW copies: the child's region after its writes
        m["rss_kb"] = num(r.get("child_present_kb"))
        m["coverage"] = num(r.get("child_coverage_pct"))
        m["anon_huge_kb"] = num(r.get("child_anon_huge_kb"))
        m["fork_ns"] = num(r.get("fork_ns"))
    if w == "sparse":
        m["memused_kb"] = num(r.get("memused_kb"))
        ru = num(r.get("resv_unused_kb"))
        m["resv_unused_kb"] = ru if ru is not None and ru >= 0 else None
        m["touched_kb"] = num(r.get("touched_kb"))
    if w == "seqread":
        m["gb_per_s"] = num(r.get("gb_per_s"))
    det = {}
    for part in (r.get("fb_detail") or "").split(","):
        if ":" in part:
            k, v = part.split(":", 1)
            det[k] = num(v) or 0
    m["fb_detail"] = det
    if w in ("redis", "memcached"):
        m["sets_per_s"] = num(r.get("sets_per_s"))
        m["gets_per_s"] = num(r.get("gets_per_s"))
    return m


def aggregate(rows):
    """{workload: {config: summary}} with medians, spreads and ratios."""
    groups = {}
    for r in rows:
        groups.setdefault(r["workload"], {}).setdefault(r["config"], []).append(metrics(r))
    out = {}
    for w, byc in groups.items():
        out[w] = {}
        for c, runs in byc.items():
            s = {"n": len(runs)}
            keys = sorted({k for m in runs for k in m if k != "fb_detail"})
            for k in keys:
                s[k] = med([m.get(k) for m in runs])
            dk = sorted({k for m in runs for k in m["fb_detail"]})
            s["fb_detail"] = {k: med([m["fb_detail"].get(k, 0) for m in runs]) for k in dk}
            times = [m["time"] for m in runs if m["time"] is not None]
            s["times"] = times
            s["best"] = min(times) if times else None
            s["spread_pct"] = (100.0 * (max(times) - min(times)) / s["time"]
                               if times and s["time"] else None)
            out[w][c] = s
        base = out[w].get("base4k")
        for c, s in out[w].items():
            bt = base and base.get("time")
            s["speed"] = bt / s["time"] if bt and s.get("time") else None
            s["speed_lo"] = bt / max(s["times"]) if bt and s["times"] else None
            s["speed_hi"] = bt / min(s["times"]) if bt and s["times"] and min(s["times"]) > 0 else None
            bb = base and base.get("best")
            s["speed_best"] = bb / s["best"] if bb and s.get("best") else None
            br = base and base.get("rss_kb")
            s["rss_ratio"] = s["rss_kb"] / br if br and s.get("rss_kb") is not None else None
            bf = base and base.get("faults")
            s["fault_ratio"] = s["faults"] / bf if bf and s.get("faults") is not None else None
            bg = base and base.get("gets_per_s")
            s["get_speed"] = (s["gets_per_s"] / bg if bg and s.get("gets_per_s") else None)
    return out


def fmt_time(w, v):
    if v is None:
        return "-"
    if w == "gups":
        return "%.1f ns/op" % v
    return "%.1f ms" % (v / 1e6)


def f(v, spec, dash="-"):
    return dash if v is None else spec % v


def ordered(byc):
    return [c for c in CONFIGS if c in byc] + sorted(c for c in byc if c not in CONFIGS)


def table_text(series, kernel, agg, rounds):
    lines = []
    lines.append("%s: %s; median of %s runs per cell, configurations interleaved in one %s"
                 % (series, kernel, rounds, "run" if series.startswith("host") else "boot"))
    lines.append("speed = time of base4k / time (>1 = faster than 4 KB pages); "
                 "spread = (max-min)/median of the time;")
    lines.append("best = the fastest run, speed(best) = best of base4k / best (noise only adds time)")
    hdr = "%-9s %-11s %13s %7s %6s %13s %6s %9s %7s %9s %6s %6s %9s" % (
        "workload", "config", "time", "spread", "speed", "best", "(best)", "faults", "flt x",
        "RSS MB", "RSS x", "cov %", "fallbacks")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for w in [w for w in WORKLOADS if w in agg] + sorted(w for w in agg if w not in WORKLOADS):
        for c in ordered(agg[w]):
            s = agg[w][c]
            lines.append("%-9s %-11s %13s %6s%% %6s %13s %6s %9s %7s %9s %6s %6s %9s" % (
                w, c, fmt_time(w, s.get("time")), f(s.get("spread_pct"), "%.0f"),
                f(s.get("speed"), "%.2f"), fmt_time(w, s.get("best")),
                f(s.get("speed_best"), "%.2f"), f(s.get("faults"), "%.0f"),
                f(s.get("fault_ratio"), "%.3f"),
                f(None if s.get("rss_kb") is None else s["rss_kb"] / 1024, "%.1f"),
                f(s.get("rss_ratio"), "%.2f"), f(s.get("coverage"), "%.1f"),
                f(s.get("fallbacks"), "%.0f")))
        extra = []
        for c in ordered(agg[w]):
            s = agg[w][c]
            if w == "sparse" and s.get("resv_unused_kb") is not None:
                extra.append("%s %.1f MB" % (c, s["resv_unused_kb"] / 1024))
            if w in ("redis", "memcached") and s.get("gets_per_s"):
                extra.append("%s %.0f/s (x%s)" % (c, s["gets_per_s"], f(s.get("get_speed"), "%.2f")))
            if w == "cow" and s.get("fork_ns") is not None:
                extra.append("%s %.1f ms" % (c, s["fork_ns"] / 1e6))
        fbx = []
        for c in ordered(agg[w]):
            d = {k: v for k, v in agg[w][c].get("fb_detail", {}).items() if v}
            if d:
                fbx.append("%s %s" % (c, " ".join("%s %.0f" % kv for kv in sorted(d.items()))))
        if fbx:
            lines.append("  %s fpt fallbacks by reason (median per run): %s" % (w, "; ".join(fbx)))
        if extra:
            what = {"sparse": "held in fpt reservations, not mapped (not in RSS)",
                    "redis": "GET throughput", "memcached": "GET throughput",
                    "cow": "fork() alone"}[w]
            lines.append("  %s %s: %s" % (w, what, "; ".join(extra)))
    return "\n".join(lines)


def targets(results):
    """The issue's targets, judged from the measurements: (text, met) list."""
    out = []

    def get(series, w, c, k):
        return results.get(series, {}).get("agg", {}).get(w, {}).get(c, {}).get(k)

    for series in results:
        if series == "host":
            continue
        kern = results[series]["kernel"]
        def bestof(c):
            return get(series, "touch", c, "speed_best")

        sp = get(series, "touch", "fpt_folio", "speed")
        if sp is not None:
            out.append(("%s: opted-in first touch (folio) >= 2.0x 4 KB: %.2fx (best runs: %.2fx)"
                        % (kern, sp, bestof("fpt_folio") or 0), sp >= 2.0))
            tm, tf = get(series, "touch", "mthp64k", "time"), get(series, "touch", "fpt_folio", "time")
            bm, bf = get(series, "touch", "mthp64k", "best"), get(series, "touch", "fpt_folio", "best")
            if tm and tf:
                out.append(("%s: opted-in first touch (folio) >= 0.95x kernel mTHP always: %.2fx (best runs: %.2fx)"
                            % (kern, tm / tf, (bm / bf) if bm and bf else 0), tm / tf >= 0.95))
        sp = get(series, "touch", "fpt_reserve", "speed")
        if sp is not None:
            goal = 1.0 if "mthp64k" not in results[series]["agg"].get("touch", {}) else None
            if goal:
                out.append(("%s: opted-in first touch (reserve) >= 1.0x 4 KB: %.2fx (best runs: %.2fx)"
                            % (kern, sp, bestof("fpt_reserve") or 0), sp >= goal))
            else:
                out.append(("%s: (no target) first touch, reserve backend: %.2fx 4 KB (best runs: %.2fx)"
                            % (kern, sp, bestof("fpt_reserve") or 0), None))
        worst = None
        parts = []
        for w in WORKLOADS:
            b, o = get(series, w, "base4k", "time"), get(series, w, "fpt_off", "time")
            if b and o:
                slow = 100.0 * (o / b - 1.0)
                bb, bo = get(series, w, "base4k", "best"), get(series, w, "fpt_off", "best")
                parts.append("%s %+.1f%% (best runs %+.1f%%; spreads %.0f%%/%.0f%%)" % (
                    w, slow, 100.0 * (bo / bb - 1.0) if bb and bo else 0,
                    get(series, w, "base4k", "spread_pct") or 0,
                    get(series, w, "fpt_off", "spread_pct") or 0))
                worst = slow if worst is None else max(worst, slow)
        if worst is not None:
            out.append(("%s: not opted in with fpt.ko loaded <= 2%% slower (median time vs 4 KB, "
                        "+ = slower; the spreads of 4 KB / fpt_off show the emulator's noise): %s"
                        % (kern, ", ".join(parts)), worst <= 2.0))
        rb, rr = get(series, "sparse", "base4k", "rss_kb"), get(series, "sparse", "fpt_reserve", "rss_kb")
        if rb and rr is not None:
            d = 100.0 * (rr / rb - 1.0)
            ru = get(series, "sparse", "fpt_reserve", "resv_unused_kb")
            note = ""
            if ru is not None:
                note = ("; plus %.1f MB held unmapped in reservations right after the touch"
                        " (RSS + held = %+.1f%% vs 4 KB)" % (ru / 1024, 100.0 * ((rr + ru) / rb - 1.0)))
            out.append(("%s: sparse-touch RSS, reserve backend, within 1%% of 4 KB: %+.2f%%%s"
                        % (kern, d, note), abs(d) <= 1.0))
    return out


def write_csv(path, series, kernel, agg):
    cols = ["series", "kernel", "workload", "config", "n", "time", "time_unit", "spread_pct", "speed", "best", "speed_best",
            "speed_lo", "speed_hi", "faults", "fault_ratio", "rss_kb", "rss_ratio", "coverage_pct",
            "anon_huge_kb", "fallbacks", "memused_kb", "resv_unused_kb", "gets_per_s", "get_speed", "fork_ns"]
    with open(path, "w") as fh:
        fh.write(",".join(cols) + "\n")
        for w in agg:
            for c in ordered(agg[w]):
                s = agg[w][c]
                vals = {"series": series, "kernel": kernel, "workload": w, "config": c,
                        "time_unit": "ns_per_op" if w == "gups" else "ns",
                        "coverage_pct": s.get("coverage")}
                row = []
                for k in cols:
                    v = vals.get(k, s.get(k))
                    row.append("" if v is None else (("%.6g" % v) if isinstance(v, float) else str(v)))
                fh.write(",".join(row) + "\n")


def chart_data(path, agg, configs):
    """One row per workload: label, then speed lo hi per configuration."""
    with open(path, "w") as fh:
        for w in [w for w in WORKLOADS if w in agg]:
            vals = [w]
            for c in configs:
                s = agg[w].get(c, {})
                for k in ("speed", "speed_lo", "speed_hi"):
                    v = s.get(k)
                    vals.append("NaN" if v is None else "%.4f" % v)
            fh.write(" ".join(vals) + "\n")


def gnuplot_panel(dat, title, configs, ymax):
    plots = []
    for i, c in enumerate(configs):
        col = 2 + 3 * i
        plots.append("'%s' using %d:%d:%d:xtic(1) title '%s' lc rgb '%s'"
                     % (dat, col, col + 1, col + 2, LABELS.get(c, c), COLORS.get(c, "#000000")))
    return "\n".join([
        "set title \"%s\" font ',11'" % title.replace('"', "'"),
        "set yrange [0:%g]" % ymax,
        "plot " + ", \\\n     ".join(plots) + ", 1 notitle dt 2 lc rgb '#000000'",
    ])


def make_chart(png, panels, width=1100, panel_h=330):
    """panels: [(dat, title, configs, ymax)]"""
    script = [
        "set terminal pngcairo size %d,%d font 'DejaVu Sans,9'" % (width, panel_h * len(panels) + 40),
        "set output '%s'" % png,
        "set termoption noenhanced",
        "set style data histogram",
        "set style histogram errorbars gap 1 lw 1",
        "set style fill solid 0.9 border -1",
        "set boxwidth 0.9",
        "set grid ytics",
        "set ylabel 'speed vs 4 KB (x)'",
        "set key outside right top vertical font ',8'",
        "set xtics nomirror",
        "set bars 0.5",
        "set multiplot layout %d,1 title 'fpt benchmark: time of 4 KB pages / time "
        "(>1 = faster); bars: median, whiskers: min-max of the runs' font ',11'" % len(panels),
    ]
    for p in panels:
        script.append(gnuplot_panel(*p))
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--readme")
    ap.add_argument("--rev", default="unknown", help="commit fpt.ko was built from")
    ap.add_argument("inputs", nargs="+", help="SERIES=RAW.txt")
    a = ap.parse_args()

    results = {}
    for spec in a.inputs:
        series, path = spec.split("=", 1)
        rows = parse(path)
        if not rows:
            print("report: no measurements in %s" % path, file=sys.stderr)
            continue
        kernel = rows[0].get("kernel", series)
        rounds = max(int(r.get("round", 0)) for r in rows)
        agg = aggregate(rows)
        info = []
        with open(path, errors="replace") as fh:
            info = [l.strip()[len("@@BENCHINFO "):] for l in fh if l.startswith("@@BENCHINFO ")]
        failed = 0
        with open(path, errors="replace") as fh:
            failed = sum(1 for l in fh if l.startswith("@@BENCH-FAIL"))
        results[series] = {"kernel": kernel, "rounds": rounds, "agg": agg, "rows": rows,
                           "info": info, "failed": failed}

    if not results:
        sys.exit("report: nothing to report")
    # the date of the measurements: the newest raw file
    newest = max(os.path.getmtime(spec.split("=", 1)[1]) for spec in a.inputs)
    date = datetime.datetime.fromtimestamp(newest, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tg = targets(results)
    panels = []
    for series, r in results.items():
        d = os.path.join(a.out, series)
        os.makedirs(d, exist_ok=True)
        name = series if series != "host" else "host (real hardware, no fpt)"
        txt = table_text(name, r["kernel"], r["agg"], r["rounds"])
        if r["failed"]:
            txt += "\n%d measurement(s) failed (see raw.txt: @@BENCH-FAIL)" % r["failed"]
        r["text"] = txt
        with open(os.path.join(d, "results.txt"), "w") as fh:
            fh.write(txt + "\n")
            if series != "host":
                for t, ok in tg:
                    if t.startswith(r["kernel"]):
                        fh.write("%s  %s\n" % ("MET   " if ok else "MISSED" if ok is not None else "info  ", t))
        write_csv(os.path.join(d, "results.csv"), series, r["kernel"], r["agg"])
        js = {"series": series, "kernel": r["kernel"], "rounds": r["rounds"], "date": date,
              "command": a.command, "info": r["info"],
              "results": {w: {c: {k: v for k, v in s.items()} for c, s in byc.items()}
                          for w, byc in r["agg"].items()},
              "runs": r["rows"]}
        with open(os.path.join(d, "results.json"), "w") as fh:
            json.dump(js, fh, indent=1, sort_keys=True)
        configs = [c for c in CONFIGS if any(c in r["agg"][w] for w in r["agg"])]
        dat = os.path.join(d, "chart.dat")
        chart_data(dat, r["agg"], configs)
        hi = [s.get("speed_hi") or 0 for byc in r["agg"].values() for s in byc.values()]
        ymax = min(max(hi + [1.2]) * 1.1, 8)
        if series == "host":
            title = "host %s: real hardware, NO fpt (kernel mTHP and THP only)" % r["kernel"]
        else:
            title = "guest %s under QEMU TCG (emulated: only ratios within this panel mean something)" % r["kernel"]
        panels.append((dat, title, configs, ymax))
        make_chart(os.path.join(d, "bench.png"), [panels[-1]])
        print(txt)
        print()
    make_chart(os.path.join(a.out, "bench.png"), panels)
    for t, ok in tg:
        print("%s  %s" % ("MET   " if ok else "MISSED" if ok is not None else "info  ", t))

    # the Markdown summary
    md = ["Measured %s with `%s` on this repository's QEMU rig (2 vCPUs, TCG, 2 GiB guests);"
          " fpt.ko built from commit %s." % (date, a.command, a.rev), ""]
    md.append("Kernels: " + ", ".join("%s (`%s`)" % (s, r["kernel"]) for s, r in results.items()) + ".")
    md.append("")
    md.append("![speed against 4 KB pages per workload and configuration](bench.png)")
    md.append("")
    md.append("### Targets")
    md.append("")
    for t, ok in tg:
        md.append("- %s %s" % ("**met**" if ok else "**missed**" if ok is not None else "(info)", t))
    md.append("")
    for series, r in results.items():
        md.append("### %s" % ("host kernel, real hardware, no fpt" if series == "host" else "Linux " + r["kernel"]))
        md.append("")
        for i in r["info"]:
            if i.startswith(("rounds=", "thp=", "versions:")):
                md.append("<!-- %s -->" % i)
        md.append("```")
        md.append(r["text"])
        md.append("```")
        md.append("")
    with open(os.path.join(a.out, "summary.md"), "w") as fh:
        fh.write("\n".join(md))
    if a.readme:
        replace_section(a.readme, "bench-results", md,
                        os.path.join(a.out, "bench.png"), "bench.png")
        print("report: updated %s and its bench.png" % a.readme)


if __name__ == "__main__":
    main()
