import AMIProtocol
import AMITestSupport
import NIOCore
import Testing

/// Every recorded Asterisk 20 session, replayed by a fake Asterisk on loopback, through the real
/// client: once with the recorded chunking, once one byte per write.
@Suite("Recorded Asterisk 20 sessions through the client")
struct CaptureReplayTests {
    static let captureNames = (try? AMICapture.names(in: "asterisk-20")) ?? []

    @Test("the shared captures are there")
    func capturesArePresent() {
        // Without them every replay test below would pass vacuously.
        #expect(Self.captureNames.count >= 20, "expected the captures in \(AMICapture.directory.path)")
    }

    @Test("a replayed session gives the events, responses and login outcome it recorded", arguments: captureNames)
    func replay(name: String) async throws {
        let capture = try AMICapture.load("asterisk-20", name)
        let expected = try RecordedSession(capture)

        let recorded = try await ReplayRun.run(capture, chunking: .recorded)
        let bytewise = try await ReplayRun.run(capture, chunking: .bytePerWrite)

        // The message sequence does not depend on how the bytes were split.
        #expect(recorded.eventFields == bytewise.eventFields)
        #expect(recorded.responses == bytewise.responses)

        for run in [recorded, bytewise] {
            // Every event the recording holds, in order, with every field (ActionIDs aside,
            // which are the client's own).
            #expect(run.eventFields == expected.eventFields)

            // Login outcome as recorded.
            if expected.loginAccepted {
                #expect(run.banner == expected.banner)
                #expect(run.responses.count == expected.clientActions.count)
            } else {
                #expect(run.banner == nil)
                #expect(run.disconnectReasons.first?.code == .loginRejected)
            }

            // Each OriginateResponse carries the ActionID the client gave its Originate, and
            // describes that Originate's call.
            for event in run.events where event.eventName == "OriginateResponse" {
                let actionID = try #require(event.actionID)
                let originate = try #require(run.sentActions[actionID], "OriginateResponse for an unknown ActionID \(actionID)")
                #expect(originate.name == "Originate")
                let exten = originate.fields.first { $0.name == "Exten" }?.value
                #expect(event["Exten"] == exten)
            }
            #expect(run.events.filter { $0.eventName == "OriginateResponse" }.count == expected.originateResponses)

            // Event lists come back whole with their response.
            for (index, response) in run.responses.enumerated() {
                let recordedResponse = expected.responses[index]
                #expect(response.listItems.count == recordedResponse.listItems.count)
                if let complete = response.listComplete {
                    #expect(complete["ListItems"] == String(response.listItems.count))
                }
                #expect(response.message.outputLines == recordedResponse.message.outputLines)
                #expect(response.message.response == recordedResponse.message.response)
            }
            if expected.endsWithClose {
                #expect(!run.disconnectReasons.isEmpty)
            }
        }
    }

    @Test("CoreShowChannels mid-call returns every channel of the call")
    func coreShowChannelsList() async throws {
        let capture = try AMICapture.load("asterisk-20", "coreshowchannels-midcall")
        let run = try await ReplayRun.run(capture, chunking: .recorded)
        let list = try #require(run.responses.first { $0.listComplete?.eventName == "CoreShowChannelsComplete" })
        #expect(list.listItems.count == 4)
        #expect(list.listItems.allSatisfy { $0.eventName == "CoreShowChannel" })
        // Every channel of one call shares a Linkedid.
        #expect(Set(list.listItems.compactMap { $0["Linkedid"] }).count == 1)
    }

    @Test("Command output comes back whole, every Output line in order")
    func commandOutput() async throws {
        let capture = try AMICapture.load("asterisk-20", "command-and-misc")
        let run = try await ReplayRun.run(capture, chunking: .bytePerWrite)
        let channels = try #require(run.responses.first { $0.message.outputLines.count > 1 })
        #expect(channels.message.outputLines == [
            "Channel                                                          Location                         State   Application(Data)             ",
            "0 active channels", "0 active calls", "20 calls processed",
        ])
        // A client UserEvent whose value holds ": " keeps it.
        let userEvent = try #require(run.events.first { $0["UserEvent"] == "FromClient" })
        #expect(userEvent["Header1"] == "value: with colon")
    }

    @Test("the burst of 20 calls: every Originate gets its own OriginateResponse")
    func burst() async throws {
        let capture = try AMICapture.load("asterisk-20", "burst-20-calls")
        let run = try await ReplayRun.run(capture, chunking: .recorded)
        let responses = run.events.filter { $0.eventName == "OriginateResponse" }
        #expect(responses.count == 20)
        #expect(Set(responses.compactMap(\.actionID)).count == 20)
        // Each answers a different call: its own originated channel.
        #expect(Set(responses.compactMap { $0["Uniqueid"] }).count == 20)
    }
}
