# Turns bench/relay/run.sh's results.tsv into markdown: medians per (mode, target), then ratios.
# Ratios are medians of per-round ratios (each pair measured minutes apart in the same round), which
# cancels most of the drift a shared machine adds; `variants` names the PgGate targets.
# Columns: round mode target tps transactions latency_ms connect_ms proxy_cpu_s cpu_s_per_10k path_cpu_us_per_tx

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
function ratios(num, den, field,    r, list) {
    list = ""
    for (r = 1; r <= rounds; r++)
        if ((mode SUBSEP num SUBSEP r SUBSEP field) in cell && (mode SUBSEP den SUBSEP r SUBSEP field) in cell &&
            cell[mode, den, r, field] + 0 > 0)
            list = list " " cell[mode, num, r, field] / cell[mode, den, r, field]
    return list == "" ? "-" : sprintf("%.2f", median(list))
}

NR == 1 { next }
{
    round = $1; mode = $2; target = $3
    if (!(mode in seenMode)) { seenMode[mode] = 1; modes[++modeCount] = mode }
    if (round > rounds) rounds = round
    add(mode SUBSEP target SUBSEP "tps", $4)
    add(mode SUBSEP target SUBSEP "lat", $6)
    add(mode SUBSEP target SUBSEP "conn", $7)
    add(mode SUBSEP target SUBSEP "cpu", $9)
    add(mode SUBSEP target SUBSEP "path", $10)
    if ($10 != "-") cell[mode, target, round, "path"] = $10
    cell[mode, target, round, "tps"] = $4
    if ($7 != "-") cell[mode, target, round, "conn"] = $7
    if ($9 != "-") cell[mode, target, round, "cpu"] = $9
}
END {
    n = split(variants, v, " ")
    targetCount = 0
    for (i = 1; i <= n; i++) targets[++targetCount] = v[i]
    targets[++targetCount] = "haproxy"
    targets[++targetCount] = "direct"
    label["simple"] = "-S -M simple"; label["extended"] = "-S -M extended"; label["connect"] = "-S -C"; label["bulk"] = "-f bulk.sql"; label["tpcb_n"] = "-N"

    print "| pgbench | target | tps (median) | latency avg ms | connect ms (-C) | proxy CPU s per 10k tx | path CPU µs per tx |"
    print "|---|---|---:|---:|---:|---:|---:|"
    for (m = 1; m <= modeCount; m++) {
        mode = modes[m]
        for (t = 1; t <= targetCount; t++) {
            target = targets[t]
            k = mode SUBSEP target
            tps = median(store[k SUBSEP "tps"]); lat = median(store[k SUBSEP "lat"])
            conn = median(store[k SUBSEP "conn"]); cpu = median(store[k SUBSEP "cpu"]); path = median(store[k SUBSEP "path"])
            printf "| %s | %s | %.0f | %s | %s | %s | %s |\n", label[mode], target, tps, lat == "" ? "-" : sprintf("%.3f", lat),
                conn == "" ? "-" : sprintf("%.3f", conn), cpu == "" ? "-" : sprintf("%.3f", cpu), path == "" ? "-" : sprintf("%.0f", path)
        }
    }
    print ""
    print "| pgbench | PgGate variant | tps PgGate/HAProxy | tps PgGate/direct | tps HAProxy/direct | proxy CPU per tx PgGate/HAProxy | path CPU per tx HAProxy/PgGate | path CPU per tx direct/PgGate | connect time PgGate/HAProxy |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    for (m = 1; m <= modeCount; m++) {
        mode = modes[m]
        for (i = 1; i <= n; i++) {
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label[mode], v[i], ratios(v[i], "haproxy", "tps"),
                ratios(v[i], "direct", "tps"), ratios("haproxy", "direct", "tps"), ratios(v[i], "haproxy", "cpu"),
                ratios("haproxy", v[i], "path"), ratios("direct", v[i], "path"),
                mode == "connect" ? ratios(v[i], "haproxy", "conn") : "-"
        }
    }
}
