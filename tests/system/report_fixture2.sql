-- Fixture for test_report_series.sh and test_chart.sh: one agent, twenty
-- one-minute buckets from 2026-11-24T10:00:00Z (1795514400), i = 0..19,
-- with traffic that follows simple formulas the tests recompute on their
-- own (awk) to get the expected numbers:
--   10.1.0.2  wan0  tcp  in 300000 B (200 pkts), out 150000 B (100 pkts)
--   10.1.0.1  wan0  tcp  in 7500 * (i + 1) B (5 * (i + 1) pkts)
--             wan0  udp  out 3750 * (i + 1) B (3 * (i + 1) pkts)
--   10.1.0.3  wan0  tcp  in 150000 B (100 pkts), only for i >= 10
--   10.1.0.4  lan0  icmp in 75000 B (50 pkts)
-- Frame bytes are IP bytes + 14 per packet.  Ports mirror the hosts:
-- 10.1.0.2 tcp 443, 10.1.0.1 tcp 22 and udp 53, 10.1.0.3 tcp 80.
DELETE FROM address;
INSERT INTO agent VALUES (1, 'agent-b', 1795510000, 1, 60, 1795510000, 1795515600);
INSERT INTO iface VALUES (1, 1, 'wan0'), (2, 1, 'lan0');
INSERT INTO address VALUES
  (1, X'040A010001', 4, '10.1.0.1'),
  (2, X'040A010002', 4, '10.1.0.2'),
  (3, X'040A010003', 4, '10.1.0.3'),
  (4, X'040A010004', 4, '10.1.0.4');
INSERT INTO batch VALUES (1, 1, 1795510000, 1, 1795514400, 1795515599, 1795515600, 100);

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
INSERT INTO host_stat
  SELECT 1795514400 + 60 * i, 60, 1, 2, 6, 0, 200, 300000, 302800, 1 FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 2, 6, 1, 100, 150000, 151400, 1 FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 1, 6, 0, 5 * (i + 1), 7500 * (i + 1),
    7500 * (i + 1) + 70 * (i + 1), 1 FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 1, 17, 1, 3 * (i + 1), 3750 * (i + 1),
    3750 * (i + 1) + 42 * (i + 1), 1 FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 3, 6, 0, 100, 150000, 151400, 1 FROM n
    WHERE i >= 10
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 2, 4, 1, 0, 50, 75000, 75700, 1 FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
INSERT INTO port_stat
  SELECT 1795514400 + 60 * i, 60, 1, 2, 6, 443, 0, 200, 300000, 302800, 1
    FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 2, 6, 443, 1, 100, 150000, 151400, 1
    FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 1, 6, 22, 0, 5 * (i + 1),
    7500 * (i + 1), 7500 * (i + 1) + 70 * (i + 1), 1 FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 1, 17, 53, 1, 3 * (i + 1),
    3750 * (i + 1), 3750 * (i + 1) + 42 * (i + 1), 1 FROM n
  UNION ALL
  SELECT 1795514400 + 60 * i, 60, 1, 3, 6, 80, 0, 100, 150000, 151400, 1
    FROM n WHERE i >= 10;
