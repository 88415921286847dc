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
output_has "with -a no estimate pass reads the WAL twice" "Bytes to move \(estimate\) += not estimated with -a \(it reads what the copy reads\)"
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
output_has "the log line says why nothing is copied, in English" "WAL ends at [0-9A-F]+/[0-9A-F]+ on the source.s own timeline, which never left it; nothing to copy"
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

# --- the two ways, replay and blocks, after changes of every kind on both sides ----------------
# digest PORT: every table of every database that takes connections, its rows in order.
digest() {
	local db t
	for db in $(sql "$1" "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1"); do
		echo "database $db"
		for t in $(psql -X -At -h 127.0.0.1 -p "$1" -U "$SEG_OS_USER" -d "$db" -c "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"); do
			echo "$t $(psql -X -At -h 127.0.0.1 -p "$1" -U "$SEG_OS_USER" -d "$db" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM $t x")"
		done
	done
}
# replayed PRIMARY-PORT: its mirror has replayed everything the primary wrote.
replayed() {
	[ "$(sql "$1" "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn = pg_current_wal_lsn()")" = 1 ]
}
# cut_off PRIMARY-PORT MIRROR-PORT: the mirror stops receiving; the primary commits alone.
cut_off() {
	sql "$2" "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'"
	sql "$2" "SELECT pg_reload_conf()" >/dev/null
	wait_until 20 bash -c "[ -z \"\$(psql -X -At -h 127.0.0.1 -p $1 -U $SEG_OS_USER -d postgres -c \"SELECT 1 FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'\")\" ]"
	sql "$1" "ALTER SYSTEM SET synchronous_standby_names = ''"
	sql "$1" "SELECT pg_reload_conf()" >/dev/null
}
# side_changes PORT TAG: updates, inserts, deletes, a truncate, VACUUM FULL, a dropped and a
# created database, all named by TAG (old or new) where they must differ.
side_changes() {
	sql "$1" "UPDATE w_upd SET v = v || '$2' WHERE id % 3 = $([ "$2" = old ] && echo 0 || echo 1)"
	sql "$1" "INSERT INTO w_ins SELECT g, '$2' FROM generate_series(1, 5000) g"
	sql "$1" "DELETE FROM w_del WHERE id % 4 = $([ "$2" = old ] && echo 0 || echo 1)"
	sql "$1" "TRUNCATE w_trunc_$2"
	sql "$1" "DELETE FROM w_vac WHERE id % 2 = $([ "$2" = old ] && echo 0 || echo 1)"
	sql "$1" "VACUUM FULL w_vac"
	sql "$1" "DROP DATABASE doomed_$2"
	sql "$1" "CREATE DATABASE made_$2"
	psql -X -q -h 127.0.0.1 -p "$1" -U "$SEG_OS_USER" -d "made_$2" -c "CREATE TABLE only_$2 AS SELECT g AS id FROM generate_series(1, 1000) g"
	# A database copied by file from a template both sides changed: replay from the common
	# checkpoint would copy the template's files as the target holds them then.
	[ "$2" = new ] && [ "$WAY" = file-copy ] && sql "$1" "CREATE DATABASE tcopy_new TEMPLATE tmpl_src STRATEGY FILE_COPY"
	psql -X -q -h 127.0.0.1 -p "$1" -U "$SEG_OS_USER" -d tmpl_src -c "UPDATE t SET v = v || '$2' WHERE id % 2 = $([ "$2" = old ] && echo 0 || echo 1)"
}
# both_ways_case CONTENT WAY [CODEC [LOAD]]: a divergence on CONTENT, recovered the WAY (replay
# or blocks) the cost picks: the blocks way's LOAD (by default WAY's) adds repeated updates of few
# pages across checkpoints on the new primary (much WAL, few blocks). WAY file-copy: the replay
# way's divergence, with a database created from a template's files on the new primary, which
# only the blocks way gets right. With CODEC, gprecoverseg --compress CODEC: the copy comes
# compressed from a helper next to the source, and the cost counts the blocks as compressed.
both_ways_case() {
	local content=$1 way=$2 codec=${3:-} load=${4:-$2} p m P M opts=()
	[ -n "$codec" ] && opts=(--compress "$codec")
	WAY=$way
	p=$(acting p "$content") m=$(acting m "$content")
	P=$(seg port "$p") M=$(seg port "$m")
	for db in made_old made_new doomed_old doomed_new tcopy_new tmpl_src; do sql "$P" "DROP DATABASE IF EXISTS $db" 2>/dev/null; done
	for db in doomed_old doomed_new tmpl_src; do sql "$P" "CREATE DATABASE $db"; done
	psql -X -q -h 127.0.0.1 -p "$P" -U "$SEG_OS_USER" -d tmpl_src -c "CREATE TABLE t(id int, v text); INSERT INTO t SELECT g, repeat('t', 100) FROM generate_series(1, 20000) g"
	sql "$P" "DROP TABLE IF EXISTS w_upd, w_ins, w_del, w_trunc_old, w_trunc_new, w_vac, w_hot" 2>/dev/null
	for t in w_upd w_del w_trunc_old w_trunc_new w_vac; do
		sql "$P" "CREATE TABLE $t(id int PRIMARY KEY, v text); INSERT INTO $t SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g"
	done
	sql "$P" "CREATE TABLE w_ins(id int, v text)"
	sql "$P" "CREATE TABLE w_hot(id int, n int) WITH (fillfactor = 50); INSERT INTO w_hot SELECT g, 0 FROM generate_series(1, 20000) g"
	sql "$P" "CHECKPOINT"
	wait_until 30 replayed "$P"
	cut_off "$P" "$M"
	side_changes "$P" old
	stop_instance "$p" fast
	sql "$M" "ALTER SYSTEM RESET primary_conninfo" 2>/dev/null
	check "content $content fails over ($way case)" "${FTS[@]}"
	side_changes "$M" new
	if [ "$load" = blocks ]; then
		for i in $(seq 1 12); do sql "$M" "UPDATE w_hot SET n = n + 1"; sql "$M" "CHECKPOINT"; done
	fi
	# Confirmed at the prompt (no -a), so that the plan carries the estimate.
	check "gprecoverseg ${opts[*]} recovers it ($way case), the plan confirmed at the prompt" sh -c 'echo y | gprecoverseg "$@"' sh "${opts[@]}"
	grep -E "the source sent|read ahead|are not copied|replaying the source's WAL since|replays [0-9.]+ [kMG]B of the source's WAL|need to copy|recovered with the incremental|the plan's estimate was" <<<"$LAST_OUT" | sed 's/^.*\]:-/# /'
	output_has "what moved is set beside the plan's estimate ($way)" "dbid $p: moved [0-9.]+ [kMG]B; the plan's estimate was [0-9.]+ [kMG]B"
	# The estimate is worth showing only if it is near: within 30 % of what moved.
	near=$(grep -oE "dbid $p: moved [0-9.]+ [kMG]B; the plan's estimate was [0-9.]+ [kMG]B" <<<"$LAST_OUT" |
		awk '{ gsub(/;/, ""); u["kB"] = 1; u["MB"] = 1024; u["GB"] = 1048576; m = $4 * u[$5]; e = $10 * u[$11]
			print (m > 0 && e / m >= 0.7 && e / m <= 1.3) ? "yes" : "no: " $0 }')
	is_eq "the plan's estimate is within 30 % of what moved ($way)" "yes" "$near"
	if [ "$way" = file-copy ]; then
		output_has "a database copied from its template's files rules the replay way out" "dbid $p: the source's WAL creates a database from its template's files at [0-9A-F]+/[0-9A-F]+, which replay from the common checkpoint would copy as the target holds them: the [0-9]+ blocks .* are copied instead"
		output_has "replay starts at the backup's start ($way)" "replay starts at the backup's start"
	elif [ "$way" = blocks ]; then
		output_has "the plan tells the way and what it moves ($way)" "Method \(estimate\) += copy the [0-9]+ blocks changed on either side; replay from the copy's start"
		output_has "the log gives both costs and takes the blocks" "replaying the source's WAL since the last common checkpoint means [0-9.]+ [kMG]B; the source changed [0-9]+ blocks \([0-9.]+ [kMG]B\) since the divergence .*: copying them is cheaper"
		helper_peak=$(grep -oE "helper's peak memory [0-9.]+ [kMG]B" <<<"$LAST_OUT" | awk '{ print ($5 == "kB" || ($5 == "MB" && $4 <= 64)) ? "yes" : "no: " $0 }')
		is_eq "the helper next to the source stays under 64 MB, and says so" "yes" "$helper_peak"
		output_has "replay starts at the backup's start" "replay starts at the backup's start [0-9A-F]+/[0-9A-F]+ \(checkpoint [0-9A-F]+/[0-9A-F]+, timeline [0-9]+\) and is consistent at its end"
		if [ -e "$(seg datadir "$p")/backup_label.old" ] && grep -q "^LABEL: segrecover incremental dbid $p" "$(seg datadir "$p")/backup_label.old"; then
			ok "the mirror started from the bracket's own backup_label"
		else
			not_ok "the mirror started from the bracket's own backup_label" "$(cat "$(seg datadir "$p")/backup_label.old" 2>&1)"
		fi
	else
		output_has "the plan tells the way and the WAL to replay ($way)" "WAL to replay after the copy \(estimate\) += [0-9.]+ [kMG]B"
		output_has "the log says replaying is cheaper" "(replaying is cheaper|cheaper than looking for the blocks it changed)"
		output_has "replay starts at the common checkpoint" "replay starts at the common checkpoint"
		[ -z "$codec" ] && output_has "the source's kernel reads the copy's ranges ahead" "dbid $p: read ahead on the source: [1-9][0-9]* ranges \([0-9]+ MB\)"
		output_has "the target's blocks that replay restores whole are not copied" "dbid $p: [1-9][0-9]* of the target's [0-9]+ changed blocks \([0-9.]+ [kMG]B\) are not copied: replay from the common checkpoint restores each from a full-page image"
	fi
	if [ -n "$codec" ]; then
		output_has "the cost counts the blocks compressed ($way, $codec)" "with the target's blocks \(compressed by $codec to about [0-9]+ %, from a sample of [1-9][0-9]* blocks\)"
		# Rows of repeat('x', 100): far smaller than the blocks.
		sent=$(grep -oE "dbid $p: the source sent [0-9]+ ranges, [0-9]+ MB compressed by $codec to [0-9]+ MB \([0-9]+ %\)" <<<"$LAST_OUT" | grep -oE "\([0-9]+ %\)" | tr -d '(%) ')
		if [ -n "$sent" ] && [ "$sent" -lt 50 ]; then
			ok "the copy came compressed by $codec, to $sent % ($way)"
		else
			not_ok "the copy came compressed by $codec, to under 50 % ($way)" "$(grep -E "the source sent" <<<"$LAST_OUT")"
		fi
		if grep -q "read ahead on the source" <<<"$LAST_OUT"; then
			not_ok "no libpq copy beside the helper's ($way, $codec)" "$(grep "read ahead" <<<"$LAST_OUT")"
		else
			ok "no libpq copy beside the helper's ($way, $codec)"
		fi
	fi
	is_eq "in sync ($way)" "m u s" "$(seg_state "$p")"
	wait_until 60 replayed "$M"
	is_eq "every table of every database, row by row, as on the new primary ($way)" "$(digest "$M")" "$(digest "$P")"
	# doomed_old was dropped only on the old primary, made_old made only there: both undone.
	is_eq "databases: as the new primary made and dropped them ($way)" "doomed_old,made_new" "$(sql "$P" "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname ~ '^(made|doomed)_'")"
}
both_ways_case 0 replay
both_ways_case 0 blocks
both_ways_case 0 file-copy
both_ways_case 0 blocks lz4
# The replay case's divergence: compressed, its blocks weigh less than the WAL replay would read.
both_ways_case 0 blocks zstd replay

# --- the target recycled the WAL of the last common checkpoint -------------------------------
# The last common checkpoint, two segments of common WAL, then the mirror is cut off; the old
# primary, with no slot and wal_keep_size = 0, checkpoints: its pg_wal keeps only the segment of
# the divergence. The common history is read from the source instead.
p=$(acting p 0) m=$(acting m 0)
P=$(seg port "$p") M=$(seg port "$m")
sql "$P" "CHECKPOINT"
C0FILE=$(sql "$P" "SELECT pg_walfile_name(checkpoint_lsn) FROM pg_control_checkpoint()")
for i in 1 2; do sql "$P" "INSERT INTO kept SELECT g, 'common' FROM generate_series(1, 2000) g"; sql "$P" "SELECT pg_switch_wal()" >/dev/null; done
wait_until 30 replayed "$P"
cut_off "$P" "$M"
sql "$P" "SELECT pg_drop_replication_slot('internal_wal_replication_slot')" >/dev/null
sql "$P" "ALTER SYSTEM SET wal_keep_size = 0"
sql "$P" "SELECT pg_reload_conf()" >/dev/null
sql "$P" "INSERT INTO kept SELECT g, 'diverged, recycled' FROM generate_series(400001, 401000) g"
sql "$P" "CHECKPOINT"
if [ ! -e "$(seg datadir "$p")/pg_wal/$C0FILE" ]; then ok "the old primary no longer has $C0FILE, the last common checkpoint's segment"; else not_ok "the old primary no longer has $C0FILE" "$(ls "$(seg datadir "$p")/pg_wal")"; fi
stop_instance "$p" fast
sql "$M" "ALTER SYSTEM RESET primary_conninfo" 2>/dev/null
check "content 0 fails over (recycled case)" "${FTS[@]}"
sql "$M" "INSERT INTO kept SELECT g, 'new primary, recycled' FROM generate_series(500001, 520000) g"
# Neither side has it: the source's copy of that segment taken away too (it is old history there).
SRCWAL="$(seg datadir "$m")/pg_wal"
as_admin mv "$SRCWAL/$C0FILE" "$SRCWAL/$C0FILE.away"
check_fails "without the common history on either side it fails" 1 "step: incremental" gprecoverseg -a
output_has "and says why, and what to run" "no longer holds the last common checkpoint .*Neither instance has the WAL an incremental recovery must read: use gprecoverseg --differential .* or gprecoverseg -F"
is_eq "the failed instance stays down, untouched" "m d n" "$(seg_state "$p")"
as_admin mv "$SRCWAL/$C0FILE.away" "$SRCWAL/$C0FILE"
check "with the source's copy, gprecoverseg -a recovers it, without --fallback" gprecoverseg -a
output_lacks "no fallback" "falling back"
output_has "it read the common history from the source" "no longer holds the last common checkpoint .*read that common history from the source's WAL instead"
is_eq "in sync (recycled)" "m u s" "$(seg_state "$p")"
wait_until 60 replayed "$M"
is_eq "every table, row by row, as on the new primary (recycled)" "$(digest "$M")" "$(digest "$P")"
is_eq "the recycled side's own rows are gone" "0" "$(sql "$P" "SELECT count(*) FROM kept WHERE pad = 'diverged, recycled'")"
t_done
