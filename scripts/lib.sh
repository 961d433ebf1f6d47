# Shared by the scripts: find Swift, install what a fresh Debian machine lacks.
# shellcheck shell=bash

# Debian packages thplab builds and tests with: libnuma and libcap (linked by
# CShims), zlib (reads /proc/config.gz), util-linux (setpriv, for the
# non-root test), procps.
THPLAB_APT_PACKAGES="libnuma-dev libcap-dev zlib1g-dev util-linux procps"

thplab_find_swift() {
  if ! command -v swift >/dev/null 2>&1; then
    for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
      [ -x "$d/swift" ] && export PATH="$d:$PATH" && break
    done
  fi
  command -v swift >/dev/null 2>&1 || {
    echo "thplab: no Swift toolchain found (looked in PATH and /opt/swift); install Swift 6 from swift.org" >&2
    exit 3
  }
}

thplab_install_deps() {
  thplab_install_packages $THPLAB_APT_PACKAGES
}

# Installs the Debian packages given that are missing (root only).
thplab_install_packages() {
  local missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "thplab: missing Debian packages:$missing; run this script as root (sudo) to install them" >&2
    exit 3
  fi
  echo "thplab: installing$missing" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${THPLAB_APT_OPTIONS:-} $missing >/dev/null
}
