// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-sim: command line, table and JSON output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fptsim.h"

#define DEFAULT_WS	(1ULL << 30)
#define DEFAULT_BASE	0x7f0000000000ULL
#define DEFAULT_STRIDE	64
#define BUF		48	/* formatting buffers */

/* --cpu preset (NULL: none given) */
static const struct fpt_cpu *cpu;

static const char usage[] =
"Usage: fpt-sim [OPTIONS]                 model a synthetic working set\n"
"       fpt-sim --pid PID|self [OPTIONS]  analyse a running process\n"
"\n"
"Models what page size, contiguity (coalesced 64 KiB runs) and page-table\n"
"layout (4-level radix, Flattened Page Tables) cost in TLB misses, page-walk\n"
"memory references and page-table memory.\n"
"\n"
"Input:\n"
"  -w, --working-set SIZE  synthetic working set (default 1G); SIZE takes\n"
"                          K, M, G, T (binary: K = 1024), e.g. 256M, 1.5G\n"
"  -p, --pattern P         uniform | sequential | zipf[:S]  (default uniform)\n"
"  -s, --zipf S            zipf exponent S >= 0 (default 1; implies zipf)\n"
"      --stride SIZE       sequential: bytes between accesses (default 64)\n"
"      --base ADDR         synthetic: virtual start (default 0x7f0000000000,\n"
"                          lower in 512 GiB steps if W does not fit below 2^47)\n"
"      --pid PID           read PID's layout: /proc/PID/maps + pagemap (PFNs,\n"
"                          hence contiguity, need root / CAP_SYS_ADMIN)\n"
"      --anon              with --pid: anonymous mappings only\n"
"TLB:\n"
"      --cpu NAME          TLB preset: generic (default: 64 / 1536, 16 KiB\n"
"                          and 64 KiB coalescing), neoverse-n1 (48 / 1280),\n"
"                          neoverse-v1 (48 / 2048); the arm64 presets model\n"
"                          contpte: 16 contiguous PTEs (64 KiB) = one entry,\n"
"                          no 16 KiB rows (sources: README.md)\n"
"      --l1 N              L1 TLB entries (default 64; overrides --cpu)\n"
"      --l2 N              L2 TLB entries (default 1536; >= L1; overrides --cpu)\n"
"Output:\n"
"      --json              JSON instead of the tables (fields: README.md)\n"
"  -h, --help              this text\n"
"\n"
"TLB model.  Entry kinds: 4k (one PTE), 16k (4 x 4 KiB PTEs coalesced),\n"
"64k (16 x 4 KiB coalesced: AMD, arm64 contpte), 2m (one PMD leaf).  An\n"
"entry of n base pages has reach n x 4 KiB; reach = entries x that.  n pages\n"
"per entry divide the entries needed by n: 1 - 1/n of the largest possible\n"
"saving (64 KiB: 15/16).  A page walk happens on a miss in the L2 TLB (the\n"
"L2 is taken to cover the L1); the L1 miss rate uses the L1 entries.\n"
"  uniform     each access hits a uniformly random byte of the working set\n"
"              W: miss = max(0, 1 - R/W), R = reach.\n"
"  sequential  repeated sweeps over W, one access per stride: a sweep that\n"
"              needs more entries E than the TLB holds misses once per entry\n"
"              (LRU): miss = min(1, E x stride / W); one that fits: 0\n"
"              (steady state; the first sweep's E cold misses not counted).\n"
"  zipf:S      4 KiB page of rank k gets accesses ~ 1/k^S, hottest pages\n"
"              adjacent (rank = address order), so T entries of n pages hold\n"
"              the hottest T x n pages: miss = 1 - H(min(Tn, N), S) / H(N, S),\n"
"              N = W / 4 KiB pages, H = generalised harmonic number.\n"
"  T is the TLB's entry count (L1 or L2).  Walk cost per access = walk\n"
"  rate x memory references per walk (the tables show it per 1000\n"
"  accesses); no page-walk caches are modelled (each level is a memory\n"
"  reference).\n"
"\n"
"Page-table model (48-bit VA, 4 levels of 9 bits; radix node = 4 KiB,\n"
"folded node = 2^18 x 8 B = 2 MiB, allocated whole however sparse; the root\n"
"always exists).  Refs per walk and memory, counting the distinct 512 GiB,\n"
"1 GiB and 2 MiB regions the populated pages touch:\n"
"  radix          4  4K root + 4K per 512G + 4K per 1G + 4K per 2M\n"
"  radix-2m       3  4K root + 4K per 512G + 4K per 1G (all leaves 2 MiB)\n"
"  fpt-l4l3       3  2M L4L3 root + 4K per 1G + 4K per 2M\n"
"  fpt-l3l2       3  4K root + 2M L3L2 node per 512G + 4K per 2M\n"
"  fpt-l4l3-l2l1  2  2M L4L3 root + 2M L2L1 node per 1G\n"
"4 KiB-leaf layouts go with the 4k/16k/64k rows, radix-2m with the 2m row.\n"
"\n"
"Process model (--pid).  Pages are those of the VMAs in maps ([vsyscall]\n"
"excluded); present = pagemap bit 63, populated = present or swapped (bit\n"
"62): page tables are counted for the populated pages, and for the whole\n"
"VMAs as 'if all populated'.  A run is n pages with virtual and physical\n"
"page numbers both multiples of n and both consecutive (n = 4, 16, 512).\n"
"Rows: 4k = present pages; 16k/64k/2m = actual runs, each one entry, the\n"
"other pages one each; 64k+2m = 2M runs, other 64K runs, other pages;\n"
"*-ideal = distinct aligned regions with a present page (all contiguous).\n"
"Accesses range over the present bytes W; with E entries the reach is\n"
"taken as T x W/E (entries equally likely resident): uniform gives\n"
"max(0, 1 - T/E).  Only uniform and sequential apply.  The 2m and 64k+2m\n"
"rows mix 4K and 2M leaves, so no layout walk cost is given for them.\n"
"PAGEMAP_SCAN (Linux 6.7+) skips unpopulated ranges; set\n"
"FPT_SIM_NO_PAGEMAP_SCAN=1 to read every pagemap entry instead.\n";

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "fpt-sim: %s%s%s\nTry 'fpt-sim --help'.\n", msg,
		arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static uint64_t parse_u64(const char *s, const char *what, bool zero_ok)
{
	char *end;
	unsigned long long v;

	if (*s == '-' || *s == ' ')
		die_usage(what, s);
	errno = 0;
	v = strtoull(s, &end, 0);
	if (end == s || *end || errno || (!v && !zero_ok))
		die_usage(what, s);
	return v;
}

static uint64_t parse_count(const char *s, const char *what)
{
	return parse_u64(s, what, false);
}

static const char *fmtb(char *buf, double v)
{
	return fpt_fmt_bytes(buf, BUF, v);
}

static const char *fmt_rate(char *buf, double r)
{
	if (r == 0)
		snprintf(buf, BUF, "0");
	else
		snprintf(buf, BUF, "%.4g%%", r * 100);
	return buf;
}

static const char *fmt_frac(char *buf, struct fpt_frac f)
{
	if (!f.den)
		snprintf(buf, BUF, "-");
	else if (!f.num)
		snprintf(buf, BUF, "0");
	else
		snprintf(buf, BUF, "%" PRIu64 "/%" PRIu64, f.num, f.den);
	return buf;
}

static const char *leaf_name(const struct fpt_tlbrow *r)
{
	return r->mixed ? "mixed" : r->leaf_2m ? "2m" : "4k";
}

/* ---- tables --------------------------------------------------------------- */

static bool show_col(const struct fpt_report *rep, size_t i)
{
	static const char *const proc_cols[] = {
		"4k", "64k", "64k-ideal", "2m-ideal"
	};
	size_t k;

	if (!rep->process)
		return true;
	for (k = 0; k < sizeof(proc_cols) / sizeof(*proc_cols); k++)
		if (!strcmp(rep->rows[i].name, proc_cols[k]))
			return true;
	return false;
}

static void print_tables(const struct fpt_report *rep)
{
	char a[BUF], b[BUF], c[BUF], d[BUF], e[BUF];
	size_t i;
	int l;

	if (cpu)
		printf("CPU preset %s: %s (%s)\n", cpu->name, cpu->label,
		       cpu->source);
	printf("TLB: L1 %" PRIu64 " entries, L2 %" PRIu64 " entries; "
	       "walk = miss in both (L2 covers L1)\n\n",
	       rep->l1, rep->l2);
	printf("%-24s %8s %8s %12s %10s %10s %10s %10s\n", "entry kind",
	       "pages/", "benefit", "entries", "L1 reach", "L2 reach",
	       "L1 miss", "walk rate");
	printf("%-24s %8s %8s %12s\n", "", "entry", "1-1/n", "needed");
	for (i = 0; i < rep->nrows; i++) {
		const struct fpt_tlbrow *r = &rep->rows[i];
		char ppe[32];

		if (r->pages_per_entry == floor(r->pages_per_entry))
			snprintf(ppe, sizeof(ppe), "%.0f", r->pages_per_entry);
		else
			snprintf(ppe, sizeof(ppe), "%.2f", r->pages_per_entry);
		printf("%-24s %8s %8s %12" PRIu64 " %10s %10s %10s %10s\n",
		       r->label, ppe, fmt_frac(a, r->benefit), r->entries,
		       fmtb(b, r->l1_reach), fmtb(c, r->l2_reach),
		       fmt_rate(d, r->l1_miss), fmt_rate(e, r->walk_rate));
	}

	printf("\n%-16s %4s %5s %10s %6s %11s", "page table", "leaf", "refs/",
	       "4 KiB", "2 MiB", "PT memory");
	if (rep->process)
		printf(" %11s", "PT memory");
	printf("   walk refs / 1000 accesses\n");
	printf("%-16s %4s %5s %10s %6s %11s", "layout", "", "walk", "tables",
	       "nodes", "");
	if (rep->process)
		printf(" %11s", "(all VMAs)");
	printf("  ");
	for (i = 0; i < rep->nrows; i++)
		if (show_col(rep, i))
			printf(" %9s", rep->rows[i].name);
	printf("\n");
	for (l = 0; l < FPT_NLAYOUT; l++) {
		const struct fpt_layoutrow *lr = &rep->layouts[l];
		const struct fpt_layout_desc *d = &fpt_layouts[l];

		printf("%-16s %4s %5u %10" PRIu64 " %6" PRIu64 " %11s",
		       d->label, d->leaf_2m ? "2M" : "4K", d->refs,
		       lr->pt.tables_4k, lr->pt.nodes_2m,
		       fmtb(a, (double)lr->pt.bytes));
		if (rep->process)
			printf(" %11s", fmtb(a, (double)lr->pt_mapped.bytes));
		printf("  ");
		for (i = 0; i < rep->nrows; i++) {
			if (!show_col(rep, i))
				continue;
			if (lr->refs_per_access[i] < 0)
				printf(" %9s", "-");
			else
				printf(" %9.4g", lr->refs_per_access[i] * 1000);
		}
		printf("\n");
	}
}

/* ---- JSON ----------------------------------------------------------------- */

static void jnum(double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		printf("%.0f", v);
	else
		printf("%.17g", v);
}

static void jstr(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_json(const struct fpt_report *rep, const struct fpt_pm *pm,
		       const struct fpt_procinfo *info, const char *pid,
		       bool anon, uint64_t base)
{
	size_t i;
	int l;

	printf("{\n  \"tool\": \"fpt-sim\",\n  \"version\": 1,\n");
	printf("  \"input\": {\n    \"kind\": \"%s\",\n",
	       rep->process ? "process" : "synthetic");
	printf("    \"working_set_bytes\": %" PRIu64 ",\n", rep->ws);
	printf("    \"pattern\": \"%s\",\n", fpt_pattern_name(rep->pattern));
	printf("    \"zipf_s\": ");
	if (rep->pattern == FPT_ZIPF)
		jnum(rep->zipf_s);
	else
		printf("null");
	printf(",\n    \"stride_bytes\": ");
	if (rep->pattern == FPT_SEQUENTIAL)
		printf("%" PRIu64, rep->stride);
	else
		printf("null");
	if (!rep->process) {
		printf(",\n    \"base\": \"0x%" PRIx64 "\"\n  },\n", base);
	} else {
		bool known = fpt_pm_pfns_known(pm);

		printf(",\n    \"pid\": %s", pid);
		printf(",\n    \"comm\": ");
		jstr(info->comm);
		printf(",\n    \"anon_only\": %s,\n", anon ? "true" : "false");
		printf("    \"vmas\": %" PRIu64 ",\n", pm->vmas);
		printf("    \"mapped_bytes\": %" PRIu64 ",\n",
		       pm->mapped_pages * FPT_PAGE_SIZE);
		printf("    \"present_pages\": %" PRIu64 ",\n", pm->present);
		printf("    \"swapped_pages\": %" PRIu64 ",\n", pm->swapped);
		printf("    \"pfns_known\": %s,\n", known ? "true" : "false");
		if (known)
			printf("    \"runs_16k\": %" PRIu64 ",\n"
			       "    \"runs_64k\": %" PRIu64 ",\n"
			       "    \"runs_2m\": %" PRIu64 ",\n",
			       pm->runs16k, pm->runs64k, pm->runs2m);
		else
			printf("    \"runs_16k\": null,\n    \"runs_64k\": null,\n"
			       "    \"runs_2m\": null,\n");
		printf("    \"kernel_vmpte_bytes\": ");
		if (info->vmpte_bytes >= 0)
			printf("%" PRId64 "\n  },\n", info->vmpte_bytes);
		else
			printf("null\n  },\n");
	}
	printf("  \"tlb\": { \"l1_entries\": %" PRIu64
	       ", \"l2_entries\": %" PRIu64 ", \"preset\": ", rep->l1, rep->l2);
	if (cpu)
		jstr(cpu->name);
	else
		printf("null");
	printf(" },\n");

	printf("  \"page_sizes\": [\n");
	for (i = 0; i < rep->nrows; i++) {
		const struct fpt_tlbrow *r = &rep->rows[i];

		printf("    { \"name\": \"%s\", \"leaf\": \"%s\", "
		       "\"pages_per_entry\": ", r->name, leaf_name(r));
		jnum(r->pages_per_entry);
		if (r->benefit.den) {
			printf(", \"benefit_num\": %" PRIu64 ", \"benefit_den\": %"
			       PRIu64 ", \"benefit\": ", r->benefit.num,
			       r->benefit.den);
			jnum((double)r->benefit.num / (double)r->benefit.den);
		} else {
			printf(", \"benefit_num\": null, \"benefit_den\": null, "
			       "\"benefit\": null");
		}
		printf(",\n      \"entries_needed\": %" PRIu64
		       ", \"bytes_per_entry\": ", r->entries);
		jnum(r->bytes_per_entry);
		printf(", \"l1_reach_bytes\": ");
		jnum(r->l1_reach);
		printf(", \"l2_reach_bytes\": ");
		jnum(r->l2_reach);
		printf(",\n      \"l1_miss_rate\": ");
		jnum(r->l1_miss);
		printf(", \"walk_rate\": ");
		jnum(r->walk_rate);
		printf(" }%s\n", i + 1 < rep->nrows ? "," : "");
	}
	printf("  ],\n  \"layouts\": [\n");
	for (l = 0; l < FPT_NLAYOUT; l++) {
		const struct fpt_layoutrow *lr = &rep->layouts[l];
		const struct fpt_layout_desc *d = &fpt_layouts[l];
		bool first = true;

		printf("    { \"name\": \"%s\", \"leaf\": \"%s\", "
		       "\"refs_per_walk\": %u,\n", d->name,
		       d->leaf_2m ? "2m" : "4k", d->refs);
		printf("      \"tables_4k\": %" PRIu64 ", \"nodes_2m\": %" PRIu64
		       ", \"table_bytes\": %" PRIu64 ", \"mapped_table_bytes\": %"
		       PRIu64 ",\n", lr->pt.tables_4k, lr->pt.nodes_2m,
		       lr->pt.bytes, lr->pt_mapped.bytes);
		printf("      \"walk_refs_per_access\": {");
		for (i = 0; i < rep->nrows; i++) {
			if (lr->refs_per_access[i] < 0)
				continue;
			printf("%s \"%s\": ", first ? "" : ",",
			       rep->rows[i].name);
			jnum(lr->refs_per_access[i]);
			first = false;
		}
		printf(" } }%s\n", l + 1 < FPT_NLAYOUT ? "," : "");
	}
	printf("  ]\n}\n");
}

/* ---- main ----------------------------------------------------------------- */

enum { O_STRIDE = 256, O_BASE, O_PID, O_ANON, O_L1, O_L2, O_JSON, O_CPU };

static const struct option longopts[] = {
	{ "working-set", required_argument, NULL, 'w' },
	{ "pattern",     required_argument, NULL, 'p' },
	{ "zipf",        required_argument, NULL, 's' },
	{ "stride",      required_argument, NULL, O_STRIDE },
	{ "base",        required_argument, NULL, O_BASE },
	{ "pid",         required_argument, NULL, O_PID },
	{ "anon",        no_argument,       NULL, O_ANON },
	{ "l1",          required_argument, NULL, O_L1 },
	{ "l2",          required_argument, NULL, O_L2 },
	{ "cpu",         required_argument, NULL, O_CPU },
	{ "json",        no_argument,       NULL, O_JSON },
	{ "help",        no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static double parse_zipf(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0) || !isfinite(v))
		die_usage("bad zipf exponent", s);
	return v;
}

int main(int argc, char **argv)
{
	struct fpt_synth syn = {
		.ws = DEFAULT_WS, .base = DEFAULT_BASE, .pattern = FPT_UNIFORM,
		.zipf_s = 1.0, .stride = DEFAULT_STRIDE,
		.l1 = FPT_DEFAULT_L1, .l2 = FPT_DEFAULT_L2,
	};
	static struct fpt_pm pm;
	struct fpt_procinfo info;
	struct fpt_report rep;
	const char *pid = NULL, *err = "";
	bool json = false, anon = false, ws_set = false, base_set = false;
	char a[BUF], b[BUF], c[BUF];
	bool l1_set = false, l2_set = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "w:p:s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			if (fpt_parse_size(optarg, &syn.ws) || !syn.ws)
				die_usage("bad working-set size", optarg);
			ws_set = true;
			break;
		case 'p':
			if (!strcmp(optarg, "uniform")) {
				syn.pattern = FPT_UNIFORM;
			} else if (!strcmp(optarg, "sequential") ||
				   !strcmp(optarg, "seq")) {
				syn.pattern = FPT_SEQUENTIAL;
			} else if (!strcmp(optarg, "zipf")) {
				syn.pattern = FPT_ZIPF;
			} else if (!strncmp(optarg, "zipf:", 5)) {
				syn.pattern = FPT_ZIPF;
				syn.zipf_s = parse_zipf(optarg + 5);
			} else {
				die_usage("unknown pattern", optarg);
			}
			break;
		case 's':
			syn.pattern = FPT_ZIPF;
			syn.zipf_s = parse_zipf(optarg);
			break;
		case O_STRIDE:
			if (fpt_parse_size(optarg, &syn.stride) || !syn.stride)
				die_usage("bad stride", optarg);
			break;
		case O_BASE:
			syn.base = parse_u64(optarg, "bad base address", true);
			base_set = true;
			break;
		case O_PID:
			pid = optarg;
			if (strcmp(pid, "self") &&
			    strspn(pid, "0123456789") != strlen(pid))
				die_usage("bad pid", pid);
			break;
		case O_ANON:
			anon = true;
			break;
		case O_L1:
			syn.l1 = parse_count(optarg, "bad L1 entry count");
			l1_set = true;
			break;
		case O_L2:
			syn.l2 = parse_count(optarg, "bad L2 entry count");
			l2_set = true;
			break;
		case O_CPU:
			cpu = fpt_cpu_find(optarg);
			if (!cpu)
				die_usage("unknown --cpu (generic, neoverse-n1, "
					  "neoverse-v1)", optarg);
			break;
		case O_JSON:
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			die_usage("bad option", NULL);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument", argv[optind]);
	if (anon && !pid)
		die_usage("--anon needs --pid", NULL);
	if (pid && ws_set)
		die_usage("--working-set and --pid exclude each other", NULL);
	if (cpu) {		/* --l1 / --l2 win over the preset */
		if (!l1_set)
			syn.l1 = cpu->l1;
		if (!l2_set)
			syn.l2 = cpu->l2;
		syn.no16k = !cpu->coalesce16k;
	}

	if (!pid) {
		/* the default base moves down (512 GiB steps) to fit ws */
		if (!base_set && syn.ws <= FPT_VA_LIMIT &&
		    syn.ws > FPT_VA_LIMIT - syn.base)
			syn.base = (FPT_VA_LIMIT - syn.ws) & ~((1ULL << 39) - 1);
		if (fpt_synth_report(&syn, &rep, &err)) {
			fprintf(stderr, "fpt-sim: %s\n", err);
			return 2;
		}
		if (json) {
			print_json(&rep, NULL, NULL, NULL, false, syn.base);
			return 0;
		}
		printf("fpt-sim: synthetic working set %s at 0x%" PRIx64
		       ", %s access", fmtb(a, (double)syn.ws), syn.base,
		       fpt_pattern_name(syn.pattern));
		if (syn.pattern == FPT_ZIPF)
			printf(" (s = %g)", syn.zipf_s);
		if (syn.pattern == FPT_SEQUENTIAL)
			printf(" (stride %s)", fmtb(b, (double)syn.stride));
		printf("\n");
		print_tables(&rep);
		return 0;
	} else {
		struct fpt_procin pin = {
			.pattern = syn.pattern, .stride = syn.stride,
			.l1 = syn.l1, .l2 = syn.l2, .no16k = syn.no16k,
		};
		char msg[256], self[24];

		if (!strcmp(pid, "self")) {	/* report the number */
			snprintf(self, sizeof(self), "%d", (int)getpid());
			pid = self;
		}
		if (fpt_proc_scan(pid, anon, &pm, &info, msg, sizeof(msg))) {
			fprintf(stderr, "fpt-sim: %s\n", msg);
			return 1;
		}
		if (fpt_process_report(&pm, &pin, &rep, &err)) {
			fprintf(stderr, "fpt-sim: %s\n", err);
			return 2;
		}
		if (json) {
			print_json(&rep, &pm, &info, pid, anon, 0);
			return 0;
		}
		printf("fpt-sim: process %s (%s): %" PRIu64 " VMAs%s, mapped %s, "
		       "present %s (%" PRIu64 " pages), swapped %" PRIu64
		       " pages, %s access\n", pid, info.comm, pm.vmas,
		       anon ? " (anonymous only)" : "",
		       fmtb(a, (double)(pm.mapped_pages * FPT_PAGE_SIZE)),
		       fmtb(b, (double)(pm.present * FPT_PAGE_SIZE)),
		       pm.present, pm.swapped, fpt_pattern_name(pin.pattern));
		if (fpt_pm_pfns_known(&pm)) {
			double p = pm.present ? 100.0 / (double)pm.present : 0;

			printf("physically contiguous aligned runs: 16K %" PRIu64
			       " (%.1f%% of present), 64K %" PRIu64
			       " (%.1f%%), 2M %" PRIu64 " (%.1f%%)\n",
			       pm.runs16k, p * 4 * (double)pm.runs16k,
			       pm.runs64k, p * 16 * (double)pm.runs64k,
			       pm.runs2m, p * 512 * (double)pm.runs2m);
		} else {
			printf("PFNs not readable (need root/CAP_SYS_ADMIN): "
			       "actual runs not shown, ideal rows only\n");
		}
		if (info.vmpte_bytes >= 0)
			printf("kernel VmPTE %s (its tables below the root; "
			       "model radix: %s incl. 4 KiB root)\n",
			       fmtb(c, (double)info.vmpte_bytes),
			       fmtb(a, (double)rep.layouts[FPT_L_RADIX].pt.bytes));
		print_tables(&rep);
	}
	return 0;
}
