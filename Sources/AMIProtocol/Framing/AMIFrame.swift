/// What the decoder cuts from the AMI byte stream.
public enum AMIFrame: Sendable, Hashable {
    /// The greeting line, e.g. `Asterisk Call Manager/9.0.0`. Its version tells the dialect:
    /// major 1 is Asterisk 1.8-11, 2 is 12-13, higher is 14+.
    case banner(String)
    /// A response, event or event-list item.
    case message(AMIMessage)
}
