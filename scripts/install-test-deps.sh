#!/usr/bin/env bash
# Installs, with Debian's apt-get, what the test suite starts for real on loopback: OpenLDAP slapd,
# Samba as an AD domain controller, an MIT Kerberos KDC (curl is its Negotiate client), xmlsec1, xmllint with the OASIS SAML schemas
# (an independent signature check) and chromium (the browser tests). Run as root on Debian 12.
# Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

# Package post-install scripts must not start system daemons that would hold the ports the tests
# use (389/636/88 for Samba): forbid service starts for the duration of the install.
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { [ -z "$created_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d; }
trap cleanup EXIT

# curl: the SPNEGO tests' browser (curl --negotiate, GSS-API built in Debian's curl).
PACKAGES=(slapd ldap-utils samba samba-ad-provision samba-dsdb-modules krb5-user krb5-kdc krb5-admin-server
  libkrb5-dev ldb-tools smbclient xmlsec1 libxml2-utils opensaml-schemas xmltooling-schemas redis-server chromium openssl curl)
missing=()
for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi
# Nothing the packages may have started should keep running (machines without policy-rc.d).
for svc in slapd samba-ad-dc smbd nmbd krb5-kdc krb5-admin-server; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "test dependencies installed: ${PACKAGES[*]}"
