# tests/bench/lib.sh: shared by the side-by-side benchmarks. One demo cluster with one content
# (a primary and its mirror) loaded with pgbench; timing with a cold page cache (root only);
# results as TSV rows plus a summary with medians and ratios.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib/common.sh
. "$REPO/scripts/lib/common.sh"
export PATH="$REPO/build/bin:$PATH"
SCALE=${BENCH_SCALE:-100}
RUNS=${BENCH_RUNS:-3}
BDIR=${BENCH_DIR:-/tmp/segrecover-bench-s$SCALE}
BPORT=${BENCH_PORT_BASE:-7700}
RESULTS=${BENCH_RESULTS:-$BDIR-results}
mkdir -p "$RESULTS"

[ "$(id -u)" = 0 ] || seg_warn "not root: the page cache cannot be dropped; timings are warm"

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U "$SEG_OS_USER" -d postgres -c "$2"; }
catalog() { sql "$PGPORT" "$1"; }
acting() { catalog "SELECT dbid FROM gp_segment_configuration WHERE content = 0 AND role = '$1'"; }
field() { catalog "SELECT $1 FROM gp_segment_configuration WHERE dbid = $2"; }

drop_caches() {
	sync
	[ "$(id -u)" = 0 ] && echo 3 >/proc/sys/vm/drop_caches
	return 0
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# timed OUT CMD...: run CMD, writing "<wall s> <peak RSS kB>" to OUT (GNU time; children included).
timed() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$out" "$@"
}

bench_cluster() { # create the cluster and load pgbench once; reuse it when it exists
	if [ -f "$BDIR/demo-cluster.conf" ]; then
		eval "$("$REPO/scripts/demo-cluster" env --dir "$BDIR")"
		export PATH="$REPO/build/bin:$PATH"
		# A run that stopped half way leaves an instance down: bring it back first (not timed).
		if [ -n "$(catalog "SELECT dbid FROM gp_segment_configuration WHERE status = 'd'")" ]; then
			say "an instance is down after an earlier run: recovering it with gprecoverseg -F"
			gprecoverseg -F -a -s >"$RESULTS/reset.log" 2>&1 || seg_die "reset failed: see $RESULTS/reset.log"
		fi
		return 0
	fi
	"$REPO/scripts/demo-cluster" create --dir "$BDIR" --port-base "$BPORT" --contents 1 >&2 || seg_die "cluster"
	eval "$("$REPO/scripts/demo-cluster" env --dir "$BDIR")"
	export PATH="$REPO/build/bin:$PATH"
	say "loading pgbench scale $SCALE"
	as_admin "$PGBIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$(field port "$(acting p)")" -U "$SEG_OS_USER" postgres >&2 ||
		seg_die "pgbench -i"
	sql "$(field port "$(acting p)")" "CHECKPOINT"
}

wait_streaming() { # wait_streaming PORT: until that standby's walreceiver streams
	local i
	for i in $(seq 1 600); do
		[ "$(sql "$1" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ] && return 0
		sleep 0.05
	done
	return 1
}

wait_caught_up() { # wait_caught_up PRIMARY-PORT: until its standby has flushed all the primary's WAL
	local i
	for i in $(seq 1 1200); do
		[ "$(sql "$1" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND flush_lsn >= pg_current_wal_lsn()" 2>/dev/null)" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# streamed_mb DATADIR SINCE PRIMARY-PORT: MB of WAL the instance in DATADIR has streamed from its
# primary since SINCE (date -u '+%F %T'): from where its first walreceiver since then began
# (log/startup.log, "started streaming WAL from primary at X"; a later one on the next timeline
# begins where the first ended) to the primary's current position (0 when it began past it: the
# blocks way copies the segment it starts in). Both tools' rebuilt mirrors
# stream what they do not hold, so "moved" counts the copy and this.
streamed_mb() {
	local start
	start=$(awk -v since="$2" '$1 " " substr($2, 1, 8) >= since && /started streaming WAL from primary at/ {
		for (i = 1; i <= NF; i++) if ($i == "at") { print $(i + 1); exit } }' "$1/log/startup.log" 2>/dev/null)
	[ -n "$start" ] || { echo 0; return 0; }
	sql "$3" "SELECT round(greatest(pg_wal_lsn_diff(pg_current_wal_lsn(), '$start'), 0) / 1e6, 1)"
}
stamp() { date -u '+%F %T'; }

mark_down() { # let the probe see the mirror gone (not timed)
	gpfts --once --retries 1 --retry-delay 100 -q >/dev/null 2>&1
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

row() { # row BENCH TOOL RUN WALL_S MB PEAK_KB NOTES...
	local bench=$1 tool=$2 run=$3 wall=$4 mb=$5 kb=$6
	shift 6
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SCALE" "$bench" "$tool" "$run" "$wall" "$mb" "$kb" "$*" >>"$RESULTS/$bench.tsv"
	say "$bench $tool run $run: ${wall}s ${mb}MB peak ${kb}kB $*"
}

summary() { # summary BENCH REFERENCE-TOOL: medians per tool and ratios against the reference
	local bench=$1 ref=$2 f=$RESULTS/$1.tsv tools t w mb kb refw refmb
	tools=$(cut -f3 "$f" | awk '!seen[$0]++')
	refw=$(awk -F'\t' -v t="$ref" '$3 == t { print $5 }' "$f" | median)
	refmb=$(awk -F'\t' -v t="$ref" '$3 == t { print $6 }' "$f" | median)
	printf '\n%s, pgbench scale %s, %s runs each (medians)\n' "$bench" "$SCALE" "$RUNS"
	printf '%-34s %9s %10s %9s %11s %9s %9s\n' tool "wall s" "moved MB" "MB/s" "peak MB" "time x" "bytes x"
	while IFS= read -r t; do
		w=$(awk -F'\t' -v t="$t" '$3 == t { print $5 }' "$f" | median)
		mb=$(awk -F'\t' -v t="$t" '$3 == t { print $6 }' "$f" | median)
		kb=$(awk -F'\t' -v t="$t" '$3 == t { print $7 }' "$f" | sort -n | tail -1)
		awk -v t="$t" -v w="$w" -v mb="$mb" -v kb="$kb" -v rw="$refw" -v rmb="$refmb" 'BEGIN {
			printf "%-34s %9.2f %10.0f %9.0f %11.1f %9.2f %9.2f\n", t, w, mb, (w > 0 ? mb / w : 0), kb / 1024, (rw > 0 ? w / rw : 0), (rmb > 0 ? mb / rmb : 0) }'
	done <<<"$tools"
}
