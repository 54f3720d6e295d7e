import MariaDB

extension ViciDialTestDriver {
    /// The DID route's log row, written on the incoming channel as ViciDial's inbound DID route does.
    public func routeByDID(uniqueid: String, did: String, didID: String = "7", route: String = "IN_GROUP",
                           callerNumber: String = "18005550000", at epoch: Int) async throws {
        _ = try await root.execute(
            """
            INSERT INTO vicidial_did_log (uniqueid, channel, server_ip, caller_id_number, caller_id_name, extension, call_date, did_id, did_route)
            VALUES (?, 'SIP/carrier-00000001', '10.0.0.1', ?, ?, ?, FROM_UNIXTIME(?), ?, ?)
            """,
            [.string(uniqueid), .string(callerNumber), .string(callerNumber), .string(did), .int(Int64(epoch)), .string(didID), .string(route)]
        )
    }

    /// An inbound call waiting in its in-group's queue: the closer log row before an agent takes
    /// it (`user` VDCL), with `queue_seconds` filled in when an agent does (``agentTakesInbound``).
    /// `uniqueid` may be empty, as some ViciDial versions leave it.
    public func queueInbound(uniqueid: String, leadID: Int64, ingroup: String, phone: String = "18005550000", at epoch: Int) async throws -> Int64 {
        let result = try await root.execute(
            """
            INSERT INTO vicidial_closer_log (uniqueid, lead_id, list_id, campaign_id, call_date, start_epoch, status,
                                             phone_code, phone_number, user, queue_seconds, length_in_sec)
            VALUES (?, ?, 101, ?, FROM_UNIXTIME(?), ?, 'QUEUE', '1', ?, 'VDCL', 0, 0)
            """,
            [.string(uniqueid), .int(leadID), .string(ingroup), .int(Int64(epoch)), .int(Int64(epoch)), .string(phone)]
        )
        return Int64(result.lastInsertID)
    }

    public func agentTakesInbound(closeCallID: Int64, user: String, queueSeconds: String) async throws {
        _ = try await root.execute(
            "UPDATE vicidial_closer_log SET user = ?, status = 'INCALL', queue_seconds = ? WHERE closecallid = ?",
            [.string(user), .string(queueSeconds), .int(closeCallID)]
        )
    }

    /// The agent's `vicidial_live_agents` row once a call reaches the agent screen: INCALL with the
    /// call's lead, uniqueid and caller code. Returns the row's id.
    @discardableResult
    public func agentOnCall(user: String, leadID: Int64, campaign: String, uniqueid: String, callerCode: String) async throws -> Int64 {
        let result = try await root.execute(
            """
            INSERT INTO vicidial_live_agents (user, server_ip, conf_exten, extension, status, lead_id, campaign_id, uniqueid,
                                              callerid, channel, last_call_time, last_state_change)
            VALUES (?, '10.0.0.1', '8600051', 'SIP/1001', 'INCALL', ?, ?, ?, ?, 'SIP/1001-0000000a', NOW(), NOW())
            """,
            [.string(user), .int(leadID), .string(campaign), .string(uniqueid), .string(callerCode)]
        )
        return Int64(result.lastInsertID)
    }
}
