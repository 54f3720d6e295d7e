/// The answer to one action: the response message, and for list actions (`CoreShowChannels`,
/// `Status`, a regex `Hangup`) the list items that followed it, without the closing `...Complete`
/// event, which is in ``listComplete``.
public struct AMIResponse: Sendable, Hashable {
    public var message: AMIMessage
    public var listItems: [AMIMessage]
    public var listComplete: AMIMessage?

    public init(message: AMIMessage, listItems: [AMIMessage] = [], listComplete: AMIMessage? = nil) {
        self.message = message
        self.listItems = listItems
        self.listComplete = listComplete
    }

    /// `Response: Success`, `Follows` or `Goodbye`.
    public var isSuccess: Bool { message.isSuccessResponse }
}
