#!/usr/bin/env bash
# Throwaway MIT Kerberos KDC (krb5 1.20, Debian bookworm) on 127.0.0.1, for the SPNEGO tests.
# No system service; nothing under /etc or /var/lib/krb5kdc is used: everything lives in DIR.
#
# Usage:  start-mit-kdc.sh DIR [PORT]     (DIR is wiped; PORT default 21088)
# Env:
#   KRB_REALM   default KRB.TEST
#   KRB_USERS   default "alice bob": principals with the password convention of users.ts
#               (Passw0rd!<name>)
#   KRB_SPNS    default "HTTP/localhost HTTP/$(hostname)": random keys, AES only, exported to
#               DIR/http.keytab
# Needs: krb5-kdc (krb5kdc, kdb5_util), krb5-admin-server (kadmin.local; kadmind is never
#        started), krb5-user (kinit, klist)
#
# Prints KEY=VALUE lines on stdout at the end (also written to DIR/env); logs go to stderr.
# Stop with:  kill "$(cat DIR/krb5kdc.pid)"
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: $0 DIR [PORT]" >&2; exit 2; fi
DIR=$1
PORT=${2:-21088}
REALM=${KRB_REALM:-KRB.TEST}
USERS=${KRB_USERS:-alice bob}
HN=${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}
SPNS=${KRB_SPNS:-HTTP/localhost HTTP/$HN}
log() { echo "[start-mit-kdc] $*" >&2; }

# Ports from 32768 up are the ephemeral range: loopback client sockets (load tests) can hold
# them, and the KDC then fails with "Address already in use" although nothing listens.
if [ "$PORT" -ge 32768 ]; then log "port $PORT is in the ephemeral range: pick one below 32768"; exit 2; fi
# A server that stopped after its parent script exited stays a zombie until pid 1 reaps it,
# and a zombie still answers kill -0: look at its state too.
running() { local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ps -o stat= -p "$pid" | grep -q Z; }
if running "$DIR/krb5kdc.pid"; then
  log "already running with pid $(cat "$DIR/krb5kdc.pid") (stale from an aborted run? kill it)"; exit 1
fi
# Port check through bash's /dev/tcp (ss is not in every base image): a connect means a listener.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then log "port 127.0.0.1:$PORT already in use"; exit 1; fi
rm -rf "$DIR"; mkdir -p "$DIR"

# Client side. No DNS here: every lookup off, the KDC given explicitly. ignore_acceptor_hostname
# lets an acceptor take a ticket for any HTTP/* key of its keytab (HTTP/localhost or HTTP/$HN).
# udp_preference_limit 1: always TCP, so a lost UDP datagram never costs a 1 s retry.
cat > "$DIR/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_realm = false
	dns_lookup_kdc = false
	rdns = false
	dns_canonicalize_hostname = false
	ignore_acceptor_hostname = true
	udp_preference_limit = 1
[realms]
	$REALM = {
		kdc = 127.0.0.1:$PORT
	}
[domain_realm]
	localhost = $REALM
	$HN = $REALM
EOF

# AES only, as the AD side is configured (msDS-SupportedEncryptionTypes 24).
cat > "$DIR/kdc.conf" <<EOF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$PORT
	kdc_tcp_listen = 127.0.0.1:$PORT
[realms]
	$REALM = {
		database_name = $DIR/principal
		key_stash_file = $DIR/stash
		acl_file = $DIR/kadm5.acl
		max_life = 10h 0m 0s
		max_renewable_life = 1d 0h 0m 0s
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$DIR/kdc.log
	default = FILE:$DIR/kdc.log
EOF
: > "$DIR/kadm5.acl"

export KRB5_CONFIG="$DIR/krb5.conf" KRB5_KDC_PROFILE="$DIR/kdc.conf"
# kadmin.local prints errors but exits 0 for a failed query: check its output for them.
kq() { local out; out=$(kadmin.local -r "$REALM" -q "$1" 2>&1); echo "$out" >>"$DIR/setup.log"
  if grep -qiE 'error|while |not found|unable' <<<"$out"; then log "kadmin.local '$1' failed:"; echo "$out" >&2; exit 1; fi; }

kdb5_util create -s -r "$REALM" -P "$(head -c 18 /dev/urandom | base64)" >"$DIR/setup.log" 2>&1 \
  || { log "kdb5_util create failed:"; cat "$DIR/setup.log" >&2; exit 1; }
for u in $USERS; do kq "addprinc -pw \"Passw0rd!$u\" $u"; done
for s in $SPNS; do
  kq "addprinc -randkey $s"
  kq "ktadd -k $DIR/http.keytab -e aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal $s"
done
chmod 600 "$DIR/http.keytab"

# -n: do not fork, so $! is the KDC ("-P pidfile" is written only when it daemonizes).
krb5kdc -n -r "$REALM" </dev/null >"$DIR/krb5kdc.out" 2>&1 &
echo $! > "$DIR/krb5kdc.pid"

# Ready = a real kinit succeeds (the KDC binds its sockets after loading the database).
first=${USERS%% *}
for _ in $(seq 1 100); do
  if echo "Passw0rd!$first" | KRB5CCNAME="FILE:$DIR/cc.probe" kinit "$first@$REALM" >/dev/null 2>&1; then break; fi
  running "$DIR/krb5kdc.pid" || { log "krb5kdc died:"; cat "$DIR/krb5kdc.out" "$DIR/kdc.log" >&2; exit 1; }
  sleep 0.1
done
KRB5CCNAME="FILE:$DIR/cc.probe" klist -s || { log "kinit $first@$REALM failed:"; tail -20 "$DIR/kdc.log" >&2; exit 1; }
KRB5CCNAME="FILE:$DIR/cc.probe" kdestroy

tee "$DIR/env" <<EOF
KRB5_CONFIG=$DIR/krb5.conf
KRB5_KDC_PROFILE=$DIR/kdc.conf
KRB5_KTNAME=FILE:$DIR/http.keytab
KRB_KEYTAB=$DIR/http.keytab
KRB_REALM=$REALM
KRB_KDC=127.0.0.1:$PORT
KRB_KDC_PORT=$PORT
KRB_SPNS=$SPNS
KRB5KDC_PID=$(cat "$DIR/krb5kdc.pid")
EOF
