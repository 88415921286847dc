# tests/integration/lib/testlib.sh: what every integration test sources. Each test runs on its own demo
# cluster (real PostgreSQL 15 servers) in $SEGRECOVER_TEST_WORK on ports from
# $SEGRECOVER_TEST_PORT_BASE, prints TAP-style "ok N - ..." / "not ok N - ..." lines, and
# destroys its cluster on exit.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/common.sh
. "$REPO/scripts/lib/common.sh"
BIN=$REPO/build/bin
WORK=${SEGRECOVER_TEST_WORK:-$(mktemp -d /tmp/segrecover-it.XXXXXX)}
PORT_BASE=${SEGRECOVER_TEST_PORT_BASE:-7500}
CLUSTER=$WORK/c
mkdir_admin "$WORK"
chmod 755 "$WORK"
T_N=0
T_FAILED=0
export PATH="$BIN:$PATH"

t_cleanup() {
	if [ -f "$CLUSTER/demo-cluster.conf" ]; then
		"$REPO/scripts/demo-cluster" destroy --dir "$CLUSTER" >/dev/null 2>&1 ||
			echo "# cluster $CLUSTER could not be destroyed"
	fi
}
trap t_cleanup EXIT

ok() { # ok DESCRIPTION
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

not_ok() { # not_ok DESCRIPTION [DETAIL...]
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
	shift
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# check DESCRIPTION COMMAND...: the command must succeed; its output is kept for failures.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then ok "$desc"; else not_ok "$desc" "exit $rc: $*" "$(tail -n 25 <<<"$out")"; fi
	LAST_OUT=$out
	LAST_RC=$rc
	return $rc
}

# check_fails DESCRIPTION EXPECTED-EXIT PATTERN COMMAND...: exits with that code, output matches PATTERN.
check_fails() {
	local desc=$1 code=$2 pattern=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	LAST_OUT=$out
	LAST_RC=$rc
	if [ "$rc" -ne "$code" ]; then
		not_ok "$desc" "expected exit $code, got $rc: $*" "$(tail -n 25 <<<"$out")"
		return 1
	fi
	if ! grep -qE -- "$pattern" <<<"$out"; then
		not_ok "$desc" "output does not match /$pattern/" "$(tail -n 25 <<<"$out")"
		return 1
	fi
	ok "$desc"
}

# is_eq DESCRIPTION EXPECTED ACTUAL
is_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}

# output_has DESCRIPTION PATTERN: the last check's output matches PATTERN (extended regex).
output_has() {
	if grep -qE -- "$2" <<<"$LAST_OUT"; then ok "$1"; else not_ok "$1" "no /$2/ in:" "$(tail -n 40 <<<"$LAST_OUT")"; fi
}

output_lacks() {
	if grep -qE -- "$2" <<<"$LAST_OUT"; then not_ok "$1" "unexpected /$2/ in:" "$(grep -E -- "$2" <<<"$LAST_OUT" | head -5)"; else ok "$1"; fi
}

t_done() {
	echo "# $T_N tests, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# cluster_create [demo-cluster options...]: a fresh cluster; exports its environment.
cluster_create() {
	"$REPO/scripts/demo-cluster" create --dir "$CLUSTER" --port-base "$PORT_BASE" "$@" ||
		{ not_ok "demo cluster created" "scripts/demo-cluster create failed"; exit 1; }
	eval "$("$REPO/scripts/demo-cluster" env --dir "$CLUSTER")"
	export PATH="$BIN:$PATH"
}

# sql PORT SQL...: run SQL on an instance (127.0.0.1:PORT), unaligned tuples only.
sql() {
	local port=$1
	shift
	psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$SEG_OS_USER" -d postgres -c "$*"
}

# catalog SQL: query the coordinator's catalog.
catalog() {
	sql "$PGPORT" "$*"
}

# seg FIELD DBID: a column of one gp_segment_configuration row.
seg() {
	catalog "SELECT $1 FROM gp_segment_configuration WHERE dbid = $2"
}

# seg_state DBID: "role status mode" of one instance, e.g. "m d n".
seg_state() {
	catalog "SELECT concat_ws(' ', role, status, mode) FROM gp_segment_configuration WHERE dbid = $1"
}

# acting ROLE CONTENT: the dbid that currently has ROLE (p/m) for CONTENT.
acting() {
	catalog "SELECT dbid FROM gp_segment_configuration WHERE content = $2 AND role = '$1'"
}

pg_ctl_admin() {
	as_admin "$PGBIN/pg_ctl" "$@"
}

# stop_instance DBID [MODE]: stop an instance (default immediate, as a crash would).
stop_instance() {
	pg_ctl_admin -D "$(seg datadir "$1")" stop -m "${2:-immediate}" -w >/dev/null
}

# bounded_wait PID SECONDS: wait for a background gprecoverseg; past the limit it and every agent
# of this cluster are killed (a test never hangs), and the exit status is 124.
bounded_wait() {
	local pid=$1 limit=$2 i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge $((limit * 5)) ]; then
			pkill -9 -f "gpsegrecovery .*$CLUSTER" 2>/dev/null
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.2
	done
	wait "$pid"
}

# wait_until SECONDS COMMAND...: poll until the command succeeds.
wait_until() {
	local limit=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $((limit * 5)) ] && return 1
		sleep 0.2
	done
}
