#!/usr/bin/env bash
# Incremental recovery (the default type) on a real demo cluster: a real divergence with
# file-level changes on both sides, a mirror that only fell behind, a failed incremental
# recovery and --fallback.
. "$(dirname "$0")/lib/testlib.sh"

cluster_create --contents 2
FTS=(gpfts --once --retries 2 --retry-delay 300)
state_of() { # state_of PORT: a digest of everything the test compares between two instances
	sql "$1" "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database"
	for t in kept dropped_old truncated_old indexed_old dropped_new truncated_new indexed_new; do
		sql "$1" "SELECT '$t:' || coalesce((SELECT count(*) || ':' || sum(id) FROM $t), 'absent')" 2>/dev/null || echo "$t:absent"
	done
	sql "$1" "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index WHERE indrelid::regclass::text IN ('indexed_old', 'indexed_new')"
}

p0=$(acting p 0) m0=$(acting m 0)
P0=$(seg port "$p0") M0=$(seg port "$m0")
sql "$P0" "CREATE EXTENSION amcheck"
for t in kept dropped_old truncated_old indexed_old dropped_new truncated_new indexed_new; do
	sql "$P0" "CREATE TABLE $t(id int, pad text); INSERT INTO $t SELECT g, repeat('p', 300) FROM generate_series(1, 20000) g"
done
sql "$P0" "CHECKPOINT"

# --- a real divergence ----------------------------------------------------------------------
# The mirror stops receiving (its walreceiver is pointed nowhere) while the catalog still has
# the pair in sync; the primary, with synchronous replication off, keeps committing: those
# commits exist only on the old primary. Then it crashes and the probe promotes the mirror.
sql "$M0" "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'"
sql "$M0" "SELECT pg_reload_conf()" >/dev/null
wait_until 20 bash -c "[ -z \"\$(psql -X -At -h 127.0.0.1 -p $P0 -U $SEG_OS_USER -d postgres -c \"SELECT 1 FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'\")\" ]"
sql "$P0" "ALTER SYSTEM SET synchronous_standby_names = ''"
sql "$P0" "SELECT pg_reload_conf()" >/dev/null
sql "$P0" "INSERT INTO kept SELECT g, 'diverged' FROM generate_series(100001, 130000) g"
is_eq "the old primary holds rows its mirror never received" "30000" "$(sql "$P0" "SELECT count(*) FROM kept WHERE pad = 'diverged'")"
sql "$P0" "DROP TABLE dropped_old"
sql "$P0" "TRUNCATE truncated_old"
sql "$P0" "CREATE INDEX indexed_old_idx ON indexed_old(id)"
sql "$P0" "CREATE DATABASE diverged_db"
sql "$P0" "UPDATE kept SET pad = 'changed on the old primary' WHERE id % 7 = 0"
stop_instance "$p0"
sql "$M0" "ALTER SYSTEM RESET primary_conninfo" 2>/dev/null
check "the probe promotes the mirror" "${FTS[@]}"
is_eq "promoted" "p u n" "$(seg_state "$m0")"
# New writes and file-level changes on the new primary.
sql "$M0" "INSERT INTO kept SELECT g, 'new primary' FROM generate_series(200001, 240000) g"
sql "$M0" "DROP TABLE dropped_new"
sql "$M0" "TRUNCATE truncated_new"
sql "$M0" "CREATE INDEX indexed_new_idx ON indexed_new(id)"
sql "$M0" "CREATE DATABASE new_db"
sql "$M0" "UPDATE kept SET pad = 'changed on the new primary' WHERE id % 5 = 0"

check "gprecoverseg -a recovers it incrementally (the default)" gprecoverseg -a
output_has "plan says incremental" "Synchronization mode += Incremental"
output_has "and that its bytes are known only once it reads the target" "Bytes to move \(estimate\) += known once the copy has looked at the target"
output_has "the divergence is found and reported" "diverged from the source at [0-9A-F]+/[0-9A-F]+"
output_has "crash recovery ran first on the old primary" "was not shut down cleanly"
output_has "summary" "$p0 +.* Incremental .* up and in sync"
is_eq "recovered: an up, in-sync mirror" "m u s" "$(seg_state "$p0")"
is_eq "its primary in sync" "p u s" "$(seg_state "$m0")"
is_eq "the diverged rows are gone from the recovered mirror" "0" "$(sql "$P0" "SELECT count(*) FROM kept WHERE pad IN ('diverged', 'changed on the old primary')")"
is_eq "every row of the new primary is there" "$(sql "$M0" "SELECT count(*) || ':' || sum(id) || ':' || sum(length(pad)) FROM kept")" "$(sql "$P0" "SELECT count(*) || ':' || sum(id) || ':' || sum(length(pad)) FROM kept")"
is_eq "drop, truncate, index and database on both sides come out as on the new primary" "$(state_of "$M0")" "$(state_of "$P0")"
check "the new primary's index is valid on the recovered mirror (amcheck)" sql "$P0" "SELECT bt_index_check('indexed_new_idx', true)"
is_eq "the old primary's index is gone" "" "$(sql "$P0" "SELECT relname FROM pg_class WHERE relname = 'indexed_old_idx'")"
copied=$(grep -oE "$p0 +[a-z0-9]+ +[0-9]+ +Incremental +[0-9.]+s +[0-9.]+ [kMG]B" <<<"$LAST_OUT" | awk '{print $6, $7}')
echo "# incremental copied: $copied"
sql "$M0" "INSERT INTO kept VALUES (-1, 'after recovery')"
if wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $P0 -U $SEG_OS_USER -d postgres -c 'SELECT count(*) FROM kept WHERE id = -1')\" = 1 ]"; then ok "it keeps streaming"; else not_ok "it keeps streaming"; fi
if [ ! -e "$(seg datadir "$p0")/segrecover.inprogress" ]; then ok "no in-progress marker left"; else not_ok "no in-progress marker left"; fi

# --- a mirror that only fell behind copies (almost) nothing ---------------------------------
p1=$(acting p 1) m1=$(acting m 1)
stop_instance "$m1" fast
check "mirror of content 1 marked down" "${FTS[@]}"
sql "$(seg port "$p1")" "CREATE TABLE behind(id int); INSERT INTO behind SELECT generate_series(1, 100000)"
check "gprecoverseg -a catches the mirror up" gprecoverseg -a
output_has "nothing to copy" "nothing to copy, it catches up by streaming"
output_has "copied under 1 MB" "$m1 +.* Incremental .* [0-9.]+ kB +up and in sync"
is_eq "rows on the mirror that fell behind" "100000" "$(sql "$(seg port "$m1")" "SELECT count(*) FROM behind")"

# --- a crashed mirror (immediate) is also caught up without copying -----------------------------
stop_instance "$m1"
check "crashed mirror marked down" "${FTS[@]}"
sql "$(seg port "$p1")" "INSERT INTO behind SELECT generate_series(100001, 150000)"
check "gprecoverseg -a catches the crashed mirror up" gprecoverseg -a
output_has "nothing to copy for a crashed standby" "nothing to copy"
is_eq "rows" "150000" "$(sql "$(seg port "$m1")" "SELECT count(*) FROM behind")"

# --- an incremental recovery that cannot work: clear error, then --fallback ---------------------
# Fail over content 1 again with a divergence, then take away the old primary's own WAL.
p1=$(acting p 1) m1=$(acting m 1)
sql "$(seg port "$m1")" "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'"
sql "$(seg port "$m1")" "SELECT pg_reload_conf()" >/dev/null
wait_until 20 bash -c "[ -z \"\$(psql -X -At -h 127.0.0.1 -p $(seg port "$p1") -U $SEG_OS_USER -d postgres -c \"SELECT 1 FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'\")\" ]"
sql "$(seg port "$p1")" "ALTER SYSTEM SET synchronous_standby_names = ''; " 2>/dev/null
sql "$(seg port "$p1")" "SELECT pg_reload_conf()" >/dev/null
sql "$(seg port "$p1")" "INSERT INTO behind SELECT generate_series(1, 50000)"
stop_instance "$p1" fast
sql "$(seg port "$m1")" "ALTER SYSTEM RESET primary_conninfo" 2>/dev/null
check "content 1 fails over" "${FTS[@]}"
as_admin find "$(seg datadir "$p1")/pg_wal" -maxdepth 1 -name '0000000*' -delete
check_fails "incremental recovery without the target's WAL fails (exit 1)" 1 "step: incremental; error: .*" gprecoverseg -a
output_has "and says to use --differential or -F" "either .gprecoverseg --differential. .* or .gprecoverseg -F."
is_eq "the instance stays down" "m d n" "$(seg_state "$p1")"
check "gprecoverseg --fallback recovers it with a differential copy in the same run" gprecoverseg -a --fallback
output_has "the fallback is announced" "falling back to differential recovery"
output_has "and shown in the summary" "$p1 +.* Differential \(fallback\) .* up and in sync"
is_eq "recovered" "m u s" "$(seg_state "$p1")"
is_eq "rows of the new primary on it" "$(sql "$(seg port "$m1")" "SELECT count(*) FROM behind")" "$(sql "$(seg port "$p1")" "SELECT count(*) FROM behind")"
t_done
