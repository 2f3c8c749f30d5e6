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
