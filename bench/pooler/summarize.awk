# Turns bench/pooler/run.sh's results.tsv into markdown: medians per (case, clients, target), then PgGate's ratios.
# Ratios are medians of per-round ratios (both runs of a pair measured seconds apart in the same round).
# Columns: round case clients target tps transactions latency_ms connect_ms pooler_cpu_s pooler_cpu_us_per_tx

function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return ""
    for (i = 2; i <= n; i++) {
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, value) { if (value != "-" && value != "") store[key] = store[key] " " value }
function ratio(run, num, den, field,    r, list) {
    list = ""
    for (r = 1; r <= rounds; r++)
        if ((run SUBSEP num SUBSEP r SUBSEP field) in cell && (run SUBSEP den SUBSEP r SUBSEP field) in cell &&
            cell[run, den, r, field] + 0 > 0)
            list = list " " cell[run, num, r, field] / cell[run, den, r, field]
    return list == "" ? "-" : sprintf("%.2f", median(list))
}
function fmt(v, f) { return v == "" ? "-" : sprintf(f, v) }

NR == 1 { next }
{
    round = $1; run = $2 " " $3; target = $4
    if (!(run in seenRun)) { seenRun[run] = 1; runs[++runCount] = run }
    if (round > rounds) rounds = round
    add(run SUBSEP target SUBSEP "tps", $5)
    add(run SUBSEP target SUBSEP "lat", $7)
    add(run SUBSEP target SUBSEP "conn", $8)
    add(run SUBSEP target SUBSEP "cpu", $10)
    present[run, target] = 1
    cell[run, target, round, "tps"] = $5
    if ($8 != "-") cell[run, target, round, "conn"] = $8
    if ($10 != "-") cell[run, target, round, "cpu"] = $10
}
END {
    label["simple"] = "-S -M simple"; label["extended"] = "-S -M extended"; label["prepared"] = "-S -M prepared"
    label["tpcb_n"] = "-N -M simple"; label["connect"] = "-S -C"
    nv = split(variants, v, " ")
    targetCount = 0
    for (i = 1; i <= nv; i++) targets[++targetCount] = v[i]
    targets[++targetCount] = "pgbouncer"; targets[++targetCount] = "direct"
    print "| pgbench | clients | target | tps (median) | latency avg ms | connect ms (-C) | pooler CPU µs per tx |"
    print "|---|---:|---|---:|---:|---:|---:|"
    for (i = 1; i <= runCount; i++) {
        split(runs[i], p, " ")
        for (t = 1; t <= targetCount; t++) {
            k = runs[i] SUBSEP targets[t]
            if (!((runs[i], targets[t]) in present)) continue
            printf "| %s | %s | %s | %.0f | %s | %s | %s |\n", label[p[1]], p[2], targets[t], median(store[k SUBSEP "tps"]),
                fmt(median(store[k SUBSEP "lat"]), "%.3f"), fmt(median(store[k SUBSEP "conn"]), "%.3f"), fmt(median(store[k SUBSEP "cpu"]), "%.1f")
        }
    }
    print ""
    print "| pgbench | clients | PgGate variant | tps PgGate/PgBouncer | tps PgGate/direct | tps PgBouncer/direct | pooler CPU per tx PgGate/PgBouncer | connect time PgGate/PgBouncer |"
    print "|---|---:|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= runCount; i++) {
        split(runs[i], p, " ")
        for (j = 1; j <= nv; j++)
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label[p[1]], p[2], v[j], ratio(runs[i], v[j], "pgbouncer", "tps"),
                ratio(runs[i], v[j], "direct", "tps"), ratio(runs[i], "pgbouncer", "direct", "tps"),
                ratio(runs[i], v[j], "pgbouncer", "cpu"), p[1] == "connect" ? ratio(runs[i], v[j], "pgbouncer", "conn") : "-"
    }
}
