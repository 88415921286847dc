#!/usr/bin/env bash
# gprecoverseg -F on a real demo cluster: a failed primary rebuilt from scratch, -o/-i round
# trip, a new data directory and port, two contents at once, the lock, progress in gpstate -e,
# a source that dies during the copy, and an external strategy plugin.
. "$(dirname "$0")/lib/testlib.sh"
. "$(dirname "$0")/lib/ttytime.sh"

cluster_create
FTS=(gpfts --once --retries 2 --retry-delay 300)
rowsum() { sql "$1" "SELECT count(*) || ':' || coalesce(sum(i), 0) FROM t"; }
for c in 0 1 2; do
	sql "$(seg port "$(acting p $c)")" "CREATE TABLE t(i bigint, pad text); INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g"
done

# --- a primary crashes, fails over; more rows; full recovery -----------------------------
p0=$(acting p 0) m0=$(acting m 0)
stop_instance "$p0"
check "failover of content 0" "${FTS[@]}"
sql "$(seg port "$m0")" "INSERT INTO t SELECT g, 'after failover' FROM generate_series(50001, 60000) g"
check "gprecoverseg -F -a recovers the failed primary as a mirror" gprecoverseg -F -a
output_has "plan shown" "Synchronization mode += Full"
output_has "the plan gives the bytes the full copy will move, asked on the target host" "Bytes to move \(estimate\) += [0-9.]+ (MB|GB)"
output_has "and their total" "Bytes to move in all \(estimate\) = [0-9.]+ (MB|GB), for 1 of 1 segment"
output_has "and what moved is set beside it" "dbid $p0: moved [0-9.]+ (MB|GB); the plan's estimate was [0-9.]+ (MB|GB)"
output_has "summary shows it in sync" "$p0 +.* Full .* up and in sync"
output_has "auto compression: none with the source on the same host" "Compression on the source += none"
is_eq "catalog: recovered instance is an up, in-sync mirror" "m u s" "$(seg_state "$p0")"
is_eq "catalog: its primary is in sync" "p u s" "$(seg_state "$m0")"
check_fails "gpstate -e: only the switched roles remain (exit 1)" 1 "Segments with Primary and Mirror Roles Switched" gpstate -e
output_lacks "no unsynchronized pair" "Unsynchronized Segment Pairs"
output_lacks "no downed segment" "Downed Segments"
is_eq "every row ever committed is on the recovered mirror" "$(rowsum "$(seg port "$m0")")" "$(rowsum "$(seg port "$p0")")"
is_eq "the recovered mirror is a hot standby" "t" "$(sql "$(seg port "$p0")" "SELECT pg_is_in_recovery()")"
sql "$(seg port "$m0")" "INSERT INTO t VALUES (-1, 'streamed')"
if wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $(seg port "$p0") -U $SEG_OS_USER -d postgres -c 'SELECT count(*) FROM t WHERE i = -1')\" = 1 ]"; then
	ok "it keeps streaming new rows"
else
	not_ok "it keeps streaming new rows"
fi
is_eq "synchronous replication is on again" "sync" "$(sql "$(seg port "$m0")" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'")"
is_eq "the recovered directory streams through the pair's slot" "t" "$(sql "$(seg port "$m0")" "SELECT active FROM pg_replication_slots WHERE slot_name = 'internal_wal_replication_slot'")"
check "nothing left to recover" gprecoverseg -a
output_has "says so" "No segments to recover"

# --- -o then -i round trip; -i to a new data directory and port ----------------------------
p1=$(acting p 1) m1=$(acting m 1)
stop_instance "$m1"
check "mirror of content 1 marked down" "${FTS[@]}"
check "gprecoverseg -o writes the recovery configuration" gprecoverseg -o "$WORK/recover.conf"
is_eq "-o wrote the failed instance" "127.0.0.1|$(seg port "$m1")|$(seg datadir "$m1")" "$(cat "$WORK/recover.conf")"
check "gprecoverseg -i with that file, in place" gprecoverseg -F -a -i "$WORK/recover.conf"
is_eq "recovered in place" "m u s" "$(seg_state "$m1")"
# Server-side compression, decompressed by libarchive on the way: every row, fewer bytes.
for method in lz4 zstd; do
	sql "$(seg port "$p1")" "INSERT INTO t SELECT g, 'before $method' FROM generate_series(1, 1000) g"
	stop_instance "$m1"
	check "mirror of content 1 down ($method)" "${FTS[@]}"
	check "gprecoverseg -F --compress $method" gprecoverseg -F -a --compress "$method"
	output_has "  the plan names it" "Compression on the source += $method"
	output_has "  the copy was compressed on the source" "$method compression on the source: [0-9]+ MB received for [0-9]+ MB of files \\(([2-9]|[1-9][0-9]+)\\.[0-9]:1\\)"
	is_eq "  up and in sync" "m u s" "$(seg_state "$m1")"
	is_eq "  every row on it" "$(rowsum "$(seg port "$p1")")" "$(rowsum "$(seg port "$m1")")"
done
stop_instance "$m1"
check "mirror of content 1 down again" "${FTS[@]}"
old_dir=$(seg datadir "$m1")
new_dir=$CLUSTER/moved/demoDataDir1
new_port=$((PORT_BASE + 30))
printf '# move content 1 mirror\n127.0.0.1|%s|%s 127.0.0.1|%s|%s\n' "$(seg port "$m1")" "$old_dir" "$new_port" "$new_dir" >"$WORK/move.conf"
chmod 644 "$WORK/move.conf"
check "gprecoverseg -i to a new data directory and port" gprecoverseg -a -i "$WORK/move.conf"
output_has "new location shown" "Recovery Target instance port +.* $new_port"
is_eq "catalog records the new location" "$new_port $new_dir" "$(seg port "$m1") $(seg datadir "$m1")"
is_eq "the moved mirror is up and in sync" "m u s" "$(seg_state "$m1")"
is_eq "rows on the moved mirror" "$(rowsum "$(seg port "$p1")")" "$(rowsum "$new_port")"

# --- two failed contents at once; lock; progress in gpstate -e -------------------------------
m1=$(acting m 1) m2=$(acting m 2)
stop_instance "$m1"
stop_instance "$m2"
check "two mirrors marked down" "${FTS[@]}"
rm -f "$WORK/two.out" # the wait below must not see an earlier run's output
gprecoverseg -F -a -s --max-rate 2000 >"$WORK/two.out" 2>&1 &
run=$!
wait_until 20 test -f "$COORDINATOR_DATA_DIRECTORY/gprecoverseg.lock/PID"
check_fails "a second gprecoverseg while one runs is refused" 2 "already running with PID $run" gprecoverseg -F -a
if wait_until 20 bash -c "gpstate -e 2>&1 | grep -q 'Segments in recovery'"; then
	ok "gpstate -e shows the segments in recovery"
	LAST_OUT=$(gpstate -e 2>&1)
	output_has "with the recovery type and bytes" "$(seg port "$m1") +full +[0-9]+ +[0-9]+ +[0-9]+%"
else
	not_ok "gpstate -e shows the segments in recovery" "$(gpstate -e 2>&1 | tail -20)"
fi
if wait "$run"; then ok "both contents recovered in one run"; else not_ok "both contents recovered in one run" "$(tail -30 "$WORK/two.out")"; fi
LAST_OUT=$(cat "$WORK/two.out")
output_has "progress lines with bytes, percent and rate" "dbid $m2\): [0-9]+/[0-9]+ kB \([0-9]+%\), [0-9.]+ MB/s"
output_has "  each with its ETA" "dbid $m2\): [0-9]+/[0-9]+ kB \([0-9]+%\), [0-9.]+ MB/s, ETA [0-9]+:[0-9]{2}"
output_has "  and the total of both copies with theirs" "total: [0-9]+/[0-9]+ kB \([0-9]+%\), [0-9.]+ MB/s, ETA [0-9]+:[0-9]{2}"
output_lacks "  no log line names the same instance twice (dbid N: ... dbid N (...))" "dbid ([0-9]+): .*dbid \1 \("
first_done=$(grep -n "copied and started" "$WORK/two.out" | head -1 | cut -d: -f1)
starts=$(head -n "${first_done:-0}" "$WORK/two.out" | grep -c "recovery of .* started")
is_eq "both copies ran at the same time (two starts before the first finish)" "2" "$starts"
is_eq "both mirrors up and in sync" "m u s|m u s" "$(seg_state "$m1")|$(seg_state "$m2")"
if [ ! -e "$COORDINATOR_DATA_DIRECTORY/gprecoverseg.lock" ]; then ok "the lock is released"; else not_ok "the lock is released"; fi

# --- the source dies during the copy: clear error, and a second run succeeds ---------------
p2=$(acting p 2) m2=$(acting m 2)
sql "$(seg port "$p2")" "INSERT INTO t SELECT g, repeat('y', 500) FROM generate_series(1, 100000) g"
stop_instance "$m2"
check "mirror of content 2 marked down" "${FTS[@]}"
rm -f "$WORK/dies.out"
gprecoverseg -F -a -s --max-rate 1000 >"$WORK/dies.out" 2>&1 &
run=$!
wait_until 30 grep -q "dbid $m2): [0-9]*/[0-9]* kB" "$WORK/dies.out"
stop_instance "$p2"
wait "$run"
rc=$?
LAST_OUT=$(cat "$WORK/dies.out")
is_eq "gprecoverseg exits 1 when the source dies" "1" "$rc"
output_has "the error names the segment and the step" "hostname: .*; port: $(seg port "$m2"); .*step: full; error: .*"
output_has "and says what to do next" "run 'gprecoverseg -F' again"
pfile=$(sed -nE "s/.* logfile: ([^;]*pg_basebackup\.[0-9]{8}_[0-9]{6}\.dbid$m2\.out);.*/\1/p" <<<"$LAST_OUT" | head -1)
is_eq "the failure names Greenplum's per-segment progress file (pg_basebackup.<time>.dbid<N>.out)" "yes" "$([ -n "$pfile" ] && echo yes)"
is_eq "  it is kept, with pg_basebackup's progress lines" "yes" "$([ -f "$pfile" ] && grep -qE '^[0-9]+/[0-9]+ kB \([0-9]+%\)' "$pfile" && echo yes)"
if [ -f "$(seg datadir "$m2")/standby.signal" ]; then ok "the half-copied target holds standby.signal"; else not_ok "the half-copied target holds standby.signal"; fi
pg_ctl_admin -D "$(seg datadir "$p2")" -l "$(seg datadir "$p2")/log/startup.log" -w start >/dev/null
check "after the source is back, a second run succeeds" gprecoverseg -F -a
is_eq "  a recovered segment's progress file is removed" "0" "$(find "$(dirname "$pfile")" -name "pg_basebackup.*.dbid$m2.out" -newer "$pfile" | wc -l)"
is_eq "mirror of content 2 up and in sync" "m u s" "$(seg_state "$m2")"
is_eq "rows on it" "$(rowsum "$(seg port "$p2")")" "$(rowsum "$(seg port "$m2")")"

# --- an external strategy loaded from a shared object ----------------------------------------
stop_instance "$m2"
check "mirror of content 2 down again" "${FTS[@]}"
marker=$WORK/testwrap.marker
rm -f "$marker"
touch "$marker" && chmod 666 "$marker"
check "gprecoverseg --strategy testwrap (a plugin) recovers it" env SEGRECOVER_STRATEGY_PATH="$REPO/build/tests/plugins" SEGRECOVER_TESTWRAP_MARKER="$marker" gprecoverseg -a --strategy testwrap
is_eq "the plugin's check, run, helper next to the source data and copy all ran" "check dbid=$m2|run dbid=$m2|helper PG_VERSION=15 dbid=$m2|copied dbid=$m2" "$(paste -sd'|' "$marker")"
is_eq "mirror recovered by the plugin is in sync" "m u s" "$(seg_state "$m2")"

# --- a server that cannot start after the copy: the failure comes at once, with its log ---------
stop_instance "$m2"
check "mirror of content 2 down for the start test" "${FTS[@]}"
started=$(date +%s)
check_fails "a copy whose server cannot start: exit 1" 1 "step: start; error: the server in .* stopped while starting" \
	env SEGRECOVER_STRATEGY_PATH="$REPO/build/tests/plugins" SEGRECOVER_TESTWRAP_BREAK_START=1 gprecoverseg -a --strategy testwrap
output_has "the server's own complaint is in the message" "invalid value for parameter .*shared_buffers"
is_eq "reported without waiting for the start timeout" "t" "$([ $(($(date +%s) - started)) -lt 60 ] && echo t || echo f)"
is_eq "the instance stays down in the catalog" "m d n" "$(seg_state "$m2")"
check "a full recovery repairs it" gprecoverseg -F -a
is_eq "mirror of content 2 up and in sync again" "m u s" "$(seg_state "$m2")"
stop_instance "$m2"
check "mirror of content 2 down once more" "${FTS[@]}"
check_fails "an unknown strategy is refused before anything starts (exit 2)" 2 "unknown recovery strategy \"nosuch\": not a built-in \(full" gprecoverseg -a --strategy nosuch
is_eq "and the instance is left as it was" "m d n" "$(seg_state "$m2")"
check_fails "a strategy name that is not a name is refused (exit 2)" 2 "invalid strategy name" gprecoverseg -a --strategy 'bad name!'
check "a plain full recovery still works after that" gprecoverseg -F -a
# --- Greenplum's heap checksum consistency check: a source without checksums is refused -------
p2=$(acting p 2) m2=$(acting m 2)
stop_instance "$m2" fast
check "mirror of content 2 down for the checksum check" "${FTS[@]}"
P2DIR=$(seg datadir "$p2")
pg_ctl_admin -D "$P2DIR" stop -m fast -w >/dev/null
as_admin "$PGBIN/pg_checksums" --disable -D "$P2DIR" >/dev/null
pg_ctl_admin -D "$P2DIR" -l "$P2DIR/log/startup.log" -w start >/dev/null
check_fails "a source whose checksums differ from the coordinator's is refused (exit 2)" 2 "Heap checksum setting differences reported on segments: dbid $p2 .*data_checksums off, the coordinator's on" gprecoverseg -a
is_eq "  nothing was done: the mirror is still down" "m d n" "$(seg_state "$m2")"
pg_ctl_admin -D "$P2DIR" stop -m fast -w >/dev/null
as_admin "$PGBIN/pg_checksums" --enable -D "$P2DIR" >/dev/null
pg_ctl_admin -D "$P2DIR" -l "$P2DIR/log/startup.log" -w start >/dev/null
check "with the setting repaired, the recovery runs" gprecoverseg -a
output_has "  Greenplum's consistency message" "Heap checksum setting is consistent between coordinator and the segments that are candidates for recoverseg"
output_has "  Greenplum's message before the copies" "Initiating segment recovery. Upon completion, will start the successfully recovered segments"
is_eq "  the mirror is up and in sync" "m u s" "$(seg_state "$m2")"
# --- Ctrl-C asks first (Greenplum 7): "n" goes on, "y" stops with what was copied, a second
# Ctrl-C during the question stops at once; the same command then finishes ----------------------
m1=$(acting m 1)
stop_instance "$m1" fast
check "mirror of content 1 down for the interrupt checks" "${FTS[@]}"
ANS=$WORK/answers
# sigint_run ANSWER...: a throttled gprecoverseg -F reading its answers from a FIFO; once it copies,
# one SIGINT per ANSWER ("-" answers nothing: the next SIGINT comes during the question).
sigint_run() {
	local run a
	rm -f "$ANS"; mkfifo "$ANS"; chmod 666 "$ANS"
	gprecoverseg -F -a -s --max-rate 1000 <"$ANS" >"$WORK/int.out" 2>&1 &
	run=$!
	exec 7>"$ANS"
	wait_until 60 grep -qE "dbid $m1\): [1-9][0-9]*/[0-9]+ kB" "$WORK/int.out"
	for a in "$@"; do
		kill -INT "$run"
		wait_until 10 grep -q "Continue terminating gprecoverseg" "$WORK/int.out"
		[ "$a" = - ] || echo "$a" >&7
		sleep 1
	done
	exec 7>&-
	bounded_wait "$run" 120
}
sigint_run n y
rc=$?
LAST_OUT=$(cat "$WORK/int.out")
output_has "Ctrl-C asks first, with Greenplum's warning" "It is not recommended to terminate a recovery procedure midway"
output_has "  'n' goes on" "Continuing the recovery"
is_eq "  'y' stops: Greenplum's exit code for an interrupted run (2)" "2" "$rc"
output_has "  the summary says the user interrupted it" "step: interrupted; error: process was interrupted by the user: gprecoverseg stopped gpsegrecovery on .* during its copy phase"
output_has "  with what it copied" "Full +[0-9.]+s +[1-9][0-9.]* (kB|MB) +FAILED"
output_has "  the advice is the same command again" "next: run 'gprecoverseg -F' again"
is_eq "  the mirror stays down" "m d n" "$(seg_state "$m1")"
check "the same command finishes the interrupted one" gprecoverseg -F -a
is_eq "  mirror of content 1 up and in sync" "m u s" "$(seg_state "$m1")"
# A whole mirror again (no unfinished copy to resume): the next -F copies from nothing, throttled.
stop_instance "$m1" fast
check "mirror of content 1 down again" "${FTS[@]}"
sigint_run - -
rc=$?
LAST_OUT=$(cat "$WORK/int.out")
is_eq "a second Ctrl-C during the question stops at once (exit 2)" "2" "$rc"
output_has "  reported as interrupted by the user" "process was interrupted by the user"
check "the same command finishes it" gprecoverseg -F -a
is_eq "  mirror of content 1 up and in sync" "m u s" "$(seg_state "$m1")"
# --- an interrupted full copy resumes: killed at 80 %, the same command moves at most a quarter
# of the bytes again (the rest is kept and checked page by page against the source) -----------
p0=$(acting p 0) m0=$(acting m 0)
sql "$(seg port "$p0")" "CREATE TABLE resume_t AS SELECT g, repeat(md5(g::text), 10) AS pad FROM generate_series(1, 250000) g; CHECKPOINT"
stop_instance "$m0"
check "mirror of content 0 down for the resume check" "${FTS[@]}"
touch "$WORK/resume.mark"
sleep 1 # a file made in the same second as the mark would not be newer
gprecoverseg -F -a -s --max-rate 4000 >"$WORK/resume1.out" 2>&1 &
run=$!
# The agent's own progress file (pg_basebackup.<time>.dbid<N>.out) is written twice a second.
AGENT_LOGS=$(getent passwd "$SEG_OS_USER" | cut -d: -f6)/gpAdminLogs
pct_of() {
	local f
	f=$(find "$AGENT_LOGS" -maxdepth 1 -name "pg_basebackup.*.dbid$m0.out" -newer "$WORK/resume.mark" 2>/dev/null | head -1)
	[ -n "$f" ] && grep -oE '^[0-9]+/[0-9]+ kB \([0-9]+%\)' "$f" | tail -1 | sed -E 's/.*\(([0-9]+)%\)/\1/'
}
for _ in $(seq 1 900); do # every 0.1 s, for at most 90 s
	pct=$(pct_of)
	[ -n "$pct" ] && [ "$pct" -ge 80 ] && break
	sleep 0.1
done
agent=$(pgrep -f "[g]psegrecovery recover --type full --dbid $m0 " | head -1)
killed_at=$(pct_of)
[ -n "$agent" ] && kill -9 "$agent"
bounded_wait "$run" 60
total_kb=$(grep -oE "dbid $m0\): [0-9]+/[0-9]+ kB" "$WORK/resume1.out" | tail -1 | sed -E 's#.*/([0-9]+) kB#\1#')
is_eq "the first copy was killed at 80 to 90 %" "yes" "$([ -n "$agent" ] && [ "${killed_at:-0}" -ge 80 ] && [ "${killed_at:-0}" -le 90 ] && echo yes)"
check "the same command again resumes it" gprecoverseg -F -a -s
output_has "  it resumes our unfinished copy instead of starting again" "holds an unfinished full copy of ours: resuming it with the differential strategy"
sent=$(sed -nE "s/.* $m0 +[^ ]+ +[0-9]+ +Full +[0-9.]+s +([0-9.]+) (kB|MB|GB) +up and in sync.*/\1 \2/p" <<<"$LAST_OUT" | awk '{ m = $2 == "kB" ? 1024 : $2 == "MB" ? 1048576 : 1073741824; printf "%.0f", $1 * m }')
echo "# resume: killed at ${killed_at}% of ${total_kb} kB; the second run moved ${sent} bytes"
is_eq "  it moves at most a quarter of the copy again" "yes" "$([ -n "$sent" ] && [ -n "$total_kb" ] && [ "$sent" -le $((total_kb * 1024 / 4)) ] && echo yes)"
is_eq "  the mirror is up and in sync" "m u s" "$(seg_state "$m0")"
is_eq "  every row on it" "$(sql "$(seg port "$p0")" "SELECT count(*) || ':' || md5(string_agg(pad, '' ORDER BY g)) FROM resume_t")" "$(sql "$(seg port "$m0")" "SELECT count(*) || ':' || md5(string_agg(pad, '' ORDER BY g)) FROM resume_t")"

# --- on a terminal: the block is drawn in place and back under each log line at once --------
m1=$(acting m 1) m2=$(acting m 2)
stop_instance "$m1"
stop_instance "$m2"
check "two mirrors down for the terminal view" "${FTS[@]}"
SHELL=/bin/bash timeout 120 script -q -e --log-out "$WORK/tty.out" --log-timing "$WORK/tty.tim" \
	-c "$(printf '%q ' "$BIN/gprecoverseg" -F -a --max-rate 3000)" </dev/null >/dev/null 2>&1
is_eq "gprecoverseg on a terminal recovered both" "m u s m u s" "$(seg_state "$m1") $(seg_state "$m2")"
LAST_OUT=$(tr -d '\r' <"$WORK/tty.out")
output_has "  the block is drawn in place (cursor up, erase to end of line)" $'\033\\[[0-9]+A'
output_has "  with a row per copy" $'\\(dbid [0-9]+\\): [0-9]+/[0-9]+ kB \\([0-9]+%\\), [0-9.]+ MB/s.*\033\\[K'
gaps=$(tty_redraw_gaps "$WORK/tty.out" "$WORK/tty.tim")
echo "# log lines followed by the block: $(wc -l <<<"$gaps"), gaps (s): $(tr '\n' ' ' <<<"$gaps")"
is_eq "  every log line during the copies is followed by the block at once (under 100 ms)" "yes" \
	"$([ -n "$gaps" ] && awk '$1 > 0.1 { bad = 1 } END { exit bad }' <<<"$gaps" && echo yes)"
t_done
