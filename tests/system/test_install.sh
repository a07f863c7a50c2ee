#!/bin/sh
# Deployment files: make install puts exactly the programs, man pages,
# systemd units, sysusers.d and tmpfiles.d files and example configurations
# under DESTDIR, and make uninstall removes exactly them; systemd accepts
# every unit (systemd-analyze verify), creates the user from the sysusers
# file and the directories from the tmpfiles file (both into a scratch
# root, never this machine's).  The binaries are not rebuilt here.
. "$(dirname "$0")/lib.sh"

TOP=${NT_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
REL=${NT_REL:-$TOP/build}
if ! command -v make >/dev/null; then
	cannot_run_all "make install" "make missing"
fi
# mk ARGS...: make install/uninstall from the built tree, taking the
# binaries in $REL as they are (-o: never remade by this test), and none
# of the flags of a make that may be running this test.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -s -C "$TOP" O="$REL" -o "$REL/nettally-agent" \
	    -o "$REL/nettally-stored" -o "$REL/nettally" "$@" \
	    >>"$WORK/make.log" 2>&1
}

D=$WORK/destdir
mkdir -p "$D/etc/nettally"
echo "name = mine" >"$D/etc/nettally/agent.conf"	# an admin's own file
check "make install DESTDIR=... succeeds" mk install DESTDIR="$D"
[ -s "$WORK/make.log" ] && sed 's/^/# /' "$WORK/make.log" | tail -5

(cd "$D" && find . -type f | sort) >"$WORK/files"
cat >"$WORK/want" <<'EOF'
./etc/nettally/agent.conf
./etc/nettally/agent.conf.example
./etc/nettally/stored.conf.example
./usr/local/bin/nettally
./usr/local/lib/systemd/system/nettally-agent@.service
./usr/local/lib/systemd/system/nettally-stored.service
./usr/local/lib/systemd/system/nettally-stored.socket
./usr/local/lib/sysusers.d/nettally.conf
./usr/local/lib/tmpfiles.d/nettally.conf
./usr/local/sbin/nettally-agent
./usr/local/sbin/nettally-stored
./usr/local/share/man/man1/nettally.1
./usr/local/share/man/man8/nettally-agent.8
./usr/local/share/man/man8/nettally-stored.8
EOF
if cmp -s "$WORK/want" "$WORK/files"; then
	ok "installed exactly the programs, man pages, units, sysusers, tmpfiles and examples"
else
	not_ok "installed exactly the programs, man pages, units, sysusers, tmpfiles and examples"
	diff "$WORK/want" "$WORK/files" | sed 's/^/# /'
fi
check "the admin's agent.conf is left as it was" \
    test "$(cat "$D/etc/nettally/agent.conf")" = "name = mine"
check "programs are mode 0755" test "$(stat -c %a \
    "$D/usr/local/sbin/nettally-agent" "$D/usr/local/sbin/nettally-stored" \
    "$D/usr/local/bin/nettally" | sort -u)" = 755
check "everything else is mode 0644" test "$(find "$D" -type f \
    ! -path '*bin/*' ! -name agent.conf -exec stat -c %a {} + | sort -u)" = 644
U=$D/usr/local/lib/systemd/system
check "units run the programs from PREFIX/sbin, not DESTDIR" \
    grep -q '^ExecStart=/usr/local/sbin/nettally-stored$' "$U/nettally-stored.service"
check "  ... the agent's too, on the instance's interface" \
    grep -q '^ExecStart=/usr/local/sbin/nettally-agent -i %I$' "$U/nettally-agent@.service"
check "  ... with no placeholder left" sh -c "! grep -q @sbindir@ '$U/nettally-stored.service'"
installed_agent=$("$D/usr/local/sbin/nettally-agent" --version 2>&1)
check "the installed agent runs ($installed_agent)" \
    sh -c "echo '$installed_agent' | grep -q '^nettally-agent [0-9]'"

check "make uninstall DESTDIR=... succeeds" mk uninstall DESTDIR="$D"
(cd "$D" && find . -type f) >"$WORK/left"
check "uninstall leaves only the admin's own file" \
    test "$(cat "$WORK/left")" = ./etc/nettally/agent.conf
rm -f "$D/etc/nettally/agent.conf"
mk install DESTDIR="$D" && mk uninstall DESTDIR="$D"
check "install then uninstall leaves no file behind" \
    test -z "$(find "$D" -type f)"

# --- systemd accepts what was installed ----------------------------------
if ! command -v systemd-analyze >/dev/null; then
	cannot_run_all "systemd-analyze verify" "systemd-analyze missing"
fi
# Installed without DESTDIR into a scratch PREFIX, so every ExecStart=
# names a program that exists, and Documentation= finds its man page.
R=$WORK/root
check "make install PREFIX=scratch succeeds" \
    mk install PREFIX="$R/usr" SYSCONFDIR="$R/etc"
U=$R/usr/lib/systemd/system
MANPATH=$R/usr/share/man systemd-analyze verify "$U/nettally-stored.socket" \
    "$U/nettally-stored.service" "$U/nettally-agent@lo.service" \
    >"$WORK/verify" 2>&1
rc=$?
check "systemd-analyze verify accepts the socket, the store and agent@lo (exit $rc)" \
    test $rc = 0
check "  ... without a warning" test ! -s "$WORK/verify"
sed 's/^/# /' "$WORK/verify"
# verify must complain about a damaged copy, or its silence proves nothing.
sed 's/^ProtectSystem=strict/ProtectSystme=strict/' \
    "$U/nettally-stored.service" >"$WORK/nettally-bad.service"
MANPATH=$R/usr/share/man systemd-analyze verify "$WORK/nettally-bad.service" \
    >"$WORK/verify" 2>&1
check "  ... and complains about a damaged copy" \
    grep -q "Unknown key 'ProtectSystme'" "$WORK/verify"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes PrivateDevices=yes MemoryDenyWriteExecute=yes \
    LockPersonality=yes RestrictRealtime=yes RestrictNamespaces=yes \
    ProtectKernelTunables=yes ProtectKernelModules=yes \
    ProtectControlGroups=yes UMask=; do
	check "both services set $k" sh -c "grep -q '^$k' '$U/nettally-stored.service' &&
	    grep -q '^$k' '$U/nettally-agent@.service'"
done
check "store: no capability at all" \
    grep -q '^CapabilityBoundingSet=$' "$U/nettally-stored.service"
check "store: Unix sockets only" \
    grep -q '^RestrictAddressFamilies=AF_UNIX$' "$U/nettally-stored.service"
check "agent: CAP_NET_RAW only" \
    grep -q '^CapabilityBoundingSet=CAP_NET_RAW$' "$U/nettally-agent@.service"
check "agent: Unix, packet and netlink sockets only" grep -q \
    '^RestrictAddressFamilies=AF_UNIX AF_PACKET AF_NETLINK$' "$U/nettally-agent@.service"
# The example configuration's spool must be writable under ProtectSystem.
spool=$(sed -n 's/^#spool = //p' agent/agent.conf.example)
check "agent: the example spool $spool is its StateDirectory" \
    grep -q "^StateDirectory=${spool#/var/lib/}\$" "$U/nettally-agent@.service"
check "both run as nettally" sh -c "grep -q '^User=nettally$' '$U/nettally-stored.service' &&
    grep -q '^User=nettally$' '$U/nettally-agent@.service'"

# --- sysusers and tmpfiles, applied to a scratch root ---------------------
S=$WORK/sysroot
mkdir -p "$S/etc"
if command -v systemd-sysusers >/dev/null; then
	systemd-sysusers --root="$S" "$R/usr/lib/sysusers.d/nettally.conf" \
	    >/dev/null 2>&1
	check "sysusers file creates the user nettally" \
	    grep -q '^nettally:x:[0-9]*:[0-9]*:' "$S/etc/passwd"
	check "  ... and its group" grep -q '^nettally:x:' "$S/etc/group"
	uid=$(sed -n 's/^nettally:x:\([0-9]*\):.*/\1/p' "$S/etc/passwd")
	systemd-tmpfiles --root="$S" --create "$R/usr/lib/tmpfiles.d/nettally.conf" \
	    >/dev/null 2>&1
	check "tmpfiles file creates /var/lib/nettally 0750 owned by nettally" \
	    test "$(stat -c '%a %u' "$S/var/lib/nettally")" = "750 $uid"
	check "  ... and /run/nettally 0750 owned by nettally" \
	    test "$(stat -c '%a %u' "$S/run/nettally")" = "750 $uid"
else
	cannot_run "sysusers and tmpfiles files" "systemd-sysusers missing"
fi

check "make uninstall PREFIX=scratch succeeds" \
    mk uninstall PREFIX="$R/usr" SYSCONFDIR="$R/etc"
check "  ... and leaves no file behind" test -z "$(find "$R" -type f)"
done_testing
