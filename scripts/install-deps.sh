#!/usr/bin/env bash
# Installs what PgGate's demo and tests need on Debian 12 (bookworm). Run as root. Idempotent: installs only
# missing packages, runs `apt-get update` only when a missing package has no install candidate, and keeps the
# Debian packages' services from starting, so nothing of theirs listens on the addresses the tests use.
#
#   scripts/install-deps.sh            everything: PostgreSQL 15, contrib, PgBouncer, HAProxy, Patroni, etcd, iproute2, procps
#   scripts/install-deps.sh --demo     only what `pggate demo` needs (PostgreSQL)
#   scripts/install-deps.sh --dry-run  say what would be done, change nothing
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

demo=0
dry_run=0
for arg in "$@"; do
    case "$arg" in
        --demo) demo=1 ;;
        --dry-run) dry_run=1 ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown option '$arg' (use --demo, --dry-run or --help)" ;;
    esac
done

if ((demo)); then
    packages=(postgresql)
else
    packages=(postgresql postgresql-contrib pgbouncer haproxy patroni etcd-server etcd-client iproute2 procps)
fi

# The services these packages ship; none may run, PgGate's sandbox and tests start their own instances.
services=(postgresql pgbouncer haproxy patroni etcd)

command -v apt-get >/dev/null 2>&1 \
    || die "apt-get not found: this script is for Debian 12; install ${packages[*]} with your package manager"
if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    if [[ "${ID:-}" != debian || "${VERSION_ID:-}" != 12 ]]; then
        say "warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}; continuing"
    fi
fi
if [[ $(id -u) -ne 0 ]] && ((!dry_run)); then
    die "run as root (apt-get needs it): sudo $0 $*"
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
has_candidate() {
    local candidate
    candidate=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

missing=()
for package in "${packages[@]}"; do
    if installed "$package"; then
        say "$package: already installed"
    else
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    say "nothing to install"
    exit 0
fi

needs_update=0
for package in "${missing[@]}"; do
    if ! has_candidate "$package"; then
        needs_update=1
    fi
done

if ((dry_run)); then
    ((needs_update)) && say "would run: apt-get update (package lists do not offer all of: ${missing[*]})"
    say "would install: ${missing[*]} (with services kept from starting)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive

# invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d whether a package may start its service; exit
# code 101 means no. Ours is in place for the duration of the install only; an existing one is put back after.
policy=/usr/sbin/policy-rc.d
saved_policy=""
if [[ -e "$policy" ]]; then
    saved_policy=$(mktemp /usr/sbin/policy-rc.d.pggate-saved.XXXXXX)
    cp -p "$policy" "$saved_policy"
fi
restore_policy() {
    if [[ -n "$saved_policy" ]]; then
        mv -f "$saved_policy" "$policy"
    else
        rm -f "$policy"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# PgGate scripts/install-deps.sh is installing packages: no service may start.\nexit 101\n' >"$policy"
chmod 755 "$policy"
say "services kept from starting during the install ($policy)"

if ((needs_update)); then
    say "running apt-get update (package lists do not offer all of: ${missing[*]})"
    apt-get update -qq
fi

say "installing: ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# With policy-rc.d nothing started, but systemd would still start the enabled units at the next boot.
if [[ -d /run/systemd/system ]]; then
    for service in "${services[@]}"; do
        if systemctl list-unit-files "$service.service" >/dev/null 2>&1 \
            && systemctl is-enabled --quiet "$service.service" 2>/dev/null; then
            systemctl disable --now --quiet "$service.service"
            say "disabled and stopped the $service service"
        fi
    done
fi

restore_policy
trap - EXIT
say "restored $policy as it was"
for package in "${missing[@]}"; do
    installed "$package" || die "$package is still not installed; see the apt-get output above"
done
say "done: installed ${missing[*]}"
