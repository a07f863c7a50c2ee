#!/bin/sh
# The shared corpus of real captures, when ../shared/pcaps exists: every
# file, every variant of local networks, compared with the tshark-based
# oracle's counts.  Nothing here is needed at run time; files are read in
# place and never copied into the project.
. "$(dirname "$0")/lib.sh"

PCAPS=${NT_PCAPS:-$NT_TOP/../shared/pcaps}
EXP=$PCAPS/expected
if [ ! -d "$EXP" ]; then
	# Optional data beside the clone, not in it: a fresh clone skips.
	skip "shared corpus" "no $PCAPS"
	done_testing
	exit
fi
# The captures are years old: keep their raw buckets, which the checks
# compare, out of retention's roll-ups.
start_store || { not_ok "store starts"; done_testing; exit 1; }

# Files the oracle and a libpcap reader legitimately see differently
# (expected/README.md).  Each is checked for what must still hold.
#  - extra port counts allowed: tshark gives no ports where the transport
#    header was captured but the IP length fields are odd, so every
#    expected port row must be there with at least its counts.
ports_superset="bigtcp_ipv6_plen0 v6ext_mobility_dstopts"

# want_iface SUMMARY_CSV: the oracle's interface counts, in the order
# of the query below (a missing line counts 0): one awk, where a grep
# and a cut for each field took a dozen processes a variant.
want_iface() {
	awk -F, '{ v[$1] = $2 }
	    END { n = split("frames_total wire_bytes_total ip_frames " \
		"ip_nonlocal_frames nonip_frames ip_undecodable_frames", k, " ")
		for (i = 1; i <= n; i++)
			printf "%s%s", (v[k[i]] == "" ? 0 : v[k[i]]),
			    (i < n ? "," : "\n") }' "$1"
}

for f in "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
	stem=${f##*/}; stem=${stem%.*}
	[ -d "$EXP/$stem" ] || continue
	for vdir in "$EXP/$stem"/*/; do
		variant=${vdir%/}; variant=${variant##*/}
		name=$stem/$variant
		nets=""
		while read -r c; do
			case $c in ''|'#'*) continue ;; esac
			nets="$nets -n $c"
		done <"$vdir/cidrs.txt"
		# shellcheck disable=SC2086
		agent -r "$f" $nets --name "$name" 2>"$WORK/err"
		rc=$?
		case $stem in
		pcapng_mixed_linktypes_libpcap_rejects)
			if [ $rc -ne 0 ] && grep -q "${f##*/}" "$WORK/err" &&
			    [ "$(sql "SELECT count(*) FROM agent WHERE name = '$name'")" = 0 ]; then
				ok "$name: refused with a message naming the file, nothing written"
			else
				not_ok "$name: must be refused (rc $rc): $(head -1 "$WORK/err")"
			fi
			continue ;;
		fmt_truncated_file_null)
			check "$name: truncated file reported, exit non-zero" \
			    test $rc -ne 0 -a -s "$WORK/err" ;;
		*)
			if [ $rc -ne 0 ]; then
				not_ok "$name: agent exit $rc: $(head -1 "$WORK/err")"
				continue
			fi ;;
		esac
		# Every view in one sqlite3 run; a capture without a frame
		# leaves no interface row: its sums are 0.
		q_hosts "$name"; qh=$Q
		q_peers "$name"; qp=$Q
		q_ports "$name"; qo=$Q
		bad=""
		if ! sql_files "$WORK/h" "$qh" "$WORK/p" "$qp" "$WORK/o" "$qo" \
		    "$WORK/i" "SELECT coalesce(sum(frames), 0),
		    coalesce(sum(frame_bytes), 0),
		    coalesce(sum(ipv4_packets) + sum(ipv6_packets), 0),
		    coalesce(sum(transit_packets), 0),
		    coalesce(sum(non_ip_frames), 0),
		    coalesce(sum(malformed_frames), 0)
		    FROM interface_traffic WHERE agent = '$name'" \
		    >"$WORK/d" 2>&1; then
			bad=" (sqlite3 failed)"
		fi
		same_rows "$vdir/hosts.csv" "$WORK/h" >>"$WORK/d" || bad="$bad hosts"
		same_rows "$vdir/peers.csv" "$WORK/p" >>"$WORK/d" || bad="$bad peers"
		case " $ports_superset " in
		*" $stem "*)
			# Every expected key present, with at least its counts.
			tail -n +2 "$vdir/ports.csv" | awk -F, '
			    NR == FNR { k = $1","$2","$3","$4","$5
			        p[k] = $6; b[k] = $7; w[k] = $8; next }
			    { k = $1","$2","$3","$4","$5
			      if (!(k in p) || p[k] < $6 || b[k] < $7 || w[k] < $8) {
			          print "# port row missing or short: " $0; bad = 1 } }
			    END { exit bad }' "$WORK/o" - >>"$WORK/d" ||
			    bad="$bad ports" ;;
		*)
			same_rows "$vdir/ports.csv" "$WORK/o" >>"$WORK/d" || bad="$bad ports" ;;
		esac
		# Frames tshark leaves without IP are non-IP to us; frames whose
		# IP header it cannot decode are malformed.
		want=$(want_iface "$vdir/summary.csv")
		got=
		read -r got <"$WORK/i"
		[ "$want" = "$got" ] || { bad="$bad interface"; echo "# interface want $want got $got" >>"$WORK/d"; }
		if [ -z "$bad" ]; then
			ok "$name: hosts, ports, peers, interface totals match"
		else
			not_ok "$name: differs in$bad"
			sed 's/^/  /' "$WORK/d" | head -12
		fi
	done
done
check "store stops cleanly on SIGTERM" stop_store
done_testing
