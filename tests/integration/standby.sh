#!/usr/bin/env bash
# The coordinator's standby: gpinitstandby (create, -n, -r), crash-safe at every step (kill -9
# where the journal says, then the same command again), gpactivatestandby after the coordinator
# is killed, every command against the new coordinator, a new standby on the old coordinator's
# place, and bad input.
. "$(dirname "$0")/lib/testlib.sh"

cluster_create
SB_PORT=$((PORT_BASE + 1))
SB_DIR=$CLUSTER/standby/demoDataDir-1
mkdir_admin "$CLUSTER/standby"
INJ=$WORK/inject.pid
CREATE=(gpinitstandby -s 127.0.0.1 -P "$SB_PORT" -S "$SB_DIR" -a)
JOURNAL=$COORDINATOR_DATA_DIRECTORY/segrecover.gpinitstandby

standby_rows() { catalog "SELECT count(*) FROM gp_segment_configuration WHERE content = -1 AND role = 'm'"; }
streams() { [ "$(catalog "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'gp_walreceiver' AND state = 'streaming'")" = 1 ]; }
slots() { catalog "SELECT count(*) FROM pg_replication_slots"; }

# --- bad input, before anything exists ----------------------------------------------------
check_fails "no action" 2 "No action provided in the options" gpinitstandby -a
check_fails "-s with -n" 2 "Options -s and -n cannot be specified together" gpinitstandby -s 127.0.0.1 -n
check_fails "-s with -r" 2 "Options -s and -r cannot be specified together" gpinitstandby -s 127.0.0.1 -r
check_fails "-S with -n" 2 "Options -S and -n cannot be specified together" gpinitstandby -S /x -n
check_fails "a bad port" 2 "invalid port" gpinitstandby -s 127.0.0.1 -P 70000
check_fails "a missing log directory" 2 "Log directory /nonexistent does not exist" gpinitstandby -s 127.0.0.1 -l /nonexistent
check_fails "the coordinator's own host and port" 2 "cannot create standby on the same host and port" gpinitstandby -s 127.0.0.1 -S "$SB_DIR" -a
check_fails "an existing target directory" 2 "Data directory already exists on host 127.0.0.1" gpinitstandby -s 127.0.0.1 -P "$SB_PORT" -S "$CLUSTER/standby" -a
check_fails "a missing parent directory" 2 "Parent directory $CLUSTER/nothere does not exist on host 127.0.0.1" gpinitstandby -s 127.0.0.1 -P "$SB_PORT" -S "$CLUSTER/nothere/d" -a
check_fails "-n with no standby configured" 2 "Cannot use -n option when standby coordinator has not yet been configured" gpinitstandby -n -a
check_fails "-r with no standby configured" 2 "no standby located" gpinitstandby -r -a
check_fails "a path pg_ctl's shell would read" 2 'must not contain|may not contain|refused|character' gpinitstandby -s 127.0.0.1 -P "$SB_PORT" -S "$CLUSTER/standby/a\$b" -a
check "gpinitstandby -? prints the help" gpinitstandby -?
output_has "the help names -s" "--standby-host"
check "gpactivatestandby -? prints the help" gpactivatestandby -?
check_fails "gpactivatestandby: an unknown option" 2 "no such option: -x" gpactivatestandby -x
check_fails "gpactivatestandby: no directory at all" 2 "no standby data directory" env -u COORDINATOR_DATA_DIRECTORY -u MASTER_DATA_DIRECTORY gpactivatestandby -a
check_fails "gpactivatestandby: not a data directory" 2 "is not a PostgreSQL data directory" gpactivatestandby -a -d "$CLUSTER/standby"
is_eq "bad input changed nothing in the catalog" "0" "$(standby_rows)"
is_eq "bad input left no journal" "no" "$([ -e "$JOURNAL" ] && echo yes || echo no)"

# --- create: the standby streams, gpstate -f shows it, a committed row is there -------------
check "gpinitstandby creates the standby" "${CREATE[@]}"
output_has "Greenplum's success message" "Successfully created standby coordinator on 127.0.0.1"
is_eq "one standby row: content -1, role m, up" "m m u $SB_PORT $SB_DIR" "$(catalog "SELECT concat_ws(' ', role, preferred_role, status, port, datadir) FROM gp_segment_configuration WHERE content = -1 AND role = 'm'")"
if wait_until 20 streams; then ok "the standby streams from the coordinator"; else not_ok "the standby streams from the coordinator"; fi
is_eq "the coordinator keeps a slot for it" "internal_wal_replication_slot" "$(catalog "SELECT slot_name FROM pg_replication_slots WHERE active")"
is_eq "the journal is gone" "no" "$([ -e "$JOURNAL" ] && echo yes || echo no)"
is_eq "the coordinator's own files were not copied" "no" "$([ -e "$SB_DIR/gpinitstandby.lock" ] || [ -e "$SB_DIR/segrecover.gpinitstandby" ] && echo yes || echo no)"
check "gpstate -f" gpstate -f
output_has "gpstate -f: passive standby" "Standby status += Standby host passive"
output_has "gpstate -f: WAL sender streaming" "WAL Sender State: streaming"
output_has "gpstate -f: lag in bytes" "Flush lag \(bytes\): [0-9]+"
check "gpstate summary" gpstate
output_has "the summary names the standby" "Coordinator standby += 127.0.0.1"
catalog "CREATE TABLE sbt(i int); INSERT INTO sbt SELECT generate_series(1, 5000)" >/dev/null
want=$(catalog "SELECT count(*) || ':' || sum(i) FROM sbt")
if wait_until 20 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $SB_PORT -U $SEG_OS_USER -d postgres -c 'SELECT count(*) || chr(58) || sum(i) FROM sbt' 2>/dev/null)\" = '$want' ]"; then
	ok "a row committed on the coordinator is on the standby"
else not_ok "a row committed on the coordinator is on the standby"; fi
check_fails "a second create: already configured" 2 "Standby coordinator already configured" "${CREATE[@]}"
check "-n with the standby running" gpinitstandby -n -a
output_has "Greenplum's message" "Standy coordinator is already up and running"
check "gpfts --once with the standby up" gpfts --once --retries 1 --retry-delay 100
pg_ctl_admin -D "$SB_DIR" stop -m fast -w >/dev/null
check "gpfts --once reports the standby down (and never activates it)" gpfts --once --retries 1 --retry-delay 100
output_has "the probe names the standby" "standby coordinator dbid [0-9]+ \(127.0.0.1:$SB_PORT .*\) is down"
is_eq "the standby is still a standby" "m" "$(catalog "SELECT role FROM gp_segment_configuration WHERE content = -1 AND port = $SB_PORT")"
check "-n starts the stopped standby" gpinitstandby -n -a
output_has "Greenplum's message" "Successfully started standby coordinator"
if wait_until 30 streams; then ok "it streams again (from its slot)"; else not_ok "it streams again (from its slot)"; fi

# --- remove, then kill -9 at every step of create and of remove ------------------------------
check "gpinitstandby -r" gpinitstandby -r -a
is_eq "-r: no standby row" "0" "$(standby_rows)"
is_eq "-r: the directory is gone" "no" "$([ -e "$SB_DIR" ] && echo yes || echo no)"
is_eq "-r: the slot is dropped" "0" "$(slots)"
is_eq "-r: the coordinator is untouched" "t" "$(catalog "SELECT count(*) = 1 FROM gp_segment_configuration WHERE content = -1 AND role = 'p'")"

# --- hostile: a journal that points -r at another instance's directory ------------------------
p0=$(acting p 0)
P0_DIR=$(seg datadir "$p0") P0_PORT=$(seg port "$p0")
for victim in "$P0_DIR|$SB_PORT" "$COORDINATOR_DATA_DIRECTORY|$PGPORT" "$P0_DIR|$P0_PORT"; do
	vdir=${victim%|*} vport=${victim#*|}
	printf 'action=remove\nhostname=127.0.0.1\naddress=127.0.0.1\nport=%s\ndatadir=%s\ndbid=99\nstep=catalog\nstep_done=1\n' "$vport" "$vdir" | as_admin tee "$JOURNAL" >/dev/null
	check_fails "a journal naming $vdir (port $vport): -r refuses it" 2 "belongs to|dbid [0-9]+|not stopped" gpinitstandby -r -a
	is_eq "$vdir is untouched and its server runs" "yes yes" "$([ -f "$vdir/PG_VERSION" ] && echo yes) $(pg_isready -q -h 127.0.0.1 -p "$([ "$vdir" = "$P0_DIR" ] && echo "$P0_PORT" || echo "$PGPORT")" && echo yes)"
done
as_admin rm -f "$JOURNAL"
# A standby directory inside a primary's: the agent's guard refuses it before writing anything
# there, and -r undoes what the create had done (its catalog row).
check_fails "a standby directory inside a primary's data directory is refused by the guard" 2 "lies inside the data directory of dbid $p0" gpinitstandby -s 127.0.0.1 -P "$SB_PORT" -S "$P0_DIR/standby" -a
is_eq "  nothing was written inside the primary's directory, which still runs" "no t" "$([ -e "$P0_DIR/standby" ] && echo yes || echo no) $(sql "$P0_PORT" "SELECT true")"
check "  gpinitstandby -r undoes the refused create" gpinitstandby -r -a
is_eq "  no standby row, no journal" "0 no" "$(standby_rows) $([ -e "$JOURNAL" ] && echo yes || echo no)"
# The agent's remove verb on a running server that is not the one named: never stopped.
check_fails "gpsegrecovery remove: a running primary on another port is not stopped" 1 "not stopped, nothing is removed" gpsegrecovery remove --dbid 99 --target-datadir "$P0_DIR" --target-port "$SB_PORT"
is_eq "that primary still runs" "t" "$(sql "$P0_PORT" "SELECT true")"
check_fails "gpsegrecovery remove: a directory that is not a data directory is kept" 1 "it is not removed" gpsegrecovery remove --dbid 99 --target-datadir "$CLUSTER/log" --target-port "$SB_PORT"
is_eq "it is still there" "yes" "$([ -d "$CLUSTER/log" ] && echo yes)"

# kill_at POINT CMD...: run CMD until it stops at the inject point POINT, then kill -9 it (and
# the agent it runs, if the point is the agent's). Fails the test when the point is not reached.
kill_at() {
	local point=$1 pid i=0
	shift
	rm -f "$INJ"
	env SEGRECOVER_INJECT_PAUSE="$point" SEGRECOVER_INJECT_FILE="$INJ" "$@" >"$WORK/kill.out" 2>&1 &
	pid=$!
	while [ ! -s "$INJ" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
	if [ ! -s "$INJ" ]; then
		kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		not_ok "$point: reached" "$(tail -5 "$WORK/kill.out")"
		return 1
	fi
	kill -9 "$(cut -d' ' -f1 "$INJ")" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# an agent whose pipe closed stops by itself: wait for it
	wait_until 20 bash -c "! pgrep -f '[g]psegrecovery .*$SB_DIR' >/dev/null"
	return 0
}

for point in standby-create-none-begin standby-create-catalog-begin standby-create-catalog-done \
	standby-create-hba-begin standby-create-hba-done standby-create-copy-begin copy-begin@8 \
	standby-create-copy-done; do
	kill_at "$point" "${CREATE[@]}" || continue
	check "killed at $point: the same command finishes" "${CREATE[@]}"
	is_eq "$point: one standby row, streaming, no journal" "1 yes no" "$(standby_rows) $(streams && echo yes || echo no) $([ -e "$JOURNAL" ] && echo yes || echo no)"
	check "$point: then -r" gpinitstandby -r -a
done
for point in standby-create-catalog-done copy-begin@8 standby-create-copy-done; do
	kill_at "$point" "${CREATE[@]}" || continue
	check "killed at $point: -r undoes it" gpinitstandby -r -a
	is_eq "$point undone: no row, no directory, no slot, no journal" "0 no 0 no" "$(standby_rows) $([ -e "$SB_DIR" ] && echo yes || echo no) $(slots) $([ -e "$JOURNAL" ] && echo yes || echo no)"
done
for point in standby-remove-none-begin standby-remove-catalog-begin standby-remove-catalog-done \
	standby-remove-directory-begin standby-remove-directory-done standby-remove-slot-begin; do
	check "create before the kill at $point" "${CREATE[@]}" || continue
	kill_at "$point" gpinitstandby -r -a || continue
	check "killed at $point: -r again finishes" gpinitstandby -r -a
	is_eq "$point: no row, no directory, no slot, no journal" "0 no 0 no" "$(standby_rows) $([ -e "$SB_DIR" ] && echo yes || echo no) $(slots) $([ -e "$JOURNAL" ] && echo yes || echo no)"
done

# --- the coordinator fails: activation ------------------------------------------------------
check "a standby for the activation" "${CREATE[@]}"
wait_until 20 streams
OLD_DIR=$COORDINATOR_DATA_DIRECTORY OLD_PORT=$PGPORT
catalog "INSERT INTO sbt SELECT generate_series(5001, 9000)" >/dev/null
want=$(catalog "SELECT count(*) || ':' || sum(i) FROM sbt")
# every committed row is streamed before the coordinator dies
wait_until 20 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $PGPORT -U $SEG_OS_USER -d postgres -c \"SELECT count(*) FROM pg_stat_replication WHERE replay_lsn = pg_current_wal_lsn()\")\" = 1 ]"
check_fails "activation refused while the old coordinator runs" 2 "Active postgres process on coordinator" gpactivatestandby -a -d "$SB_DIR"
is_eq "the refused activation left a standby" "t" "$(sql "$SB_PORT" "SELECT pg_is_in_recovery()")"
check_fails "activation refused without standby.signal (the coordinator's own directory)" 2 "Critical required file on standby" gpactivatestandby -a -d "$OLD_DIR"
OLD_PID=$(head -1 "$OLD_DIR/postmaster.pid") OLD_SOCK=$(sed -n 5p "$OLD_DIR/postmaster.pid")
kill -9 "$OLD_PID"
wait_until 10 bash -c "! pg_isready -q -h 127.0.0.1 -p $OLD_PORT"
# Where PID 1 is slow to reap orphans (some VM inits), the killed postmaster stays a zombie, and
# a server started later on its port takes the zombie for a live owner of the socket lock file.
# A crashed host leaves no zombie: the lock file of one is stale, as after a reboot.
if grep -qE '^[0-9]+ \([^)]*\) Z' "/proc/$OLD_PID/stat" 2>/dev/null; then
	rm -f "$OLD_SOCK/.s.PGSQL.$OLD_PORT.lock"
fi
check "gpactivatestandby -a after kill -9 of the coordinator" gpactivatestandby -a -d "$SB_DIR"
output_has "Greenplum's completion message" "The activation of the standby coordinator has completed successfully"
output_has "Greenplum's advice: do not restart the old one" "Do not re-start the failed coordinator"
output_has "Greenplum's advice: ANALYZE" "run ANALYZE against all user databases"
is_eq "the new coordinator is out of recovery" "f" "$(sql "$SB_PORT" "SELECT pg_is_in_recovery()")"
is_eq "catalog: one content -1 row, the standby's, now p/p" "1 p p $SB_PORT" "$(sql "$SB_PORT" "SELECT concat_ws(' ', count(*) OVER (), role, preferred_role, port) FROM gp_segment_configuration WHERE content = -1")"
is_eq "every committed row is there" "$want" "$(sql "$SB_PORT" "SELECT count(*) || ':' || sum(i) FROM sbt")"
export COORDINATOR_DATA_DIRECTORY=$SB_DIR MASTER_DATA_DIRECTORY=$SB_DIR PGPORT=$SB_PORT
check "gpstate against the new coordinator" gpstate
check "gprecoverseg against the new coordinator (nothing to do)" gprecoverseg -a
output_has "no segment to recover" "No segments to recover"
m=$(acting m 1)
stop_instance "$m"
check "gpfts against the new coordinator marks a mirror down" gpfts --once --retries 2 --retry-delay 200
check "gprecoverseg against the new coordinator recovers it" gprecoverseg -a
is_eq "the mirror is back in sync" "m u s" "$(seg_state "$m")"
check_fails "a second activation: it is the coordinator already" 2 "Critical required file on standby" gpactivatestandby -a -d "$SB_DIR"

# --- a new standby where the old coordinator was --------------------------------------------
mv "$OLD_DIR" "$OLD_DIR.failed"
check "gpinitstandby makes a new standby on the old coordinator's place" gpinitstandby -s 127.0.0.1 -P "$OLD_PORT" -S "$OLD_DIR" -a
if wait_until 20 streams; then ok "the new standby streams from the new coordinator"; else not_ok "the new standby streams from the new coordinator"; fi
is_eq "its row: content -1, role m, the old port" "m $OLD_PORT" "$(catalog "SELECT concat_ws(' ', role, port) FROM gp_segment_configuration WHERE content = -1 AND role = 'm'")"

# --- -f: the standby is stopped when the coordinator fails ----------------------------------
catalog "INSERT INTO sbt VALUES (-1)" >/dev/null
wait_until 20 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $PGPORT -U $SEG_OS_USER -d postgres -c \"SELECT count(*) FROM pg_stat_replication WHERE replay_lsn = pg_current_wal_lsn()\")\" = 1 ]"
want=$(catalog "SELECT count(*) || ':' || sum(i) FROM sbt")
pg_ctl_admin -D "$OLD_DIR" stop -m fast -w >/dev/null
pg_ctl_admin -D "$SB_DIR" stop -m immediate -w >/dev/null
check_fails "a stopped standby needs -f" 2 "Force activation required" gpactivatestandby -a -d "$OLD_DIR"
check "gpactivatestandby -f starts and activates it" gpactivatestandby -a -f -d "$OLD_DIR"
output_has "the warning Greenplum gives" "not running: starting it"
is_eq "-f: every committed row is there" "$want" "$(sql "$OLD_PORT" "SELECT count(*) || ':' || sum(i) FROM sbt")"
is_eq "-f: the catalog names it the coordinator" "1 p" "$(sql "$OLD_PORT" "SELECT concat_ws(' ', count(*) OVER (), role) FROM gp_segment_configuration WHERE content = -1")"
# the cluster's destroy stops what is under $CLUSTER; the moved directory too
rm -rf "$OLD_DIR.failed"

# --- the demo cluster with a standby ----------------------------------------------------------
"$REPO/scripts/demo-cluster" destroy --dir "$CLUSTER" >/dev/null 2>&1
check "demo-cluster create --standby" "$REPO/scripts/demo-cluster" create --dir "$CLUSTER" --port-base "$PORT_BASE" --standby
eval "$("$REPO/scripts/demo-cluster" env --dir "$CLUSTER")"
is_eq "--standby: the standby row on port P+1" "m $SB_PORT" "$(catalog "SELECT concat_ws(' ', role, port) FROM gp_segment_configuration WHERE content = -1 AND role = 'm'")"
if wait_until 20 streams; then ok "--standby: it streams"; else not_ok "--standby: it streams"; fi
t_done
