-- Fixture for test_report_tiers.sh: one host's inbound traffic laid out
-- in tiers as the store's roll-up leaves it at 2026-11-25T06:00:00Z, each
-- instant in exactly one tier:
--   monthly  2026-08-01, 2026-09-01             2 buckets of 1000000000 B
--   daily    2026-10-01 .. 2026-11-14          45 buckets of   10000000 B
--   hourly   2026-11-15T00 .. 2026-11-23T23   216 buckets of     100000 B
--   raw 300  2026-11-24T00:00 .. 11-25T05:55   360 buckets of       1000 B
-- Packets are bytes / 1000, frame bytes bytes + 14 per packet; each
-- bucket has its interface row (tier_coverage reads those).
DELETE FROM address;
INSERT INTO agent VALUES (1, 'agent-t', 1795478400, 1, 300, 1785542400, 1795586100);
INSERT INTO iface VALUES (1, 1, 'eth0');
INSERT INTO address VALUES (1, X'040A020001', 4, '10.2.0.1'),
  (2, X'00', 0, 'overflow');
INSERT INTO batch VALUES (1, 1, 1795478400, 1, 1785542400, 1795586399, 1795586400, 1246);

CREATE TEMP TABLE b (bucket INTEGER, res INTEGER, bytes INTEGER);
INSERT INTO b VALUES (1785542400, 2592000, 1000000000),
  (1788220800, 2592000, 1000000000);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 44)
INSERT INTO b SELECT 1790812800 + 86400 * i, 86400, 10000000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 215)
INSERT INTO b SELECT 1794700800 + 3600 * i, 3600, 100000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 359)
INSERT INTO b SELECT 1795478400 + 300 * i, 300, 1000 FROM n;

INSERT INTO host_stat SELECT bucket, res, 1, 1, 6, 0, bytes / 1000, bytes,
  bytes + bytes / 1000 * 14, 1 FROM b;
INSERT INTO iface_stat SELECT bucket, res, 1, bytes / 1000,
  bytes + bytes / 1000 * 14, bytes / 1000, 0, 0, 0, 0, 1 FROM b;
