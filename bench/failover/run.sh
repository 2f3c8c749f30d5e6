#!/usr/bin/env bash
# Failover and switchover through PgGate vs HAProxy + PgBouncer configured as Pigsty does, in the same run.
#
# Starts (through the integration test project's failover fixture) etcd and three Patroni members in synchronous mode
# with Pigsty's settings and the `fast` RTO plan; PgGate beside every member (dcs source: etcd leader watch, Patroni
# checks as second opinion; primary/replica services pooled, default service and a replica-direct service relayed);
# and Pigsty's stack: PgBouncer beside every member (transaction pooling, port 6433) behind HAProxy 2.6 with Pigsty's
# haproxy.cfg and the service files `pggate check-config --haproxy` renders (same renderer), checking Patroni's REST API
# on the same RTO plan. Then, RUNS times, every scenario with the same load through all three stacks at once, so they
# meet the identical failover:
#   kill -9 postmaster | stop Patroni | kill node | old primary without key (Patroni SIGKILLed, PostgreSQL left running)
#   | switchover (through PgGate's admin API, which pauses PgGate's nodes; HAProxy's clients see it unpaused)
# Load per stack: 2 writers (one autocommit INSERT every 50 ms each, own connection, reconnect on loss), 1 reader
# through the replica service, 4 idle clients. Prints a markdown table (medians, min-max) and writes it to
# $OUT_DIR/report.md; `UPDATE_DOCS=1` also replaces the table in docs/benchmarks.md's "Failover" section.
#
# Prerequisites: root; postgresql-15, patroni, etcd-server, haproxy, pgbouncer (Debian); .NET 10 SDK.
# Knobs: RUNS=3  SCENARIOS="stop Patroni,kill node"  PATRONI_HOSTS=127.0.0.40,...43  HAPROXY_ADDR=127.0.0.50
#        NO_BUILD=1  OUT_DIR=bench/results/failover-<utc>
#        PGGATE_TEST_LOG_FILE=/tmp/failover.log  (PgGate's and the scenarios' log lines, e.g. when each node saw the
#        leader key move, confirmed the new primary, prewarmed connections; and every kind of write failure per stack)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
RUNS=${RUNS:-3}
OUT_DIR=${OUT_DIR:-$repo/bench/results/failover-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT_DIR"
results="$OUT_DIR/results.tsv"
: >"$results"

[[ $(id -u) -eq 0 ]] || { echo "run.sh: run as root (PostgreSQL and Patroni run as the postgres OS user)" >&2; exit 1; }
for tool in /usr/bin/patroni /usr/bin/etcd /usr/sbin/haproxy /usr/sbin/pgbouncer /usr/lib/postgresql/15/bin/postgres; do
    [[ -x $tool ]] || { echo "run.sh: $tool is missing (apt-get install patroni etcd-server haproxy pgbouncer postgresql-15)" >&2; exit 1; }
done
[[ -n ${NO_BUILD:-} ]] || dotnet build -c Release tests/PgGate.IntegrationTests >"$OUT_DIR/build.log" 2>&1 || { tail -20 "$OUT_DIR/build.log"; exit 1; }

export PGGATE_FAILOVER_BENCH=1 PGGATE_FAILOVER_RUNS=$RUNS PGGATE_FAILOVER_RESULTS=$results
[[ -z ${PATRONI_HOSTS:-} ]] || export PGGATE_PATRONI_TEST_HOSTS=$PATRONI_HOSTS
[[ -z ${HAPROXY_ADDR:-} ]] || export PGGATE_FAILOVER_HAPROXY_ADDR=$HAPROXY_ADDR
[[ -z ${SCENARIOS:-} ]] || export PGGATE_FAILOVER_SCENARIOS=$SCENARIOS
started=$(date -u +%Y-%m-%dT%H:%MZ)
dotnet test --project tests/PgGate.IntegrationTests -c Release --no-build -- \
    --filter-class PgGate.IntegrationTests.Failover.FailoverBenchmark >"$OUT_DIR/test.log" 2>&1 \
    || { grep -E 'failed|Exception|Assert' "$OUT_DIR/test.log" | head -20 >&2; echo "run.sh: the benchmark failed; see $OUT_DIR/test.log" >&2; exit 1; }
[[ -s $results ]] || { echo "run.sh: nothing measured (skipped?); see $OUT_DIR/test.log" >&2; exit 1; }

{
    echo "Failover, $RUNS run(s) per scenario, $started, $(nproc) cores ($(uname -m)), Patroni $(patroni --version 2>/dev/null | awk '{print $2}'), HAProxy $(haproxy -v | awk 'NR==1{print $3}'), PgBouncer $(pgbouncer --version | awk 'NR==1{print $2}')."
    echo "Command: \`RUNS=$RUNS bench/failover/run.sh\`. Median (min-max) over the runs; times in ms."
    echo
    awk -f bench/failover/summarize.awk "$results"
} | tee "$OUT_DIR/report.md"

if [[ -n ${UPDATE_DOCS:-} ]]; then
    awk -v report="$OUT_DIR/report.md" '
        /<!-- failover-results:begin -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
        /<!-- failover-results:end -->/ { skip = 0 }
        !skip { print }
    ' docs/benchmarks.md >"$OUT_DIR/benchmarks.md" && cp "$OUT_DIR/benchmarks.md" docs/benchmarks.md
fi
