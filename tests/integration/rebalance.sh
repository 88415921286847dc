#!/usr/bin/env bash
# gprecoverseg -r on a real demo cluster: the full cycle (kill a primary, probe, recover, rebalance)
# twice on the same pair under a client that keeps committing, with no committed row lost; the
# confirmation prompt; a pair that cannot be rebalanced yet; the replay-lag guard.
. "$(dirname "$0")/lib/testlib.sh"

cluster_create --contents 3
FTS=(gpfts --once --retries 2 --retry-delay 300)

# preferred DBID: "role preferred_role status mode" of an instance.
roles_of() {
	catalog "SELECT concat_ws(' ', role, preferred_role, status, mode) FROM gp_segment_configuration WHERE dbid = $1"
}
# catalog_digest: the whole segment table, to prove that nothing changed.
catalog_digest() {
	catalog "SELECT string_agg(concat_ws(':', dbid, role, preferred_role, status, mode), ',' ORDER BY dbid) FROM gp_segment_configuration"
}
# fail_over CONTENT: crash the acting primary and let the probe promote its mirror.
fail_over() {
	stop_instance "$(acting p "$1")"
	"${FTS[@]}" >/dev/null 2>&1
}
# replayed_all PRIMARY-PORT MIRROR-PORT: the mirror has replayed everything the primary wrote.
replayed_all() {
	local lsn
	lsn=$(sql "$1" "SELECT pg_current_wal_lsn()") || return 1
	[ "$(sql "$2" "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ]
}

# --- nothing to do ------------------------------------------------------------------------------
check "a balanced cluster: gprecoverseg -r -a exits 0" gprecoverseg -r -a
output_has "and says there is nothing to rebalance" "No segments are running in their non-preferred role and need to be rebalanced"
check_fails "-r with -F is refused" 2 "-r" gprecoverseg -r -F -a
check_fails "--replay-lag without -r is refused" 2 "--replay-lag should be used only with -r" gprecoverseg --replay-lag 1 -a
check_fails "--replay-lag 0 is refused" 2 "greater than 0" gprecoverseg -r --replay-lag 0 -a

# --- the full cycle, twice, under a committing client ------------------------------------------
p0=$(acting p 0) m0=$(acting m 0)
sql "$(seg port "$p0")" "CREATE TABLE committed(id int PRIMARY KEY, at timestamptz DEFAULT now())"
STOP=$WORK/client.stop COMMITTED=$WORK/client.committed FAILED=$WORK/client.failed
: >"$COMMITTED"
: >"$FAILED"
# The client looks up content 0's acting primary in the catalog whenever a write fails, and
# records an id only once its INSERT has been acknowledged.
(
	port=$(seg port "$(acting p 0)")
	id=0
	while [ ! -e "$STOP" ]; do
		id=$((id + 1))
		if psql -X -q -At -h 127.0.0.1 -p "$port" -U "$SEG_OS_USER" -d postgres \
			-c "INSERT INTO committed(id) VALUES ($id)" >/dev/null 2>&1; then
			echo "$id" >>"$COMMITTED"
		else
			echo "$id" >>"$FAILED"
			sleep 0.1
			port=$(seg port "$(acting p 0)" 2>/dev/null || echo "$port")
		fi
	done
) &
CLIENT=$!
wait_until 20 test -s "$COMMITTED" || not_ok "the client commits rows"

for cycle in 1 2; do
	before=$(wc -l <"$COMMITTED")
	fail_over 0
	is_eq "cycle $cycle: the mirror was promoted" "p m u n" "$(roles_of "$m0")"
	check "cycle $cycle: gprecoverseg -a recovers the failed primary as a mirror" gprecoverseg -a
	output_has "cycle $cycle: the banner suggests -r, for the pair left unbalanced" "1 segment pair\(s\) are not in their preferred roles: run 'gprecoverseg -r'"
	output_has "cycle $cycle: the banner names the log file" "The log of this run is .*/gprecoverseg_[0-9]{8}\.log"
	is_eq "cycle $cycle: recovered into the mirror role" "m p u s" "$(roles_of "$p0")"
	check_fails "cycle $cycle: gpstate -e reports the switched roles" 1 "Segments with Primary and Mirror Roles Switched" gpstate -e
	if [ "$cycle" = 2 ]; then
		# A long-lived instance may lack old timeline history files (a mirror made by a base
		# copy streams only the newest, which lists every ancestor); the rebalance's
		# recovery from it must not need them.
		as_admin rm -f "$(seg datadir "$p0")/pg_wal/00000002.history"
	fi
	check "cycle $cycle: gprecoverseg -r -a rebalances" gprecoverseg -r -a
	output_has "cycle $cycle: the warning says the stopped primary's sessions are cut off" "Sessions connected directly to the primaries that are stopped are cut off"
	output_lacks "cycle $cycle: and never that connections survive" "however will not be interrupted"
	output_has "cycle $cycle: the pair is shown with its current and balanced roles" "$m0 +.* Primary +Mirror"
	output_has "cycle $cycle: the old primary is stopped and its WAL end reported" "primary dbid $m0 .* stopped; its WAL ends at [0-9A-F]+/[0-9A-F]+"
	output_has "cycle $cycle: the preferred primary received all WAL before promotion" "mirror dbid $p0 .* has received all WAL"
	output_has "cycle $cycle: summary" "^.*0 +$p0 +$m0 +preferred roles, in sync"
	output_has "cycle $cycle: success message" "The rebalance operation has completed successfully"
	is_eq "cycle $cycle: preferred primary back in the primary role" "p p u s" "$(roles_of "$p0")"
	is_eq "cycle $cycle: preferred mirror back in the mirror role" "m m u s" "$(roles_of "$m0")"
	check "cycle $cycle: gpstate -e exits 0 afterwards" gpstate -e
	wait_until 20 test "$(wc -l <"$COMMITTED")" -gt $((before + 5)) &&
		ok "cycle $cycle: the client commits on the rebalanced primary" ||
		not_ok "cycle $cycle: the client commits on the rebalanced primary" "committed before: $before, now: $(wc -l <"$COMMITTED")"
	is_eq "cycle $cycle: the switchover is in the configuration history" "t" \
		"$(catalog "SELECT count(*) >= 2 * $cycle FROM gp_configuration_history WHERE dbid IN ($p0, $m0) AND \"desc\" LIKE 'gprecoverseg -r:%'")"
done
touch "$STOP"
wait "$CLIENT"
P0=$(seg port "$p0") M0=$(seg port "$m0")
n_committed=$(wc -l <"$COMMITTED")
echo "# client: $n_committed commits acknowledged, $(wc -l <"$FAILED") refused during the two cycles"
# comm wants both lists in the same byte order: a numeric order breaks it once the ids grow a digit.
LC_ALL=C sort -u "$COMMITTED" >"$WORK/expected"
sql "$P0" "SELECT id FROM committed" | LC_ALL=C sort >"$WORK/primary.ids"
missing=$(LC_ALL=C comm -23 "$WORK/expected" "$WORK/primary.ids" | wc -l)
is_eq "every acknowledged commit is on the primary (none lost in two cycles)" "0" "$missing"
if wait_until 30 replayed_all "$P0" "$M0"; then ok "the mirror replayed everything"; else not_ok "the mirror replayed everything"; fi
sql "$M0" "SELECT id FROM committed" | LC_ALL=C sort >"$WORK/mirror.ids"
is_eq "the mirror holds exactly the primary's rows" "$(md5sum <"$WORK/primary.ids")" "$(md5sum <"$WORK/mirror.ids")"

# --- a mirror recovered in a balanced cluster: no rebalance is suggested ---------------------
m1=$(acting m 1)
stop_instance "$m1" fast
"${FTS[@]}" >/dev/null 2>&1
check "a mirror recovered in a balanced cluster" gprecoverseg -a
output_lacks "the banner does not suggest -r" "gprecoverseg -r"

# --- declining the prompt changes nothing ----------------------------------------------------
fail_over 0
gprecoverseg -a >/dev/null 2>&1
digest=$(catalog_digest)
check_fails "answering n at the prompt aborts (exit 4)" 4 "" bash -c "echo n | gprecoverseg -r"
output_has "the question was asked" "Continue with segment rebalance procedure"
is_eq "the catalog is unchanged" "$digest" "$(catalog_digest)"
is_eq "the primary still serves" "1" "$(sql "$(seg port "$m0")" "SELECT 1")"

# --- the replay-lag guard: a mirror that has not replayed enough WAL stops the whole rebalance ----
P=$(seg port "$m0") M=$(seg port "$p0") # acting primary and mirror of content 0 now
sql "$M" "SELECT pg_wal_replay_pause()" >/dev/null
sql "$P" "CREATE TABLE lagging AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 100000) g"
check_fails "replay lag over --replay-lag: exit 1" 1 "bytes of wal is still to be replayed" gprecoverseg -r -a --replay-lag 0.001
output_has "and nothing was changed" "Nothing was changed"
is_eq "the catalog is unchanged by the refused rebalance" "$digest" "$(catalog_digest)"
is_eq "the acting primary was not stopped" "1" "$(sql "$P" "SELECT 1")"
check "--disable-replay-lag lets it through" gprecoverseg -r -a --disable-replay-lag
is_eq "content 0 balanced" "p p u s" "$(roles_of "$p0")"
is_eq "rows written while replay was paused are on the new primary" "100000" "$(sql "$M" "SELECT count(*) FROM lagging")"

# --- a pair that cannot be rebalanced yet is named, the others are rebalanced, exit 1 -------------
p1=$(acting p 1) m1=$(acting m 1) p2=$(acting p 2) m2=$(acting m 2)
fail_over 1 # its old primary stays down: nothing to switch over to
fail_over 2
printf '%s|%s|%s\n' "$(seg address "$p2")" "$(seg port "$p2")" "$(seg datadir "$p2")" >"$WORK/recover2"
check "content 2 recovered" gprecoverseg -a -i "$WORK/recover2"
is_eq "content 1 still has its old primary down" "m p d n" "$(roles_of "$p1")"
check_fails "-r with a pair whose mirror is down: exit 1" 1 "Not rebalancing primary segment dbid $m1" gprecoverseg -r -a
output_has "the other pair is rebalanced" "^.*2 +$p2 +$m2 +preferred roles, in sync"
is_eq "content 2 balanced" "p p u s" "$(roles_of "$p2")"
is_eq "content 1 left as it was" "p m u n" "$(roles_of "$m1")"
check "content 1 recovered" gprecoverseg -a
check "and then rebalanced" gprecoverseg -r -a
is_eq "content 1 balanced" "p p u s" "$(roles_of "$p1")"
check "gpstate -e: all segments normal" gpstate -e

# --- two pairs, one at a time (-B 1) -------------------------------------------------------------
fail_over 1
fail_over 2
check "contents 1 and 2 recovered in one run" gprecoverseg -a
check "gprecoverseg -r -a -B 1 rebalances both" gprecoverseg -r -a -B 1
output_has "one at a time" "2 pair\(s\) to rebalance, at most 1 at once"
is_eq "the primaries were stopped in two batches" "2" "$(grep -c 'Stopping unbalanced primary segments' <<<"$LAST_OUT")"
is_eq "content 1 balanced" "p p u s" "$(roles_of "$p1")"
is_eq "content 2 balanced" "p p u s" "$(roles_of "$p2")"
check "gpstate -e: all segments normal again" gpstate -e
check "nothing left to rebalance" gprecoverseg -r -a
output_has "says so" "No segments are running in their non-preferred role"
t_done
