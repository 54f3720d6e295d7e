/// The agent's final disposition of a call: what a `disposition_set` webhook carries. Emitted once
/// per call, after its `call_complete`.
public struct DispositionSet: Sendable, Hashable {
    public var call: EnrichedCall
    /// The final status code (SALE, NI, DNC, CALLBK...).
    public var status: String
    /// What the status means, campaign definition first; nil when neither table defines it.
    public var flags: ViciDialStatusFlags?
    /// The call row's comments.
    public var comments: String?
    /// The lead's comments (`vicidial_list.comments`), where agents type their notes.
    public var leadComments: String?
    /// The agent who set it.
    public var user: String?

    public init(call: EnrichedCall, status: String, flags: ViciDialStatusFlags?, comments: String?, leadComments: String?, user: String?) {
        self.call = call
        self.status = status
        self.flags = flags
        self.comments = comments
        self.leadComments = leadComments
        self.user = user
    }
}

/// A call row's status as one disposition poll read it.
public struct ViciDialDispositionRow: Sendable, Hashable {
    public var rowID: ViciDialRowID
    public var status: String?
    public var user: String?
    public var comments: String?
    public var leadComments: String?
    /// The campaign's definition of `status`, else the system one.
    public var flags: ViciDialStatusFlags?

    public init(rowID: ViciDialRowID, status: String?) {
        self.rowID = rowID
        self.status = status
    }
}
