-- Fixture for test_report.sh: known traffic in the hour
-- 2026-11-25T10:00:00Z (1795600800) to 11:00:00Z (1795604400), plus rows
-- just outside it (one bucket before, one at the exclusive end) that a
-- windowed report must not count.  Ties (700 bytes, 400 bytes) check the
-- key order; protocol 254 has a name with a comma, quotes and a newline to
-- check CSV quoting, JSON escaping and table sanitising end to end.
-- The fixture names its own address ids: drop any the schema put there.
DELETE FROM address;
INSERT INTO agent VALUES (1, 'agent-a', 1795590000, 1, 60, 1795590000, 1795604400);
INSERT INTO iface VALUES (1, 1, 'eth0'), (2, 1, 'eth1');
INSERT INTO address VALUES
  (1, X'040A000001', 4, '10.0.0.1'),
  (2, X'040A000002', 4, '10.0.0.2'),
  (3, X'0620010DB8000000000000000000000001', 6, '2001:db8::1'),
  (4, X'04C0000207', 4, '192.0.2.7'),
  (5, X'04C6336409', 4, '198.51.100.9'),
  (6, X'00', 0, 'overflow'),
  (7, X'040A00000A', 4, '10.0.0.10');
INSERT INTO protocol VALUES (254, 'odd,"name"' || char(10) || 'x');
INSERT INTO batch VALUES (1, 1, 1795590000, 1, 1795600740, 1795604400, 1795604410, 40);

-- bucket, resolution, iface, host, proto, direction (0 in, 1 out),
-- packets, bytes, frame_bytes, batch
INSERT INTO host_stat VALUES
  (1795600800, 60, 1, 1, 6, 1, 1000, 1400000, 1414000, 1),
  (1795600860, 60, 1, 1, 6, 0, 3000, 4500000, 4542000, 1),
  (1795604340, 60, 2, 1, 17, 1, 10, 1000, 1140, 1),
  (1795600800, 60, 1, 7, 6, 0, 5, 700, 770, 1),
  (1795600800, 60, 1, 2, 17, 1, 7, 400, 456, 1),
  (1795600980, 60, 1, 2, 254, 0, 3, 300, 342, 1),
  (1795600800, 3600, 1, 3, 58, 0, 2, 5368709120, 5368709200, 1),
  (1795600920, 60, 1, 6, 253, 1, 1, 100, 114, 1),
  (1795600740, 60, 1, 2, 6, 1, 99, 99999999, 99999999, 1),
  (1795604400, 60, 1, 7, 6, 1, 99, 88888888, 88888888, 1);

-- bucket, resolution, iface, host, proto, port, direction, packets, bytes,
-- frame_bytes, batch
INSERT INTO port_stat VALUES
  (1795600800, 60, 1, 1, 6, 443, 1, 1000, 1400000, 1414000, 1),
  (1795600860, 60, 1, 1, 6, 443, 0, 3000, 4500000, 4542000, 1),
  (1795600800, 60, 1, 7, 6, 22, 0, 5, 700, 770, 1),
  (1795600800, 60, 1, 2, 17, 53, 1, 7, 400, 456, 1),
  (1795604340, 60, 2, 1, 17, 53, 1, 10, 1000, 1140, 1),
  (1795600800, 60, 1, 1, 132, 36412, 1, 2, 700, 800, 1),
  (1795600980, 60, 1, 2, 254, 9, 0, 3, 300, 342, 1),
  (1795600740, 60, 1, 2, 6, 80, 1, 99, 99999999, 99999999, 1),
  (1795604400, 60, 1, 7, 6, 22, 1, 99, 88888888, 88888888, 1);

-- bucket, resolution, iface, host, peer, proto, direction, packets, bytes,
-- frame_bytes, batch
INSERT INTO peer_stat VALUES
  (1795600800, 60, 1, 1, 4, 6, 1, 1000, 1400000, 1414000, 1),
  (1795600860, 60, 1, 1, 4, 6, 0, 3000, 4500000, 4542000, 1),
  (1795600800, 60, 1, 1, 5, 17, 1, 10, 1000, 1140, 1),
  (1795600800, 60, 1, 2, 5, 17, 1, 7, 400, 456, 1),
  (1795600800, 60, 1, 7, 4, 6, 0, 4, 400, 440, 1),
  (1795600800, 60, 1, 1, 2, 6, 1, 1, 60, 74, 1),
  (1795600800, 60, 1, 2, 1, 6, 0, 1, 60, 74, 1),
  (1795600740, 60, 1, 2, 4, 6, 1, 99, 99999999, 99999999, 1),
  (1795604400, 60, 1, 7, 5, 6, 1, 99, 88888888, 88888888, 1);
