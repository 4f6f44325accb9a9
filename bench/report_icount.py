#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Report of `make bench-icount`: instruction counts per workload and
configuration, their ratios to 4 KB pages, the issue-7 targets next to them,
and the agreement between boots.

usage: report_icount.py --out DIR [--command CMD] [--rev REV] [--readme FILE]
                        SERIES:BOOT=RAW.txt ...

RAW.txt holds the guest's @@BENCH / @@BENCHINFO lines (bench/guest-bench.sh
with fpt.icount=1).  Under `-icount shift=0` the guest's CLOCK_MONOTONIC
counts executed instructions, 1 ns each, so every time_ns is a number of
instructions.  Round 0 is the warm-up and is left out.

Figures (per series = kernel, workload, configuration): the median over all
measured rounds of all boots, with min and max ("spread" = (max - min) /
median); "x 4 KB" = median / median of base4k, with the range min/max(base)
... max/min(base); the same per boot for the boot comparison.

Writes DIR/results.txt, results.csv, results.json, bench-icount.png and
summary.md (the Markdown that --readme puts between the bench-icount markers
of that file; the chart is then copied next to it).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

from report import parse, num   # bench/report.py: the @@BENCH line parser
from readme_section import replace_section

CONFIGS = ["base4k", "fpt_loaded", "fpt_armed", "fpt_off", "mthp64k",
           "fpt_folio", "fpt_reserve", "thp2m"]
LABELS = {
    "base4k": "4 KB pages (no module)",
    "fpt_loaded": "fpt.ko loaded, no policy",
    "fpt_armed": "armed by another cgroup, not opted in",
    "fpt_off": "fpt.ko loaded, mode-off policy elsewhere",
    "mthp64k": "kernel 64 KB mTHP (no module)",
    "fpt_folio": "opted in, folio backend",
    "fpt_reserve": "opted in, reserve backend",
    "thp2m": "2 MB THP always",
}
COLORS = {
    "base4k": "#888888", "fpt_loaded": "#c7c7c7", "fpt_armed": "#d62728",
    "fpt_off": "#bbbbbb", "mthp64k": "#1f77b4", "fpt_folio": "#2ca02c",
    "fpt_reserve": "#98df8a", "thp2m": "#ff7f0e",
}
# workload: (description, key of the figure, key of the faults)
WORKLOADS = {
    "touch": ("first touch, one write per 4 KB page", "time_ns", "minflt"),
    "sparse": ("one write per 64 KB window", "time_ns", "minflt"),
    "fork": ("fork; the child writes the parent's region; exit; wait", "time_ns", "minflt"),
    "churn": ("malloc, write, free of 256 KB blocks (each an mmap)", "time_ns", "minflt"),
    "redis": ("redis-server's CPU time during the SET fill", "phase_cpu_ns", "phase_minflt"),
    "redis-phase": ("the whole guest during the SET fill (server, redis-benchmark, kernel)",
                    "time_ns", "phase_minflt"),
}
ORDER = list(WORKLOADS)
OPTED = ("mthp64k", "fpt_folio", "fpt_reserve")   # configurations that promise 64 KB runs
COV_MIN = 50.0          # coverage (%) below which such a configuration's ratio is not shown
# where a workload's coverage is judged: its own region, but sparse touches
# one page per window (no run can form) and is judged by touch
COV_FROM = {"sparse": "touch", "redis-phase": "redis"}


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def measurements(rows):
    """{(workload, config): [dict per measured run]} (round 0 left out)."""
    out = {}
    for r in rows:
        if int(r.get("round", "0")) < 1:
            continue
        ws = [r["workload"]] + (["redis-phase"] if r["workload"] == "redis" else [])
        for w in ws:
            if w not in WORKLOADS:
                continue
            _, key, fkey = WORKLOADS[w]
            out.setdefault((w, r["config"]), []).append({
                "round": int(r["round"]),
                "instr": num(r.get(key)),
                "faults": num(r.get(fkey)),
                "coverage": num(r.get("coverage_pct")),
                "present_kb": num(r.get("present_kb")),
                "cpu_ns": num(r.get("cpu_ns")),
                "time_ns": num(r.get("time_ns")),
                "fallbacks": num(r.get("fallbacks")),
                "resv_unused_kb": num(r.get("resv_unused_kb")),
            })
    return out


def summarise(runs):
    ins = [m["instr"] for m in runs if m["instr"] is not None]
    s = {"n": len(ins), "instr": med(ins),
         "min": min(ins) if ins else None, "max": max(ins) if ins else None}
    s["spread_pct"] = (100.0 * (s["max"] - s["min"]) / s["instr"]) if ins and s["instr"] else None
    for k in ("faults", "coverage", "present_kb", "fallbacks", "resv_unused_kb"):
        s[k] = med([m[k] for m in runs])
    own = [m["cpu_ns"] / m["time_ns"] for m in runs
           if m["cpu_ns"] is not None and m["time_ns"]]
    s["own_pct"] = 100.0 * med(own) if own else None
    return s


def ratios(agg, base="base4k"):
    """Add x (median ratio) and x_lo/x_hi to every cell, against base."""
    for w in {w for w, _ in agg}:
        b = agg.get((w, base))
        for (w2, c), s in agg.items():
            if w2 != w:
                continue
            ok = b and b["instr"] and s["instr"]
            s["x_" + base] = s["instr"] / b["instr"] if ok else None
            s["x_%s_lo" % base] = s["min"] / b["max"] if ok else None
            s["x_%s_hi" % base] = s["max"] / b["min"] if ok else None
            if base == "base4k":
                # extra instructions per fault of 4 KB pages (per 4 KB page
                # the workload faults in, whatever the configuration's faults)
                s["per_fault"] = ((s["instr"] - b["instr"]) / b["faults"]
                                  if ok and b.get("faults") else None)


def gate(agg, w, c):
    """(shown, coverage): whether a 64 KB configuration got 64 KB runs."""
    if c not in OPTED:
        return True, None
    src = agg.get((COV_FROM.get(w, w), c))
    cov = src and src.get("coverage")
    return (cov is not None and cov >= COV_MIN), cov


def info_lines(path):
    with open(path, errors="replace") as fh:
        return [l.strip()[len("@@BENCHINFO "):] for l in fh if l.startswith("@@BENCHINFO ")]


def fails(path):
    with open(path, errors="replace") as fh:
        return [l.strip() for l in fh if l.startswith("@@BENCH-FAIL")]


def f(v, spec, dash="-"):
    return dash if v is None else spec % v


def xfmt(s, base, shown=True, cov=None):
    if not shown:
        return "no 64K runs (cov %s%%)" % f(cov, "%.0f", "?")
    x = s.get("x_" + base)
    if x is None:
        return "-"
    return "%.3f (%.3f-%.3f)" % (x, s["x_%s_lo" % base], s["x_%s_hi" % base])


def ordered_configs(cells):
    cs = {c for _, c in cells}
    return [c for c in CONFIGS if c in cs] + sorted(cs - set(CONFIGS))


def table(series, r):
    agg = r["agg"]
    lines = ["%s: Linux %s; %d measured round(s) x %d boot(s), median [min-max]; "
             "instructions in millions (M)" % (series, r["kernel"], r["rounds"], len(r["boots"]))]
    hdr = "%-11s %-11s %10s %7s %24s %8s %24s %8s %6s %6s %5s" % (
        "workload", "config", "M instr", "spread", "x 4 KB (range)", "+/fault",
        "x kernel mTHP (range)", "faults", "cov %", "own %", "fb")
    lines += [hdr, "-" * len(hdr)]
    for w in [w for w in ORDER if any(k[0] == w for k in agg)]:
        for c in ordered_configs([k for k in agg if k[0] == w]):
            s = agg[(w, c)]
            shown, cov = gate(agg, w, c)
            xm = "-"
            if c == "fpt_folio" and (w, "mthp64k") in agg:
                xm = xfmt(s, "mthp64k", shown, cov)
            lines.append("%-11s %-11s %10s %6s%% %24s %8s %24s %8s %6s %6s %5s" % (
                w, c, f(s["instr"] and s["instr"] / 1e6, "%.2f"), f(s["spread_pct"], "%.2f"),
                xfmt(s, "base4k", shown, cov),
                f(s.get("per_fault") if shown and c != "base4k" else None, "%+.0f"),
                xm, f(s["faults"], "%.0f"),
                f(s["coverage"], "%.1f"), f(s["own_pct"], "%.1f"), f(s["fallbacks"], "%.0f")))
    return lines


def targets(series, r):
    """[(status, text)] of the issue-7 targets; status met/missed/n/a."""
    agg, out, kern = r["agg"], [], r["kernel"]

    def cell(w, c):
        return agg.get((w, c))

    ws = [w for w in ORDER if (w, "base4k") in agg]
    # 1. armed-not-opted-in <= 1.02x 4 KB on every workload (stretch 1.005x)
    for w in ws:
        s = cell(w, "fpt_armed")
        if not s or s.get("x_base4k") is None:
            continue
        x = s["x_base4k"]
        out.append(("met" if x <= 1.02 else "missed",
                    "%s: armed-not-opted-in %s: %.4fx 4 KB [%.4f-%.4f] (target <= 1.02x; "
                    "stretch <= 1.005x: %s)" % (kern, w, x, s["x_base4k_lo"], s["x_base4k_hi"],
                                                "met" if x <= 1.005 else "missed")))
    # (no target) loaded, no policy
    for w in ws:
        s = cell(w, "fpt_loaded")
        if s and s.get("x_base4k") is not None:
            out.append(("info", "%s: loaded-no-policy %s: %.4fx 4 KB (no target; same bar as armed: %s)"
                        % (kern, w, s["x_base4k"], "within 1.02x" if s["x_base4k"] <= 1.02 else "above 1.02x")))
    # 2. folio backend <= 1.02x the kernel's own mTHP
    for w in ws:
        s, m = cell(w, "fpt_folio"), cell(w, "mthp64k")
        if not s or not m:
            continue
        shown, cov = gate(agg, w, "fpt_folio")
        mshown, mcov = gate(agg, w, "mthp64k")
        if not shown or not mshown:
            out.append(("n/a", "%s: folio backend %s vs kernel mTHP: not judged, coverage %s%% / %s%%"
                        % (kern, w, f(cov, "%.0f", "?"), f(mcov, "%.0f", "?"))))
            continue
        x = s.get("x_mthp64k")
        out.append(("met" if x <= 1.02 else "missed",
                     "%s: folio backend %s: %.4fx the kernel's mTHP [%.4f-%.4f] (target <= 1.02x)"
                     % (kern, w, x, s["x_mthp64k_lo"], s["x_mthp64k_hi"])))
    # 3. reserve backend: first touch <= 1.10x, sparse <= 1.25x of 4 KB
    for w, limit in (("touch", 1.10), ("sparse", 1.25)):
        s = cell(w, "fpt_reserve")
        if not s or s.get("x_base4k") is None:
            continue
        shown, cov = gate(agg, w, "fpt_reserve")
        if not shown:
            out.append(("n/a", "%s: reserve backend %s: not judged, coverage %s%%"
                        % (kern, w, f(cov, "%.0f", "?"))))
            continue
        x = s["x_base4k"]
        out.append(("met" if x <= limit else "missed",
                    "%s: reserve backend opted in, %s: %.4fx 4 KB [%.4f-%.4f] (target <= %.2fx)"
                    % (kern, w, x, s["x_base4k_lo"], s["x_base4k_hi"], limit)))
    return out


def boots_table(series, r):
    """Each figure per boot, side by side, and the largest difference."""
    b = r["boots"]
    if len(b) < 2:
        return ["%s: one boot only (BENCH_BOOTS=2 compares two)" % series], None
    names = sorted(b)
    hdr = "%-11s %-11s " % ("workload", "config") + " ".join(
        "%12s" % ("boot %s M" % n) for n in names) + " %9s " % "diff %" + " ".join(
        "%10s" % ("x4K b%s" % n) for n in names)
    lines = ["%s: the medians of each boot (diff = largest / smallest - 1)" % series, hdr, "-" * len(hdr)]
    worst = 0.0
    for w in ORDER:
        cells = [k for k in r["agg"] if k[0] == w]
        for c in ordered_configs(cells):
            vals = [b[n]["agg"].get((w, c), {}).get("instr") for n in names]
            xs = [b[n]["agg"].get((w, c), {}).get("x_base4k") for n in names]
            if any(v is None for v in vals):
                continue
            d = 100.0 * (max(vals) / min(vals) - 1.0)
            worst = max(worst, d)
            lines.append("%-11s %-11s " % (w, c) + " ".join("%12.3f" % (v / 1e6) for v in vals)
                         + " %8.3f%% " % d + " ".join("%10s" % f(x, "%.4f") for x in xs))
    lines.append("largest difference between boots: %.3f %% (%s 0.5 %%)"
                 % (worst, "within" if worst <= 0.5 else "NOT within"))
    return lines, worst


def chart(png, results):
    """One panel per kernel: instructions vs 4 KB in percent, per workload
    and configuration; bars beyond the axis are cut and labelled."""
    ylo, yhi = -20.0, 100.0
    tmpd = os.path.dirname(png)
    script = [
        "set terminal pngcairo size 1200,%d font 'DejaVu Sans,9'" % (400 * len(results) + 60),
        "set output '%s'" % png,
        "set termoption noenhanced",
        "set style data histogram",
        "set style histogram errorbars gap 1 lw 1",
        "set style fill solid 0.9 border -1",
        "set boxwidth 0.9",
        "set grid ytics",
        "set ylabel 'instructions vs 4 KB pages (%)'",
        "set key below horizontal maxrows 2 font ',9'",
        "set xtics nomirror",
        "set bars 0.4",
        "set yrange [%g:%g]" % (ylo, yhi),
        "set ytics 10",
        "set multiplot layout %d,1 title \"fpt bench-icount: instructions of each configuration "
        "vs those of 4 KB pages, %% (lower is cheaper)\\nbars: median; whiskers: min-max over "
        "rounds and boots; dotted line: +2 %%; bars beyond the axis are cut and their value "
        "printed\" font ',10'" % len(results),
    ]
    for series, r in results.items():
        agg = r["agg"]
        configs = ordered_configs(list(agg))
        ws = [w for w in ORDER if any(k[0] == w for k in agg)]
        dat = os.path.join(tmpd, "chart-%s.dat" % series)
        with open(dat, "w") as fh:
            for w in ws:
                vals = [w]
                for c in configs:
                    s = agg.get((w, c), {})
                    shown, _ = gate(agg, w, c)
                    x = s.get("x_base4k") if shown else None
                    if x is None:
                        vals += ["NaN"] * 3 + ['"n/a"' if (w, c) in agg else '""']
                        continue
                    p, lo, hi = [100.0 * (v - 1.0) for v in (x, s["x_base4k_lo"], s["x_base4k_hi"])]
                    cut = p > yhi or p < ylo
                    vals += ["%.4f" % max(min(v, yhi), ylo) for v in (p, lo, hi)]
                    vals.append(('"%+.0f%%"' % p) if cut else '""')
                fh.write(" ".join(vals) + "\n")
        n, gap = len(configs), 1.0
        plots = []
        for i, c in enumerate(configs):
            col = 2 + 4 * i
            plots.append("'%s' using %d:%d:%d:xtic(1) title '%s' lc rgb '%s'"
                         % (dat, col, col + 1, col + 2, LABELS.get(c, c), COLORS.get(c, "#000000")))
        for i, c in enumerate(configs):
            col = 2 + 4 * i
            off = (i - (n - 1) / 2.0) / (n + gap)
            plots.append("'%s' using ($0+%.4f):(%g):%d with labels rotate by 90 right "
                         "font ',8' notitle" % (dat, off, yhi - 2, col + 3))
        script += [
            "set title \"%s (Linux %s): QEMU TCG -icount, 1 vCPU; %d round(s) x %d boot(s)\" font ',11'"
            % (series, r["kernel"], r["rounds"], len(r["boots"])),
            "plot " + ", \\\n     ".join(plots)
            + ", 0 notitle lc rgb '#000000', 2 notitle dt 3 lw 1.5 lc rgb '#d62728'",
        ]
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, check=True)


def csv_rows(results):
    cols = ["series", "kernel", "boot", "workload", "config", "n", "instr_median", "instr_min",
            "instr_max", "spread_pct", "x_base4k", "x_base4k_lo", "x_base4k_hi", "per_fault", "x_mthp64k",
            "faults", "coverage_pct", "own_pct", "fallbacks", "shown"]
    rows = [cols]
    for series, r in results.items():
        for boot, agg in [("all", r["agg"])] + [(n, b["agg"]) for n, b in sorted(r["boots"].items())]:
            for w in ORDER:
                for c in ordered_configs([k for k in agg if k[0] == w]):
                    s = agg[(w, c)]
                    shown, _ = gate(agg, w, c)
                    v = {"series": series, "kernel": r["kernel"], "boot": boot, "workload": w,
                         "config": c, "n": s["n"], "instr_median": s["instr"], "instr_min": s["min"],
                         "instr_max": s["max"], "spread_pct": s["spread_pct"],
                         "x_base4k": s.get("x_base4k"), "x_base4k_lo": s.get("x_base4k_lo"),
                         "x_base4k_hi": s.get("x_base4k_hi"), "per_fault": s.get("per_fault"),
                         "x_mthp64k": s.get("x_mthp64k"),
                         "faults": s["faults"], "coverage_pct": s["coverage"], "own_pct": s["own_pct"],
                         "fallbacks": s["fallbacks"], "shown": int(shown)}
                    rows.append(["" if v[k] is None else
                                 (("%.6g" % v[k]) if isinstance(v[k], float) else str(v[k])) for k in cols])
    return rows


def aggregate(rows):
    agg = {k: summarise(v) for k, v in measurements(rows).items()}
    ratios(agg, "base4k")
    ratios(agg, "mthp64k")
    return agg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="make bench-icount")
    ap.add_argument("--rev", default="unknown", help="commit fpt.ko was built from")
    ap.add_argument("--readme")
    ap.add_argument("inputs", nargs="+", help="SERIES:BOOT=RAW.txt")
    a = ap.parse_args()

    results = {}
    for spec in a.inputs:
        name, path = spec.split("=", 1)
        series, boot = name.split(":", 1) if ":" in name else (name, "1")
        rows = parse(path)
        if not rows:
            print("report: no measurements in %s" % path, file=sys.stderr)
            continue
        r = results.setdefault(series, {"kernel": rows[0].get("kernel", series), "boots": {},
                                        "rows": [], "info": {}, "failed": []})
        r["boots"][boot] = {"agg": aggregate(rows), "path": path}
        r["rows"] += [dict(x, boot=boot) for x in rows]
        r["info"][boot] = info_lines(path)
        r["failed"] += fails(path)
    if not results:
        sys.exit("report: nothing to report")
    for r in results.values():
        r["agg"] = aggregate(r["rows"])
        r["rounds"] = max(int(x.get("round", 0)) for x in r["rows"])

    newest = max(os.path.getmtime(s.split("=", 1)[1]) for s in a.inputs)
    date = datetime.datetime.fromtimestamp(newest, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    os.makedirs(a.out, exist_ok=True)
    text, tg_all, worst_all = [], [], None
    for series, r in results.items():
        text += table(series, r)
        if r["failed"]:
            text.append("%d measurement(s) failed:" % len(r["failed"]))
            text += ["  " + l[:200] for l in r["failed"]]
        clk = [i for b in sorted(r["info"]) for i in r["info"][b] if i.startswith("clock: ")]
        for i, c in enumerate(clk):
            kv = dict(t.split("=", 1) for t in c.split() if "=" in t)
            n = num(kv.get("n"))
            if n:
                text.append("clock check, boot %d: a loop of %.0f instructions took %s ns (%.4f ns each); "
                            "rep stosb of %.0f bytes %s ns, rep stosq of %.0f quadwords %s ns"
                            % (i + 1, 2 * n, kv.get("loop_ns"), num(kv.get("loop_ns")) / (2 * n), n,
                               kv.get("stosb_ns"), n / 8, kv.get("stosq_ns")))
        text.append("")
        bt, worst = boots_table(series, r)
        text += bt + [""]
        if worst is not None:
            worst_all = worst if worst_all is None else max(worst_all, worst)
        tg = targets(series, r)
        tg_all += tg
        text += ["%-7s %s" % (st.upper() if st in ("met", "missed") else st, t) for st, t in tg]
        text.append("")
    legend = [
        "Figures: instructions executed in the guest (QEMU -icount shift=0: 1 ns = 1 instruction) during",
        "the measured phase, CLOCK_MONOTONIC around it in the one-vCPU guest: the process's user and",
        "kernel work and whatever the kernel does meanwhile for it (kworkers, RCU, interrupts).",
        "redis: the server's threads' CPU time (schedstat) during the SET fill; redis-phase: the whole guest.",
        "x 4 KB = median / median of base4k; range = min/max(base4k) .. max/min(base4k).",
        "+/fault = (median - median of base4k) / faults of base4k: instructions added per 4 KB fault.",
        "faults: minor faults per run (fork: the children's; redis: the server's during the fill).",
        "cov %: share of the region's memory in aligned contiguous 64 KB runs (pagemap); a 64 KB",
        "configuration with cov < %.0f %% (sparse: that of touch) gets no ratio.  own %%: the process's"
        % COV_MIN,
        "CPU time / the phase (the rest ran in other threads).  fb: fallbacks (guest-bench.sh).",
    ]
    text = ["fpt bench-icount, %s, `%s`, fpt.ko from commit %s" % (date, a.command, a.rev), ""] + \
        legend + [""] + text
    txt = "\n".join(text)
    with open(os.path.join(a.out, "results.txt"), "w") as fh:
        fh.write(txt + "\n")
    with open(os.path.join(a.out, "results.csv"), "w") as fh:
        for row in csv_rows(results):
            fh.write(",".join(row) + "\n")
    js = {"date": date, "command": a.command, "rev": a.rev, "boots_max_diff_pct": worst_all,
          "targets": [{"status": s, "text": t} for s, t in tg_all], "series": {}}
    for series, r in results.items():
        js["series"][series] = {
            "kernel": r["kernel"], "rounds": r["rounds"], "info": r["info"], "failed": r["failed"],
            "results": {"%s/%s" % k: v for k, v in r["agg"].items()},
            "boots": {n: {"%s/%s" % k: v for k, v in b["agg"].items()} for n, b in r["boots"].items()},
            "runs": r["rows"]}
    with open(os.path.join(a.out, "results.json"), "w") as fh:
        json.dump(js, fh, indent=1, sort_keys=True)
    png = os.path.join(a.out, "bench-icount.png")
    chart(png, results)
    print(txt)

    md = ["Measured %s with `%s` (QEMU TCG `-icount shift=0,sleep=off`, 1 vCPU, 2 GiB guests); "
          "fpt.ko built from commit %s." % (date, a.command, a.rev), ""]
    md.append("Kernels: " + ", ".join("%s (`%s`)" % (s, r["kernel"]) for s, r in results.items()) + ".")
    if worst_all is not None:
        md.append("Boots: the largest difference of a median between two boots of one kernel was "
                  "%.3f %%." % worst_all)
    md += ["", "![instructions relative to 4 KB pages](bench-icount.png)", "", "```", txt, "```", ""]
    with open(os.path.join(a.out, "summary.md"), "w") as fh:
        fh.write("\n".join(md))
    if a.readme:
        replace_section(a.readme, "bench-icount", md, png, "bench-icount.png")
        print("report: updated %s and its bench-icount.png" % a.readme)


if __name__ == "__main__":
    main()
