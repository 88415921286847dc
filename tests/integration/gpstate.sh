#!/usr/bin/env bash
# tests/integration/gpstate.sh: gpstate's views and exit codes on a real demo cluster: healthy, a
# stopped mirror the catalog still calls up, a mirror marked down, roles switched, a hung
# instance, a gprecoverseg in progress, and the errors (no coordinator, bad catalog, bad usage).
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib/testlib.sh
. "$(dirname "$0")/lib/testlib.sh"

LOGS=$WORK/logs
mkdir_admin "$LOGS"
SLEEPER=
STOPPED_PID=

cleanup_gpstate() {
	[ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
	[ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null
	t_cleanup
}
trap cleanup_gpstate EXIT

# every_line_is_gplog DESCRIPTION: each line of the last output has the gplog prefix.
every_line_is_gplog() {
	local bad
	bad=$(grep -vE '^[0-9]{8}:[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{6} gpstate:[^:]+:[^-]+-\[(INFO|WARNING|ERROR|DEBUG)\]:-' <<<"$LAST_OUT")
	if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "lines without the gplog prefix:" "$(head -5 <<<"$bad")"; fi
}

# count_lines DESCRIPTION N PATTERN: the last output has exactly N lines matching PATTERN.
count_lines() {
	is_eq "$1" "$2" "$(grep -cE -- "$3" <<<"$LAST_OUT")"
}

cluster_create --contents 2

P0=$(acting p 0)
M0=$(acting m 0)
P1=$(acting p 1)
M1=$(acting m 1)
P0_PORT=$(seg port "$P0")
M0_PORT=$(seg port "$M0")
P1_PORT=$(seg port "$P1")
M1_PORT=$(seg port "$M1")

# ---- a healthy cluster ------------------------------------------------------------------------

check "summary exits 0 on a healthy cluster" gpstate -l "$LOGS"
every_line_is_gplog "summary lines are gplog lines"
output_has "summary title" 'Greenplum instance status summary'
output_has "coordinator is active" 'Coordinator instance +=  *Active'
output_has "no standby configured" 'Coordinator standby +=  *No coordinator standby configured'
output_has "4 segment instances" 'Total segment instance count from metadata +=  *4$'
output_has "2 primaries" 'Total primary segments +=  *2$'
output_has "2 mirrors" 'Total mirror segments +=  *2$'
count_lines "postmaster processes found for primaries and mirrors" 2 'Total number postmaster processes found += 2$'
count_lines "no postmaster process missing" 2 'Total number postmaster processes missing += 0$'
output_has "mirrors acting as mirrors" 'Total number mirror segments acting as mirror segments += 2$'
output_lacks "no warning arrows" '<<<<<<<<'
log_file=$LOGS/gpstate_$(date +%Y%m%d).log
if grep -q 'Starting gpstate with args: -l' "$log_file" 2>/dev/null; then ok "the report is logged to -l DIR"; else not_ok "the report is logged to -l DIR" "no $log_file"; fi

check "-b is the summary" gpstate -b
output_has "-b shows the summary" 'Greenplum instance status summary'

check "-e exits 0 on a healthy cluster" gpstate -e
output_has "-e: all segments running normally" 'All segments are running normally'
output_lacks "-e: no downed segments" 'Downed Segments'
output_lacks "-e: no unsynchronized pairs" 'Unsynchronized Segment Pairs'

check "-m exits 0 on a healthy cluster" gpstate -m
output_has "-m header" 'Mirror +Datadir +Port +Status +Data Status +WAL Sent Location +WAL Flush Location +WAL Replay Location'
count_lines "-m: both mirrors passive and synchronized" 2 "Passive +Synchronized +[0-9A-F]+/[0-9A-F]+ +[0-9A-F]+/[0-9A-F]+ +[0-9A-F]+/[0-9A-F]+ +[0-9]+$"
output_has "-m: mirroring type" '-Type = Group'

check "-s exits 0 on a healthy cluster" gpstate -s
output_has "-s: coordinator section" 'Coordinator Configuration & Status'
output_has "-s: instance report" 'Segment Instance Status Report'
count_lines "-s: four instances up in the configuration" 4 'Configuration reports status as += Up$'
count_lines "-s: primaries' database status up" 2 'Database status += Up$'
count_lines "-s: mirrors' segment status up" 2 'Segment status += Up$'
count_lines "-s: mirrors streaming" 2 'Mirror status += Streaming$'
count_lines "-s: replay locations" 2 'WAL Replay Location += [0-9A-F]+/[0-9A-F]+$'
count_lines "-s: PIDs" 4 'PID += [0-9]+$'

check "-c exits 0 on a healthy cluster" gpstate -c
count_lines "-c: both pairs active and available" 2 'Primary Active, Mirror Available +Synchronized'

check "-f exits 0 without a standby" gpstate -f
output_has "-f: no standby" 'Standby coordinator instance not configured'

check "-Q exits 0 on a healthy cluster" gpstate -Q
output_has "-Q: 4 segments up" '# of up segments, from configuration table += 4$'

check "-d finds the coordinator without the environment" \
	env -u COORDINATOR_DATA_DIRECTORY -u MASTER_DATA_DIRECTORY -u PGHOST -u PGPORT \
	gpstate -d "$COORDINATOR_DATA_DIRECTORY" -e
output_has "-d: report" 'All segments are running normally'

check "-p lists every port" gpstate -p
output_has "-p: the coordinator's port" "Coordinator segment instance +$COORDINATOR_DATA_DIRECTORY +port = $PGPORT"
output_has "-p: a mirror's row" "[^ ]+ +[^ ]*dbfast_mirror1[^ ]* +$M0_PORT\$"
output_lacks "-p reads the catalog alone" 'Gathering data from segments'
check "-i lists every version" gpstate -i
output_has "-i: one version everywhere" "All instances are running the same software version"
output_has "-i: a row with the server's version" "$P0_PORT +15\.[0-9]+"
json_field() { # json_field JSON PATH...: a value of the document, parsed by the server's own jsonb
	local doc=$1
	shift
	catalog "SELECT (\$segrecover\$$doc\$segrecover\$::jsonb) #>> '{$(IFS=,; echo "$*")}'"
}
json=$(gpstate --json 2>/dev/null)
is_eq "--json: stdout is one JSON document (the server parses it)" "object" "$(catalog "SELECT jsonb_typeof(\$segrecover\$$json\$segrecover\$::jsonb)")"
is_eq "--json: every catalog row" "$(catalog "SELECT count(*) FROM gp_segment_configuration")" "$(catalog "SELECT jsonb_array_length((\$segrecover\$$json\$segrecover\$::jsonb)->'instances')")"
is_eq "--json: nothing down on a healthy cluster" "0" "$(json_field "$json" summary instances_down)"
is_eq "--json: a primary's walsender, live" "streaming" "$(catalog "SELECT i->'live'->'replication'->>'state' FROM jsonb_array_elements((\$segrecover\$$json\$segrecover\$::jsonb)->'instances') i WHERE (i->>'dbid')::int = $P0")"
check "--json exits 0 on a healthy cluster" gpstate --json

# ---- a mirror stopped while the catalog still calls it up ---------------------------------------

stop_instance "$M0"
check_fails "-e exits 1 when an up mirror is stopped" 1 'Downed Segments' gpstate -e
output_has "-e: the stopped mirror is listed as up in config but down" \
	"127\.0\.0\.1 +$M0_PORT +Up +Down -- not answering"
output_has "-e: its pair is unsynchronized (no walsender)" \
	"127\.0\.0\.1 +$P0_PORT +Unknown +127\.0\.0\.1 +$M0_PORT"
output_has "-e: says what to do" 'gprecoverseg'
check_fails "summary exits 1 when a postmaster is missing" 1 'processes missing' gpstate
output_has "summary: one mirror process missing" 'Total number postmaster processes missing += 1 +<<<<<<<<'
check_fails "-m exits 1 when an up mirror does not answer" 1 'do not answer' gpstate -m
output_has "-m: the row is a warning" "$M0_PORT +Passive .*<<<<<<<<"

# ---- the mirror marked down in the catalog ------------------------------------------------------

catalog "UPDATE gp_segment_configuration SET status = 'd', mode = 'n' WHERE dbid = $M0;
	 UPDATE gp_segment_configuration SET mode = 'n' WHERE dbid = $P0" >/dev/null
check_fails "-e exits 1 with a failed mirror" 1 'Downed Segments' gpstate -e
every_line_is_gplog "-e lines are gplog lines"
output_has "-e: downed segment" "127\.0\.0\.1 +$M0_PORT +Down +Down in configuration"
output_has "-e: unsynchronized pair" "Unsynchronized Segment Pairs"
output_has "-e: pair row with unknown remaining bytes" \
	"127\.0\.0\.1 +$P0_PORT +Unknown +127\.0\.0\.1 +$M0_PORT"
output_lacks "-e: the healthy pair is not listed" "$P1_PORT +[0-9U]"
output_lacks "-e: not 'running normally'" 'All segments are running normally'
output_lacks "-e: the database is still available" 'DATABASE IS PROBABLY UNAVAILABLE'
check_fails "-m exits 1 with a failed mirror" 1 'have failed' gpstate -m
output_has "-m: Failed" "$M0_PORT +Failed +<<<<<<<<"
output_has "-m: warning" '1 segment\(s\) configured as mirror\(s\) have failed'
output_has "-m: the other mirror is passive" "$M1_PORT +Passive +Synchronized"
check_fails "-c exits 1 with a failed mirror" 1 'Mirror Failed' gpstate -c
output_has "-c: not in sync" 'Primary Active, Mirror Failed +Not In Sync'
check_fails "-s exits 1 with a failed mirror" 1 'Down in configuration' gpstate -s
output_has "-s: warnings banner" 'Warnings have been generated during status processing'
check_fails "summary exits 1 with a failed mirror" 1 'failures' gpstate
output_has "summary: one mirror failure" 'Total mirror segment failures \(at coordinator\) += 1'
check_fails "-Q exits 1 with a failed mirror" 1 'down segments' gpstate -Q
output_has "-Q: one down segment" '# of down segments, from configuration table += 1$'
output_has "-Q: the down segment" "127\.0\.0\.1 +[^ ]*dbfast_mirror1[^ ]* +$M0_PORT"
check_fails "-e -Q exits 1 from the catalog alone" 1 'Down in configuration' gpstate -e -Q
output_lacks "-e -Q does not probe" 'Gathering data from segments'
json=$(gpstate --json 2>/dev/null)
is_eq "--json: the failed mirror counted" "1" "$(json_field "$json" summary instances_down)"
is_eq "--json: the failed mirror's row: status d, not answering" "d false" "$(catalog "SELECT concat_ws(' ', i->>'status', i->'live'->>'accepts_connections') FROM jsonb_array_elements((\$segrecover\$$json\$segrecover\$::jsonb)->'instances') i WHERE (i->>'dbid')::int = $M0")"
check_fails "--json exits 1 when something needs attention" 1 '"instances_down":1' gpstate --json
check_fails "-i exits 1 when a version cannot be retrieved" 1 'unable to retrieve version' gpstate -i

# ---- roles switched (catalog only) ----------------------------------------------------------------

catalog "UPDATE gp_segment_configuration SET role = CASE role WHEN 'p' THEN 'm' ELSE 'p' END
	 WHERE content = 1" >/dev/null
check_fails "-e -Q exits 1 with switched roles" 1 'Roles Switched' gpstate -e -Q
output_has "-e -Q: switched section" 'Segments with Primary and Mirror Roles Switched'
output_has "-e -Q: the switched pair" "127\.0\.0\.1 +$M1_PORT +127\.0\.0\.1 +$P1_PORT$"
check_fails "-e: the servers contradict the catalog" 1 'server role differs' gpstate -e
output_has "-e: the old primary still runs as primary" "$P1_PORT +Mirror +Primary \(not in recovery\)"
output_has "-e: the old mirror still runs in recovery" "$M1_PORT +Primary +Mirror \(in recovery\)"
check_fails "-m -Q: the failed mirror still makes it exit 1" 1 'acting as primaries' gpstate -m -Q
output_has "-m: acting as primary" "$M1_PORT +Acting as Primary +Synchronized"
output_has "-m: warning" '1 segment\(s\) configured as mirror\(s\) are acting as primaries'
check_fails "-c: mirror active" 1 'Mirror Active, Primary Available' gpstate -c
catalog "UPDATE gp_segment_configuration SET role = preferred_role WHERE content = 1" >/dev/null

# ---- a hung instance does not hang gpstate ----------------------------------------------------------

STOPPED_PID=$(head -n 1 "$(seg datadir "$M1")/postmaster.pid")
kill -STOP "$STOPPED_PID"
start=$(date +%s)
check_fails "-e with a hung mirror exits 1" 1 'Downed Segments' gpstate -e -t 2
elapsed=$(($(date +%s) - start))
kill -CONT "$STOPPED_PID"
STOPPED_PID=
if [ "$elapsed" -le 10 ]; then ok "the timeout bounds the probe (${elapsed}s)"; else not_ok "the timeout bounds the probe" "took ${elapsed}s with -t 2"; fi
output_has "-e: the hung mirror is listed" "$M1_PORT +Up +Process running, not accepting connections"

# ---- a gprecoverseg in progress -----------------------------------------------------------------------

LOCK=$COORDINATOR_DATA_DIRECTORY/gprecoverseg.lock
sleep 120 &
SLEEPER=$!
as_admin mkdir "$LOCK"
# shellcheck disable=SC2016 # the inner shell expands its own arguments
as_admin sh -c 'echo "$1" > "$2/PID"' sh "$SLEEPER" "$LOCK"
GPLOGS=$WORK/gplogs
mkdir_admin "$GPLOGS"
# shellcheck disable=SC2016
as_admin sh -c 'printf "%s\n" "$@" > "$0"' "$GPLOGS/recovery_progress.file" \
	"full:$M0:1164848/1371715 kB (84%), 1/2 tablespaces (...)" \
	"incremental:$M1:waiting for checkpoint"
check_fails "-e without -l: no recovery section (the file is in another log directory)" 1 'Downed Segments' gpstate -e
output_lacks "  the file is read in gpstate's own log directory" 'Segments in recovery'
check_fails "-e exits 1 while a segment is recovered" 1 'Segments in recovery' gpstate -e -l "$GPLOGS"
output_has "-e: recovery header" 'Segment +Port +Recovery type +Completed bytes \(kB\) +Total bytes \(kB\) +Percentage completed'
output_has "-e: recovery row" "127\.0\.0\.1 +$M0_PORT +full +1164848 +1371715 +84%$"
output_lacks "-e: lines without kB progress are not shown" 'incremental'
kill "$SLEEPER"
wait "$SLEEPER" 2>/dev/null
SLEEPER=
check_fails "-e: no recovery section once the lock holder is gone" 1 'Downed Segments' gpstate -e -l "$GPLOGS"
output_lacks "-e: stale lock ignored" 'Segments in recovery'
as_admin rm -rf "$LOCK"

# ---- memory (valgrind, when installed) ------------------------------------------------------------------

if command -v valgrind >/dev/null 2>&1; then
	for view in -s -e -m; do
		out=$(as_admin env COORDINATOR_DATA_DIRECTORY="$COORDINATOR_DATA_DIRECTORY" \
			valgrind -q --leak-check=full --error-exitcode=99 "$BIN/gpstate" "$view" -l "$LOGS" 2>&1)
		rc=$?
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then ok "valgrind: gpstate $view clean"; else not_ok "valgrind: gpstate $view clean" "exit $rc" "$(grep '==' <<<"$out" | head -20)"; fi
	done
fi

# ---- errors ------------------------------------------------------------------------------------------------

check_fails "no coordinator: exit 2 naming what to set" 2 'COORDINATOR_DATA_DIRECTORY' \
	env -u COORDINATOR_DATA_DIRECTORY -u MASTER_DATA_DIRECTORY -u PGHOST -u PGPORT gpstate
check_fails "-d on a directory that is no data directory: exit 2" 2 'not a PostgreSQL data directory' \
	gpstate -d "$WORK" -e
catalog "UPDATE gp_segment_configuration SET role = 'p' WHERE dbid = $M1" >/dev/null
check_fails "two primaries for a content: exit 2 naming the content" 2 "content 1 has 2 instances with role 'p'" gpstate -e
catalog "UPDATE gp_segment_configuration SET role = 'm' WHERE dbid = $M1" >/dev/null
check_fails "unknown option: exit 2" 2 'unknown option -z' gpstate -z
check_fails "unknown long option: exit 2" 2 'unknown option --nope' gpstate --nope
check_fails "bad timeout: exit 2" 2 'invalid value' gpstate -t 0
check_fails "bad --timeout: exit 2" 2 'invalid value' gpstate --timeout abc
check_fails "two views: exit 2" 2 'Too many output options' gpstate -e -m
check_fails "two views with --json: exit 2" 2 'Too many output options' gpstate -p --json
check_fails "an argument: exit 2" 2 'too many arguments' gpstate status
check "--help" gpstate --help
output_has "--help lists -e" '-e +instances with problems'
check "-?" gpstate '-?'
check "--version" gpstate --version
output_has "--version text" '^gpstate \(segrecover\) [0-9]'

t_done
