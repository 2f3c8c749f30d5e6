#!/usr/bin/env bash
# The primary service with `dest: pool` (PgGate pools straight to the member: one hop) against Pigsty's stack,
# HAProxy 2.6 -> PgBouncer 1.18 -> PostgreSQL (two hops), and against PostgreSQL directly (issue 3, item 9).
#
# In one run: PostgreSQL 15 on 127.0.4.20:5432 (pgbench -i -s 10); PgBouncer on 127.0.4.20:6432 beside it, as Pigsty
# runs it (transaction mode, default_pool_size=$POOL_SIZE, reserve 0, auth_type=trust against a userlist); HAProxy with
# Pigsty's haproxy.cfg plus the service files `pggate check-config --haproxy` renders for `default_service_dest:
# pgbouncer` (Pigsty's default), bound to 127.0.4.21, with a Patroni stub on 127.0.4.20:8008 for its checks; and PgGate
# (`pggate run`, 127.0.4.22, .23... per variant) with `default_service_dest: pool` and the same pooler settings. pgbench
# goes to the primary service (5433) of each and to PostgreSQL directly; interleaved rounds, paired ratios. The
# "haproxy" rows are HAProxy -> PgBouncer, and their CPU is HAProxy's plus PgBouncer's.
#
# Prerequisites: as bench/relay/run.sh, plus pgbouncer (Debian 12: 1.18), and a pggate with `dest: pool`.
# Knobs: as bench/relay/run.sh (ROUNDS, DURATION, CLIENTS, THREADS, WARMUP, MODES, PGGATE_DLL, PGGATE_VARIANTS, HOLD,
# OUT_DIR), plus POOL_SIZE=20. MODES adds tpcb_n (pgbench -N) to simple, extended, connect.
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
OUT_DIR=${OUT_DIR:-$repo/bench/results/poolsvc-$(date -u +%Y%m%dT%H%M%SZ)}
POOL_SIZE=${POOL_SIZE:-20}

PG_BIN=/usr/lib/postgresql/15/bin
PG_ADDR=127.0.4.20
HAPROXY_ADDR=127.0.4.21
PGGATE_FIRST=22           # variant i binds 127.0.4.(22+i)
SERVICE_PORT=5433         # Pigsty's `primary` service: dest pgbouncer (HAProxy) / pool (PgGate)
# This machine's hard limit on open files is 20000, so Pigsty's `maxconn 65535` (HAProxy wants ~2 FDs per
# connection) cannot be honoured; the largest that fits, rounded down.
HAPROXY_GLOBAL_MAXCONN=${HAPROXY_GLOBAL_MAXCONN:-9000}

. "$repo/bench/lib.sh"
[[ $(id -u) -eq 0 ]] || die "run as root (PostgreSQL is started as the postgres OS user through runuser)"
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" /usr/bin/pgbench /usr/bin/psql /usr/sbin/haproxy /usr/sbin/pgbouncer; do
    [[ -x $tool ]] || die "$tool is missing; install postgresql-15, postgresql-client-15 and haproxy (scripts/install-deps.sh)"
done
command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is missing"
[[ -f $PGGATE_DLL ]] || die "$PGGATE_DLL is missing; build first: dotnet build -c Release"
for addr in "$PG_ADDR:5432" "$PG_ADDR:8008" "$HAPROXY_ADDR:$SERVICE_PORT" "127.0.4.$PGGATE_FIRST:$SERVICE_PORT" "$PG_ADDR:6432"; do
    if ss -Hltn "src $addr" | grep -q .; then die "$addr is already in use; stop what listens there first"; fi
done

work=$(mktemp -d /tmp/pggate-poolsvc-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$OUT_DIR"
pids=()          # every process started here, stopped in reverse order
pg_started=0

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- PostgreSQL 15
start_postgres 200

# ---------------------------------------------------------------- configurations and PgBouncer
echo '"postgres" ""' >"$work/userlist.txt"
chmod 644 "$work/userlist.txt"
for dest in pgbouncer pool; do
    sed -e "s|@PG_ADDR@|$PG_ADDR|g" -e "s|@DEST@|$dest|g" -e "s|@USERLIST@|$work/userlist.txt|g" -e "s|@POOL_SIZE@|$POOL_SIZE|g" \
        bench/poolsvc/pggate-bench.yml.in >"$work/pggate-$dest.yml"
done
mkdir -p "$work/pgbouncer"
cat >"$work/pgbouncer/pgbouncer.ini" <<INI
[databases]
* = host=$PG_ADDR port=5432

[pgbouncer]
listen_addr = $PG_ADDR
listen_port = 6432
unix_socket_dir =
pidfile = $work/pgbouncer/pgbouncer.pid
logfile = $work/pgbouncer/pgbouncer.log
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
reserve_pool_size = 0
max_client_conn = 5000
max_db_connections = 0
max_user_connections = 0
server_reset_query = DISCARD ALL
log_connections = 0
log_disconnections = 0
INI
chown -R postgres:postgres "$work/pgbouncer"
# -u: PgBouncer drops to postgres itself (keeps this shell's limits; $! is its own PID).
/usr/sbin/pgbouncer -u postgres "$work/pgbouncer/pgbouncer.ini" >"$work/pgbouncer.out" 2>&1 &
pgbouncer_pid=$!
pids+=("$pgbouncer_pid")

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
dotnet "$PGGATE_DLL" check-config -c "$work/pggate-pgbouncer.yml" --node pg-bench-1 --haproxy >"$work/haproxy/services.txt"
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
target_pid[haproxy]=$haproxy_pid,$pgbouncer_pid
i=0
for spec in $PGGATE_VARIANTS; do
    IFS=: read -r -a parts <<<"$spec"
    name=${parts[0]}
    addr=127.0.4.$((PGGATE_FIRST + i))
    dll=$PGGATE_DLL
    envs=()
    for kv in "${parts[@]:1}"; do
        if [[ $kv == DLL=* ]]; then dll=${kv#DLL=}; else envs+=("$kv"); fi
    done
    echo "== PgGate '$name' on $addr (${envs[*]:-default settings}; $dll)" >&2
    env "${envs[@]}" dotnet "$dll" run -c "$work/pggate-pool.yml" --node pg-bench-1 --bind "$addr" --log-level Warning \
        >"$work/pggate-$name.log" 2>&1 &
    target_pid[$name]=$!
    target_host[$name]=$addr
    pids+=($!)
    variant_names+=("$name")
    i=$((i + 1))
done

wait_ready "$PG_ADDR" 5432 PostgreSQL
wait_ready "$PG_ADDR" 6432 PgBouncer
wait_ready "$HAPROXY_ADDR" "$SERVICE_PORT" HAProxy
for name in "${variant_names[@]}"; do wait_ready "${target_host[$name]}" "$SERVICE_PORT" "PgGate '$name'"; done

if [[ ${HOLD:-0} == 1 ]]; then
    for name in "${variant_names[@]}" haproxy; do echo "$name: pid ${target_pid[$name]}, ${target_host[$name]}:$SERVICE_PORT" >&2; done
    echo "direct: $PG_ADDR:5432; holding until Ctrl-C or SIGTERM" >&2
    while true; do sleep 1; done
fi

# ---------------------------------------------------------------- measurements and report
run_proxy_rounds
proxy_report "Primary service: PgGate dest: pool vs HAProxy -> PgBouncer" \
    "Rows 'haproxy' are HAProxy -> PgBouncer (CPU: both processes). Pool size $POOL_SIZE, transaction mode, trust auth, on both." \
    "127.0.4.2x"
echo "raw outputs: $OUT_DIR" >&2
