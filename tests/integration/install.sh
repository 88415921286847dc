#!/usr/bin/env bash
# make install into a scratch DESTDIR: the commands, their man pages, and the bash completion,
# which offers for each command exactly options that the command's own --help names, and
# completes -i with files, -l with directories, --compress with its methods.
. "$(dirname "$0")/lib/testlib.sh"

DEST=$WORK/dest
check "make install DESTDIR=..." make -C "$REPO" install DESTDIR="$DEST" PREFIX=/usr/local
COMP=$DEST/usr/local/share/bash-completion/completions
for c in gprecoverseg gpstate gpfts gpinitstandby gpactivatestandby gpsegrecovery; do
	is_eq "$c: binary, man page and completion installed" "yes yes yes" \
		"$([ -x "$DEST/usr/local/bin/$c" ] && echo yes) $([ -f "$DEST/usr/local/share/man/man1/$c.1" ] && echo yes) $([ -e "$COMP/$c" ] && echo yes)"
done
# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _segrecover; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP/segrecover" "$@"
}
for c in gprecoverseg gpstate gpfts gpinitstandby gpactivatestandby; do
	help=$("$BIN/$c" --help 2>&1)
	missing=
	for o in $(complete_words "$c" -); do
		grep -qE -- "(^|[ ,\[])$o([ ,=]|\$)" <<<"$help" || missing="$missing $o"
	done
	is_eq "$c: every option the completion offers is in its --help" "" "$missing"
done
is_eq "gpstate --js completes to --json" "--json" "$(complete_words gpstate --js)"
is_eq "gprecoverseg --compress completes the methods" "lz4" "$(complete_words gprecoverseg --compress l)"
mkdir -p "$WORK/dirs/logs"
: >"$WORK/dirs/conf.txt"
is_eq "gprecoverseg -l completes directories only" "$WORK/dirs/logs" "$(complete_words gprecoverseg -l "$WORK/dirs/")"
is_eq "gprecoverseg -i completes files" "$WORK/dirs/conf.txt" "$(complete_words gprecoverseg -i "$WORK/dirs/c")"
check "make uninstall removes them" make -C "$REPO" uninstall DESTDIR="$DEST" PREFIX=/usr/local
is_eq "nothing of ours is left" "" "$(find "$DEST" -type f -o -type l)"
t_done
