#!/usr/bin/env bash
# Differential recovery (--differential, D| lines) on a real demo cluster: a stale mirror with
# damaged and extra files, a diverged old primary through -i, a file dropped on the source while
# the copy runs, a copy killed half-way and run again, --fallback, and the option rules.
. "$(dirname "$0")/lib/testlib.sh"

cluster_create --contents 2
FTS=(gpfts --once --retries 2 --retry-delay 300)
INJ=$WORK/inject.pid
TABLES="big small dropme"
# digest PORT: every table's rows in order, hashed (what "every committed row" means here).
digest() {
	local t
	for t in $TABLES later; do
		sql "$1" "SELECT '$t:' || coalesce((SELECT count(*) || ':' || md5(string_agg(id || pad, ',' ORDER BY id)) FROM $t), 'absent')" 2>/dev/null || echo "$t:absent"
	done
}
# paused_run POINT OUT: gprecoverseg --differential in the background, its agent set to pause at
# POINT; sets RUN to its PID and returns once the agent pauses (1 if it never does).
paused_run() {
	rm -f "$INJ"
	env SEGRECOVER_INJECT_PAUSE="$1@$m0" SEGRECOVER_INJECT_FILE="$INJ" gprecoverseg --differential -a -s >"$2" 2>&1 &
	RUN=$!
	wait_until 60 test -s "$INJ"
}
paused_agent() { cut -d' ' -f1 "$INJ"; }
sent_mb() { grep -oE "dbid $1: compared [0-9]+ MB, received [0-9]+ MB" <<<"$LAST_OUT" | awk '{print $7}' | tail -1; }
compared_mb() { grep -oE "dbid $1: compared [0-9]+ MB, received [0-9]+ MB" <<<"$LAST_OUT" | awk '{print $4}' | tail -1; }

p0=$(acting p 0) m0=$(acting m 0)
P0=$(seg port "$p0") M0=$(seg port "$m0")
P0_DIR=$(seg datadir "$p0") M0_DIR=$(seg datadir "$m0")
sql "$P0" "CREATE TABLE big(id int, pad text); INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 300000) g"
sql "$P0" "CREATE TABLE small(id int, pad text); INSERT INTO small SELECT g, 's' FROM generate_series(1, 1000) g"
sql "$P0" "CREATE TABLE dropme(id int, pad text); INSERT INTO dropme SELECT g, 'd' FROM generate_series(1, 1000) g"
# --- a stale mirror, damaged while it was down --------------------------------------------------
stop_instance "$m0" fast
check "mirror of content 0 marked down" "${FTS[@]}"
sql "$P0" "UPDATE big SET pad = 'changed' WHERE id % 1000 = 0"
sql "$P0" "INSERT INTO small SELECT g, 'new' FROM generate_series(1001, 2000) g"
sql "$P0" "DROP TABLE dropme"
sql "$P0" "CREATE TABLE later(id int, pad text); INSERT INTO later SELECT g, 'l' FROM generate_series(1, 500) g"
sql "$P0" "CHECKPOINT"
TABLES="big small"
# Bytes flipped inside a page of a relation file, the size and modification time kept: only a
# comparison of contents (rsync -c in Greenplum) finds it.
rel=$(sql "$P0" "SELECT pg_relation_filepath('small')")
as_admin cp -p "$M0_DIR/$rel" "$WORK/small.orig"
as_admin dd if=/dev/urandom of="$M0_DIR/$rel" bs=1 seek=3000 count=64 conv=notrunc status=none
as_admin touch -r "$WORK/small.orig" "$M0_DIR/$rel"
as_admin dd if=/dev/urandom of="$M0_DIR/pg_ident.conf" bs=1 seek=100 count=16 conv=notrunc status=none
as_admin touch -r "$P0_DIR/pg_ident.conf" "$M0_DIR/pg_ident.conf"
as_admin sh -c "echo stray > '$M0_DIR/only_on_target'; echo stray > '$M0_DIR/base/1/999999'"
check "gprecoverseg --differential -a recovers the stale mirror" gprecoverseg --differential -a
output_has "the plan says differential" "Synchronization mode += Differential"
output_has "the summary" "$m0 +.* Differential .* up and in sync"
output_has "the source is held in a backup" "backup of source dbid $p0 .* started at"
is_eq "an up, in-sync mirror" "m u s" "$(seg_state "$m0")"
is_eq "every table's rows, in order, equal the primary's" "$(digest "$P0")" "$(digest "$M0")"
check "the damaged relation reads back without a checksum error" sql "$M0" "SELECT count(*) FROM small WHERE pad IS NOT NULL"
if as_admin cmp -s "$P0_DIR/pg_ident.conf" "$M0_DIR/pg_ident.conf"; then ok "the damaged pg_ident.conf equals the source's"; else not_ok "the damaged pg_ident.conf equals the source's"; fi
if [ ! -e "$M0_DIR/only_on_target" ] && [ ! -e "$M0_DIR/base/1/999999" ]; then ok "files only on the target are gone"; else not_ok "files only on the target are gone"; fi
if [ ! -e "$M0_DIR/segrecover.inprogress" ]; then ok "no in-progress marker left"; else not_ok "no in-progress marker left"; fi
backup_sessions() { sql "$P0" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gprecoverseg_differential'"; }
if wait_until 10 test "$(backup_sessions)" = 0; then ok "no session holds a backup of the source"; else not_ok "no session holds a backup of the source"; fi
sql "$P0" "INSERT INTO small VALUES (-1, 'after')"
if wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $M0 -U $SEG_OS_USER -d postgres -c 'SELECT count(*) FROM small WHERE id = -1')\" = 1 ]"; then ok "it keeps streaming"; else not_ok "it keeps streaming"; fi

# --- a diverged old primary through -i and a D| line ------------------------------------------
p1=$(acting p 1) m1=$(acting m 1)
P1=$(seg port "$p1") M1=$(seg port "$m1")
sql "$P1" "CREATE TABLE big(id int, pad text); INSERT INTO big SELECT g, 'b' FROM generate_series(1, 50000) g"
sql "$P1" "CREATE TABLE small(id int, pad text); INSERT INTO small SELECT g, 's' FROM generate_series(1, 100) g"
sql "$M1" "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1'"
sql "$M1" "SELECT pg_reload_conf()" >/dev/null
wait_until 20 bash -c "[ -z \"\$(psql -X -At -h 127.0.0.1 -p $P1 -U $SEG_OS_USER -d postgres -c \"SELECT 1 FROM pg_stat_replication WHERE application_name = 'gp_walreceiver'\")\" ]"
sql "$P1" "ALTER SYSTEM SET synchronous_standby_names = ''"
sql "$P1" "SELECT pg_reload_conf()" >/dev/null
sql "$P1" "INSERT INTO big SELECT g, 'diverged' FROM generate_series(100001, 120000) g"
stop_instance "$p1"
sql "$M1" "ALTER SYSTEM RESET primary_conninfo" 2>/dev/null
check "content 1 fails over" "${FTS[@]}"
sql "$M1" "INSERT INTO big SELECT g, 'new primary' FROM generate_series(200001, 210000) g"
as_admin sh -c "printf '%s\n' 'D|$(seg address "$p1")|$P1|$(seg datadir "$p1")' > '$WORK/d.conf'"
check "gprecoverseg -i with a D| line recovers the diverged old primary" gprecoverseg -a -i "$WORK/d.conf"
output_has "  differential, from its line" "$p1 +.* Differential .* up and in sync"
is_eq "  the diverged rows are gone" "0" "$(sql "$P1" "SELECT count(*) FROM big WHERE pad = 'diverged'")"
is_eq "  every row of the new primary is there" "$(sql "$M1" "SELECT count(*) || ':' || md5(string_agg(id || pad, ',' ORDER BY id)) FROM big")" "$(sql "$P1" "SELECT count(*) || ':' || md5(string_agg(id || pad, ',' ORDER BY id)) FROM big")"

# --- a file dropped on the source while the copy runs -------------------------------------------
# The agent pauses once the helper has listed the source; the table's files go before it reads them.
stop_instance "$m0" fast
check "mirror of content 0 down again" "${FTS[@]}"
sql "$P0" "CREATE TABLE vanish(id int); INSERT INTO vanish SELECT generate_series(1, 100000)"
sql "$P0" "CHECKPOINT"
if paused_run differential-copy "$WORK/vanish.out"; then
	vrel=$(sql "$P0" "SELECT pg_relation_filepath('vanish')")
	sql "$P0" "DROP TABLE vanish"
	sql "$P0" "CHECKPOINT"
	if [ ! -e "$P0_DIR/$vrel" ]; then ok "  the table's file is gone from the source after the listing"; else not_ok "  the table's file is gone from the source after the listing"; fi
	kill -CONT "$(paused_agent)"
fi
bounded_wait "$RUN" 120
is_eq "the recovery succeeds although a listed file vanished" "0" "$?"
LAST_OUT=$(cat "$WORK/vanish.out")
output_has "  and says so" "[1-9][0-9]* vanished on the source"
# The mirror's pages equal the primary's since the first recovery (hint bits included, which
# the WAL does not always carry): what crosses now is what changed since.
compared=$(compared_mb "$m0") sent=$(sent_mb "$m0")
echo "# differential: compared $compared MB, received $sent MB"
if [ -n "$sent" ] && [ "$sent" -lt $((compared / 10)) ]; then ok "  it moved under a tenth of what it compared ($sent of $compared MB)"; else not_ok "  it moved under a tenth of what it compared" "$sent of $compared MB"; fi
is_eq "  in sync" "m u s" "$(seg_state "$m0")"
is_eq "  the dropped table is gone on the mirror too" "0" "$(sql "$M0" "SELECT count(*) FROM pg_class WHERE relname = 'vanish'")"

# --- killed half-way, then run again ----------------------------------------------------------
stop_instance "$m0"
check "mirror of content 0 down (crashed)" "${FTS[@]}"
sql "$P0" "UPDATE big SET pad = 'second change' WHERE id % 3 = 0"
sql "$P0" "CHECKPOINT"
if paused_run differential-half "$WORK/kill.out"; then
	ok "the copy reached half of its bytes"
	if wait_until 10 bash -c "gpstate -e 2>&1 | grep -q 'Sent bytes (kB)'"; then
		ok "  gpstate -e shows it in recovery, with the bytes compared and the bytes sent"
		LAST_OUT=$(gpstate -e 2>&1) # exit 1: it reports a problem (the mirror is down)
		output_has "  a differential row" "differential +[0-9]+ +[0-9]+ +[0-9]+% +[0-9]+"
	else
		not_ok "  gpstate -e shows it in recovery, with the bytes compared and the bytes sent" "$(gpstate -e 2>&1 | tail -8)"
	fi
	kill -9 "$(paused_agent)"
else
	not_ok "the copy reached half of its bytes" "$(tail -20 "$WORK/kill.out")"
fi
bounded_wait "$RUN" 120
is_eq "gprecoverseg reports the failure (exit 1)" "1" "$?"
LAST_OUT=$(cat "$WORK/kill.out")
output_has "  the advice: run the same command again" "next: .*run 'gprecoverseg --differential' again"
if [ -f "$M0_DIR/standby.signal" ] && [ -f "$M0_DIR/segrecover.inprogress" ]; then ok "  the directory holds standby.signal and the in-progress marker"; else not_ok "  the directory holds standby.signal and the in-progress marker"; fi
if wait_until 10 test "$(backup_sessions)" = 0; then ok "  the killed run's backup of the source ended with its session"; else not_ok "  the killed run's backup of the source ended with its session"; fi
if ! pgrep -f "gpsegrecovery helper --type differential --source-datadir $P0_DIR" >/dev/null; then ok "  no helper keeps running"; else not_ok "  no helper keeps running"; fi
check_fails "  incremental recovery refuses the half-copied directory" 1 "did not finish" gprecoverseg -a
output_has "  and names both remedies" "either .gprecoverseg --differential. .* or .gprecoverseg -F."
output_has "  in Greenplum 7's words too" "You must run either gprecoverseg --differential or gprecoverseg -F for all incremental failures"
check "the same differential command run again recovers it" gprecoverseg --differential -a
is_eq "  in sync" "m u s" "$(seg_state "$m0")"
is_eq "  every table's rows, in order" "$(digest "$P0")" "$(digest "$M0")"
if [ ! -e "$M0_DIR/segrecover.inprogress" ]; then ok "  no marker left"; else not_ok "  no marker left"; fi

# --- --fallback goes incremental -> differential -----------------------------------------------
stop_instance "$m0" fast
check "mirror of content 0 down once more" "${FTS[@]}"
as_admin sh -c "echo broken > '$M0_DIR/global/pg_control'"
check "gprecoverseg --fallback repairs what incremental cannot, with a differential copy" gprecoverseg -a --fallback
output_has "  the fallback is announced" "falling back to differential recovery"
output_has "  and shown in the summary" "$m0 +.* Differential \(fallback\) .* up and in sync"
is_eq "  every table's rows" "$(digest "$P0")" "$(digest "$M0")"

# --- the guard: nothing of another instance is touched -------------------------------------------
# By hand, without a catalog, on a running primary's directory: refused before any change.
p1_rows=$(sql "$P1" "SELECT count(*) || ':' || md5(string_agg(id || pad, ',' ORDER BY id)) FROM big")
check_fails "gpsegrecovery --type differential by hand on a running primary's directory is refused" 1 \
	"a postmaster \(PID [0-9]+\) runs in" \
	gpsegrecovery recover --type differential --dbid "$m0" --content 0 --target-datadir "$(seg datadir "$p1")" \
	--target-port "$(seg port "$m0")" --source-dbid "$p0" --source-host 127.0.0.1 --source-port "$P0" \
	--source-datadir "$P0_DIR"
is_eq "  that primary still runs with its rows" "$p1_rows" "$(sql "$P1" "SELECT count(*) || ':' || md5(string_agg(id || pad, ',' ORDER BY id)) FROM big")"
# A tablespace link in the stale mirror that points into the primary's directory: a
# differential copy removes what the source lacks, so the guard must refuse it first.
stop_instance "$m0" fast
check "mirror of content 0 down for the guard" "${FTS[@]}"
as_admin ln -s "$P0_DIR" "$M0_DIR/pg_tblspc/99999"
as_admin touch "$P0_DIR/guard-canary"
check_fails "a tablespace link into the primary's directory is refused" 1 "preflight failed: tablespace 99999 of .* is the data directory of dbid $p0" gprecoverseg --differential -a
if [ -e "$P0_DIR/guard-canary" ] && [ -e "$P0_DIR/PG_VERSION" ]; then ok "  nothing of the primary was removed"; else not_ok "  nothing of the primary was removed"; fi
is_eq "  the primary answers" "1" "$(sql "$P0" "SELECT 1")"
as_admin rm "$M0_DIR/pg_tblspc/99999" "$P0_DIR/guard-canary"
check "  without the link, the same command recovers it" gprecoverseg --differential -a
is_eq "  every table's rows" "$(digest "$P0")" "$(digest "$M0")"

# --- the option rules, as Greenplum words them -------------------------------------------------
check_fails "--differential with -F is refused" 2 "Only one of -F and --differential may be specified" gprecoverseg --differential -F -a
check_fails "--differential with -p is refused" 2 "Only one of -p, -r and --differential may be specified" gprecoverseg --differential -p localhost -a
check_fails "--differential with -r is refused" 2 "Only one of -p, -r and --differential may be specified" gprecoverseg --differential -r -a
check_fails "--differential with -o is refused" 2 "Invalid -o provided with --differential argument" gprecoverseg --differential -o "$WORK/out.conf"
t_done
