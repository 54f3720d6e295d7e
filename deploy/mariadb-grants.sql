-- MariaDB grants for amibridge on a ViciDial box: read the tables it joins calls with and the
-- HTTP API reads, insert leads, nothing else. Run as root:
--   mariadb asterisk < deploy/mariadb-grants.sql
-- then set the password (and put the same value in /etc/amibridge/amibridge.env as
-- VICIDIAL_DB_PASSWORD):
--   mariadb -e "ALTER USER 'amibridge'@'localhost' IDENTIFIED BY '...'"
-- The list of tables is ViciDialRepository.tablesRead (Sources/ViciDial); a test
-- checks that this file grants exactly those. `amibridge check` probes each one.
-- Over TCP from another host, create 'amibridge'@'<bridge-ip>' instead and grant the same.

CREATE USER IF NOT EXISTS 'amibridge'@'localhost' IDENTIFIED BY 'CHANGE-ME';

-- The call join and the disposition watcher.
GRANT SELECT ON `asterisk`.`vicidial_log` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_closer_log` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_did_log` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_list` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`recording_log` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_agent_log` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_campaign_statuses` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_statuses` TO 'amibridge'@'localhost';
-- The HTTP API: agent status, click-to-call (the agent's phone).
GRANT SELECT ON `asterisk`.`vicidial_live_agents` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`vicidial_users` TO 'amibridge'@'localhost';
GRANT SELECT ON `asterisk`.`phones` TO 'amibridge'@'localhost';

-- Lead import (POST /v1/leads): the only write.
GRANT INSERT ON `asterisk`.`vicidial_list` TO 'amibridge'@'localhost';
