# Shared by bench/*/run.sh (sourced, not run): process cleanup, readiness waits, CPU and memory readings, and the
# scratch PostgreSQL 15 every benchmark starts. The caller sets PG_BIN, PG_ADDR and `work`, and keeps `pids`
# (every process it starts, stopped in reverse order) and `pg_started`.

die() { echo "run.sh: $*" >&2; exit 1; }

# Stops one process by PID: TERM, up to 10 s, then KILL.
stop_pid() {
    local pid=$1
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    return 0
}

# On exit (also Ctrl-C and errors): every started process, then PostgreSQL, then the scratch directory (KEEP=1 keeps it).
cleanup() {
    local status=$?
    set +e
    trap - EXIT INT TERM
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
    if ((pg_started)); then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$work/pg" -m fast -t 30 stop >/dev/null 2>&1
        local pm
        pm=$(head -n 1 "$work/pg/postmaster.pid" 2>/dev/null)
        [[ -n $pm ]] && kill -0 "$pm" 2>/dev/null && kill -KILL "$pm"
    fi
    if [[ ${KEEP:-0} == 1 ]]; then echo "scratch directory kept: $work" >&2; else rm -rf "$work"; fi
    exit "$status"
}

# Waits (bounded) until `psql` through host:port answers.
wait_ready() {
    local host=$1 port=$2 what=$3
    for _ in $(seq 120); do
        if timeout 5 psql -X -h "$host" -p "$port" -U postgres -d bench -Atc 'select 1' >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    die "$what on $host:$port did not answer within 60 s (logs in $work; KEEP=1 keeps them)"
}

# utime + stime of a process, all threads, in clock ticks: one PID, or several separated by commas (summed).
cpu_ticks() {
    local total=0 p
    for p in ${1//,/ }; do total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }'))); done
    echo "$total"
}
# user + system time of the reaped children of a process (PostgreSQL's backends, for the postmaster), in clock ticks.
reaped_children_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $14 + $15 }'; }
# user + system time of this shell's reaped children (pgbench), in milliseconds.
# `times` must run in this shell, not in a pipeline's or $(...)'s subshell, whose counters start at zero.
shell_children_ms() {
    times >"$work/times"
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%d", t }' "$work/times"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# tps, transactions, average latency (ms) and average connection time (ms; "-" without -C) of one pgbench log, tab-separated.
pgbench_summary() {
    awk '/^number of transactions actually processed:/ { split($6, a, "/"); tx = a[1] }
        /^latency average =/ { lat = $4 }
        /^average connection time =/ { conn = $5 }
        /^tps =/ { tps = $3 }
        END { printf "%s\t%d\t%s\t%s\n", tps == "" ? 0 : tps, tx, lat == "" ? "-" : lat, conn == "" ? "-" : conn }' "$1"
}
clk_tck=$(getconf CLK_TCK)

# A scratch PostgreSQL 15 on $PG_ADDR:5432 under $work/pg, trusting loopback, tuned for benchmarks (no fsync), with a
# `bench` database loaded by `pgbench -i -s 10`. Sets `postmaster` to its PID.
start_postgres() {
    local max_connections=$1
    echo "== PostgreSQL 15 on $PG_ADDR:5432 ($work/pg)" >&2
    mkdir -p "$work/pg" "$work/sock"
    chown postgres:postgres "$work/pg" "$work/sock"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-sync >"$work/initdb.log" 2>&1 \
        || die "initdb failed: $(tail -n 5 "$work/initdb.log")"
    cat >>"$work/pg/postgresql.conf" <<CONF
listen_addresses = '$PG_ADDR'
port = 5432
unix_socket_directories = '$work/sock'
max_connections = $max_connections
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
dynamic_shared_memory_type = mmap
CONF
    echo "host all all 127.0.0.0/8 trust" >>"$work/pg/pg_hba.conf"
    pg_started=1
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$work/pg" -l "$work/sock/postgres.log" -w -t 60 start >/dev/null \
        || die "PostgreSQL did not start: $(tail -n 5 "$work/sock/postgres.log")"
    postmaster=$(head -n 1 "$work/pg/postmaster.pid")
    psql -X -q -h "$PG_ADDR" -U postgres -d postgres -c 'create database bench' >/dev/null
    echo "== pgbench -i -s 10" >&2
    timeout 600 pgbench -i -s 10 -q -h "$PG_ADDR" -U postgres bench >"$work/pgbench-init.log" 2>&1 \
        || die "pgbench -i failed: $(tail -n 5 "$work/pgbench-init.log")"
}

# ---------------------------------------------------------------- proxy rounds (relay, poolsvc)
# pgbench through every target (PgGate variants, haproxy, direct) in interleaved rounds, with each proxy's CPU, the
# backends' and pgbench's. Reads: variant_names, target_host, target_pid (comma-separated PIDs allowed), SERVICE_PORT,
# MODES, CLIENTS, THREADS, WARMUP, DURATION, ROUNDS, OUT_DIR, work, postmaster, clk_tck. Sets: targets, results,
# idle_seconds, idle_report, load_before, load_after, started.

pgbench_args() {
    case $1 in
        simple) echo "-S -M simple" ;;
        extended) echo "-S -M extended" ;;
        connect) echo "-S -C" ;;
        tpcb_n) echo "-N" ;;
        bulk) echo "-f bench/relay/bulk.sql" ;;
        *) die "unknown mode $1 (simple, extended, connect, tpcb_n, bulk)" ;;
    esac
}

run_proxy_rounds() {
    targets=("${variant_names[@]}" haproxy direct)

    if ((WARMUP > 0)); then
        echo "== warm-up: ${WARMUP} s of each run per target" >&2
        for mode in $MODES; do
            for target in "${targets[@]}"; do
                port=$SERVICE_PORT
                [[ $target == direct ]] && port=5432
                # shellcheck disable=SC2046
                timeout $((WARMUP + 60)) pgbench -n $(pgbench_args "$mode") -c "$CLIENTS" -j "$THREADS" -T "$WARMUP" \
                    -h "${target_host[$target]}" -p "$port" -U postgres bench >/dev/null 2>&1 || die "warm-up through $target failed"
            done
        done
    fi

    # What each proxy burns with no clients (health checks, timers): it is inside every CPU figure below.
    idle_seconds=10
    declare -A idle_before
    for target in "${targets[@]}"; do [[ -z ${target_pid[$target]:-} ]] || idle_before[$target]=$(cpu_ticks "${target_pid[$target]}"); done
    sleep "$idle_seconds"
    idle_report=""
    for target in "${targets[@]}"; do
        [[ -n ${target_pid[$target]:-} ]] || continue
        ms=$(( ($(cpu_ticks "${target_pid[$target]}") - ${idle_before[$target]}) * 1000 / clk_tck / idle_seconds ))
        idle_report+="${idle_report:+, }$target ${ms} ms/s"
    done
    echo "== idle CPU: $idle_report" >&2
    results="$OUT_DIR/results.tsv"
    printf 'round\tmode\ttarget\ttps\ttransactions\tlatency_ms\tconnect_ms\tproxy_cpu_s\tcpu_s_per_10k\tpath_cpu_us_per_tx\n' >"$results"
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

    for ((round = 1; round <= ROUNDS; round++)); do
        # Rotate the order every round so no target always runs first (warm caches) or last.
        n=${#targets[@]}
        order=()
        for ((k = 0; k < n; k++)); do order+=("${targets[(k + round - 1) % n]}"); done
        for mode in $MODES; do
            for target in "${order[@]}"; do
                host=${target_host[$target]}
                port=$SERVICE_PORT
                [[ $target == direct ]] && port=5432
                log="$OUT_DIR/round$round-$mode-$target.txt"
                pid=${target_pid[$target]:-}
                for p in ${pid//,/ }; do kill -0 "$p" 2>/dev/null || die "$target (pid $p) has exited; see $work"; done
                backends=$(pgrep -c -P "$postmaster" || true)
                before=0
                [[ -z $pid ]] || before=$(cpu_ticks "$pid")
                backends_before=$(reaped_children_ticks "$postmaster")
                shell_children_ms >"$work/ms"; pgbench_before=$(<"$work/ms")
                # shellcheck disable=SC2046
                timeout $((DURATION + 60)) pgbench -n $(pgbench_args "$mode") -c "$CLIENTS" -j "$THREADS" -T "$DURATION" \
                    -h "$host" -p "$port" -U postgres bench >"$log" 2>&1 || die "pgbench through $target failed: $(tail -n 3 "$log")"
                shell_children_ms >"$work/ms"; pgbench_after=$(<"$work/ms")
                after=0
                [[ -z $pid ]] || after=$(cpu_ticks "$pid")
                # The backends' CPU time reaches the postmaster when they exit and are reaped: wait for that (bounded).
                for _ in $(seq 50); do (($(pgrep -c -P "$postmaster" || true) <= backends)) && break; sleep 0.1; done
                backends_after=$(reaped_children_ticks "$postmaster")
                IFS=$'\t' read -r tps tx lat conn < <(pgbench_summary "$log")
                awk -v round="$round" -v mode="$mode" -v target="$target" -v ticks=$((after - before)) -v hz="$clk_tck" -v proxy="${pid:+1}" \
                    -v backend_ticks=$((backends_after - backends_before)) -v pgbench_ms=$((pgbench_after - pgbench_before)) \
                    -v tps="$tps" -v tx="$tx" -v lat="$lat" -v conn="$conn" 'BEGIN {
                        cpu = proxy ? sprintf("%.2f", ticks / hz) : "-"
                        per = proxy && tx > 0 ? sprintf("%.3f", ticks / hz / tx * 10000) : "-"
                        path = tx > 0 ? sprintf("%.1f", ((proxy ? ticks : 0) / hz + backend_ticks / hz + pgbench_ms / 1000) / tx * 1e6) : "-"
                        printf "%d\t%s\t%s\t%.1f\t%d\t%s\t%s\t%s\t%s\t%s\n", round, mode, target, tps, tx, lat, conn, cpu, per, path
                    }' >>"$results"
                tail -n 1 "$results" | awk -F'\t' '{ printf "round %s %-8s %-10s tps %9s  lat %6s ms  conn %6s ms  cpu/10k tx %s s  path %s us/tx\n", $1, $2, $3, $4, $6, $7, $9, $10 }' >&2
            done
        done
    done
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
}

# The markdown report of run_proxy_rounds, to stdout and $OUT_DIR/report.md: $1 title, $2 a note (may be empty),
# $3 how the proxies' addresses look in the commands.
proxy_report() {
    {
        echo "### $1, $started"
        echo
        echo "Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)," \
            "load average $load_before before, $load_after after."
        echo "Versions: $(haproxy -v | head -n 1 | awk '{ print "HAProxy", $3 }'); $("$PG_BIN/postgres" --version);" \
            "$(pgbench --version); .NET $(dotnet --version); PgGate $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes')."
        echo
        echo "Rounds: $ROUNDS × ${DURATION} s per run, interleaved (order rotated every round). Clients: pgbench -c $CLIENTS -j $THREADS."
        echo "Variants: $PGGATE_VARIANTS. Warm-up ${WARMUP} s per run and target, not recorded."
        echo "Idle CPU of each proxy (no clients, over ${idle_seconds} s; included in the CPU figures): $idle_report."
        echo
        awk -F'\t' -v variants="${variant_names[*]}" -f bench/relay/summarize.awk "$results"
        echo
        [[ -z $2 ]] || { echo "$2"; echo; }
        echo "Commands (HOST:PORT = $3:$SERVICE_PORT through a proxy, $PG_ADDR:5432 direct):"
        echo
        echo '```'
        for mode in $MODES; do
            echo "pgbench -n $(pgbench_args "$mode") -c $CLIENTS -j $THREADS -T $DURATION -h HOST -p PORT -U postgres bench"
        done
        echo '```'
    } | tee "$OUT_DIR/report.md"
}
