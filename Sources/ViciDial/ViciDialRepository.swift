import MariaDB
/// Reads what ViciDial wrote about calls. Every statement is prepared with `?` placeholders (IN
/// lists get one per value), so values from AMI or from agents, caller IDs and notes included,
/// are never SQL. Lookups are batched: one statement serves every call waiting at once.
public struct ViciDialRepository: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// A call whose uniqueids match no row is joined through its caller code's lead_id to a
        /// row whose `start_epoch` is within this many seconds of the call's start. Default 120:
        /// wider than a dial timeout plus queue time, narrower than a typical redial interval.
        public var leadMatchWindow: Double
        /// The most keys one statement carries. MariaDB allows 65,535 placeholders per statement;
        /// beyond this many waiting calls a poll takes more than one statement. Default 20,000.
        public var maximumKeysPerQuery: Int

        public init(leadMatchWindow: Double = 120, maximumKeysPerQuery: Int = 20_000) {
            self.leadMatchWindow = leadMatchWindow
            self.maximumKeysPerQuery = max(1, maximumKeysPerQuery)
        }
    }

    public let database: any ViciDialDatabase
    public let configuration: Configuration

    public init(database: any ViciDialDatabase, configuration: Configuration = .init()) {
        self.database = database
        self.configuration = configuration
    }
}
