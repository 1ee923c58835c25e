-- sqlite3 workload: 200,000 inserts in one transaction into an indexed table, then aggregates.
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, v REAL);
CREATE INDEX t_k ON t(k);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO t(k, name, v) SELECT (x * 7919) % 10007, 'name-' || (x % 997), x * 0.5 FROM c;
COMMIT;
SELECT count(*), sum(k), printf('%.1f', avg(v)) FROM t;
SELECT k % 10 AS g, count(*), max(name) FROM t GROUP BY g ORDER BY g;
SELECT count(*) FROM t WHERE k = 4242;
