#!/usr/bin/env bash
# A cluster on several hosts (network namespaces with their own sshd and /data), every command
# run as a DBA would, on the coordinator host: a host lost, its primaries failed over, its
# instances rebuilt on the spare host while it stays away (full copies over ssh, tablespaces
# mapped), every committed row there; an unreachable target host refused before the plan; an
# in-place incremental and differential recovery through ssh with a tablespace; the rebalance across hosts; an
# interrupted recovery that leaves no process on the remote host; the coordinator's standby on
# another host, the coordinator host lost, the standby activated there.
. "$(dirname "$0")/lib/testlib.sh"

[ "$(id -u)" = 0 ] || { not_ok "multi-host tests need root (network namespaces)"; t_done; exit 1; }
cluster_create --hosts 3
R() { "$REPO/scripts/demo-cluster" run --dir "$CLUSTER" "$@"; }
# on HOST PORT SQL: one value from an instance, through its host's socket directory.
on() { R "$1" psql -X -q -At -v ON_ERROR_STOP=1 -h /data/sock -p "$2" -d postgres -c "$3"; }
catalog() { R cdw psql -X -q -At -v ON_ERROR_STOP=1 -c "$*"; }
seg() { catalog "SELECT $1 FROM gp_segment_configuration WHERE dbid = $2"; }
seg_state() { catalog "SELECT concat_ws(' ', role, status, mode) FROM gp_segment_configuration WHERE dbid = $1"; }
acting() { catalog "SELECT dbid FROM gp_segment_configuration WHERE content = $2 AND role = '$1'"; }
at() { on "$(seg hostname "$1")" "$(seg port "$1")" "$2"; } # at DBID SQL
rows() { at "$1" "SELECT (SELECT count(*) || ':' || sum(i) FROM t) || '/' || (SELECT count(*) || ':' || sum(i) FROM t_ts)"; }
FTS=(gpfts --once --retries 2 --retry-delay 300)

is_eq "the catalog names hosts and their addresses" "cdw sdw1 sdw2 sdw3" "$(catalog "SELECT string_agg(DISTINCT hostname, ' ' ORDER BY hostname) FROM gp_segment_configuration")"
is_eq "every address is on the cluster's own subnet" "7" "$(catalog "SELECT count(*) FROM gp_segment_configuration WHERE address LIKE '10.213.%'")"
# The hosts reach each other and nothing else: no default route inside, no interface of the
# subnet outside (the machine's own routes may well cover 10.213.*: a default route does).
is_eq "no host has a route out of the cluster" "" "$(for h in cdw sdw1 sdw2 sdw3 sdw4; do R "$h" ip route show default; done)"
if R cdw ip route get 192.0.2.1 >/dev/null 2>&1; then not_ok "an outside address is unreachable from cdw" "$(R cdw ip route get 192.0.2.1)"; else ok "an outside address is unreachable from cdw"; fi
is_eq "no interface of the machine is on the cluster's subnet" "" "$(ip -o -4 addr show | grep ' 10\.213\.' || true)"

# A tablespace on every primary, at the same path on every host, one directory per instance
# (Greenplum's layout: <location>/<dbid>); the mirror hosts get the directory its replay needs.
for c in 0 1 2; do
	p=$(acting p $c) m=$(acting m $c)
	R "$(seg hostname "$p")" mkdir -p "/data/ts/$p"
	R "$(seg hostname "$m")" mkdir -p "/data/ts/$p"
	at "$p" "CREATE TABLESPACE ts LOCATION '/data/ts/$p'"
	at "$p" "CREATE TABLE t(i bigint, pad text); INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g"
	at "$p" "CREATE TABLE t_ts(i bigint, pad text) TABLESPACE ts; INSERT INTO t_ts SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g"
done
ok "rows and a tablespace on every primary"

# --- a host disappears: failover, then its instances rebuilt on the spare ---------------------
lost=sdw2
lost_p=$(catalog "SELECT dbid FROM gp_segment_configuration WHERE hostname = '$lost' AND role = 'p'")
lost_m=$(catalog "SELECT dbid FROM gp_segment_configuration WHERE hostname = '$lost' AND role = 'm'")
check "host $lost taken off the network" "$REPO/scripts/demo-cluster" isolate --dir "$CLUSTER" "$lost"
check "gpfts on cdw sees the host gone" R cdw "${FTS[@]}"
output_has "its primary's mirror is promoted" "content $(seg content "$lost_p") failed over"
is_eq "its primary is a down mirror now" "m d n" "$(seg_state "$lost_p")"
is_eq "its mirror is down" "m d n" "$(seg_state "$lost_m")"
for c in 0 1 2; do
	at "$(acting p $c)" "INSERT INTO t SELECT g, 'after the loss' FROM generate_series(20001, 25000) g; INSERT INTO t_ts SELECT g, 'after' FROM generate_series(20001, 25000) g"
done
ok "commits go on on every content"
R cdw gpstate -s >"$WORK/state.out" 2>&1
if grep -qE "(no answer from|cannot check) host $(seg address "$lost_p")" "$WORK/state.out"; then
	ok "gpstate -s, which reads each host's files over ssh, names the host it cannot reach"
else
	not_ok "gpstate -s, which reads each host's files over ssh, names the host it cannot reach" "$(tail -20 "$WORK/state.out")"
fi
before=$(catalog "SELECT string_agg(concat_ws(' ', dbid, role, status, mode, hostname, port), ',' ORDER BY dbid) FROM gp_segment_configuration")
check_fails "in place, with $lost away: its instances are skipped, not attempted (exit 1)" 1 \
	"Not recovering segment dbid $lost_p \\(.*\\) because $lost is unreachable" R cdw gprecoverseg -a
output_has "  and the other one" "Not recovering segment dbid $lost_m \\(.*\\) because $lost is unreachable"
output_has "  the summary says why" "no segment to recover has a host that resolves and answers"
is_eq "  the catalog is unchanged" "$before" "$(catalog "SELECT string_agg(concat_ws(' ', dbid, role, status, mode, hostname, port), ',' ORDER BY dbid) FROM gp_segment_configuration")"
check "gprecoverseg -p sdw4 moves the lost host's instances to the spare" R cdw gprecoverseg -p sdw4 -a
output_has "full copies to the spare" "$lost_p +sdw4 .* Full .* up and in sync"
output_has "  compressed on the source host (auto: lz4 between hosts)" "Compression on the source += lz4"
output_has "  and unpacked on the spare" "lz4 compression on the source: [0-9]+ MB received for [0-9]+ MB of files"
is_eq "the catalog records the new host" "sdw4 sdw4" "$(seg hostname "$lost_p") $(seg hostname "$lost_m")"
# The cluster's pg_hba.conf files name its hosts, not the spare (as gpinitsystem leaves them):
# the copies could only connect because gprecoverseg admitted the spare's address first.
spare_addr=$(R cdw getent hosts sdw4 | awk '{ print $1 }')
for d in "$lost_p" "$lost_m"; do
	src=$(acting p "$(seg content "$d")")
	is_eq "  the primary of dbid $d admits the spare by address" "1" \
		"$(R "$(seg hostname "$src")" grep -cE "^host replication [^ ]+ $spare_addr/32 trust" "$(seg datadir "$src")/pg_hba.conf")"
done
is_eq "both up and in sync" "m u s|m u s" "$(seg_state "$lost_p")|$(seg_state "$lost_m")"
for d in "$lost_p" "$lost_m"; do
	src=$(acting p "$(seg content "$d")")
	is_eq "every committed row on dbid $d on the spare (tables and tablespace)" "$(rows "$src")" "$(rows "$d")"
done
is_eq "the tablespace of dbid $lost_p is its own directory on the spare" "/data/ts/$lost_p" \
	"$(R sdw4 readlink "/data/primary/gpseg$(seg content "$lost_p")/pg_tblspc/$(at "$lost_p" "SELECT oid FROM pg_tablespace WHERE spcname = 'ts'")")"

# --- an unreachable target host is refused before the plan ------------------------------------
c2m=$(acting m 2)
R "$(seg hostname "$c2m")" /usr/lib/postgresql/15/bin/pg_ctl -D "$(seg datadir "$c2m")" stop -m fast >/dev/null
check "mirror of content 2 stopped and marked down" R cdw "${FTS[@]}"
R cdw sh -c "printf '%s|%s|%s %s|%s|%s\n' '$(seg address "$c2m")' '$(seg port "$c2m")' '$(seg datadir "$c2m")' $lost 7650 /data/mirror/moved > /data/move.conf"
before=$(catalog "SELECT string_agg(concat_ws(' ', dbid, role, status, mode, hostname, port), ',' ORDER BY dbid) FROM gp_segment_configuration")
check_fails "a new location on the lost host: refused before anything is done (exit 2)" 2 \
	"Cannot recover. The following recovery target hosts are unreachable: $lost" R cdw gprecoverseg -a -i /data/move.conf
output_lacks "no plan shown" "Greenplum instance recovery parameters"
is_eq "the catalog is unchanged" "$before" "$(catalog "SELECT string_agg(concat_ws(' ', dbid, role, status, mode, hostname, port), ',' ORDER BY dbid) FROM gp_segment_configuration")"

# --- in place, incremental, through ssh, with a tablespace -------------------------------------
at "$(acting p 2)" "INSERT INTO t_ts SELECT g, 'while the mirror was down' FROM generate_series(25001, 26000) g"
check "gprecoverseg -a recovers the mirror of content 2 in place (incremental, over ssh)" R cdw gprecoverseg -a
output_has "incremental on its host" "$c2m +$(seg hostname "$c2m") .* Incremental .* up and in sync"
is_eq "rows in the tablespace on it" "$(rows "$(acting p 2)")" "$(rows "$c2m")"

# --- in place, differential, over ssh: the helper reads the source on its own host -----------
# Each host has its own /data: had the helper run on the mirror's host, it would not find the
# primary's directory there.
R "$(seg hostname "$c2m")" /usr/lib/postgresql/15/bin/pg_ctl -D "$(seg datadir "$c2m")" stop -m fast >/dev/null
check "mirror of content 2 down for a differential recovery" R cdw "${FTS[@]}"
at "$(acting p 2)" "UPDATE t_ts SET pad = 'changed while down' WHERE i % 10 = 0; INSERT INTO t SELECT g, 'diff' FROM generate_series(30001, 31000) g"
check "gprecoverseg --differential -a recovers it in place (over ssh)" R cdw gprecoverseg --differential -a
output_has "  differential on its host" "$c2m +$(seg hostname "$c2m") .* Differential .* up and in sync"
output_has "  only what differs crossed" "dbid $c2m: compared [0-9]+ MB, received [0-9]+ MB"
is_eq "  rows, in the tablespace too" "$(rows "$(acting p 2)")" "$(rows "$c2m")"
is_eq "  the changed rows in the tablespace" "$(at "$(acting p 2)" "SELECT count(*) FROM t_ts WHERE pad = 'changed while down'")" "$(at "$c2m" "SELECT count(*) FROM t_ts WHERE pad = 'changed while down'")"

# --- -i: a new location on another host ------------------------------------------------------
R "$(seg hostname "$c2m")" /usr/lib/postgresql/15/bin/pg_ctl -D "$(seg datadir "$c2m")" stop -m fast >/dev/null
check "mirror of content 2 down again" R cdw "${FTS[@]}"
R cdw sh -c "printf '%s|%s|%s %s|%s|%s\n' '$(seg address "$c2m")' '$(seg port "$c2m")' '$(seg datadir "$c2m")' sdw4 7660 /data/mirror/moved2 > /data/move2.conf"
c2p=$(acting p 2)
is_eq "  the primary of content 2 never admitted sdw4" "0" "$(R "$(seg hostname "$c2p")" grep -c "$spare_addr\|sdw4" "$(seg datadir "$c2p")/pg_hba.conf")"
check "gprecoverseg -i --hba-hostnames moves the mirror of content 2 to sdw4" R cdw gprecoverseg -a --hba-hostnames -i /data/move2.conf
is_eq "  its primary now admits sdw4 by name, not by address" "2 0" \
	"$(R "$(seg hostname "$c2p")" grep -cE "^host (all|replication) [^ ]+ sdw4 trust" "$(seg datadir "$c2p")/pg_hba.conf") $(R "$(seg hostname "$c2p")" grep -c "$spare_addr" "$(seg datadir "$c2p")/pg_hba.conf")"
output_has "  the plan names the new host" "Recovery Target instance host += sdw4"
is_eq "  the catalog records it" "sdw4 7660 /data/mirror/moved2 m u s" "$(seg hostname "$c2m") $(seg port "$c2m") $(seg datadir "$c2m") $(seg_state "$c2m")"
is_eq "  every row on it, tablespace included" "$(rows "$(acting p 2)")" "$(rows "$c2m")"

# --- the rebalance across hosts ---------------------------------------------------------------
check "gprecoverseg -r returns every pair to its preferred roles across hosts" R cdw gprecoverseg -r -a
check "gpstate -e: all segments are running normally" R cdw gpstate -e
for c in 0 1 2; do
	p=$(acting p $c)
	is_eq "content $c: every row on its mirror after the rebalance" "$(rows "$p")" "$(rows "$(acting m $c)")"
done

# --- an interrupted recovery leaves nothing running on the remote host ------------------------
c0m=$(acting m 0)
host0=$(seg hostname "$c0m")
R "$host0" /usr/lib/postgresql/15/bin/pg_ctl -D "$(seg datadir "$c0m")" stop -m immediate >/dev/null
check "mirror of content 0 marked down" R cdw "${FTS[@]}"
at "$(acting p 0)" "INSERT INTO t SELECT g, repeat('z', 500) FROM generate_series(1, 100000) g"
R cdw gprecoverseg -F -a -s --max-rate 1000 >"$WORK/int.out" 2>&1 &
run=$!
wait_until 60 grep -qE "dbid $c0m\): [1-9][0-9]*/[0-9]+ kB" "$WORK/int.out"
# [g]: the pattern must not match the command lines of these shells
driver=$(pgrep -f "^gprecoverseg -F -a -s --max-rate 1000" | head -1)
remote=$(pgrep -f "[g]psegrecovery recover --type full --dbid $c0m " | head -1)
if [ -n "$driver" ] && [ -n "$remote" ]; then ok "a full recovery runs on $host0 through ssh"; else not_ok "a full recovery runs on $host0 through ssh" "$(tail -5 "$WORK/int.out")"; fi
[ -n "$driver" ] && kill -TERM "$driver"
wait "$run"
is_eq "the interrupted row is named as interrupted, with what it copied" "1 1" \
	"$(grep -c "step: interrupted; error: interrupted: gprecoverseg stopped gpsegrecovery on $host0 during its copy phase" "$WORK/int.out") $(grep -cE "Full +[0-9.]+s +[1-9][0-9.]* (kB|MB) +FAILED" "$WORK/int.out")"
is_eq "the advice: the same command again, no cause to fix" "1" \
	"$(grep -c "next: run 'gprecoverseg -F' again: the target holds standby.signal" "$WORK/int.out")"
if wait_until 20 bash -c "! pgrep -f '[g]psegrecovery recover --type full --dbid $c0m ' >/dev/null"; then
	ok "SIGTERM to gprecoverseg on cdw: no agent is left on $host0"
else
	not_ok "SIGTERM to gprecoverseg on cdw: no agent is left on $host0" "$(pgrep -af gpsegrecovery)"
fi
check "the same command run again recovers it" R cdw gprecoverseg -F -a
is_eq "mirror of content 0 up and in sync" "m u s" "$(seg_state "$c0m")"
is_eq "every row on it" "$(rows "$(acting p 0)")" "$(rows "$c0m")"

# --- the lost host comes back ----------------------------------------------------------------
check "host $lost back on the network" "$REPO/scripts/demo-cluster" reconnect --dir "$CLUSTER" "$lost"
check "gpfts is clean" R cdw "${FTS[@]}"
check "gpstate -e: all segments are running normally" R cdw gpstate -e
# --- the coordinator's standby on another host; the coordinator host lost; activation there ---
check_fails "gpinitstandby: the parent directory must exist on the standby host" 2 "Parent directory /data/nothere does not exist on host sdw4" R cdw gpinitstandby -s sdw4 -S /data/nothere/gpseg-1 -a
is_eq "  nothing was added to the catalog" "0" "$(catalog "SELECT count(*) FROM gp_segment_configuration WHERE content = -1 AND role = 'm'")"
check "gpinitstandby -s sdw4 (the coordinator's port and path, over ssh)" R cdw gpinitstandby -s sdw4 -a
output_has "  the copy is compressed between hosts" "lz4 compression on the source"
output_has "  Greenplum's success message" "Successfully created standby coordinator on sdw4"
sb_addr=$(R cdw getent hosts sdw4 | awk '{ print $1 }')
is_eq "  the coordinator admits the standby's replication by address" "1" "$(R cdw grep -cE "^host replication [^ ]+ $sb_addr/32 trust" /data/coordinator/gpseg-1/pg_hba.conf)"
is_eq "  the standby streams from the coordinator" "streaming" "$(catalog "SELECT state FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'")"
check "gpstate -f on cdw" R cdw gpstate -f
output_has "  the standby is passive" "Standby status += Standby host passive"
catalog "CREATE TABLE sbt(i int); INSERT INTO sbt SELECT generate_series(1, 3000)" >/dev/null
want=$(catalog "SELECT count(*) || ':' || sum(i) FROM sbt")
cport=$(catalog "SELECT port FROM gp_segment_configuration WHERE content = -1 AND role = 'p'")
wait_until 20 bash -c "[ \"\$('$REPO/scripts/demo-cluster' run --dir '$CLUSTER' sdw4 psql -X -At -h /data/sock -p $cport -d postgres -c 'SELECT count(*) FROM sbt' 2>/dev/null)\" = 3000 ]"
# The coordinator host is lost: its server dies with it, and nothing reaches the host.
R cdw pg_ctl -D /data/coordinator/gpseg-1 stop -m immediate >/dev/null 2>&1
check "host cdw (the coordinator's) off the network" "$REPO/scripts/demo-cluster" isolate --dir "$CLUSTER" cdw
check_fails "gpactivatestandby on sdw4: activated, with a warning that cdw cannot be asked (exit 1)" 1 "The activation of the standby coordinator has completed successfully" R sdw4 gpactivatestandby -a
output_has "  the warning names the old coordinator's host" "cannot reach the old coordinator's host"
is_eq "  every committed row is on the new coordinator" "$want" "$(on sdw4 "$cport" "SELECT count(*) || ':' || sum(i) FROM sbt")"
is_eq "  its catalog: one content -1 row, on sdw4, p/p" "1 sdw4 p p" "$(on sdw4 "$cport" "SELECT concat_ws(' ', count(*) OVER (), hostname, role, preferred_role) FROM gp_segment_configuration WHERE content = -1")"
check "gpstate on sdw4 against the new coordinator" R sdw4 env PGHOST="$sb_addr" gpstate
check "gpfts on sdw4: the segments admit the new coordinator" R sdw4 env PGHOST="$sb_addr" "${FTS[@]}"
output_has "  every content probed" "probed 3 content\(s\): 0 change\(s\), 0 double fault\(s\), 0 error\(s\)"
"$REPO/scripts/demo-cluster" reconnect --dir "$CLUSTER" cdw >/dev/null 2>&1
t_done
