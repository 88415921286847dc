# tests/integration/lib/ttytime.sh: read what a command wrote to a terminal, recorded by
# `script --log-out OUT --log-timing TIMING`, with the time each byte came.
#
# tty_redraw_gaps OUT TIMING: for every log line that the live view's block follows directly,
# print how long after the log line the block came (seconds), one per line.
tty_redraw_gaps() {
	local out=$1 timing=$2 hdr off=0 t d n
	hdr=$(head -n1 "$out" | wc -c) # script's own "Script started on ..." line
	off=$hdr
	t=0
	while read -r d n; do
		t=$(awk -v a="$t" -v b="$d" 'BEGIN { printf "%.6f", a + b }')
		printf '%s\t' "$t"
		tail -c +$((off + 1)) "$out" | head -c "$n" | tr '\n\033' '~^' | tr -d '\r\t'
		printf '\n'
		off=$((off + n))
	done <"$timing" | awk -F'\t' '
		{ start[NR] = length(s) + 1; at[NR] = $1; s = s $2; chunks = NR }
		function time_of(pos,   i) { for (i = chunks; i > 1 && start[i] > pos; i--); return at[i] }
		END {
			rest = s; base = 0
			while (match(rest, /\[INFO\]:-[^~^]*~/)) {
				end_of_log = base + RSTART + RLENGTH - 1
				after = substr(rest, RSTART + RLENGTH)
				if (match(after, /^[^~^:]* \(dbid [0-9]+\): /))
					printf "%.3f\n", time_of(end_of_log + 1) - time_of(end_of_log)
				rest = substr(s, end_of_log + 1); base = end_of_log
			}
		}'
}
