import CRMSink
import EventMapper
import Foundation
import Logging
import ViciDial

/// The two waits a call can be held in, and how each stores its call: the completed call for
/// the row wait, the call joined with its row for the disposition wait (JSON, read back as is).
extension HeldCall.Kind {
    /// Completed, waiting for its `vicidial_log`/`vicidial_closer_log` row (``ViciDialJoinStage``).
    static let viciDialRow = HeldCall.Kind(rawValue: "vicidial_row")
    /// Joined, waiting for the agent's disposition (``DispositionStage``).
    static let disposition = HeldCall.Kind(rawValue: "disposition")
    /// Answered, its `call_answered` waiting a moment for agent and lead (``AnswerJoinStage``).
    static let answer = HeldCall.Kind(rawValue: "answer")
}

extension HeldCall {
    static func waitingForRow(_ call: CallRecord, deadline: Double) -> HeldCall {
        HeldCall(kind: .viciDialRow, callKey: call.key, payload: encoded(call), deadline: deadline)
    }

    static func waitingForAnswerData(_ call: CallRecord, deadline: Double) -> HeldCall {
        HeldCall(kind: .answer, callKey: call.key, payload: encoded(call), deadline: deadline)
    }

    static func waitingForDisposition(_ call: EnrichedCall, deadline: Double) -> HeldCall {
        HeldCall(kind: .disposition, callKey: call.call.key, payload: encoded(call), deadline: deadline)
    }

    /// Plain value types encode without failing; a non-finite time (never seen) is kept as text.
    private static func encoded(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(value)).map(Array.init) ?? []
    }


    /// The stored call, or nil (logged by the caller) when the row cannot be read back.
    func decoded<Call: Decodable>(as type: Call.Type) -> Call? {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try? decoder.decode(type, from: Data(payload))
    }
}

extension HeldCall.ID {
    static func rowWaitEnded(_ call: CallRecord) -> HeldCall.ID { HeldCall.ID(kind: .viciDialRow, callKey: call.key) }
    static func dispositionWaitEnded(_ call: CallRecord) -> HeldCall.ID { HeldCall.ID(kind: .disposition, callKey: call.key) }
    static func answerWaitEnded(_ call: CallRecord) -> HeldCall.ID { HeldCall.ID(kind: .answer, callKey: call.key) }
}

extension Array where Element == HeldCall {
    /// The stored calls with their deadlines; one that cannot be read back is logged and left on
    /// disk (it is not lost, and the next start tries again).
    func decoded<Call: Decodable>(as type: Call.Type, logger: Logger) -> [(call: Call, deadline: Double)] {
        compactMap { entry in
            guard let call = entry.decoded(as: type) else {
                logger.error("a held call could not be read back; it stays in the state directory", metadata: ["call": "\(entry.callKey)"])
                return nil
            }
            return (call, entry.deadline)
        }
    }
}
