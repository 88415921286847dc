# scripts/lib/multihost.sh: the multi-host demo cluster (demo-cluster --hosts N, N >= 2), sourced
# by scripts/demo-cluster. Each host is a Linux network namespace with its own address on a
# private bridge (in a namespace of its own: nothing of the test subnet is reachable from the
# machine or beyond), its own sshd, its own /data (a directory of the cluster bound over /data)
# and /etc/hosts, and its own host name. Every process of a host is started by host_exec, which
# enters those namespaces; sshd's sessions inherit them, so an ssh to a host lands in its view.
#
# Layout: coordinator host cdw (.10), segment hosts sdw1..sdwH (.11..) holding the primaries,
# content c on sdw(c mod H + 1), its mirror on the next host (group mirroring), and a spare host
# sdw(H+1) with nothing on it. Data directories /data/coordinator/gpseg-1, /data/primary/gpseg<c>,
# /data/mirror/gpseg<c>; sockets in /data/sock; ports as on one host (P, P+2+c, P+2+N+c).
# Requires root (network namespaces).

MH_HOSTKEY_DIR=/var/lib/segrecover-demo
MH_HOSTKEY=$MH_HOSTKEY_DIR/ssh_host_ed25519_key

# Names and addresses, from P (port base) and H (segment hosts).
mh_subnet() { echo "10.213.$(((P / 10) % 250 + 2))"; }
mh_ns() { echo "sr$P-$1"; }                # the network namespace of host $1
mh_sw() { echo "sr$P-sw"; }                # the namespace of the bridge
mh_hosts() { # every host: cdw, sdw1..sdwH, and the spare
	local k
	echo cdw
	for ((k = 1; k <= H + 1; k++)); do echo "sdw$k"; done
}
mh_addr() { # HOST -> address
	case $1 in
	cdw) echo "$(mh_subnet).10" ;;
	sdw*) echo "$(mh_subnet).$((10 + ${1#sdw}))" ;;
	*) return 1 ;;
	esac
}
mh_spare() { echo "sdw$((H + 1))"; }
mh_root() { echo "$DIR/hosts/$1/data"; }  # what /data is on host $1, seen from here

# Instances: index = dbid - 1, as on one host.
MH_HOST=() MH_DIR=()
mh_layout() {
	local c ph mh
	build_layout
	MH_HOST=(cdw) MH_DIR=(/data/coordinator/gpseg-1)
	for ((c = 0; c < N; c++)); do
		MH_HOST+=("sdw$((c % H + 1))")
		MH_DIR+=("/data/primary/gpseg$c")
	done
	for ((c = 0; c < N; c++)); do
		ph=$((c % H + 1))
		mh=$((ph % H + 1))
		MH_HOST+=("sdw$mh")
		MH_DIR+=("/data/mirror/gpseg$c")
	done
	for c in "${!MH_DIR[@]}"; do
		I_DIR[$c]=${MH_DIR[$c]}
	done
}

# host_exec HOST USER CMD...: CMD on HOST (its network, /data, /etc/hosts and host name) as USER.
host_exec() {
	local h=$1 u=$2
	shift 2
	ip netns exec "$(mh_ns "$h")" unshare --mount --uts --propagation private /bin/sh -c '
		mount --bind "$1" /data && mount --bind "$2" /etc/hosts && hostname "$3" || exit 125
		u=$4
		shift 4
		cd /
		if [ "$u" = root ]; then exec "$@"; fi
		exec runuser -u "$u" -- "$@"' host_exec "$(mh_root "$h")" "$DIR/hosts.txt" "$h" "$u" "$@"
}

# The environment of a command run on a host of the cluster (demo-cluster run).
mh_env_args() {
	echo "PATH=$REPO_ROOT/build/bin:/usr/local/bin:/usr/bin:/bin"
	echo "COORDINATOR_DATA_DIRECTORY=/data/coordinator/gpseg-1"
	echo "MASTER_DATA_DIRECTORY=/data/coordinator/gpseg-1"
	echo "PGHOST=$(mh_addr cdw)"
	echo "PGPORT=$P"
	echo "PGUSER=$OWNER"
	echo "PGDATABASE=postgres"
	echo "HOME=$(getent passwd "$OWNER" | cut -d: -f6)"
	echo "SEGRECOVER_DEMO_DIR=$DIR"
}

# mh_run HOST CMD...: as the cluster owner, with the tools on PATH and the coordinator's settings.
mh_run() {
	local h=$1
	local -a envs
	shift
	mh_addr "$h" >/dev/null || seg_die "no host '$h' in this cluster (hosts: $(mh_hosts | tr '\n' ' '))"
	mapfile -t envs < <(mh_env_args)
	host_exec "$h" "$OWNER" env "${envs[@]}" "$@"
}

# mh_sql IDX [psql options...]: psql on an instance, through its host's socket directory.
mh_sql() {
	local i=$1
	shift
	host_exec "${MH_HOST[$i]}" "$OWNER" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h /data/sock \
		-p "${I_PORT[$i]}" -U "$OWNER" -d postgres "$@"
}
mh_sql_value() { mh_sql "$1" -At -c "$2"; }

# ---------------------------------------------------------------------------------------------
# ssh: one host key for every demo host (so that known_hosts never holds two for one name), the
# owner's own key pair, authorized for itself, and known_hosts entries for the demo's names.

mh_ssh_setup() {
	local home pub line pattern
	mkdir -p "$MH_HOSTKEY_DIR" && chmod 700 "$MH_HOSTKEY_DIR"
	[ -f "$MH_HOSTKEY" ] || ssh-keygen -q -t ed25519 -N '' -C segrecover-demo-host -f "$MH_HOSTKEY" ||
		seg_die "could not create the demo hosts' ssh key $MH_HOSTKEY"
	home=$(getent passwd "$OWNER" | cut -d: -f6)
	[ -n "$home" ] && [ -d "$home" ] || seg_die "the cluster owner $OWNER has no home directory"
	as_admin mkdir -p "$home/.ssh" && chmod 700 "$home/.ssh"
	[ -f "$home/.ssh/id_ed25519" ] || as_admin ssh-keygen -q -t ed25519 -N '' -C "$OWNER@segrecover-demo" -f "$home/.ssh/id_ed25519" ||
		seg_die "could not create $OWNER's ssh key"
	pub=$(cat "$home/.ssh/id_ed25519.pub")
	as_admin touch "$home/.ssh/authorized_keys" "$home/.ssh/known_hosts"
	chmod 600 "$home/.ssh/authorized_keys"
	grep -qxF "$pub" "$home/.ssh/authorized_keys" || echo "$pub" | as_admin tee -a "$home/.ssh/authorized_keys" >/dev/null
	pattern="cdw,sdw*,10.213.*"
	line="$pattern $(cut -d' ' -f1,2 "$MH_HOSTKEY.pub")"
	grep -qxF "$line" "$home/.ssh/known_hosts" || echo "$line" | as_admin tee -a "$home/.ssh/known_hosts" >/dev/null
	# sshd refuses an account whose password is locked ('!'); a '*' password only forbids logins
	# by password.
	if [ "$(getent shadow "$OWNER" | cut -d: -f2 | cut -c1)" = '!' ]; then
		usermod -p '*' "$OWNER" || seg_die "could not unlock $OWNER for ssh (usermod -p '*')"
	fi
	mkdir -p /run/sshd && chmod 755 /run/sshd
}

mh_sshd_config() { # HOST
	local h=$1 d=$DIR/hosts/$1/ssh
	cat <<EOF
# sshd of demo host $h ($(mh_addr "$h")), started by scripts/demo-cluster
ListenAddress $(mh_addr "$h"):22
HostKey $MH_HOSTKEY
PidFile $d/sshd.pid
AllowUsers $OWNER
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
PrintMotd no
AcceptEnv none
MaxStartups 100:30:200
MaxSessions 100
EOF
}

# ---------------------------------------------------------------------------------------------
# network

mh_net_up() {
	local h sw rate=${LINK_RATE:-}
	sw=$(mh_sw)
	ip netns add "$sw" || return 1
	ip -n "$sw" link set lo up
	ip -n "$sw" link add br0 type bridge || return 1
	ip -n "$sw" link set br0 up
	for h in $(mh_hosts); do
		ip netns add "$(mh_ns "$h")" || return 1
		ip -n "$(mh_ns "$h")" link set lo up
		ip link add "v-$h" netns "$sw" type veth peer name eth0 netns "$(mh_ns "$h")" || return 1
		ip -n "$sw" link set "v-$h" master br0 up
		ip -n "$(mh_ns "$h")" addr add "$(mh_addr "$h")/24" dev eth0
		ip -n "$(mh_ns "$h")" link set eth0 up
		if [ -n "$rate" ]; then
			# Both directions: the host's egress, and the bridge's egress towards the host.
			tc -n "$(mh_ns "$h")" qdisc add dev eth0 root tbf rate "$rate" burst 256kb latency 50ms || return 1
			tc -n "$sw" qdisc add dev "v-$h" root tbf rate "$rate" burst 256kb latency 50ms || return 1
		fi
	done
}

mh_hosts_file() {
	local h
	echo "127.0.0.1 localhost"
	for h in $(mh_hosts); do echo "$(mh_addr "$h") $h"; done
}

# ---------------------------------------------------------------------------------------------
# create

mh_settings() { # PORT
	cat <<EOF

$DEMO_MARK
port = $1
listen_addresses = '*'
unix_socket_directories = '/data/sock'
wal_level = replica
wal_log_hints = on
full_page_writes = on
hot_standby = on
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 512MB
max_wal_size = 1GB
shared_buffers = 128MB
logging_collector = off
log_line_prefix = '%m [%p] '
fsync = on
EOF
}

mh_start_instance() { # IDX
	local i=$1 h=${MH_HOST[$1]} d=${MH_DIR[$1]}
	host_exec "$h" "$OWNER" "$PGBIN/pg_ctl" -D "$d" -l "$d/log/startup.log" -w -t "$START_TIMEOUT" start ||
		{ echo "pg_ctl start failed on $h; last lines of $d/log/startup.log:"; tail -n 20 "$(mh_root "$h")${d#/data}/log/startup.log"; return 1; }
}

mh_init_instance() { # IDX: initdb, settings, hba for the cluster's hosts, start
	local i=$1 h=${MH_HOST[$1]} d=${MH_DIR[$1]} real hh
	real=$(mh_root "$h")${d#/data}
	host_exec "$h" "$OWNER" "$PGBIN/initdb" -D "$d" --data-checksums --auth=trust -U "$OWNER" --no-sync ||
		{ echo "initdb on $h failed"; return 1; }
	mh_settings "${I_PORT[$i]}" | as_admin tee -a "$real/postgresql.conf" >/dev/null || return 1
	# As gpinitsystem leaves it: every host of the cluster by its address, the spare not (a
	# recovery to it must admit it first, as gprecoverseg does).
	for hh in $(mh_hosts); do
		[ "$hh" = "$(mh_spare)" ] && continue
		printf 'host all all %s/32 trust\nhost replication all %s/32 trust\n' "$(mh_addr "$hh")" "$(mh_addr "$hh")"
	done | as_admin tee -a "$real/pg_hba.conf" >/dev/null || return 1
	as_admin mkdir -p "$real/log" || return 1
	mh_start_instance "$i"
}

mh_mirror_instance() { # IDX: base backup of its primary (over the bridge), standby settings, start
	local i=$1 h=${MH_HOST[$1]} d=${MH_DIR[$1]} port=${I_PORT[$1]} pi real paddr
	pi=$(primary_idx "${I_CONTENT[$i]}")
	paddr=$(mh_addr "${MH_HOST[$pi]}")
	real=$(mh_root "$h")${d#/data}
	host_exec "$h" "$OWNER" "$PGBIN/pg_basebackup" -h "$paddr" -p "${I_PORT[$pi]}" -U "$OWNER" -D "$d" \
		-X stream -c fast -S "$SLOT" || { echo "pg_basebackup on $h from $paddr failed"; return 1; }
	as_admin sed -i -e "/^$DEMO_MARK\$/,\$ s/^port = .*/port = $port/" "$real/postgresql.conf" || return 1
	as_admin install -m 0600 /dev/null "$real/standby.signal" || return 1
	printf "primary_conninfo = 'host=%s port=%s user=%s application_name=%s'\nprimary_slot_name = '%s'\n" \
		"$paddr" "${I_PORT[$pi]}" "$OWNER" "$APPNAME" "$SLOT" | as_admin tee -a "$real/postgresql.auto.conf" >/dev/null ||
		return 1
	as_admin truncate -s 0 "$real/log/startup.log" 2>/dev/null || true
	mh_start_instance "$i"
}

mh_repl_state() { # primary IDX
	mh_sql_value "$1" "SELECT state || '|' || sync_state FROM pg_stat_replication WHERE application_name = '$APPNAME'" 2>/dev/null
}
mh_is_streaming() { [[ $(mh_repl_state "$1") == streaming\|* ]]; }
mh_is_sync() { [ "$(mh_repl_state "$1")" = "streaming|sync" ]; }

mh_create() {
	local t0 h i c
	local -a prim=() mirr=()
	is_root || seg_die "--hosts needs root: every host is a network namespace"
	for i in ip unshare /usr/sbin/sshd ssh ssh-keygen tc; do
		command -v "$i" >/dev/null 2>&1 || seg_die "$i not found; run scripts/install-deps"
	done
	[ "$H" -ge 2 ] || seg_die "--hosts must be at least 2 for a multi-host cluster"
	[ -n "$opt_contents" ] || N=$H
	if [ -e "$DIR" ] && [ -n "$(ls -A -- "$DIR" 2>/dev/null)" ]; then
		seg_die "$DIR already exists and is not empty; run 'scripts/demo-cluster destroy --dir $DIR' first"
	fi
	if ip netns list | grep -q "^sr$P-"; then
		seg_die "network namespaces sr$P-* exist already (another cluster with --port-base $P, or a killed one): run 'scripts/demo-cluster destroy --dir $DIR' or choose another --port-base"
	fi
	mh_layout
	t0=$(now_ms)
	trap mh_on_create_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	CREATING=1
	mkdir_admin "$DIR" "$DIR/log" || seg_die "could not create $DIR"
	{
		printf '# written by scripts/demo-cluster create; read by status, env, run and destroy\n'
		printf 'DIR=%q\nPORT_BASE=%q\nCONTENTS=%q\nOWNER=%q\nPGBIN=%q\nHOSTS=%q\nLINK_RATE=%s\n' \
			"$DIR" "$P" "$N" "$OWNER" "$PGBIN" "$H" "${LINK_RATE:-}"
	} >"$DIR/$CONF_NAME"
	chown "$OWNER:" "$DIR/$CONF_NAME"
	mkdir -p /data
	for h in $(mh_hosts); do
		mkdir_admin "$(mh_root "$h")" "$(mh_root "$h")/sock" "$(mh_root "$h")/coordinator" \
			"$(mh_root "$h")/primary" "$(mh_root "$h")/mirror" || seg_die "could not create $(mh_root "$h")"
		mkdir -p "$DIR/hosts/$h/ssh"
	done
	mh_hosts_file >"$DIR/hosts.txt"
	chmod 644 "$DIR/hosts.txt"
	msg "creating $(plural $((H + 2)) host) (cdw, sdw1..sdw$H, spare $(mh_spare)) on $(mh_subnet).0/24${LINK_RATE:+, links shaped to $LINK_RATE}"
	mh_net_up || seg_die "could not create the hosts' network (ip netns, veth, bridge)"
	mh_ssh_setup
	for h in $(mh_hosts); do
		mh_sshd_config "$h" >"$DIR/hosts/$h/ssh/sshd_config"
		host_exec "$h" root /usr/sbin/sshd -f "$DIR/hosts/$h/ssh/sshd_config" -E "$DIR/hosts/$h/ssh/sshd.log" ||
			seg_die "sshd of $h did not start: $(tail -5 "$DIR/hosts/$h/ssh/sshd.log" 2>/dev/null)"
	done
	for h in $(mh_hosts); do
		for i in $(seq 1 50); do
			host_exec cdw "$OWNER" ssh -o BatchMode=yes -o ConnectTimeout=2 "$h" true 2>/dev/null && break
			[ "$i" = 50 ] && seg_die "ssh from cdw to $h does not work: $(tail -5 "$DIR/hosts/$h/ssh/sshd.log" 2>/dev/null)"
			sleep 0.1
		done
	done
	for ((c = 0; c < N; c++)); do
		prim+=("$(primary_idx "$c")")
		mirr+=("$(mirror_idx "$c")")
	done
	msg "[$(elapsed "$t0") s] creating the coordinator on cdw and $(plural "$N" primary primaries) on sdw1..sdw$H"
	run_parallel initdb mh_init_instance 0 "${prim[@]}" || exit 1
	for i in "${prim[@]}"; do
		mh_sql "$i" -c "SELECT pg_create_physical_replication_slot('$SLOT', true)" >/dev/null ||
			seg_die "could not create the replication slot on $(mh_desc "$i")"
	done
	msg "[$(elapsed "$t0") s] creating $(plural "$N" mirror) on the next host of each primary"
	run_parallel mirror mh_mirror_instance "${mirr[@]}" || exit 1
	wait_for_all "$STREAM_TIMEOUT" mh_is_streaming "${prim[@]}" || seg_die "mirrors do not stream: ${WAIT_FAILED[*]}"
	for i in "${prim[@]}"; do
		mh_sql "$i" -c "ALTER SYSTEM SET synchronous_standby_names = '$APPNAME'" -c "SELECT pg_reload_conf()" >/dev/null ||
			seg_die "could not turn on synchronous replication on $(mh_desc "$i")"
	done
	wait_for_all "$SYNC_TIMEOUT" mh_is_sync "${prim[@]}" || seg_die "mirrors are not synchronous: ${WAIT_FAILED[*]}"
	{
		cat <<'EOF'
CREATE TABLE gp_segment_configuration (dbid smallint PRIMARY KEY, content smallint NOT NULL, role "char" NOT NULL, preferred_role "char" NOT NULL, mode "char" NOT NULL, status "char" NOT NULL, port integer NOT NULL, hostname text NOT NULL, address text NOT NULL, datadir text NOT NULL);
CREATE TABLE gp_configuration_history ("time" timestamptz NOT NULL DEFAULT now(), dbid smallint NOT NULL, "desc" text);
COPY gp_segment_configuration (dbid, content, role, preferred_role, mode, status, port, hostname, address, datadir) FROM STDIN;
EOF
		for i in "${!I_DBID[@]}"; do
			local mode=s
			[ "$i" = 0 ] && mode=n
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${I_DBID[$i]}" "${I_CONTENT[$i]}" \
				"${I_ROLE[$i]}" "${I_ROLE[$i]}" "$mode" u "${I_PORT[$i]}" "${MH_HOST[$i]}" \
				"$(mh_addr "${MH_HOST[$i]}")" "${MH_DIR[$i]}"
		done
		printf '\\.\n'
	} | mh_sql 0 -1 -f - >/dev/null || seg_die "could not create the catalog on the coordinator"
	CREATING=0
	msg "cluster ready in $(elapsed "$t0") s: coordinator cdw $(mh_addr cdw):$P, $(plural "$N" primary primaries) and $(plural "$N" mirror) on sdw1..sdw$H, spare $(mh_spare)"
	echo "To use it (as root):"
	printf '  scripts/demo-cluster run --dir %q cdw gpstate      # any command, on any host\n' "$DIR"
	printf '  scripts/demo-cluster run --dir %q cdw bash         # a shell on the coordinator host\n' "$DIR"
}

mh_desc() { # IDX
	echo "dbid ${I_DBID[$1]} (${MH_HOST[$1]} $(mh_addr "${MH_HOST[$1]}"):${I_PORT[$1]} ${MH_DIR[$1]})"
}

mh_on_create_exit() {
	local rc=$? pid
	[ "$CREATING" = 1 ] && [ "$rc" != 0 ] || return 0
	trap - INT TERM
	for pid in "${BG_PIDS[@]}"; do kill_tree "$pid"; done
	wait 2>/dev/null || true
	mh_kill_all >/dev/null 2>&1 || true
	{
		echo "demo-cluster: create failed; stopped everything it had started (servers, sshds, namespaces)."
		echo "demo-cluster: $DIR is left for inspection (logs: $DIR/log/, $DIR/hosts/*/ssh/sshd.log)."
		printf 'demo-cluster: remove it with: scripts/demo-cluster destroy --dir %q\n' "$DIR"
	} >&2
}

# ---------------------------------------------------------------------------------------------
# destroy: every process in the cluster's namespaces, the namespaces (their links go with them),
# then the directory. Works from the namespaces' names, so a killed create is cleaned up too.

mh_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^sr$P-" || true; }

mh_kill_all() {
	local ns pids d
	# Servers first, by their pid files (a fast, clean stop where it can), then everything.
	while IFS= read -r d; do
		[ -n "$d" ] && pg_ctl_as_owner "$d" stop -m immediate -w -t 20 >/dev/null 2>&1 &
	done < <(find "$DIR/hosts" -maxdepth 5 -name postmaster.pid -type f -printf '%h\n' 2>/dev/null || true)
	wait
	for ns in $(mh_namespaces); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	sleep 0.2
	for ns in $(mh_namespaces); do
		ip netns del "$ns" 2>/dev/null || { sleep 0.5; ip netns del "$ns"; } || return 1
	done
}

mh_destroy() {
	local t0
	t0=$(now_ms)
	is_root || seg_die "a multi-host cluster can only be destroyed by root"
	mh_kill_all || seg_die "could not remove the network namespaces sr$P-*"
	rm -rf --one-file-system -- "$DIR" || seg_die "could not remove $DIR"
	msg "destroyed $DIR (its hosts, their sshds and servers, the namespaces sr$P-*) in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------------------------------------
# status, env, isolate, reconnect

mh_status() {
	local h i state
	mh_layout
	echo "demo cluster in $DIR: $(plural $((H + 2)) host) on $(mh_subnet).0/24 (owner $OWNER)${LINK_RATE:+, links $LINK_RATE}"
	printf '%-6s %-14s %-8s %s\n' HOST ADDRESS LINK ROLE
	for h in $(mh_hosts); do
		state=$(ip -n "$(mh_sw)" -o link show "v-$h" 2>/dev/null | grep -q 'state UP\|,UP' && echo up || echo down)
		case $h in
		cdw) i=coordinator ;;
		"$(mh_spare)") i="spare (nothing on it)" ;;
		*) i=segments ;;
		esac
		printf '%-6s %-14s %-8s %s\n' "$h" "$(mh_addr "$h")" "$state" "$i"
	done
	echo
	printf '%-5s %-7s %-8s %-6s %-6s %-9s %s\n' DBID CONTENT ROLE HOST PORT STATE DATADIR
	for i in "${!I_DBID[@]}"; do
		state=stopped
		host_exec "${MH_HOST[$i]}" "$OWNER" "$PGBIN/pg_isready" -q -h /data/sock -p "${I_PORT[$i]}" -t 2 >/dev/null 2>&1 && state=running
		printf '%-5s %-7s %-8s %-6s %-6s %-9s %s\n' "${I_DBID[$i]}" "${I_CONTENT[$i]}" "${I_KIND[$i]}" \
			"${MH_HOST[$i]}" "${I_PORT[$i]}" "$state" "${MH_DIR[$i]}"
	done
	echo "(the table is the layout as created; the catalog, after recoveries: scripts/demo-cluster run --dir $DIR cdw gpstate -c)"
}

mh_env() {
	# shellcheck disable=SC2016 # printed for the user
	printf '# A multi-host demo cluster: commands run on its hosts, as root:\n'
	printf '#   scripts/demo-cluster run --dir %q cdw gprecoverseg -a\n' "$DIR"
	printf '#   scripts/demo-cluster run --dir %q cdw bash     # a shell on the coordinator host\n' "$DIR"
	printf '# There, the environment is:\n'
	mh_env_args | sed 's/^/#   /'
}

mh_link() { # HOST up|down
	mh_addr "$1" >/dev/null || seg_die "no host '$1' in this cluster"
	ip -n "$(mh_sw)" link set "v-$1" "$2" || seg_die "could not set the link of $1 $2"
	msg "host $1 ($(mh_addr "$1")): link $2"
}
