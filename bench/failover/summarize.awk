# results.tsv (one line per scenario, stack and run) -> markdown table of medians and ranges.
# Columns: scenario stack old new promo_to_write pg_to_write fault_to_write failed_w failed_r longest_w dropped dropped_idle acked missing wrong outage
BEGIN { FS = "\t" }
function add(key, col, v) { if (v == "-") return; n[key, col]++; vals[key, col, n[key, col]] = v + 0 }
function cell(key, col,    i, j, k, t, m, a) {
    m = n[key, col]; if (m == 0) return "-"
    for (i = 1; i <= m; i++) a[i] = vals[key, col, i]
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    k = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    return (m == 1 || a[1] == a[m]) ? sprintf("%d", k) : sprintf("%d (%d-%d)", k, a[1], a[m])
}
{
    key = $1 SUBSEP $2
    if (!(key in seen)) { seen[key] = 1; order[++rows] = key }
    add(key, 5, $5); add(key, 6, $6); add(key, 7, $7); add(key, 8, $8); add(key, 9, $9)
    add(key, 10, $10); add(key, 11, $11); add(key, 12, $12); add(key, 14, $14); add(key, 15, $15); add(key, 16, $16)
}
END {
    print "| scenario | stack | promotion → first write | new primary up → first write | write outage | failed writes | failed reads | longest write | dropped conns (busy) | dropped idle conns | acked writes lost | writes to non-leader |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for (r = 1; r <= rows; r++) {
        split(order[r], p, SUBSEP); key = order[r]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[1], p[2], cell(key, 5), cell(key, 6), cell(key, 16), cell(key, 8), cell(key, 9), cell(key, 10), cell(key, 11), cell(key, 12), cell(key, 14), cell(key, 15)
    }
}
