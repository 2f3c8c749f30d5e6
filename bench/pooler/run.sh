#!/usr/bin/env bash
# PgGate's pooler against PgBouncer 1.18 (Debian) with the same settings, and PostgreSQL directly, in one run.
#
# Starts a PostgreSQL 15 on 127.0.4.2:5432 (pgbench -i -s 10), PgBouncer on 127.0.4.3:6432 and PgGate's pooler on
# 127.0.4.4:6432 (bench/PgGate.Benchmarks `pooler`, until `pggate pooler --ini` exists), both in transaction mode with
# default_pool_size=$POOL_SIZE, reserve_pool_size=0, no per-db/user caps, auth_type=trust against the same userlist,
# PostgreSQL trusting 127.0.0.0/8. Then runs ROUNDS interleaved rounds (target order rotated each round) of:
#     pgbench -S -M simple|extended -c 16|64|256      PgGate, PgBouncer, direct (16 clients only)
#     pgbench -S -M prepared -c 16|64|256             PgGate and direct only: PgBouncer 1.18 cannot run protocol-level
#                                                     prepared statements in transaction mode (support came in 1.21)
#     pgbench -N -c 16 (simple)                       PgGate, PgBouncer, direct
#     pgbench -S -C -c 16 (simple, new connection per transaction)
# reading each pooler's CPU time from /proc/<pid>/stat. Then memory per idle client: for each pooler, RSS before and
# after IDLE_CLIENTS clients (bench/PgGate.Benchmarks `idle`: log in with trust, stay idle), delta / clients.
# Prints a markdown report (medians and per-round paired ratios) to stdout and $OUT_DIR/report.md.
#
# Prerequisites: root; postgresql-15, postgresql-client-15 (pgbench, psql), pgbouncer (Debian 12: 1.18); the .NET 10 SDK
# and `dotnet build -c Release bench/PgGate.Benchmarks` (this script does not build). Nothing else on 127.0.4.2-4.
# Every process started here is stopped by PID on exit; the scratch directory is removed (KEEP=1 keeps it).
#
# Knobs: ROUNDS=2 DURATION=6 WARMUP=3 POOL_SIZE=20 THREADS=2 CLIENT_COUNTS="16 64 256"
#        CASES="simple extended prepared tpcb_n connect"  IDLE_CLIENTS=10000 (0 skips the memory test)
#        DIRECT_MAX_CLIENTS=16 (direct runs only up to this many clients)
#        BENCH_DLL=bench/PgGate.Benchmarks/bin/Release/net10.0/PgGate.Benchmarks.dll  OUT_DIR=bench/results/pooler-<utc>
#        HOLD=1: start everything, print PIDs and addresses, wait for Ctrl-C/SIGTERM instead of measuring (for perf)
#        PGGATE_VARIANTS="pggate"  space-separated PgGate poolers compared in the same run, each `name[:VAR=value...]`
#                                  (that process's environment; DLL=<path> picks another build); variant i on 127.0.4.(4+i)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-3}
POOL_SIZE=${POOL_SIZE:-20}
THREADS=${THREADS:-2}
CLIENT_COUNTS=${CLIENT_COUNTS:-"16 64 256"}
CASES=${CASES:-"simple extended prepared tpcb_n connect"}
IDLE_CLIENTS=${IDLE_CLIENTS:-10000}
DIRECT_MAX_CLIENTS=${DIRECT_MAX_CLIENTS:-16}
BENCH_DLL=${BENCH_DLL:-$repo/bench/PgGate.Benchmarks/bin/Release/net10.0/PgGate.Benchmarks.dll}
PGGATE_VARIANTS=${PGGATE_VARIANTS:-pggate}
OUT_DIR=${OUT_DIR:-$repo/bench/results/pooler-$(date -u +%Y%m%dT%H%M%SZ)}

PG_BIN=/usr/lib/postgresql/15/bin
PG_ADDR=127.0.4.2
PGBOUNCER_ADDR=127.0.4.3
PGGATE_FIRST=4            # PgGate variant i listens on 127.0.4.(4+i)
POOL_PORT=6432

. "$repo/bench/lib.sh"
[[ $(id -u) -eq 0 ]] || die "run as root (PostgreSQL and PgBouncer run as the postgres OS user through runuser)"
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl" /usr/bin/pgbench /usr/bin/psql /usr/sbin/pgbouncer; do
    [[ -x $tool ]] || die "$tool is missing; install postgresql-15, postgresql-client-15 and pgbouncer"
done
[[ -f $BENCH_DLL ]] || die "$BENCH_DLL is missing; build it: dotnet build -c Release bench/PgGate.Benchmarks"
for addr in "$PG_ADDR:5432" "$PGBOUNCER_ADDR:$POOL_PORT" "127.0.4.$PGGATE_FIRST:$POOL_PORT"; do
    if ss -Hltn "src $addr" | grep -q .; then die "$addr is already in use; stop what listens there first"; fi
done
# 10,000 idle clients need 10,000 descriptors in the pooler and as many in the opener.
ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) >= IDLE_CLIENTS + 1000 )) || die "ulimit -n $(ulimit -n) is too low for IDLE_CLIENTS=$IDLE_CLIENTS"

work=$(mktemp -d /tmp/pggate-pooler-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$OUT_DIR"
pids=()
pg_started=0

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- PostgreSQL 15
start_postgres 400

# ---------------------------------------------------------------- the two poolers, same settings
echo '"postgres" ""' >"$work/userlist.txt"
chmod 644 "$work/userlist.txt"
mkdir -p "$work/pgbouncer"
cat >"$work/pgbouncer/pgbouncer.ini" <<INI
[databases]
* = host=$PG_ADDR port=5432

[pgbouncer]
listen_addr = $PGBOUNCER_ADDR
listen_port = $POOL_PORT
unix_socket_dir =
pidfile = $work/pgbouncer/pgbouncer.pid
logfile = $work/pgbouncer/pgbouncer.log
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = $((IDLE_CLIENTS + 1000))
max_db_connections = 0
max_user_connections = 0
server_reset_query = DISCARD ALL
server_lifetime = 600
server_idle_timeout = 600
query_wait_timeout = 120
log_connections = 0
log_disconnections = 0
stats_period = 60
INI
chown -R postgres:postgres "$work/pgbouncer"
echo "== PgBouncer $(pgbouncer --version | head -n 1 | awk '{ print $2 }') on $PGBOUNCER_ADDR:$POOL_PORT" >&2
# -u: PgBouncer drops to postgres itself, so it keeps this shell's open-file limit (runuser's PAM session resets it)
# and $! is PgBouncer's own PID (for its CPU time and RSS).
/usr/sbin/pgbouncer -u postgres "$work/pgbouncer/pgbouncer.ini" >"$work/pgbouncer.out" 2>&1 &
pgbouncer_pid=$!
pids+=("$pgbouncer_pid")

variant_names=()
declare -A target_host target_port target_pid
i=0
for spec in $PGGATE_VARIANTS; do
    IFS=: read -r -a parts <<<"$spec"
    name=${parts[0]}
    addr=127.0.4.$((PGGATE_FIRST + i))
    dll=$BENCH_DLL
    envs=()
    for kv in "${parts[@]:1}"; do
        if [[ $kv == DLL=* ]]; then dll=${kv#DLL=}; else envs+=("$kv"); fi
    done
    echo "== PgGate pooler '$name' on $addr:$POOL_PORT (${envs[*]:-default settings}; $dll)" >&2
    env "${envs[@]}" dotnet "$dll" pooler --listen "$addr:$POOL_PORT" --backend "$PG_ADDR:5432" --pool-size "$POOL_SIZE" \
        --mode transaction --reserve-pool 0 --max-client-conn $((IDLE_CLIENTS + 1000)) --auth-file "$work/userlist.txt" \
        >"$work/pggate-$name.log" 2>&1 &
    target_pid[$name]=$!
    target_host[$name]=$addr
    target_port[$name]=$POOL_PORT
    pids+=($!)
    variant_names+=("$name")
    i=$((i + 1))
done

wait_ready "$PGBOUNCER_ADDR" "$POOL_PORT" PgBouncer
for name in "${variant_names[@]}"; do wait_ready "${target_host[$name]}" "$POOL_PORT" "PgGate's pooler '$name'"; done
grep -q "^Max open files *$((IDLE_CLIENTS + 1000))\|^Max open files *[0-9]\{5,\}" "/proc/$pgbouncer_pid/limits" \
    || echo "warning: PgBouncer's open-file limit: $(grep '^Max open files' "/proc/$pgbouncer_pid/limits")" >&2

target_host[pgbouncer]=$PGBOUNCER_ADDR; target_port[pgbouncer]=$POOL_PORT; target_pid[pgbouncer]=$pgbouncer_pid
target_host[direct]=$PG_ADDR;         target_port[direct]=5432

if [[ ${HOLD:-0} == 1 ]]; then
    for name in "${variant_names[@]}" pgbouncer; do echo "$name: pid ${target_pid[$name]}, ${target_host[$name]}:$POOL_PORT" >&2; done
    echo "direct: $PG_ADDR:5432; holding until Ctrl-C or SIGTERM" >&2
    while true; do sleep 1; done
fi

# ---------------------------------------------------------------- the runs
# Each run: "case clients" ; pgbench arguments per case; targets per case.
pgbench_args() {
    case $1 in
        simple) echo "-S -M simple" ;;
        extended) echo "-S -M extended" ;;
        prepared) echo "-S -M prepared" ;;
        tpcb_n) echo "-N -M simple" ;;
        connect) echo "-S -C -M simple" ;;
        *) die "unknown case $1" ;;
    esac
}
# PgBouncer 1.18 cannot run -M prepared in transaction mode. Direct runs only up to DIRECT_MAX_CLIENTS: every pgbench
# client is then a new backend, and here a backend takes ~100 ms to start, so 256 of them eat the whole run.
case_targets() {
    local list="${variant_names[*]}"
    [[ $1 == prepared ]] || list+=" pgbouncer"
    (($2 <= DIRECT_MAX_CLIENTS)) && list+=" direct"
    echo "$list"
}
runs=()
for c in $CASES; do
    case $c in
        simple | extended | prepared) for n in $CLIENT_COUNTS; do runs+=("$c $n"); done ;;
        *) runs+=("$c 16") ;;
    esac
done

run_pgbench() {   # target case clients seconds log
    local target=$1 c=$2 n=$3 seconds=$4 log=$5
    # shellcheck disable=SC2046
    timeout $((seconds + 120)) pgbench -n $(pgbench_args "$c") -c "$n" -j "$THREADS" -T "$seconds" \
        -h "${target_host[$target]}" -p "${target_port[$target]}" -U postgres bench >"$log" 2>&1
}

if ((WARMUP > 0)); then
    echo "== warm-up: ${WARMUP} s per run and target" >&2
    for r in "${runs[@]}"; do
        read -r c n <<<"$r"
        for target in $(case_targets "$c" "$n"); do
            run_pgbench "$target" "$c" "$n" "$WARMUP" "$work/warmup.txt" || die "warm-up $c -c $n through $target failed: $(tail -n 3 "$work/warmup.txt")"
        done
    done
fi

results="$OUT_DIR/results.tsv"
printf 'round\tcase\tclients\ttarget\ttps\ttransactions\tlatency_ms\tconnect_ms\tpooler_cpu_s\tpooler_cpu_us_per_tx\n' >"$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
for ((round = 1; round <= ROUNDS; round++)); do
    for r in "${runs[@]}"; do
        read -r c n <<<"$r"
        read -r -a tl <<<"$(case_targets "$c" "$n")"
        k=${#tl[@]}
        for ((j = 0; j < k; j++)); do
            target=${tl[(j + round - 1) % k]}
            pid=${target_pid[$target]:-}
            [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || die "$target (pid $pid) has exited; see $work"
            log="$OUT_DIR/round$round-$c-c$n-$target.txt"
            before=0; [[ -z $pid ]] || before=$(cpu_ticks "$pid")
            run_pgbench "$target" "$c" "$n" "$DURATION" "$log" || die "pgbench $c -c $n through $target failed: $(tail -n 3 "$log")"
            after=0; [[ -z $pid ]] || after=$(cpu_ticks "$pid")
            IFS=$'\t' read -r tps tx lat conn < <(pgbench_summary "$log")
            awk -v round="$round" -v c="$c" -v n="$n" -v target="$target" -v ticks=$((after - before)) -v hz="$clk_tck" -v proxy="${pid:+1}" \
                -v tps="$tps" -v tx="$tx" -v lat="$lat" -v conn="$conn" 'BEGIN {
                    cpu = proxy ? sprintf("%.2f", ticks / hz) : "-"
                    per = proxy && tx > 0 ? sprintf("%.1f", ticks / hz / tx * 1e6) : "-"
                    printf "%d\t%s\t%d\t%s\t%.1f\t%d\t%s\t%s\t%s\t%s\n", round, c, n, target, tps, tx, lat, conn, cpu, per
                }' >>"$results"
            tail -n 1 "$results" | awk -F'\t' '{ printf "round %s %-8s -c %-3s %-9s tps %8s  lat %7s ms  conn %6s ms  pooler CPU %s us/tx\n", $1, $2, $3, $4, $5, $7, $8, $10 }' >&2
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- memory per idle client
memory_report=""
if ((IDLE_CLIENTS > 0)); then
    for target in "${variant_names[@]}" pgbouncer; do
        pid=${target_pid[$target]}
        sleep 2
        rss_before=$(rss_kib "$pid")
        echo "== $IDLE_CLIENTS idle clients on $target (RSS before: $rss_before KiB)" >&2
        dotnet "$BENCH_DLL" idle --target "${target_host[$target]}:${target_port[$target]}" --count "$IDLE_CLIENTS" \
            --user postgres --database bench >"$work/idle-$target.log" 2>&1 &
        opener=$!
        pids+=("$opener")
        for _ in $(seq 600); do grep -q '^idle clients:' "$work/idle-$target.log" && break; kill -0 "$opener" 2>/dev/null || break; sleep 0.5; done
        grep -q '^idle clients:' "$work/idle-$target.log" || die "the idle-client opener did not finish: $(tail -n 3 "$work/idle-$target.log")"
        opened=$(awk '/^idle clients:/ { print $3 }' "$work/idle-$target.log")
        sleep 3   # let the pooler settle (buffers trimmed, GC) before reading RSS
        rss_during=$(rss_kib "$pid")
        stop_pid "$opener"
        line=$(awk -v t="$target" -v b="$rss_before" -v d="$rss_during" -v n="$opened" \
            'BEGIN { printf "| %s | %d | %.1f | %.1f | %.2f |", t, n, b / 1024, d / 1024, (n > 0 ? (d - b) / n : 0) }')
        echo "$line ($(grep '^idle clients:' "$work/idle-$target.log"))" >&2
        memory_report+="$line"$'\n'
    done
fi

# ---------------------------------------------------------------- report
{
    echo "### Pooler benchmark, $started"
    echo
    echo "Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)," \
        "load average $load_before before, $load_after after (the machine is shared)."
    echo "Versions: PgBouncer $(pgbouncer --version | head -n 1 | awk '{ print $2 }'); $("$PG_BIN/postgres" --version);" \
        "$(pgbench --version); .NET $(dotnet --version); PgGate $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes'); variants: $PGGATE_VARIANTS."
    echo
    echo "Both poolers: transaction mode, default_pool_size=$POOL_SIZE, reserve_pool_size=0, no max_db/user_connections," \
        "auth_type=trust with the same userlist, server PostgreSQL 15 on loopback (trust), pgbench -s 10."
    echo "Rounds: $ROUNDS × ${DURATION} s per run, interleaved (target order rotated each round), warm-up ${WARMUP} s per run" \
        "and target. pgbench -j $THREADS. Ratios are medians of per-round ratios."
    echo
    awk -F'\t' -v variants="${variant_names[*]}" -f bench/pooler/summarize.awk "$results"
    if [[ -n $memory_report ]]; then
        echo
        echo "Memory per idle client (clients logged in with trust, then idle; RSS of the pooler process):"
        echo
        echo "| pooler | idle clients | RSS before MiB | RSS with clients MiB | KiB per idle client |"
        echo "|---|---:|---:|---:|---:|"
        printf '%s' "$memory_report"
    fi
    echo
    echo "Commands (HOST:PORT = 127.0.4.$PGGATE_FIRST:$POOL_PORT PgGate, $PGBOUNCER_ADDR:$POOL_PORT PgBouncer, $PG_ADDR:5432 direct):"
    echo
    echo '```'
    for r in "${runs[@]}"; do
        read -r c n <<<"$r"
        echo "pgbench -n $(pgbench_args "$c") -c $n -j $THREADS -T $DURATION -h HOST -p PORT -U postgres bench"
    done
    echo '```'
} | tee "$OUT_DIR/report.md"
echo "raw outputs: $OUT_DIR" >&2
