#!/usr/bin/env bash
# Throwaway OpenLDAP slapd (2.5, Debian bookworm) on loopback, seeded with the test users of
# test/harness/users.ts and AD-like attributes. No system service, nothing outside DIR.
#
# Usage:  start-slapd.sh DIR PORT TLSPORT      (DIR is wiped; e.g. /tmp/fedgate-test/slapd 21389 21636)
# Env:
#   SLAPD_ONLY_LOOPBACK_IP  address to listen on (default 127.0.0.1)
#   LDAP_ADMIN_PW           rootdn password (default adminpw); rootdn = cn=admin,dc=example,dc=test
#   SLAPD_DEBUG             slapd -d level (default 0 = foreground, no debug output; 256 = stats)
#
# Prints shell assignments (LDAP_URL=..., SLAPD_PID=...) on stdout at the end; logs go to stderr.
# Stop with:  kill "$(cat DIR/slapd.pid)"   (SIGTERM -> clean shutdown)
# Needs: slapd ldap-utils openssl
set -euo pipefail

if [ $# -ne 3 ]; then echo "usage: $0 DIR PORT TLSPORT" >&2; exit 2; fi
DIR=$1
PORT=$2
TLSPORT=$3
IP=${SLAPD_ONLY_LOOPBACK_IP:-127.0.0.1}
ADMIN_PW=${LDAP_ADMIN_PW:-adminpw}
DEBUG=${SLAPD_DEBUG:-0}
# The suffix is fixed: the seed below and users.ts assume it.
SUFFIX=dc=example,dc=test
ROOTDN="cn=admin,$SUFFIX"

log() { echo "[start-slapd] $*" >&2; }

# A server that stopped after its parent script exited stays a zombie until pid 1 reaps it,
# and a zombie still answers kill -0: look at its state too.
running() { local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ps -o stat= -p "$pid" | grep -q Z; }
if running "$DIR/slapd.pid"; then
  log "already running with pid $(cat "$DIR/slapd.pid") (stale from an aborted run? kill it)"; exit 1
fi
# Port check through bash's /dev/tcp (iproute2's ss is not in every base image):
# a successful connect means something already listens there.
for p in "$PORT" "$TLSPORT"; do
  if (exec 3<>"/dev/tcp/$IP/$p") 2>/dev/null; then log "port $IP:$p already in use"; exit 1; fi
done
rm -rf "$DIR"; mkdir -p "$DIR/db" "$DIR/tls" "$DIR/schema"

# --- self-signed TLS cert (SAN localhost + the listen IP + this host's name) -------------------
# The host name matters: OpenLDAP's client library (ldapsearch -ZZ, ldapwhoami) replaces
# "localhost" by gethostname() before checking the certificate.
HN=${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}
SAN="DNS:localhost,DNS:$HN,IP:127.0.0.1,IP:::1"
[ "$IP" = 127.0.0.1 ] || SAN="$SAN,IP:$IP"
openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj "/CN=localhost" \
  -addext "subjectAltName=$SAN" \
  -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null

# --- minimal AD-like schema --------------------------------------------------------------------
# Debian's /etc/ldap/schema/msuser.schema is not usable as is: no EQUALITY rule on
# sAMAccountName/userPrincipalName (equality filters never match), no object class allows
# sAMAccountName, and its 'user' class MUSTs nTSecurityDescriptor/objectCategory/instanceType.
# userAccountControl, accountExpires and pwdLastSet are inert data here: slapd does not refuse
# binds because of them; fedgate reads them after a successful bind to emulate AD's checks.
cat > "$DIR/schema/ad-lite.schema" <<'EOF'
# Microsoft OIDs and names, with matching rules so filters work.
attributetype ( 1.2.840.113556.1.4.2 NAME 'objectGUID'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.146 NAME 'objectSid'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.1360 NAME 'mS-DS-ConsistencyGuid'
  EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
# FILETIME values (100 ns since 1601-01-01 UTC); 0 and 9223372036854775807 mean "never".
attributetype ( 1.2.840.113556.1.4.159 NAME 'accountExpires'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
# FILETIME of the last password set; 0 = must change at next logon.
attributetype ( 1.2.840.113556.1.4.96 NAME 'pwdLastSet'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
# OpenLDAP experimental arc (1.3.6.1.4.1.4203.666) - fine for throwaway tests only.
# displayName comes from inetOrgPerson already.
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'adLiteUser' AUXILIARY
  MAY ( objectGUID $ objectSid $ mS-DS-ConsistencyGuid $ sAMAccountName $ userPrincipalName $
        userAccountControl $ accountExpires $ pwdLastSet $ displayName ) )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.2 NAME 'adLiteGroup' AUXILIARY
  MAY ( objectGUID $ objectSid $ sAMAccountName ) )
EOF

ADMIN_HASH=$(slappasswd -h '{SSHA}' -s "$ADMIN_PW")

# memberOf is computed at search time by dynlist and is transitive because of the trailing '*'
# (alice gets engineers AND staff), which is in effect AD's 1.2.840.113556.1.4.1941 semantics.
# slapo-memberof would store only direct memberships and is deprecated in 2.5.
cat > "$DIR/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/dyngroup.schema
include $DIR/schema/ad-lite.schema

pidfile  $DIR/slapd.pid.daemon
argsfile $DIR/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload dynlist

TLSCertificateFile    $DIR/tls/cert.pem
TLSCertificateKeyFile $DIR/tls/key.pem

# anonymous bind allowed (needed for auth); no anonymous reads of passwords
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read

database mdb
maxsize 268435456
suffix "$SUFFIX"
rootdn "$ROOTDN"
rootpw $ADMIN_HASH
directory $DIR/db
index objectClass eq
index uid,cn,sAMAccountName,userPrincipalName,mail eq
index member eq
index objectGUID,mS-DS-ConsistencyGuid eq
overlay dynlist
dynlist-attrset groupOfURLs memberURL member+memberOf@groupOfNames*
EOF

slaptest -Q -u -f "$DIR/slapd.conf" >&2

# -d keeps slapd in the foreground (no fork), so $! is the real server pid.
# -h: listen ONLY on loopback; no ldapi:// (that would use /var/run/slapd).
slapd -d "$DEBUG" -f "$DIR/slapd.conf" \
  -h "ldap://$IP:$PORT/ ldaps://$IP:$TLSPORT/" \
  </dev/null >"$DIR/slapd.log" 2>&1 &
echo $! > "$DIR/slapd.pid"

URL="ldap://$IP:$PORT"
for _ in $(seq 1 200); do
  if ldapwhoami -x -H "$URL" -D "$ROOTDN" -w "$ADMIN_PW" >/dev/null 2>&1; then break; fi
  if ! running "$DIR/slapd.pid"; then
    log "slapd died:"; cat "$DIR/slapd.log" >&2; exit 1
  fi
  sleep 0.1
done
ldapwhoami -x -H "$URL" -D "$ROOTDN" -w "$ADMIN_PW" >/dev/null \
  || { log "slapd does not answer:"; cat "$DIR/slapd.log" >&2; exit 1; }

# --- seed: the users and groups of test/harness/users.ts ---------------------------------------
# Values are hard-coded on purpose (readable; test/integration/harness.test.ts checks them
# against users.ts). Binary values are base64 of:
#   objectGUID             users.ts objectGuidHex (groups: 4f4e..40 / 5f5e..50)
#   mS-DS-ConsistencyGuid  users.ts consistencyGuidHex (bob)
#   objectSid              S-1-5-21-1004336348-1177238915-682003330-<RID> in AD binary form
#                          (rev 1, 5 sub-authorities, authority 5, sub-authorities little-endian);
#                          users alice..frank RID 1100..1105, groups engineers 1200, staff 1201.
# Account states (read by fedgate after the bind; slapd itself does not enforce them):
#   carol userAccountControl 514 (disabled), dave accountExpires in 2019 (expired),
#   erin pwdLastSet 0 (must change). frank is AD's lockout target; slapd has no lockout.
pw() { slappasswd -h '{SSHA}' -s "Passw0rd!$1"; }
# "now" as FILETIME: AD's pwdLastSet for a password set at seed time.
NOW_FT=$(( ($(date +%s) + 11644473600) * 10000000 ))
NEVER=9223372036854775807

cat > "$DIR/seed.ldif" <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example Test

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: alice
cn: Alice Anders
givenName: Alice
sn: Anders
displayName: Alice Anders
mail: alice@example.test
sAMAccountName: alice
userPrincipalName: alice@example.test
objectGUID:: 1MOyofbliUeavN7wEjRWeA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoTAQAAA==
userAccountControl: 512
accountExpires: $NEVER
pwdLastSet: $NOW_FT
userPassword: $(pw alice)

dn: uid=bob,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: bob
cn: Bob Brown
givenName: Bob
sn: Brown
displayName: Bob Brown
mail: bob@example.test
sAMAccountName: bob
userPrincipalName: bob@example.test
objectGUID:: ABEiM0RVZneImaq7zN3u/w==
mS-DS-ConsistencyGuid:: cBxVeG+XQECCbDIdvNJ4fg==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoTQQAAA==
userAccountControl: 512
accountExpires: $NEVER
pwdLastSet: $NOW_FT
userPassword: $(pw bob)

dn: uid=carol,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: carol
cn: Carol Clark
givenName: Carol
sn: Clark
displayName: Carol Clark
mail: carol@example.test
sAMAccountName: carol
userPrincipalName: carol@example.test
objectGUID:: Dw4NDAsKCQgHBgUEAwIBAA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoTgQAAA==
userAccountControl: 514
accountExpires: $NEVER
pwdLastSet: $NOW_FT
userPassword: $(pw carol)

dn: uid=dave,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: dave
cn: Dave Dunn
givenName: Dave
sn: Dunn
displayName: Dave Dunn
mail: dave@example.test
sAMAccountName: dave
userPrincipalName: dave@example.test
objectGUID:: Hx4dHBsaGRgXFhUUExIREA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoTwQAAA==
userAccountControl: 512
accountExpires: 132000000000000000
pwdLastSet: $NOW_FT
userPassword: $(pw dave)

dn: uid=erin,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: erin
cn: Erin Evans
givenName: Erin
sn: Evans
displayName: Erin Evans
mail: erin@example.test
sAMAccountName: erin
userPrincipalName: erin@example.test
objectGUID:: Ly4tLCsqKSgnJiUkIyIhIA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUAQAAA==
userAccountControl: 512
accountExpires: $NEVER
pwdLastSet: 0
userPassword: $(pw erin)

dn: uid=frank,ou=people,$SUFFIX
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: frank
cn: Frank Fischer
givenName: Frank
sn: Fischer
displayName: Frank Fischer
mail: frank@example.test
sAMAccountName: frank
userPrincipalName: frank@example.test
objectGUID:: Pz49PDs6OTg3NjU0MzIxMA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==
userAccountControl: 512
accountExpires: $NEVER
pwdLastSet: $NOW_FT
userPassword: $(pw frank)

dn: cn=engineers,ou=groups,$SUFFIX
objectClass: groupOfNames
objectClass: adLiteGroup
cn: engineers
sAMAccountName: engineers
objectGUID:: T05NTEtKSUhHRkVEQ0JBQA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YosAQAAA==
member: uid=alice,ou=people,$SUFFIX
member: uid=bob,ou=people,$SUFFIX

dn: cn=staff,ou=groups,$SUFFIX
objectClass: groupOfNames
objectClass: adLiteGroup
cn: staff
sAMAccountName: staff
objectGUID:: X15dXFtaWVhXVlVUU1JRUA==
objectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YosQQAAA==
member: cn=engineers,ou=groups,$SUFFIX
member: uid=carol,ou=people,$SUFFIX
EOF
# Through the running server (not slapadd): overlays see the entries, and errors show up here.
ldapadd -x -H "$URL" -D "$ROOTDN" -w "$ADMIN_PW" -f "$DIR/seed.ldif" >"$DIR/seed.log" 2>&1 \
  || { log "seed failed:"; cat "$DIR/seed.log" >&2; exit 1; }

cat <<EOF
LDAP_URL=$URL
LDAPS_URL=ldaps://$IP:$TLSPORT
LDAP_BASE=$SUFFIX
LDAP_ADMIN_DN=$ROOTDN
LDAP_ADMIN_PW=$ADMIN_PW
LDAPTLS_CACERT=$DIR/tls/cert.pem
SLAPD_PID=$(cat "$DIR/slapd.pid")
EOF
