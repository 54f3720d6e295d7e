-- The ViciDial tables amibridge reads (and vicidial_list, which lead import writes), written from
-- ../shared/vicidial/FACTS.md: the columns the bridge depends on with the types ViciDial gives them.
-- Columns the bridge never touches are left out. Where FACTS.md names a column without a type,
-- the type is the one the same column has in the tables it does type (lead_id, user, epochs...).
--
-- ENGINE=MyISAM as in stock ViciDial (FACTS.md says so for vicidial_log): no transactions and no
-- row locks, so tests see what production sees (a rolled-back "transaction" on these tables keeps
-- its rows; the lead import says so when it fails, see ViciDialRepository+Leads.swift). The
-- database's default character set is utf8mb4 (scripts/mariadb.sh creates it).
--
-- Loaded by scripts/mariadb.sh on every start, so every statement must be safe to re-run.
-- scripts/mariadb.sh grants SELECT on every table named in a `CREATE TABLE IF NOT EXISTS` line.

CREATE TABLE IF NOT EXISTS vicidial_log (
    uniqueid VARCHAR(20) NOT NULL PRIMARY KEY,
    lead_id INT(9) UNSIGNED NOT NULL,
    list_id BIGINT(14) UNSIGNED,
    campaign_id VARCHAR(8),
    call_date DATETIME,
    start_epoch INT(10) UNSIGNED,
    end_epoch INT(10) UNSIGNED,
    length_in_sec INT(10),
    status VARCHAR(6),
    phone_code VARCHAR(10),
    phone_number VARCHAR(18),
    user VARCHAR(20),
    comments VARCHAR(255),
    processed ENUM('Y','N'),
    user_group VARCHAR(20),
    term_reason ENUM('CALLER','AGENT','QUEUETIMEOUT','ABANDON','AFTERHOURS','NONE','SYSTEM') DEFAULT 'NONE',
    alt_dial VARCHAR(6) DEFAULT 'NONE',
    called_count SMALLINT(5) UNSIGNED DEFAULT 0,
    INDEX (lead_id),
    INDEX (call_date)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_log_extended (
    uniqueid VARCHAR(50) NOT NULL PRIMARY KEY,
    server_ip VARCHAR(15),
    call_date DATETIME,
    lead_id INT(9) UNSIGNED,
    caller_code VARCHAR(30) NOT NULL,
    custom_call_id VARCHAR(100),
    start_url_processed ENUM('N','Y','U') DEFAULT 'N',
    dispo_url_processed ENUM('N','Y','U','XY','XU') DEFAULT 'N',
    INDEX (call_date),
    INDEX (lead_id),
    INDEX (caller_code)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_closer_log (
    closecallid INT(9) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    lead_id INT(9) UNSIGNED NOT NULL,
    list_id BIGINT(14) UNSIGNED,
    campaign_id VARCHAR(20),
    call_date DATETIME,
    start_epoch INT(10) UNSIGNED,
    end_epoch INT(10) UNSIGNED,
    length_in_sec INT(10),
    status VARCHAR(6),
    phone_code VARCHAR(10),
    phone_number VARCHAR(18),
    user VARCHAR(20),
    comments VARCHAR(255),
    queue_seconds DECIMAL(7,2) DEFAULT 0,
    user_group VARCHAR(20),
    xfercallid INT(9) UNSIGNED,
    term_reason ENUM('CALLER','AGENT','QUEUETIMEOUT','ABANDON','AFTERHOURS','HOLDRECALLXFER','HOLDTIME',
        'NOAGENT','NONE','MAXCALLS','ACFILTER','CLOSETIME','SYSTEM') DEFAULT 'NONE',
    uniqueid VARCHAR(20) NOT NULL DEFAULT '',
    agent_only VARCHAR(20) DEFAULT '',
    queue_position SMALLINT(4) UNSIGNED DEFAULT 1,
    called_count SMALLINT(5) UNSIGNED DEFAULT 0,
    INDEX (lead_id),
    INDEX (call_date),
    INDEX (uniqueid)
) ENGINE=MyISAM;

-- One row per call routed by a DID (ViciDial's MySQL_AST_CREATE_tables.sql, schema 1540):
-- written by the inbound DID route on the incoming channel, so `uniqueid` is the carrier leg's,
-- the same as the call's vicidial_closer_log.uniqueid. `extension` is the number dialed (the DID).
CREATE TABLE IF NOT EXISTS vicidial_did_log (
    uniqueid VARCHAR(20) NOT NULL,
    channel VARCHAR(100) NOT NULL,
    server_ip VARCHAR(15) NOT NULL,
    caller_id_number VARCHAR(18),
    caller_id_name VARCHAR(20),
    extension VARCHAR(100),
    call_date DATETIME,
    did_id VARCHAR(9) DEFAULT '',
    did_route VARCHAR(20) DEFAULT '',
    INDEX (uniqueid),
    INDEX (caller_id_number),
    INDEX (extension),
    INDEX (call_date)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_list (
    lead_id INT(9) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    entry_date DATETIME,
    modify_date TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    status VARCHAR(6),
    user VARCHAR(20),
    vendor_lead_code VARCHAR(20),
    source_id VARCHAR(50),
    list_id BIGINT(14) UNSIGNED NOT NULL DEFAULT 0,
    gmt_offset_now DECIMAL(4,2) DEFAULT 0.00,
    called_since_last_reset ENUM('Y','N','Y1','Y2','Y3','Y4','Y5','Y6','Y7','Y8','Y9','Y10') DEFAULT 'N',
    phone_code VARCHAR(10),
    phone_number VARCHAR(18) NOT NULL,
    title VARCHAR(4),
    first_name VARCHAR(30),
    middle_initial VARCHAR(1),
    last_name VARCHAR(30),
    address1 VARCHAR(100),
    address2 VARCHAR(100),
    address3 VARCHAR(100),
    city VARCHAR(50),
    state VARCHAR(2),
    province VARCHAR(50),
    postal_code VARCHAR(10),
    country_code VARCHAR(3),
    gender ENUM('M','F','U') DEFAULT 'U',
    date_of_birth DATE,
    alt_phone VARCHAR(12),
    email VARCHAR(70),
    security_phrase VARCHAR(100),
    comments VARCHAR(255),
    called_count SMALLINT(5) UNSIGNED DEFAULT 0,
    last_local_call_time DATETIME,
    `rank` SMALLINT(5) NOT NULL DEFAULT 0,
    owner VARCHAR(20) DEFAULT '',
    entry_list_id BIGINT(14) UNSIGNED NOT NULL DEFAULT 0,
    INDEX (phone_number),
    INDEX (list_id),
    INDEX (status)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_live_agents (
    live_agent_id INT(9) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user VARCHAR(20),
    server_ip VARCHAR(15) NOT NULL,
    conf_exten VARCHAR(20),
    extension VARCHAR(100),
    status ENUM('READY','QUEUE','INCALL','PAUSED','CLOSER','MQUEUE') DEFAULT 'PAUSED',
    lead_id INT(9) UNSIGNED NOT NULL DEFAULT 0,
    campaign_id VARCHAR(8),
    uniqueid VARCHAR(20),
    callerid VARCHAR(20),
    channel VARCHAR(100),
    last_call_time DATETIME,
    last_update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    last_call_finish DATETIME,
    last_state_change DATETIME,
    calls_today SMALLINT(5) UNSIGNED DEFAULT 0,
    pause_code VARCHAR(6) DEFAULT '',
    agent_log_id INT(9) UNSIGNED DEFAULT 0,
    external_dial VARCHAR(100) DEFAULT '',
    INDEX (user)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_agent_log (
    agent_log_id INT(9) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user VARCHAR(20),
    server_ip VARCHAR(15) NOT NULL,
    event_time DATETIME,
    lead_id INT(9) UNSIGNED,
    campaign_id VARCHAR(8),
    pause_epoch INT(10) UNSIGNED,
    pause_sec SMALLINT(5) UNSIGNED DEFAULT 0,
    wait_epoch INT(10) UNSIGNED,
    wait_sec SMALLINT(5) UNSIGNED DEFAULT 0,
    talk_epoch INT(10) UNSIGNED,
    talk_sec SMALLINT(5) UNSIGNED DEFAULT 0,
    dispo_epoch INT(10) UNSIGNED,
    dispo_sec SMALLINT(5) UNSIGNED DEFAULT 0,
    status VARCHAR(6),
    user_group VARCHAR(20),
    comments VARCHAR(20),
    sub_status VARCHAR(6),
    dead_epoch INT(10) UNSIGNED,
    dead_sec SMALLINT(5) UNSIGNED DEFAULT 0,
    processed ENUM('Y','N') DEFAULT 'N',
    uniqueid VARCHAR(20) DEFAULT '',
    pause_type ENUM('UNDEFINED','SYSTEM','AGENT','API','ADMIN') DEFAULT 'UNDEFINED',
    INDEX (user),
    INDEX (event_time),
    INDEX (lead_id)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS recording_log (
    recording_id INT(10) UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    channel VARCHAR(100),
    server_ip VARCHAR(15),
    extension VARCHAR(100),
    start_time DATETIME,
    start_epoch INT(10) UNSIGNED,
    end_time DATETIME,
    end_epoch INT(10) UNSIGNED,
    length_in_sec MEDIUMINT(8) UNSIGNED,
    length_in_min DOUBLE(8,2),
    filename VARCHAR(100),
    location VARCHAR(255),
    lead_id INT(9) UNSIGNED,
    user VARCHAR(20),
    vicidial_id VARCHAR(20),
    INDEX (filename),
    INDEX (lead_id),
    INDEX (user),
    INDEX (vicidial_id)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_users (
    user VARCHAR(20) NOT NULL,
    pass VARCHAR(100),
    full_name VARCHAR(50),
    user_level TINYINT(3) UNSIGNED DEFAULT 1,
    user_group VARCHAR(20),
    phone_login VARCHAR(20),
    active ENUM('Y','N') DEFAULT 'Y',
    vdc_agent_api_access ENUM('0','1') DEFAULT '0',
    api_allowed_functions VARCHAR(1000) DEFAULT ' ALL_FUNCTIONS ',
    api_only_user ENUM('0','1') DEFAULT '0',
    UNIQUE INDEX (user)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_statuses (
    status VARCHAR(6) NOT NULL PRIMARY KEY,
    status_name VARCHAR(30),
    selectable ENUM('Y','N'),
    human_answered ENUM('Y','N') DEFAULT 'N',
    category VARCHAR(20) DEFAULT 'UNDEFINED',
    sale ENUM('Y','N') DEFAULT 'N',
    dnc ENUM('Y','N') DEFAULT 'N',
    customer_contact ENUM('Y','N') DEFAULT 'N',
    not_interested ENUM('Y','N') DEFAULT 'N',
    unworkable ENUM('Y','N') DEFAULT 'N',
    scheduled_callback ENUM('Y','N') DEFAULT 'N',
    completed ENUM('Y','N') DEFAULT 'N',
    answering_machine ENUM('Y','N') DEFAULT 'N'
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_campaign_statuses (
    status VARCHAR(6) NOT NULL,
    status_name VARCHAR(30),
    selectable ENUM('Y','N'),
    campaign_id VARCHAR(8) NOT NULL,
    human_answered ENUM('Y','N') DEFAULT 'N',
    category VARCHAR(20) DEFAULT 'UNDEFINED',
    sale ENUM('Y','N') DEFAULT 'N',
    dnc ENUM('Y','N') DEFAULT 'N',
    customer_contact ENUM('Y','N') DEFAULT 'N',
    not_interested ENUM('Y','N') DEFAULT 'N',
    unworkable ENUM('Y','N') DEFAULT 'N',
    scheduled_callback ENUM('Y','N') DEFAULT 'N',
    completed ENUM('Y','N') DEFAULT 'N',
    answering_machine ENUM('Y','N') DEFAULT 'N',
    UNIQUE INDEX (campaign_id, status)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_campaigns (
    campaign_id VARCHAR(8) NOT NULL PRIMARY KEY,
    campaign_name VARCHAR(40),
    active ENUM('Y','N'),
    dial_timeout TINYINT UNSIGNED DEFAULT 60,
    dial_prefix VARCHAR(20) DEFAULT '9',
    manual_dial_prefix VARCHAR(20) DEFAULT '',
    omit_phone_code ENUM('Y','N') DEFAULT 'N',
    campaign_cid VARCHAR(20) DEFAULT '0000000000',
    start_call_url TEXT,
    dispo_call_url TEXT,
    na_call_url TEXT
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS call_log (
    uniqueid VARCHAR(20) NOT NULL PRIMARY KEY,
    channel VARCHAR(100),
    server_ip VARCHAR(15),
    extension VARCHAR(100),
    number_dialed VARCHAR(15),
    caller_code VARCHAR(20),
    start_time DATETIME,
    start_epoch INT(10) UNSIGNED,
    end_time DATETIME,
    end_epoch INT(10) UNSIGNED,
    length_in_sec INT(10),
    INDEX (caller_code),
    INDEX (start_time)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS vicidial_carrier_log (
    uniqueid VARCHAR(20) NOT NULL PRIMARY KEY,
    call_date DATETIME,
    server_ip VARCHAR(15) NOT NULL,
    lead_id INT(9) UNSIGNED,
    hangup_cause TINYINT(1) UNSIGNED DEFAULT 0,
    dialstatus VARCHAR(16),
    channel VARCHAR(100),
    dial_time SMALLINT(3) UNSIGNED DEFAULT 0,
    answered_time SMALLINT(4) UNSIGNED DEFAULT 0,
    sip_hangup_cause SMALLINT(4) UNSIGNED DEFAULT 0,
    sip_hangup_reason VARCHAR(50) DEFAULT '',
    caller_code VARCHAR(30) DEFAULT '',
    INDEX (call_date)
) ENGINE=MyISAM;

CREATE TABLE IF NOT EXISTS phones (
    extension VARCHAR(100) NOT NULL,
    dialplan_number VARCHAR(20),
    server_ip VARCHAR(15) NOT NULL,
    login VARCHAR(15),
    pass VARCHAR(100),
    status VARCHAR(10),
    active ENUM('Y','N'),
    protocol ENUM('SIP','PJSIP','Zap','IAX2','EXTERNAL') DEFAULT 'SIP',
    fullname VARCHAR(50),
    UNIQUE INDEX (extension, server_ip),
    INDEX (login)
) ENGINE=MyISAM;
