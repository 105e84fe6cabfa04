#!/usr/bin/env bash
# Throwaway Samba Active Directory DC (Samba 4.17, Debian bookworm) on 127.0.0.1, seeded with the
# test users and groups of test/harness/users.ts. No system service, no DNS server, no winbind,
# no smbd; nothing outside DIR.
#
# Usage:  start-samba-ad.sh DIR        (DIR is wiped; e.g. /tmp/fedgate-test/samba-ad)
# Env:
#   AD_ADMIN_PW     default 'Passw0rd!Adm1n' (must pass AD complexity)
#   AD_STRONG_AUTH  default no: plain ldap:// simple binds allowed (AD's default is yes:
#                   "Strong(er) authentication required (8) BindSimple: Transport encryption required")
# Realm EXAMPLE.TEST, NetBIOS domain EXAMPLE, DC DC1 (decoupled from `hostname`).
# Needs root: Samba's LDAP ports 389/636/3268/3269 and the KDC's 88/464 are fixed.
# Needs: samba samba-ad-provision samba-dsdb-modules krb5-user ldb-tools ldap-utils openssl
#
# Prints shell assignments (AD_LDAP_URL=..., SAMBA_PID=...) on stdout at the end; logs go to stderr.
# Stop with:  kill "$(cat DIR/samba.pid)"   (SIGTERM stops the prefork children too)
set -euo pipefail

if [ $# -ne 1 ]; then echo "usage: $0 DIR" >&2; exit 2; fi
DIR=$1
REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
DC=DC1
ADMIN_PW=${AD_ADMIN_PW:-Passw0rd!Adm1n}
STRONG=${AD_STRONG_AUTH:-no}
DNSDOM=example.test
BASE=DC=example,DC=test
SVC=svc-fedgate
SVC_PW='Passw0rd!svc-fedgate'
HN=${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}
log() { echo "[start-samba-ad] $*" >&2; }

[ "$(id -u)" = 0 ] || { log "needs root (Samba AD's ports 88/389/636 are fixed)"; exit 1; }
for tool in samba samba-tool ldbmodify ldapsearch openssl; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run scripts/install-test-deps.sh"; exit 1; }
done
# A server that stopped after its parent script exited stays a zombie until pid 1 reaps it,
# and a zombie still answers kill -0: look at its state too.
running() { local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ps -o stat= -p "$pid" | grep -q Z; }
if running "$DIR/samba.pid"; then
  log "already running with pid $(cat "$DIR/samba.pid") (stale from an aborted run? kill it)"; exit 1
fi
# Port check through bash's /dev/tcp: a successful connect means something already listens.
for p in 88 389 636 3268 3269; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then log "port 127.0.0.1:$p already in use"; exit 1; fi
done
rm -rf "$DIR"; mkdir -p "$DIR/tls" "$DIR/run/ncalrpc" "$DIR/log"

# Own TLS certificate with SANs. Samba's generated one has no SAN (clients would have to skip
# verification) and costs ~3 s of RSA key generation at first start.
openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=dc1.$DNSDOM" \
  -addext "subjectAltName=DNS:localhost,DNS:dc1.$DNSDOM,DNS:$HN,IP:127.0.0.1,IP:::1" \
  -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
chmod 600 "$DIR/tls/key.pem"   # Samba refuses a key file others can read

# -s /dev/null: do not inherit Debian's /etc/samba/smb.conf ([homes], [printers], log paths).
# server services = ldap, kdc: the default list contains winbindd, and without the winbind
# package samba exits a second after start.
samba-tool domain provision -s /dev/null \
  --use-rfc2307 --realm="$REALM" --domain="$DOMAIN" --server-role=dc \
  --dns-backend=NONE --adminpass="$ADMIN_PW" --targetdir="$DIR" \
  --host-name=dc1 \
  --option="netbios name = $DC" \
  --option="interfaces = lo" --option="bind interfaces only = yes" \
  --option="server services = ldap, kdc" \
  --option="tls enabled = yes" \
  --option="tls keyfile = $DIR/tls/key.pem" \
  --option="tls certfile = $DIR/tls/cert.pem" \
  --option="tls cafile = " \
  --option="prefork children = 2" \
  --option="pid directory = $DIR/run" \
  --option="ncalrpc dir = $DIR/run/ncalrpc" \
  --option="log file = $DIR/log/log.%m" \
  >"$DIR/provision.log" 2>&1 || { log "provision failed:"; tail -30 "$DIR/provision.log" >&2; exit 1; }
SMBCONF="$DIR/etc/smb.conf"
# Pitfall: this option given to provision is silently dropped from the generated smb.conf (4.17).
sed -i "s/^\[global\]\$/[global]\n\tldap server require strong auth = $STRONG/" "$SMBCONF"
grep -q "ldap server require strong auth = $STRONG" "$SMBCONF"

# Client krb5.conf with an explicit KDC (provision's relies on DNS SRV records; there is no DNS).
cat > "$DIR/krb5.conf" <<KRB
[libdefaults]
	default_realm = $REALM
	dns_lookup_realm = false
	dns_lookup_kdc = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	$REALM = {
		kdc = 127.0.0.1:88
	}
[domain_realm]
	.$DNSDOM = $REALM
	$DNSDOM = $REALM
	localhost = $REALM
	$HN = $REALM
KRB

# --- seed (offline, on sam.ldb, before the server starts): test/harness/users.ts --------------
# Values are hard-coded on purpose, like start-slapd.sh; the conformance suite checks them.
st() { samba-tool "$@" -s "$SMBCONF" >>"$DIR/seed.log" 2>&1 || { log "samba-tool $1 $2 failed:"; tail -20 "$DIR/seed.log" >&2; exit 1; }; }
# AD_LOCKOUT_THRESHOLD in users.ts: frank is locked by a 4th attempt after 3 bad passwords.
st domain passwordsettings set --account-lockout-threshold=3 --account-lockout-duration=30 --reset-account-lockout-after=30
newuser() { # name surname [extra samba-tool options]
  local name=$1 sn=$2; shift 2
  # --use-username-as-cn: DN CN=alice,CN=Users,... (the default CN is "Given Surname")
  st user create "$name" "Passw0rd!$name" --use-username-as-cn \
    --given-name="${name^}" --surname="$sn" --mail-address="$name@$DNSDOM" "$@"
}
newuser alice Anders
newuser bob Brown
newuser carol Clark
newuser dave Dunn
newuser erin Evans --must-change-at-next-login
newuser frank Fischer
st user disable carol
st user setexpiry dave --days=0
# bob's mS-DS-ConsistencyGuid = users.ts consistencyGuidHex 701c55786f974040826c321dbcd2787e.
ldbmodify -H "$DIR/private/sam.ldb" >>"$DIR/seed.log" 2>&1 <<LDIF
dn: CN=bob,CN=Users,$BASE
changetype: modify
replace: mS-DS-ConsistencyGuid
mS-DS-ConsistencyGuid:: cBxVeG+XQECCbDIdvNJ4fg==
LDIF
st group add engineers
st group add staff
st group addmembers engineers alice,bob
st group addmembers staff engineers,carol
# fedgate's service account for search-then-bind.
st user create "$SVC" "$SVC_PW" --use-username-as-cn
# For Kerberos/SPNEGO tests: svc-http with SPN HTTP/localhost and a keytab. Without
# msDS-SupportedEncryptionTypes (24 = AES128 + AES256) the KDC, like Windows, uses RC4 and
# exportkeytab --principal=<SPN> writes only an arcfour-hmac key.
st user create svc-http "Svc!$(head -c12 /dev/urandom | base64 | tr -d '/+=')" --use-username-as-cn
ldbmodify -H "$DIR/private/sam.ldb" >>"$DIR/seed.log" 2>&1 <<LDIF
dn: CN=svc-http,CN=Users,$BASE
changetype: modify
replace: msDS-SupportedEncryptionTypes
msDS-SupportedEncryptionTypes: 24
LDIF
st spn add HTTP/localhost svc-http
st domain exportkeytab "$DIR/http.keytab" --principal=HTTP/localhost

# -F: foreground, $! is the "samba: root process" (it renames itself, so pgrep cannot find it).
# -i would exit on EOF of a piped stdin; </dev/null either way.
samba -F -s "$SMBCONF" --debug-stdout -d 1 </dev/null >"$DIR/samba.log" 2>&1 &
echo $! > "$DIR/samba.pid"

# Ready = the service account can bind and search (what fedgate needs).
for _ in $(seq 1 300); do
  if ldapsearch -x -H ldap://127.0.0.1:389 -D "$SVC@$DNSDOM" -w "$SVC_PW" -b "$BASE" -s base dn >/dev/null 2>&1; then break; fi
  running "$DIR/samba.pid" || { log "samba died:"; tail -30 "$DIR/samba.log" >&2; exit 1; }
  sleep 0.1
done
ldapsearch -x -H ldap://127.0.0.1:389 -D "$SVC@$DNSDOM" -w "$SVC_PW" -b "$BASE" -s base dn >/dev/null \
  || { log "samba does not answer LDAP:"; tail -30 "$DIR/samba.log" >&2; exit 1; }

cat <<OUT
AD_LDAP_URL=ldap://127.0.0.1:389
AD_LDAPS_URL=ldaps://127.0.0.1:636
AD_BASE=$BASE
AD_BIND_DN=CN=$SVC,CN=Users,$BASE
AD_BIND_PW=$SVC_PW
AD_ADMIN_UPN=Administrator@$DNSDOM
AD_ADMIN_PW=$ADMIN_PW
AD_TLS_CA=$DIR/tls/cert.pem
AD_REALM=$REALM
AD_KRB5_CONFIG=$DIR/krb5.conf
AD_HTTP_KEYTAB=$DIR/http.keytab
SAMBA_SMBCONF=$SMBCONF
SAMBA_PID=$(cat "$DIR/samba.pid")
OUT
