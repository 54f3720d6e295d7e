import MariaDB
/// What a status code means in ViciDial (`vicidial_campaign_statuses`, else `vicidial_statuses`):
/// CRMs act on "sale" or "DNC", not on codes that differ between campaigns.
public struct ViciDialStatusFlags: Sendable, Hashable, Codable {
    public var status: String
    public var statusName: String?
    /// The campaign whose own definition this is; nil for the system-wide one.
    public var campaignID: String?
    public var category: String?
    public var sale = false
    public var humanAnswered = false
    public var customerContact = false
    public var dnc = false
    public var notInterested = false
    public var unworkable = false
    public var scheduledCallback = false
    public var completed = false
    public var answeringMachine = false

    public init(status: String, campaignID: String? = nil) {
        self.status = status
        self.campaignID = campaignID
    }

    /// The columns both status tables share, in the order ``init(row:prefix:campaignID:)`` reads
    /// them; `prefix` lets one result carry both tables' columns side by side.
    static func selectList(table alias: String, prefix: String) -> String {
        (["status", "status_name", "category"] + yesNoColumns)
            .map { "\(alias).\($0) AS \(prefix)\($0)" }
            .joined(separator: ", ")
    }

    static let yesNoColumns = [
        "sale", "human_answered", "customer_contact", "dnc", "not_interested", "unworkable",
        "scheduled_callback", "completed", "answering_machine",
    ]

    /// Nil when the columns are NULL (no such status defined: a LEFT JOIN found nothing).
    init?(row: MariaDBRow, prefix: String, campaignID: String?) throws {
        guard let status = try row.string(prefix + "status") else { return nil }
        self.init(status: status, campaignID: campaignID)
        statusName = try row.string(prefix + "status_name")
        category = try row.string(prefix + "category")
        func flag(_ column: String) throws -> Bool { try row.string(prefix + column) == "Y" }
        sale = try flag("sale")
        humanAnswered = try flag("human_answered")
        customerContact = try flag("customer_contact")
        dnc = try flag("dnc")
        notInterested = try flag("not_interested")
        unworkable = try flag("unworkable")
        scheduledCallback = try flag("scheduled_callback")
        completed = try flag("completed")
        answeringMachine = try flag("answering_machine")
    }
}
