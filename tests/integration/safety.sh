#!/usr/bin/env bash
# Safety on a real demo cluster: a recovery never stops, wipes or writes another instance (nor
# the coordinator), never hands a path to a shell, refuses bad ports up front, and a full
# recovery killed at any step is finished by running the same command again; a half-done
# directory never starts as a primary. Plus the smaller promises: an unresolvable host is
# skipped, a stale postmaster.pid does not block, a source that dies is named as the cause.
. "$(dirname "$0")/lib/testlib.sh"

cluster_create
FTS=(gpfts --once --retries 2 --retry-delay 300)
rowsum() { sql "$1" "SELECT count(*) || ':' || coalesce(sum(i), 0) FROM t"; }
for c in 0 1 2; do
	sql "$(seg port "$(acting p $c)")" "CREATE TABLE t(i bigint, pad text); INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 30000) g"
done
snapshot() { catalog "SELECT string_agg(concat_ws(' ', dbid, role, status, mode, port, hostname, datadir), ',' ORDER BY dbid) FROM gp_segment_configuration"; }
answers() { sql "$1" "SELECT 1" >/dev/null 2>&1; }
NEW_PORT=$((PORT_BASE + 30))
CONF=$WORK/i.conf
write_conf() { printf '%s\n' "$@" >"$CONF"; chmod 644 "$CONF"; }
# --- a new location on top of another instance is refused before anything changes -------
m1=$(acting m 1)
stop_instance "$m1"
check "mirror of content 1 marked down" "${FTS[@]}"
M1_LINE="127.0.0.1|$(seg port "$m1")|$(seg datadir "$m1")"
p0=$(acting p 0) m2=$(acting m 2) p1=$(acting p 1)
P0_DIR=$(seg datadir "$p0")
ln -sfn "$P0_DIR" "$WORK/link-to-p0"
ln -sfn "$(seg datadir "$p1")" "$WORK/link-to-source"
ln -sfn "$(seg datadir 1)" "$WORK/link-to-coordinator"
chown -h "$SEG_OS_USER": "$WORK"/link-to-* 2>/dev/null
sums_before=$(rowsum "$(seg port "$p0")")
# victim|expected exit|what the refusal says
while IFS='|' read -r victim code pattern; do
	before=$(snapshot)
	write_conf "$M1_LINE 127.0.0.1|$NEW_PORT|$victim"
	check_fails "-i onto $victim is refused (exit $code)" "$code" "$pattern" gprecoverseg -a -i "$CONF"
	is_eq "  and the catalog is unchanged" "$before" "$(snapshot)"
	if answers "$(seg port "$p0")" && answers "$(seg port "$p1")" && answers "$(seg port "$m2")" && answers "$PGPORT"; then
		ok "  every other instance still runs"
	else
		not_ok "  every other instance still runs"
	fi
done <<EOF
$P0_DIR|2|line 1 of file .*cannot have the same data directory
$(seg datadir "$m2")|2|line 1 of file .*cannot have the same data directory
$(seg datadir 1)|2|line 1 of file .*cannot have the same data directory
$CLUSTER|2|line 1 of file .*contains the data directory of dbid
$P0_DIR/sub|2|line 1 of file .*lies inside the data directory of dbid $p0
$WORK/link-to-p0|1|step: preflight; error: .*resolved: .*is the data directory of dbid $p0
$WORK/link-to-source|1|step: preflight; error: .*is the data directory of dbid $p1
$WORK/link-to-coordinator|1|step: preflight; error: .*is the data directory of dbid 1
EOF
is_eq "the victim keeps its rows" "$sums_before" "$(rowsum "$(seg port "$p0")")"
if [ -f "$P0_DIR/PG_VERSION" ] && [ ! -e "$P0_DIR/standby.signal" ] && [ ! -e "$P0_DIR/segrecover.lock" ]; then
	ok "the victim's directory was not written"
else
	not_ok "the victim's directory was not written" "$(ls "$P0_DIR")"
fi
is_eq "nothing listens on the refused new port" "no" "$(answers "$NEW_PORT" && echo yes || echo no)"
write_conf "$M1_LINE 127.0.0.1|$PGPORT|$WORK/new-m1"
check_fails "a new port equal to the coordinator's is refused up front" 2 "line 1 of file .*cannot have the same port $PGPORT" gprecoverseg -a -i "$CONF"
write_conf "$M1_LINE 127.0.0.1|80|$WORK/new-m1"
check_fails "a privileged new port is refused up front" 2 "line 1 of file .*port 80 on new segment group is privileged" gprecoverseg -a -i "$CONF"
if [ ! -e "$WORK/new-m1" ]; then ok "  and nothing was created"; else not_ok "  and nothing was created"; fi

# The agent itself, run by hand without any catalog: a running server is never touched.
check_fails "gpsegrecovery -F by hand on a running primary's directory is refused" 1 "a postmaster \(PID [0-9]+\) runs in" \
	gpsegrecovery recover --type full --dbid "$m1" --content 1 --target-datadir "$P0_DIR" --target-port "$NEW_PORT" \
	--source-dbid "$p1" --source-host 127.0.0.1 --source-port "$(seg port "$p1")" --force-overwrite
is_eq "  and that primary still runs with its rows" "$sums_before" "$(rowsum "$(seg port "$p0")")"

# The failed instance itself still running: refused, not stopped.
M1_DIR=$(seg datadir "$m1")
pg_ctl_admin -D "$M1_DIR" -l "$WORK/m1-hand.log" -w start >/dev/null
check_fails "an instance marked down whose server runs is refused, not stopped" 1 "runs in .* although the catalog marks dbid $m1 down" gprecoverseg -F -a
output_has "  and the advice says what to do" "gpfts --once|pg_ctl stop -D"
is_eq "  that server still runs" "yes" "$(answers "$(seg port "$m1")" && echo yes || echo no)"
pg_ctl_admin -D "$M1_DIR" -m fast -w stop >/dev/null

# --- paths that a shell would interpret are refused; a space and a quote work exactly -------
mkdir_admin "$WORK/inj"
for bad in "m\$(id>$WORK/pwned)" "m\`id>$WORK/pwned\`" "m\${IFS}x" "\$HOME/m" 'a"b' 'a\b'; do
	write_conf "$M1_LINE 127.0.0.1|$NEW_PORT|$WORK/inj/$bad"
	check_fails "new data directory $bad refused with its line" 2 "line 1 of file .*: on new segment group: the data directory .* holds the character" gprecoverseg -a -i "$CONF"
done
if [ ! -e "$WORK/pwned" ] && [ -z "$(ls -A "$WORK/inj")" ]; then ok "no injected command ran, nothing was created"; else not_ok "no injected command ran, nothing was created" "$(ls -A "$WORK" "$WORK/inj")"; fi
write_conf "$M1_LINE 127.0.0.1|$NEW_PORT|$WORK/a dir/m1"
check_fails "a space splits a -i line (Greenplum's format): refused with its line" 2 "line 1 of file .*expected 1 or 2 groups but found 3" gprecoverseg -a -i "$CONF"
ODD="$WORK/it's-a-dir/m1"
write_conf "$M1_LINE 127.0.0.1|$NEW_PORT|$ODD"
check "a new data directory with a quote is recovered" gprecoverseg -a -i "$CONF"
is_eq "  the catalog records that path exactly" "$NEW_PORT|$ODD|vm-name-kept" "$(seg port "$m1")|$(seg datadir "$m1")|$([ "$(seg hostname "$m1")" = "$(seg hostname "$p1")" ] && echo vm-name-kept)"
is_eq "  the moved mirror is up and in sync" "m u s" "$(seg_state "$m1")"
is_eq "  with every row" "$(rowsum "$(seg port "$p1")")" "$(rowsum "$NEW_PORT")"
# What follows needs content 1 whole again, whatever happened above.
[ "$(seg_state "$m1")" = "m u s" ] || gprecoverseg -a >/dev/null 2>&1

# --- a full recovery killed at every step: the same command run again finishes it ---------
m2=$(acting m 2) p2=$(acting p 2)
M2_DIR=$(seg datadir "$m2")
HAND_PORT=$((PORT_BASE + 31))
INJ=$WORK/inject.pid
# never_primary: a hand start of the half-done directory fails or comes up in recovery.
never_primary() {
	local state
	if ! pg_ctl_admin -D "$M2_DIR" -l "$WORK/hand.log" -o "-p $HAND_PORT" -w -t 30 start >/dev/null 2>&1; then
		ok "  a hand start of the half-done directory does not come up (as a primary or at all)"
		return
	fi
	state=$(psql -X -At -h 127.0.0.1 -p "$HAND_PORT" -U "$SEG_OS_USER" -d postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null)
	if [ "$state" != f ]; then ok "  a hand start of the half-done directory is a standby at most (${state:-no connection})"; else not_ok "  a hand start of the half-done directory came up as a primary"; fi
	pg_ctl_admin -D "$M2_DIR" -m immediate -w stop >/dev/null 2>&1
}
converges() { # converges DESCRIPTION
	check "$1: the same command run again recovers it" gprecoverseg -F -a
	is_eq "  mirror up and in sync" "m u s" "$(seg_state "$m2")"
	is_eq "  every row on it" "$(rowsum "$(seg port "$p2")")" "$(rowsum "$(seg port "$m2")")"
	if [ ! -e "$M2_DIR/segrecover.inprogress" ]; then ok "  no marker left behind"; else not_ok "  no marker left behind"; fi
}
fail_mirror2() {
	stop_instance "$m2"
	"${FTS[@]}" >/dev/null 2>&1
	[ "$(seg_state "$m2")" = "m d n" ] || not_ok "mirror of content 2 marked down" "$(seg_state "$m2")"
}
sql "$(seg port "$p2")" "INSERT INTO t SELECT g, repeat('y', 500) FROM generate_series(30001, 130000) g"
for point in wipe-mid copy-begin mid-copy sync start sigterm; do
	fail_mirror2
	rm -f "$INJ" "$WORK/kill.out"
	case $point in
	mid-copy) env gprecoverseg -F -a -s --max-rate 2000 >"$WORK/kill.out" 2>&1 & ;;
	sigterm) env SEGRECOVER_INJECT_PAUSE="copy-begin@$m2" SEGRECOVER_INJECT_FILE="$INJ" gprecoverseg -F -a -s >"$WORK/kill.out" 2>&1 & ;;
	*) env SEGRECOVER_INJECT_PAUSE="$point@$m2" SEGRECOVER_INJECT_FILE="$INJ" gprecoverseg -F -a -s >"$WORK/kill.out" 2>&1 & ;;
	esac
	run=$!
	if [ "$point" = mid-copy ]; then
		wait_until 60 grep -qE "dbid $m2\): [1-9][0-9]{3,}/[0-9]+ kB" "$WORK/kill.out"
		agent=$(pgrep -f "gpsegrecovery recover --type full --dbid $m2 " | head -1)
	else
		wait_until 60 test -s "$INJ"
		agent=$(cut -d' ' -f1 "$INJ" 2>/dev/null)
	fi
	if [ -z "$agent" ]; then
		not_ok "$point: the agent reached the point" "$(tail -20 "$WORK/kill.out")"
		bounded_wait "$run" 1
		continue
	fi
	if [ "$point" = sigterm ]; then
		kill -TERM "$run"
		sleep 0.5
		kill -CONT "$agent"
	else
		kill -9 "$agent"
	fi
	bounded_wait "$run" 120
	rc=$?
	LAST_OUT=$(cat "$WORK/kill.out")
	is_eq "$point: gprecoverseg reports the failure (exit 1)" "1" "$rc"
	if [ "$point" = start ]; then
		output_has "  the advice: run the same command again" "next: the copy is complete .*run 'gprecoverseg -F' again"
		if wait_until 60 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $(seg port "$m2") -U $SEG_OS_USER -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)\" = t ]"; then
			ok "  the server it started is a standby"
		else
			not_ok "  the server it started is a standby"
		fi
		converges "$point"
		output_has "  by waiting for the server the killed run started" "an earlier recovery copied"
		continue
	fi
	output_has "  the advice: run the same command again" "next: .*run 'gprecoverseg -F' again"
	if [ -f "$M2_DIR/standby.signal" ] && [ -f "$M2_DIR/segrecover.inprogress" ]; then
		ok "  the directory holds standby.signal and the in-progress marker"
	else
		not_ok "  the directory holds standby.signal and the in-progress marker" "$(ls "$M2_DIR")"
	fi
	never_primary
	converges "$point"
done

# --- gprecoverseg killed outright: its agent sees its pipe close and stops by itself -------
fail_mirror2
rm -f "$WORK/kill.out"
gprecoverseg -F -a -s --max-rate 2000 >"$WORK/kill.out" 2>&1 &
run=$!
wait_until 60 grep -qE "dbid $m2\): [1-9][0-9]{3,}/[0-9]+ kB" "$WORK/kill.out"
kill -9 "$run"
wait "$run" 2>/dev/null
# [g]: the pattern must not match the command line of the shell that runs pgrep
if wait_until 20 bash -c "! pgrep -f '[g]psegrecovery recover .*--dbid $m2 ' >/dev/null"; then
	ok "gprecoverseg killed with SIGKILL: its agent stopped by itself (the pipe it watches closed)"
else
	not_ok "gprecoverseg killed with SIGKILL: its agent stopped by itself (the pipe it watches closed)" "$(pgrep -af gpsegrecovery)"
	pkill -9 -f "gpsegrecovery recover .*--dbid $m2 "
fi
if wait_until 20 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $(seg port "$p2") -U $SEG_OS_USER -d postgres -c \"SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg_basebackup'\")\" = 0 ]"; then
	ok "  and the source serves no base backup any more"
else
	not_ok "  and the source serves no base backup any more"
fi
converges "killed driver"

# --- an unresolvable host is skipped with a warning, the others go on ----------------------
m0=$(acting m 0)
stop_instance "$m0"
stop_instance "$m2"
check "mirrors of contents 0 and 2 marked down" "${FTS[@]}"
write_conf "127.0.0.1|$(seg port "$m0")|$(seg datadir "$m0") nosuchhost.invalid|$((PORT_BASE + 32))|$WORK/m0-elsewhere" \
	"127.0.0.1|$(seg port "$m2")|$(seg datadir "$m2")"
check_fails "a line whose host cannot be resolved is skipped, the run goes on, exit 1" 1 "Not recovering segment dbid $m0 .*nosuchhost.invalid cannot be resolved" gprecoverseg -a -i "$CONF"
output_has "  and the summary says so" "1 segment\(s\) were not recovered: their host could not be resolved"
is_eq "  the other line was recovered" "m u s" "$(seg_state "$m2")"
is_eq "  the skipped one is still down" "m d n" "$(seg_state "$m0")"

# --- a stale postmaster.pid naming a live process that is no postmaster -------------------
sleep 600 &
decoy=$!
printf '%s\n%s\n' "$decoy" "$(seg datadir "$m0")" >"$(seg datadir "$m0")/postmaster.pid"
chown "$SEG_OS_USER": "$(seg datadir "$m0")/postmaster.pid"
check "a stale postmaster.pid naming a live non-postmaster does not block recovery" gprecoverseg -a
is_eq "  mirror of content 0 up and in sync" "m u s" "$(seg_state "$m0")"
if kill -0 "$decoy" 2>/dev/null; then ok "  the process it named was left alone"; else not_ok "  the process it named was left alone"; fi
kill "$decoy" 2>/dev/null
wait "$decoy" 2>/dev/null

# --- the source dies during an incremental recovery: named, with advice that works ---------
m0=$(acting m 0) p0=$(acting p 0)
stop_instance "$m0"
check "mirror of content 0 down again" "${FTS[@]}"
# source_dies_at POINT DBID SOURCE: gprecoverseg -a, its agent for DBID paused at POINT while
# SOURCE is stopped; sets rc and LAST_OUT.
source_dies_at() {
	rm -f "$INJ"
	env SEGRECOVER_INJECT_PAUSE="$1@$2" SEGRECOVER_INJECT_FILE="$INJ" gprecoverseg -a -s >"$WORK/src.out" 2>&1 &
	local run=$!
	wait_until 60 test -s "$INJ"
	stop_instance "$3" fast
	kill -CONT "$(cut -d' ' -f1 "$INJ")" 2>/dev/null
	bounded_wait "$run" 120
	rc=$?
	LAST_OUT=$(cat "$WORK/src.out")
}
source_dies_at copy-begin "$m0" "$p0"
is_eq "the run fails when its source dies (exit 1)" "1" "$rc"
output_has "  the error names the source" "error: source dbid $p0\b.*127.0.0.1:$(seg port "$p0")"
output_has "  the advice: the same command, once the cause is fixed" "next: fix the cause above, then run 'gprecoverseg' again"
output_lacks "  not a full copy, which would fail the same way" "next: .*'gprecoverseg -F'"
pg_ctl_admin -D "$(seg datadir "$p0")" -l "$(seg datadir "$p0")/log/startup.log" -w start >/dev/null
check "  once the source is back, the same command recovers it" gprecoverseg -a
is_eq "  mirror of content 0 up and in sync" "m u s" "$(seg_state "$m0")"

# ... and after the target has started to change: the source named, then a full copy.
p0=$(acting p 0) m0=$(acting m 0)
stop_instance "$p0"
check "primary of content 0 crashes and fails over" "${FTS[@]}"
sql "$(seg port "$m0")" "UPDATE t SET pad = 'diverged' WHERE i % 7 = 0"
source_dies_at incremental-copy "$p0" "$m0"
is_eq "the source dies while the old primary is rewound (exit 1)" "1" "$rc"
output_has "  the error names the source" "error: .*source dbid $m0\b.*127.0.0.1:$(seg port "$m0")"
output_has "  the advice: a differential or a full copy once the source is back" "next: this directory cannot be repaired incrementally: once the cause above is fixed, run either 'gprecoverseg --differential' .* or 'gprecoverseg -F'"
pg_ctl_admin -D "$(seg datadir "$m0")" -l "$(seg datadir "$m0")/log/startup.log" -w start >/dev/null
check "  with the source back, that full copy recovers it" gprecoverseg -F -a
is_eq "  old primary of content 0 up and in sync as its mirror" "m u s" "$(seg_state "$p0")"
is_eq "  with every row" "$(rowsum "$(seg port "$m0")")" "$(rowsum "$(seg port "$p0")")"

# --- random -i files: every refusal names a line, nothing changes -------------------------
m0=$(acting m 0)
stop_instance "$m0"
check "mirror of content 0 down for the fuzz" "${FTS[@]}"
before=$(snapshot)
RANDOM=9
fuzz_bad=0
good="127.0.0.1|$(seg port "$m0")|$(seg datadir "$m0")"
for i in $(seq 1 40); do
	case $((i % 4)) in
	0) : >"$CONF"
	   for _ in $(seq 1 $((RANDOM % 200 + 2))); do printf "\\$(printf '%03o' $((RANDOM % 256)))" >>"$CONF"; done
	   printf '\0' >>"$CONF" ;;
	1) printf '%s sdw%s|%s|/tmp/f%s\n' "$good" "$RANDOM" "$((RANDOM % 1024 + 70000 * (RANDOM % 2)))" "$RANDOM" >"$CONF" ;;
	2) printf '%s|%s\n' "${good//|/||}" "$(head -c 50 /dev/urandom | tr -d '\0\n')" >"$CONF" ;;
	3) printf 'X|%s\n%s\n\x00%s\n' "$good" "$good" "$good" >"$CONF" ;;
	esac
	chmod 644 "$CONF"
	out=$(gprecoverseg -a -i "$CONF" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] || ! grep -qE "line [0-9]+ of file|config file lines [0-9]+ and [0-9]+|Not recovering segment" <<<"$out"; then
		fuzz_bad=$((fuzz_bad + 1))
		echo "# fuzz input $i (exit $rc): $(od -c "$CONF" | head -3 | tr '\n' ' ')"
		echo "#   $(tail -2 <<<"$out" | tr '\n' ' ')"
	fi
done
is_eq "40 malformed -i files: each refused with its line (no crash, no recovery)" "0" "$fuzz_bad"
is_eq "  and the catalog is unchanged" "$before" "$(snapshot)"
is_eq "  the down mirror was not started" "no" "$(answers "$(seg port "$m0")" && echo yes || echo no)"
check "a plain recovery still works afterwards" gprecoverseg -a

# fails_soon_after PID SINCE OUTFILE WHAT: the background gprecoverseg PID ends with exit 1
# within 10 s of SINCE (an epoch with fraction, when WHAT happened); LAST_OUT = its output.
fails_soon_after() {
	local rc delay
	bounded_wait "$1" 90
	rc=$?
	delay=$(awk -v a="$2" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	LAST_OUT=$(cat "$3")
	echo "# gprecoverseg ended $delay s after $4 (exit $rc)"
	is_eq "  the run fails (exit 1)" "1" "$rc"
	is_eq "  within 10 s of it, not at the sync timeout" "yes" "$(awk -v d="$delay" 'BEGIN { print (d < 10 ? "yes" : "no") }')"
}

# --- a rebuilt mirror that dies while it replays, before it is consistent: reported at once ----
# After a failover the old primary is rewound (incremental, the default) while the new primary
# writes a few hundred MB of WAL: the copy is held at its start while that is written. Whichever
# way the strategy takes, replay from the common checkpoint or from the start of a backup
# bracket, the mirror must replay all of it before it is consistent. Its postmaster is killed
# while it replays: the run must say so within seconds, with the server's log, not wait out the
# 600 s sync timeout (nor report success).
pm_status() { sed -n 8p "$1/postmaster.pid" 2>/dev/null | tr -d ' '; }
postmaster_up() { [ -f "$1/postmaster.pid" ] && kill -0 "$(head -1 "$1/postmaster.pid")" 2>/dev/null; }
walsender_streams() { [ -n "$(sql "$1" "SELECT 1 FROM pg_stat_replication WHERE application_name = 'gp_walreceiver' AND state IN ('streaming', 'catchup')")" ]; }
# replaying DIR SOURCE-PORT: its postmaster runs, streams from the source, and is not consistent
# yet (a hot standby's status line says "starting" until then). Read from its pid file: a
# connection attempt would add a FATAL line to the very log the failure must show.
replaying() { postmaster_up "$1" && [ "$(pm_status "$1")" = starting ] && walsender_streams "$2"; }
procs_in() { # procs_in DIR: how many processes work in DIR
	local d n=0 real
	real=$(readlink -f "$1")
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/cwd" 2>/dev/null)" = "$real" ] && n=$((n + 1))
	done
	echo "$n"
}
p1=$(acting p 1) m1=$(acting m 1)
stop_instance "$p1"
check "primary of content 1 crashes and fails over" "${FTS[@]}"
is_eq "  its mirror is the primary now" "p u n" "$(seg_state "$m1")"
NEWP=$(seg port "$m1") OLD_DIR=$(seg datadir "$p1")
sql "$NEWP" "CREATE TABLE replay(i bigint, pad text); CREATE INDEX ON replay (md5(i::text))"
rm -f "$INJ"
env SEGRECOVER_INJECT_PAUSE="incremental-copy@$p1" SEGRECOVER_INJECT_FILE="$INJ" gprecoverseg -a -s >"$WORK/replay.out" 2>&1 &
run=$!
if wait_until 60 test -s "$INJ"; then
	# Random inserts into an index larger than shared_buffers: seconds of replay, not a blink.
	t0=$(date +%s)
	sql "$NEWP" "INSERT INTO replay SELECT g, repeat('r', 100) FROM generate_series(1, 2000000) g"
	echo "# $(sql "$NEWP" "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) FROM pg_replication_slots") of WAL held for the old primary, written in $(($(date +%s) - t0)) s while its copy waited"
	kill -CONT "$(cut -d' ' -f1 "$INJ")"
fi
if wait_until 120 replaying "$OLD_DIR" "$NEWP" && sleep 0.5 && replaying "$OLD_DIR" "$NEWP"; then
	ok "the rebuilt mirror runs, streams and still replays (not consistent yet)"
	killed=$(date +%s.%N) victim=$(head -1 "$OLD_DIR/postmaster.pid")
	kill -9 "$victim"
else
	not_ok "the rebuilt mirror runs, streams and still replays (not consistent yet)" "status: $(pm_status "$OLD_DIR")" "$(tail -5 "$WORK/replay.out")"
	killed=$(date +%s.%N) victim=
fi
fails_soon_after "$run" "$killed" "$WORK/replay.out" "the kill"
output_has "  the error names the instance and says it stopped before it was consistent" "port: $(seg port "$p1"); .*datadir: $OLD_DIR; .*step: replay; error: the server in \"$OLD_DIR\" stopped before it was consistent"
output_has "  with the last lines of its server log" "server log $OLD_DIR/log/startup.log: .*[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [A-Z0-9+-]+ \[[0-9]+\] [A-Z]+: "
output_has "  the advice: its log, then the same command again" "next: .*look at the end of its server log \($OLD_DIR/log/startup.log on [^)]*\) for the cause; .*Then run 'gprecoverseg' again"
is_eq "  the instance stays down in the catalog" "m d n" "$(seg_state "$p1")"
# PostgreSQL refuses its port while the socket lock names a live PID, and a zombie is one: the
# killed postmaster must be reaped (by init) before the next start, as its children must be gone.
all_gone() { { [ -z "$victim" ] || ! kill -0 "$victim" 2>/dev/null; } && [ "$(procs_in "$OLD_DIR")" = 0 ]; }
wait_until 30 all_gone
echo "# the killed mirror's control file: $(as_admin "$PGBIN/pg_controldata" -D "$OLD_DIR" | grep -E "^(Database cluster state|Minimum recovery ending location|Latest checkpoint's REDO location):" | sed 's/  */ /g' | paste -sd';')"
check "the same gprecoverseg -a again converges" gprecoverseg -a
is_eq "  the rebuilt mirror is up and in sync" "m u s" "$(seg_state "$p1")"
rows_of() { echo "$(rowsum "$1"):$(sql "$1" "SELECT count(*) FROM replay")"; }
wait_until 30 test "$(rows_of "$(seg port "$p1")")" = "$(rows_of "$NEWP")"
is_eq "  with every row of its primary" "$(rows_of "$NEWP")" "$(rows_of "$(seg port "$p1")")"

# --- hot_standby off (copied from the source): the mirror could never be recorded in sync, since
# it refuses the probe's connections; said at once, and the same command finishes once fixed ----
p1=$(acting p 1) m1=$(acting m 1)
stop_instance "$p1"
check "primary of content 1 crashes and fails over again" "${FTS[@]}"
NEWP=$(seg port "$m1") OLD_DIR=$(seg datadir "$p1")
sql "$NEWP" "ALTER SYSTEM SET hot_standby = off"
started=$(date +%s)
check_fails "a copy whose configuration says hot_standby = off: exit 1" 1 "step: replay; error: hot_standby is off in the configuration of \"$OLD_DIR\": .*\(and on the source, dbid $m1, .*restart it \(pg_ctl restart -D $OLD_DIR -m fast\), then run the same gprecoverseg again" timeout --kill-after=10 120 gprecoverseg -a
is_eq "  reported without waiting for the sync timeout" "t" "$([ $(($(date +%s) - started)) -lt 60 ] && echo t || echo f)"
is_eq "  its server is left running, as a standby" "standby" "$(pm_status "$OLD_DIR")"
sql "$NEWP" "ALTER SYSTEM RESET hot_standby"
as_admin sed -i '/^hot_standby/d' "$OLD_DIR/postgresql.auto.conf"
pg_ctl_admin -D "$OLD_DIR" -l "$OLD_DIR/log/startup.log" -m fast -w restart >/dev/null
check "  once it is on, the same command finishes without copying again" gprecoverseg -a
output_has "  it waits for the running server" "an earlier recovery copied \"$OLD_DIR\" and started its server; nothing to copy"
is_eq "  the rebuilt mirror is up and in sync" "m u s" "$(seg_state "$p1")"

# --- the mirror dies after the agent saw it consistent, while gprecoverseg waits for sync ------
p1=$(acting p 1) m1=$(acting m 1)
stop_instance "$p1"
check "primary of content 1 crashes and fails over once more" "${FTS[@]}"
OLD_DIR=$(seg datadir "$p1")
rm -f "$INJ"
env SEGRECOVER_INJECT_PAUSE=sync-wait SEGRECOVER_INJECT_FILE="$INJ" gprecoverseg -a -s >"$WORK/sync.out" 2>&1 &
run=$!
if wait_until 120 test -s "$INJ" && postmaster_up "$OLD_DIR"; then
	ok "gprecoverseg paused once the agent is done, its mirror running"
	victim=$(head -1 "$OLD_DIR/postmaster.pid")
	kill -9 "$victim"
	wait_until 10 bash -c "! kill -0 $victim 2>/dev/null"
	killed=$(date +%s.%N)
	kill -CONT "$(cut -d' ' -f1 "$INJ")"
else
	not_ok "gprecoverseg paused once the agent is done, its mirror running" "$(tail -5 "$WORK/sync.out")"
	killed=$(date +%s.%N) victim=
fi
fails_soon_after "$run" "$killed" "$WORK/sync.out" "it went on with its mirror gone"
output_has "  the error names the instance: it stopped before it caught up" "port: $(seg port "$p1"); .*datadir: $OLD_DIR; .*step: sync; error: the mirror was copied and started, then stopped before it caught up"
output_has "  the advice: its log, then the same command again" "next: .*look at the end of its server log \($OLD_DIR/log/startup.log on [^)]*\) for the cause, then run 'gprecoverseg' again"
is_eq "  the instance stays down in the catalog" "m d n" "$(seg_state "$p1")"
wait_until 30 all_gone
check "the same gprecoverseg -a again converges" gprecoverseg -a
is_eq "  the rebuilt mirror is up and in sync" "m u s" "$(seg_state "$p1")"
t_done
