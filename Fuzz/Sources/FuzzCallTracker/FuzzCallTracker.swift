import AMIProtocol
import EventMapper
import Foundation
import FuzzSupport

// Fuzzes `CallTracker` with event sequences built from the recorded sessions: any event in any
// order, dropped, repeated, or with a header changed (an id, a Linkedid or Uniqueid of another
// call, a state, a cause, a Timestamp, a missing or repeated field), Originates, rejections,
// reconciles and time passing. The input is a program over the recorded items.
//
// Properties: no crash; once the session ends as the daemon ends it (no event for longer than the
// idle timeout and the Originate timeouts, the clock ticking on), no call is left open, no channel
// is still tracked, and a further tick changes nothing: tracker state is bounded by time.

let sessions = RecordedSessions.load()
let items = sessions.items
/// Every id-like value recorded (uniqueids, linkedids, channel names), to mix calls up.
let identifiers: [String] = sessions.valuesByName
    .filter { name, _ in name.contains("uniqueid") || name.contains("linkedid") || name.contains("channel") }
    .flatMap(\.value).sorted()
let originateIDs: [String] = items.compactMap { item in
    if case .originate(let actionID, _, _, _) = item { return actionID }
    return nil
}
let specialValues = [
    "", "0", "-1", "4", "5", "6", "16", "17", "nan", "inf", "-inf", "1e308", "-1e308", "1e18",
    "99999999999999999999", "1795615870.123456", "0.000001", "ANSWER", "BUSY", "NOANSWER", "Success", "Failure",
    "Local/1001@agents-00000001;1", "SIP/1001", "M5251411420000004242", "18005551234", "CRM_CALL_ID",
    String(repeating: "9", count: 300), "é\u{0}x",
]

enum Operation: UInt8, CaseIterable {
    case feed, feedMutated, replay, timePasses, originateRejected, reconcile
}

/// A change to one recorded event: to one of its headers, or to the event itself in the order.
enum Mutation: UInt8, CaseIterable {
    case none, recordedValue, dropField, duplicateField, specialValue, otherIdentifier, timestamp, otherEvent
    case dropEvent, repeatEvent, swapWithNext
}

/// One mutation with its arguments: which field, which replacement.
struct Edit {
    var mutation: Mutation
    var field: UInt8
    var choice: UInt8

    init(_ input: inout FuzzInput) {
        mutation = Mutation.allCases[Int(input.byte()) % Mutation.allCases.count]
        field = input.byte()
        choice = input.byte()
    }
}

let configuration = CallTracker.Configuration(server: "fuzz")
let startTime = 1_795_615_000.0
/// `AMIBRIDGE_FUZZ_TRACE=1`: print every item fed (its session and place there), to turn a
/// finding into a regression test.
let tracing = getenv("AMIBRIDGE_FUZZ_TRACE") != nil
/// Arrival time between two fed items.
let itemInterval = 0.05

/// Writes the seeds when asked (`AMIBRIDGE_FUZZ_SEEDS`), else runs libFuzzer.
@_cdecl("FuzzCallTracker_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    SeedCorpus.writeIfAsked {
        var first = 0
        return sessions.sessions.map { session in
            // The session replayed as recorded, in runs of at most 256 items; a recorded pause of
            // more than a second becomes time passing.
            var program: [UInt8] = []
            var runStart = first
            var previous = session.items.first.map(time) ?? 0
            for (offset, item) in session.items.enumerated() {
                let index = first + offset
                let gap = time(of: item) - previous
                previous = time(of: item)
                if gap > 1 || index - runStart == 256 {
                    if index > runStart { program += replay(runStart, index - runStart) }
                    if gap > 1 { program += [Operation.timePasses.rawValue, UInt8(min(127, gap * 10))] }
                    runStart = index
                }
            }
            first += session.items.count
            if first > runStart { program += replay(runStart, first - runStart) }
            return (session.name, program)
        }
    }
    return runLibFuzzer(argc, argv, fuzzCallTracker)
}

func time(of item: RecordedSessions.Item) -> Double {
    switch item {
    case .message(_, let time), .originate(_, _, _, let time): time
    }
}

/// A `replay` operation of `count` items from `start`, none edited.
func replay(_ start: Int, _ count: Int) -> [UInt8] {
    [Operation.replay.rawValue, UInt8(start & 0xFF), UInt8(start >> 8), UInt8(count - 1), Mutation.none.rawValue, 0, 0, 0]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCallTracker(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    var session = TrackerSession()
    while !input.isAtEnd {
        switch Operation.allCases[Int(input.byte()) % Operation.allCases.count] {
        case .feed:
            let index = input.index(below: items.count)
            session.feed(items[index], from: index)
        case .feedMutated:
            let index = input.index(below: items.count)
            var fed = [items[index]]
            for _ in 0...(input.byte() % 3) {
                let edit = Edit(&input)
                fed = fed.flatMap { edited($0, edit) }
            }
            fed.forEach { session.feed($0, from: index) }
        case .replay:
            // A run of recorded items in order, one of them edited.
            let first = input.index(below: items.count)
            let end = min(items.count, first + 1 + Int(input.byte()))
            let edit = Edit(&input)
            let at = first + Int(input.byte()) % (end - first)
            var index = first
            while index < end {
                if index == at, edit.mutation == .swapWithNext, index + 1 < end {
                    session.feed(items[index + 1], from: index + 1)
                    session.feed(items[index], from: index)
                    index += 2
                    continue
                }
                (index == at ? edited(items[index], edit) : [items[index]]).forEach { session.feed($0, from: index) }
                index += 1
            }
        case .timePasses:
            let step = input.byte()
            session.now += step < 128 ? Double(step) * 0.1 : Double(step - 127) * 300
            _ = session.tracker.tick(now: session.now)
        case .originateRejected:
            _ = session.tracker.originateRejected(actionID: input.element(of: originateIDs) ?? "", at: session.now)
        case .reconcile:
            let first = input.index(below: items.count)
            let listed = items[first..<min(items.count, first + 1 + Int(input.byte()))].compactMap { item in
                if case .message(let message, _) = item { return message }
                return nil
            }
            _ = session.tracker.reconcile(liveChannels: listed, at: session.now)
        }
    }
    session.end()
    return 0
}

/// What `edit` makes of one recorded item: nothing, it twice, or it with a header changed.
func edited(_ item: RecordedSessions.Item, _ edit: Edit) -> [RecordedSessions.Item] {
    switch edit.mutation {
    case .dropEvent: return []
    case .repeatEvent: return [item, item]
    case .none, .swapWithNext: return [item]
    default: break
    }
    guard case .message(let message, let at) = item, message.count > 0 else { return [item] }
    var fields = message.fields.map { (name: $0.name, value: $0.value) }
    let index = Int(edit.field) % fields.count
    let choice = Int(edit.choice)
    switch edit.mutation {
    case .recordedValue:
        let values = sessions.valuesByName[fields[index].name.lowercased()] ?? []
        if !values.isEmpty { fields[index].value = values[choice * 7919 % values.count] }
    case .dropField:
        fields.remove(at: index)
    case .duplicateField:
        fields.append(fields[index])
    case .specialValue:
        fields[index].value = specialValues[choice % specialValues.count]
    case .otherIdentifier:
        fields[index].value = identifiers[choice * 7919 % identifiers.count]
    case .timestamp:
        fields.removeAll { $0.name == "Timestamp" }
        fields.append(("Timestamp", specialValues[choice % specialValues.count]))
    case .otherEvent:
        let events = sessions.valuesByName["event"] ?? []
        fields[index] = ("Event", events[choice % events.count])
    case .none, .dropEvent, .repeatEvent, .swapWithNext:
        break
    }
    return [.message(AMIMessage(fields), at: at)]
}

/// A tracker fed as the daemon feeds it, with a clock that only moves forward.
struct TrackerSession {
    var tracker = CallTracker(configuration: configuration)
    var now = startTime
    /// Every uniqueid-like value fed, to check none is still tracked at the end.
    var channels: Set<String> = []

    mutating func feed(_ item: RecordedSessions.Item, from index: Int) {
        now += itemInterval
        if tracing {
            let place = sessions.place(of: index)
            let text = switch item {
            case .message(let message, _): message.fields.map { "\($0.name): \($0.value.prefix(40))" }.joined(separator: " | ")
            case .originate(let actionID, _, let channel, _): "originateSent \(actionID) \(channel)"
            }
            print("\(place.session) #\(place.offset) at +\(now - startTime)s: \(text)")
        }
        switch item {
        case .message(let message, _):
            for field in message.fields where field.name.lowercased().contains("uniqueid") { channels.insert(field.value) }
            _ = tracker.receive(message, at: now)
        case .originate(let actionID, let callID, let channel, _):
            tracker.originateSent(actionID: actionID, callID: callID, channel: channel, at: now)
        }
    }

    /// The session goes silent for longer than every deadline the tracker has; the tick closes
    /// what is left.
    mutating func end() {
        now += configuration.idleTimeout + configuration.originateResponseTimeout + configuration.originateResponseGrace + 1
        _ = tracker.tick(now: now)
        fuzzCheck(tracker.liveCallCount == 0, "\(tracker.liveCallCount) calls still open after every deadline passed")
        let tracked = channels.filter(tracker.isTracked)
        fuzzCheck(tracked.isEmpty, "channels still tracked after every deadline passed: \(tracked.sorted().prefix(5))")
        let late = tracker.tick(now: now + 1)
        fuzzCheck(late.isEmpty, "a tick after the end still changed something: \(late.count) updates")
    }
}
