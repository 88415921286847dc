# scripts/lib/common.sh: shell helpers shared by scripts/, tests/ and fixtures. Source it; do not run it.
#
# PostgreSQL refuses to run as root. When the caller is root, every PostgreSQL server and tool
# runs as the OS user $SEGRECOVER_OS_USER (default gpadmin, created by scripts/install-deps).

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export PGBIN

if [ "$(id -u)" = 0 ]; then
	SEG_OS_USER=${SEGRECOVER_OS_USER:-gpadmin}
else
	SEG_OS_USER=$(id -un)
fi
export SEG_OS_USER

seg_die() {
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

seg_warn() {
	echo "$(basename "$0"): warning: $*" >&2
}

# as_admin CMD ARGS...: run a command as the cluster owner (directly when we are not root).
# runuser keeps the working directory, so move to / first when the owner cannot read it.
as_admin() {
	if [ "$(id -u)" = 0 ]; then
		(
			if ! runuser -u "$SEG_OS_USER" -- test -r . -a -x . 2>/dev/null; then
				cd / || exit 1
			fi
			exec runuser -u "$SEG_OS_USER" -- "$@"
		)
	else
		"$@"
	fi
}

# mkdir_admin DIR...: create directories owned by the cluster owner.
mkdir_admin() {
	mkdir -p "$@" || return 1
	if [ "$(id -u)" = 0 ]; then
		chown "$SEG_OS_USER": "$@" || return 1
	fi
}

# admin_home: the cluster owner's home directory.
admin_home() {
	getent passwd "$SEG_OS_USER" | cut -d: -f6
}
