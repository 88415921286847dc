#!/usr/bin/env bash
# The fault probe on a real demo cluster: mirror down, mirror back, failover, double fault,
# bad input, and a destroy that leaves nothing behind.
. "$(dirname "$0")/lib/testlib.sh"

cluster_create
FTS=(gpfts --once --retries 2 --retry-delay 300)

check "gpstate on a new cluster exits 0" gpstate
check "gpstate -e on a new cluster" gpstate -e
output_has "nothing to report" "All segments are running normally"
is_eq "every instance up and in sync" "7" "$(catalog "SELECT count(*) FROM gp_segment_configuration WHERE status='u' AND (mode='s' OR content=-1)")"
for c in 0 1 2; do
	sql "$(seg port "$(acting p $c)")" "CREATE TABLE t(i int); INSERT INTO t SELECT generate_series(1, 1000)"
done
check "gpfts on a healthy cluster changes nothing" "${FTS[@]}"
output_has "no change reported" "0 change\(s\), 0 double fault\(s\), 0 error\(s\)"

# --- a mirror goes down: marked, and commits on its primary go on -------------------------
p1=$(acting p 1) m1=$(acting m 1)
stop_instance "$m1"
# This commit waits for the synchronous mirror that is gone, until the probe steps in.
sql "$(seg port "$p1")" "INSERT INTO t VALUES (-1)" >"$WORK/blocked.out" 2>&1 &
blocked=$!
sleep 1
if kill -0 "$blocked" 2>/dev/null; then ok "a commit waits while the synchronous mirror is gone"; else not_ok "a commit waits while the synchronous mirror is gone" "it returned at once"; fi
check "gpfts marks the mirror down" "${FTS[@]}"
output_has "decision logged with the instance" "mirror dbid $m1 \(127.0.0.1:[0-9]+ .*\) is not streaming"
is_eq "mirror role m, status d, mode n" "m d n" "$(seg_state "$m1")"
is_eq "primary role p, status u, mode n" "p u n" "$(seg_state "$p1")"
if wait_until 10 bash -c "! kill -0 $blocked"; then ok "the waiting commit returned"; else not_ok "the waiting commit returned"; kill "$blocked"; fi
check "a new commit on the primary returns" timeout 10 psql -X -q -h 127.0.0.1 -p "$(seg port "$p1")" -U "$SEG_OS_USER" -d postgres -c "INSERT INTO t VALUES (-2)"
is_eq "both rows committed" "2" "$(sql "$(seg port "$p1")" "SELECT count(*) FROM t WHERE i < 0")"
is_eq "synchronous replication off on that primary" "" "$(sql "$(seg port "$p1")" "SHOW synchronous_standby_names")"

# --- a mirror that comes back and catches up is marked up and in sync again ----------------
p2=$(acting p 2) m2=$(acting m 2)
stop_instance "$m2" fast
check "gpfts marks the second mirror down" "${FTS[@]}"
sql "$(seg port "$p2")" "INSERT INTO t SELECT generate_series(1001, 5000)"
pg_ctl_admin -D "$(seg datadir "$m2")" -l "$(seg datadir "$m2")/log/startup.log" -w start >/dev/null
wait_until 20 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $(seg port "$p2") -U $SEG_OS_USER -d postgres -c \"SELECT state FROM pg_stat_replication\")\" = streaming ]"
check "gpfts sees the mirror back" "${FTS[@]}"
output_has "logged as in sync" "mirror dbid $m2 .* is up and in sync"
is_eq "mirror up and in sync again" "m u s" "$(seg_state "$m2")"
is_eq "primary in sync again" "p u s" "$(seg_state "$p2")"
is_eq "synchronous replication back on" "sync" "$(sql "$(seg port "$p2")" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'")"

# --- the primary dies: its in-sync mirror is promoted, nothing committed is lost -----------
p0=$(acting p 0) m0=$(acting m 0)
sql "$(seg port "$p0")" "INSERT INTO t SELECT generate_series(1001, 20000)"
committed=$(sql "$(seg port "$p0")" "SELECT count(*) || ':' || sum(i) FROM t")
stop_instance "$p0"
check "gpfts fails over" "${FTS[@]}"
output_has "failover logged" "content 0 failed over: dbid $m0 .* is now the primary"
is_eq "old primary: role m, status d, mode n" "m d n" "$(seg_state "$p0")"
is_eq "old mirror: role p, status u, mode n" "p u n" "$(seg_state "$m0")"
is_eq "preferred roles unchanged" "p m" "$(seg preferred_role "$p0") $(seg preferred_role "$m0")"
is_eq "every committed row is on the new primary" "$committed" "$(sql "$(seg port "$m0")" "SELECT count(*) || ':' || sum(i) FROM t")"
is_eq "the new primary is out of recovery" "f" "$(sql "$(seg port "$m0")" "SELECT pg_is_in_recovery()")"
check "the new primary commits without waiting" timeout 10 psql -X -q -h 127.0.0.1 -p "$(seg port "$m0")" -U "$SEG_OS_USER" -d postgres -c "INSERT INTO t VALUES (-3)"
is_eq "the new primary keeps WAL for its future mirror" "internal_wal_replication_slot" "$(sql "$(seg port "$m0")" "SELECT slot_name FROM pg_replication_slots")"
is_eq "history rows recorded" "t" "$(catalog "SELECT count(*) >= 2 FROM gp_configuration_history WHERE dbid IN ($p0, $m0)")"

check_fails "gpstate -e reports the problems (exit 1)" 1 "Roles Switched" gpstate -e
output_has "the downed old primary is listed" "$(seg port "$p0") +Down +Down in configuration"
output_has "the downed mirror is listed" "$(seg port "$m1") +Down +Down in configuration"
output_has "the switched pair is listed" "127.0.0.1 +$(seg port "$m0") +127.0.0.1 +$(seg port "$p0")"

# --- double fault: a primary dies while its mirror is down: never fail over ----------------
stop_instance "$p1"
check_fails "gpfts reports a double fault and exits 1" 1 "FTS double fault detected \(content=1\) primary dbid=$p1, mirror dbid=$m1" "${FTS[@]}"
is_eq "content 1 unchanged in the catalog" "p u n|m d n" "$(seg_state "$p1")|$(seg_state "$m1")"
pg_ctl_admin -D "$(seg datadir "$p1")" -l "$(seg datadir "$p1")/log/startup.log" -w start >/dev/null
check "after the primary restarts the probe is clean again" "${FTS[@]}"

# --- a primary that runs but refuses the probe is never failed over (no second primary) ------
c=$(catalog "SELECT content FROM gp_segment_configuration WHERE content >= 0 GROUP BY content HAVING bool_and(status = 'u' AND mode = 's') ORDER BY content LIMIT 1")
p1=$(acting p "$c") m1=$(acting m "$c")
HBA=$(seg datadir "$p1")/pg_hba.conf
cp "$HBA" "$WORK/pg_hba.saved"
{ echo "host all all 127.0.0.1/32 reject"; cat "$WORK/pg_hba.saved"; } >"$HBA"
as_admin "$PGBIN/pg_ctl" -D "$(seg datadir "$p1")" reload >/dev/null
check "gpfts --once with a primary that refuses it" "${FTS[@]}"
output_has "says it runs and is not failed over" "primary dbid $p1 .* runs but refuses the probe .*not failed over while it runs"
is_eq "the primary keeps its role in the catalog" "p u s" "$(seg_state "$p1")"
is_eq "its mirror is still a mirror" "t" "$(psql -X -At -h "$CLUSTER/sock" -p "$(seg port "$m1")" -U "$SEG_OS_USER" -d postgres -c 'SELECT pg_is_in_recovery()')"
cp "$WORK/pg_hba.saved" "$HBA"
as_admin "$PGBIN/pg_ctl" -D "$(seg datadir "$p1")" reload >/dev/null
check "with its pg_hba.conf back the probe is clean" "${FTS[@]}"

# --- bad input ------------------------------------------------------------------------------
check_fails "no coordinator: exit 2 and what to set" 2 "cannot find the coordinator: give its data directory with -d" \
	env -u COORDINATOR_DATA_DIRECTORY -u MASTER_DATA_DIRECTORY -u PGHOST -u PGPORT gpfts --once
mkdir_admin "$WORK/not-pg"
check_fails "a data directory that is not PostgreSQL's: exit 2" 2 "is not a PostgreSQL data directory" gpfts --once -d "$WORK/not-pg"
check_fails "unknown option: exit 2" 2 "unknown option" gpfts --bogus
check_fails "bad --retries: exit 2" 2 "invalid value \"x\" for --retries" gpfts --once --retries x
m2port=$(seg port "$m2")
catalog "UPDATE gp_segment_configuration SET role = 'p' WHERE dbid = $m2"
check_fails "two primaries for a content: exit 2, content named" 2 "content 2 has 2 instances with role 'p'" "${FTS[@]}"
check_fails "gpstate refuses the same catalog" 2 "content 2 has 2 instances with role 'p'" gpstate
catalog "UPDATE gp_segment_configuration SET role = 'm' WHERE dbid = $m2"
gpfts --interval 3600 -q >"$WORK/daemon.out" 2>&1 &
daemon=$!
wait_until 10 test -f "$COORDINATOR_DATA_DIRECTORY/gpfts.lock/PID"
check_fails "a second gpfts while the daemon holds the lock: exit 2" 2 "already running with PID $daemon" "${FTS[@]}"
kill -TERM "$daemon"
if wait_until 10 bash -c "! kill -0 $daemon"; then ok "the daemon stops on SIGTERM"; else not_ok "the daemon stops on SIGTERM"; fi
if [ ! -e "$COORDINATOR_DATA_DIRECTORY/gpfts.lock" ]; then ok "the daemon released its lock"; else not_ok "the daemon released its lock"; fi
check "gpfts runs again once the lock is free" "${FTS[@]}"
is_eq "mirror port unchanged by the test" "$m2port" "$(seg port "$m2")"

# --- destroy leaves nothing behind ------------------------------------------------------------
check "demo-cluster destroy" "$REPO/scripts/demo-cluster" destroy --dir "$CLUSTER"
left=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/cwd" 2>/dev/null)" != "${CLUSTER}" ] && [[ "$(readlink "$p/cwd" 2>/dev/null)" == "$CLUSTER"/* ]] && echo "${p#/proc/}"; done)
is_eq "no server process left" "" "$left"
if [ ! -e "$CLUSTER" ]; then ok "no directory left"; else not_ok "no directory left" "$(ls "$CLUSTER")"; fi
t_done
