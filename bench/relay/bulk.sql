-- Large results through the relay: 1000 rows of pgbench_accounts (about 110 KB) per transaction.
-- pgbench -i -s 10 creates 1,000,000 accounts.
\set aid random(1, 999000)
SELECT * FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 999;
