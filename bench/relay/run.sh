#!/usr/bin/env bash
# PgGate's byte relay against HAProxy 2.6 (configured as Pigsty renders it) and against PostgreSQL directly.
#
# In one run: starts a PostgreSQL 15 on 127.0.0.91:5432, loads `pgbench -i -s 10`, starts HAProxy with Pigsty's
# haproxy.cfg plus the service files `pggate check-config --haproxy` renders (bound to 127.0.0.92), a Patroni stub
# for HAProxy's health checks (127.0.0.91:8008), and PgGate serving the same services (bound to 127.0.0.93, and
# .94, .95... for extra variants). Then runs, interleaved, ROUNDS rounds of
#     pgbench -S -c 16 -j 2 -M simple     pgbench -S -c 16 -j 2 -M extended     pgbench -S -C -c 16 -j 2
# through each target (default service, port 5436) and directly, reads each proxy's CPU time from /proc/<pid>/stat,
# and prints a markdown report (medians and paired ratios) to stdout and to $OUT_DIR/report.md.
#
# Prerequisites (Debian 12; `scripts/install-deps.sh` installs all of them):
#   - root (PostgreSQL runs as the `postgres` OS user through runuser; HAProxy drops to the `haproxy` user)
#   - postgresql-15 (/usr/lib/postgresql/15/bin: initdb, pg_ctl, postgres), postgresql-client-15 (psql, pgbench)
#   - haproxy 2.6 (Debian's `haproxy` package)
#   - the .NET 10 SDK, and PgGate built: `dotnet build -c Release` (this script does not build)
#   - coreutils, awk, ss (iproute2); nothing else listens on 127.0.0.91-9x:5432-5438/8008/9101
# Everything stays on loopback. Every process started here is stopped by PID on exit (also on Ctrl-C/errors),
# and the scratch directory is removed (KEEP=1 keeps it).
#
# Knobs (environment):
#   ROUNDS=3 DURATION=15 CLIENTS=16 THREADS=2   rounds, seconds per pgbench run, pgbench -c and -j
#   WARMUP=5                                     seconds of each pgbench run per target before the rounds (not
#                                                recorded): .NET's tiered JIT settles, PostgreSQL's caches fill
#   MODES="simple extended connect"              which pgbench runs (connect = -S -C, simple protocol;
#                                                bulk = bench/relay/bulk.sql, ~110 KB results)
#   PGGATE_DLL=src/PgGate/bin/Release/net10.0/pggate.dll
#   PGGATE_VARIANTS="pggate"                     space-separated variants to compare in the same run, each
#                                                `name[:VAR=value[:VAR=value...]]`; the environment is given to
#                                                that PgGate process only; DLL=<path> picks another build.
#   HOLD=1                                       start everything, print the PIDs and addresses, and wait for
#                                                Ctrl-C instead of measuring (for perf/strace by hand)
#   OUT_DIR=bench/results/relay-<utc timestamp>    where raw pgbench outputs, results.tsv and report.md go
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-16}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-5}
MODES=${MODES:-"simple extended connect"}
PGGATE_DLL=${PGGATE_DLL:-$repo/src/PgGate/bin/Release/net10.0/pggate.dll}
PGGATE_VARIANTS=${PGGATE_VARIANTS:-pggate}
OUT_DIR=${OUT_DIR:-$repo/bench/results/relay-$(date -u +%Y%m%dT%H%M%SZ)}

PG_BIN=/usr/lib/postgresql/15/bin
PG_ADDR=127.0.0.91
HAPROXY_ADDR=127.0.0.92
PGGATE_FIRST=93           # variant i binds 127.0.0.(93+i)
SERVICE_PORT=5436         # Pigsty's `default` service: primary, dest postgres
# This machine's hard limit on open files is 20000, so Pigsty's `maxconn 65535` (HAProxy wants ~2 FDs per
# connection) cannot be honoured; the largest that fits, rounded down.
HAPROXY_GLOBAL_MAXCONN=${HAPROXY_GLOBAL_MAXCONN:-9000}

. "$repo/bench/lib.sh"
[[ $(id -u) -eq 0 ]] || die "run as root (PostgreSQL is started as the postgres OS user through runuser)"
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" /usr/bin/pgbench /usr/bin/psql /usr/sbin/haproxy; do
    [[ -x $tool ]] || die "$tool is missing; install postgresql-15, postgresql-client-15 and haproxy (scripts/install-deps.sh)"
done
command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is missing"
[[ -f $PGGATE_DLL ]] || die "$PGGATE_DLL is missing; build first: dotnet build -c Release"
for addr in "$PG_ADDR:5432" "$PG_ADDR:8008" "$HAPROXY_ADDR:$SERVICE_PORT" "127.0.0.$PGGATE_FIRST:$SERVICE_PORT"; do
    if ss -Hltn "src $addr" | grep -q .; then die "$addr is already in use; stop what listens there first"; fi
done

work=$(mktemp -d /tmp/pggate-relay-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$OUT_DIR"
pids=()          # every process started here, stopped in reverse order
pg_started=0

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- PostgreSQL 15
start_postgres 200

# ---------------------------------------------------------------- HAProxy, as Pigsty configures it
echo "== HAProxy on $HAPROXY_ADDR (Pigsty's haproxy.cfg + conf.d rendered by pggate check-config --haproxy)" >&2
mkdir -p "$work/haproxy/conf.d"
# Pigsty's roles/haproxy/templates/haproxy.cfg.j2 with its defaults, except (each marked CHANGED):
# the global maxconn (FD limit), pidfile and stats socket in the scratch directory, stats page on 127.0.0.92.
cat >"$work/haproxy/haproxy.cfg" <<EOF
global
    user        haproxy
    group       haproxy
    node        pg-bench-1
    pidfile     $work/haproxy/haproxy.pid                   # CHANGED from /var/run/haproxy.pid
    stats socket $work/haproxy/haproxy.sock mode 600 level admin  # CHANGED from /var/run/haproxy.sock
    maxconn     $HAPROXY_GLOBAL_MAXCONN                     # CHANGED from 65535: FD hard limit here is 20000

defaults
    mode               tcp
    retries            3
    timeout queue      3s
    timeout connect    3s
    timeout client     24h
    timeout server     24h
    timeout check      3s

userlist stats-auth
    group admin users admin
    user admin  insecure-password pigsty
    group readonly users haproxy
    user haproxy insecure-password haproxy

listen stats
    bind $HAPROXY_ADDR:9101                                  # CHANGED from *:9101
    mode  http
    stats enable
    stats hide-version
    stats uri /haproxy/pg-bench-1/
    stats refresh 30s
    stats show-node
    acl AUTH       http_auth(stats-auth)
    acl AUTH_ADMIN http_auth_group(stats-auth) admin
    stats http-request auth unless AUTH
    stats admin if AUTH_ADMIN
    http-request use-service prometheus-exporter if { path /metrics }
EOF
# One file per service, exactly as Pigsty's service.cfg renders them; only `bind *:port` becomes 127.0.0.92:port.
dotnet "$PGGATE_DLL" check-config -c bench/relay/pggate-bench.yml --node pg-bench-1 --haproxy >"$work/haproxy/services.txt"
awk -v dir="$work/haproxy/conf.d" -v addr="$HAPROXY_ADDR" '
    /^# pg-bench-.*\.cfg$/ { file = dir "/" $2; next }
    file != "" { sub(/^    bind \*:/, "    bind " addr ":"); print > file }
' "$work/haproxy/services.txt"
ls "$work/haproxy/conf.d"/*.cfg >/dev/null 2>&1 || die "pggate check-config --haproxy rendered no service files"

# HAProxy's `option httpchk` asks Patroni (OPTIONS /primary on member:8008). There is no Patroni here: a second,
# separate HAProxy answers every request with 200, so the server stays UP. Its CPU is not counted.
cat >"$work/haproxy/patroni-stub.cfg" <<EOF
global
    maxconn 100
defaults
    mode http
    timeout client 10s
    timeout server 10s
    timeout connect 3s
frontend patroni-stub
    bind $PG_ADDR:8008
    http-request return status 200
EOF
haproxy -c -q -f "$work/haproxy/patroni-stub.cfg" || die "the Patroni stub configuration is invalid"
haproxy -db -f "$work/haproxy/patroni-stub.cfg" >"$work/patroni-stub.log" 2>&1 &
pids+=($!)
haproxy -c -q -f "$work/haproxy/haproxy.cfg" -f "$work/haproxy/conf.d" || die "the rendered HAProxy configuration is invalid"
# -db: foreground, one process (Pigsty's -Ws adds a master process that does no relaying).
haproxy -db -f "$work/haproxy/haproxy.cfg" -f "$work/haproxy/conf.d" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=("$haproxy_pid")

# ---------------------------------------------------------------- PgGate (one process per variant)
variant_names=()
declare -A target_host target_pid
target_host[direct]=$PG_ADDR
target_host[haproxy]=$HAPROXY_ADDR
target_pid[haproxy]=$haproxy_pid
i=0
for spec in $PGGATE_VARIANTS; do
    IFS=: read -r -a parts <<<"$spec"
    name=${parts[0]}
    addr=127.0.0.$((PGGATE_FIRST + i))
    dll=$PGGATE_DLL
    envs=()
    for kv in "${parts[@]:1}"; do
        if [[ $kv == DLL=* ]]; then dll=${kv#DLL=}; else envs+=("$kv"); fi
    done
    echo "== PgGate '$name' on $addr (${envs[*]:-default settings}; $dll)" >&2
    env "${envs[@]}" dotnet "$dll" run -c bench/relay/pggate-bench.yml --node pg-bench-1 --bind "$addr" --log-level Warning \
        >"$work/pggate-$name.log" 2>&1 &
    target_pid[$name]=$!
    target_host[$name]=$addr
    pids+=($!)
    variant_names+=("$name")
    i=$((i + 1))
done

wait_ready "$PG_ADDR" 5432 PostgreSQL
wait_ready "$HAPROXY_ADDR" "$SERVICE_PORT" HAProxy
for name in "${variant_names[@]}"; do wait_ready "${target_host[$name]}" "$SERVICE_PORT" "PgGate '$name'"; done

if [[ ${HOLD:-0} == 1 ]]; then
    for name in "${variant_names[@]}" haproxy; do echo "$name: pid ${target_pid[$name]}, ${target_host[$name]}:$SERVICE_PORT" >&2; done
    echo "direct: $PG_ADDR:5432; holding until Ctrl-C or SIGTERM" >&2
    while true; do sleep 1; done
fi

# ---------------------------------------------------------------- measurements and report
run_proxy_rounds
proxy_report "Relay benchmark" "" "127.0.0.9x"
echo "raw outputs: $OUT_DIR" >&2
