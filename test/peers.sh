#!/bin/sh
# Installs the real peers the tests drive (swaks with TLS, Postfix's smtp-source, chromium for the console) when missing; npm's pretest.
#
# Debian and Ubuntu only (apt-get), as root or through sudo. Anywhere else it stops at once with
# one line naming the packages, so `npm test` never runs half its suite against absent peers.
set -eu

# Non-root users on Debian have no /usr/sbin on PATH, where Postfix puts smtp-source.
PATH="$PATH:/usr/sbin:/sbin"

need=""
command -v swaks >/dev/null 2>&1 || need="$need swaks"
# Debian's swaks only recommends Net::SSLeay; without it STARTTLS is silently unavailable.
perl -MNet::SSLeay -MIO::Socket::SSL -e1 >/dev/null 2>&1 ||
  need="$need libnet-ssleay-perl libio-socket-ssl-perl"
command -v smtp-source >/dev/null 2>&1 || need="$need postfix"
# The admin console's browser tests drive Debian's chromium headless (playwright-core, no download).
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -z "$need" ] && exit 0
need="${need# }"

cannot() {
  echo "npm test: missing test peers ($1); install them and rerun: sudo apt-get install --no-install-recommends $need" >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || cannot "no apt-get here"
if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  # Passwordless sudo, or a terminal where sudo can ask for the password.
  as_root="sudo"
else
  cannot "not root and no usable sudo"
fi

echo "npm test: installing the test peers $need with apt-get (once; see README, Two commands)"
# "No configuration": Postfix's tools only; no main.cf, no mail server listening on port 25.
echo "postfix postfix/main_mailer_type select No configuration" | $as_root debconf-set-selections
log="${TMPDIR:-/tmp}/relay-test-peers.$$.log"
if ! { $as_root apt-get update -qq &&
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "npm test: apt-get could not install $need (output above)" >&2
  exit 1
fi
rm -f "$log"
