@testable import CRMSink
import Testing

/// Header lines as libcurl hands them over, one callback each with its CRLF: names and values
/// come out trimmed, and an interim response's headers do not survive into the final one.
@Suite struct CurlResponseReceiverTests {
    private func receive(_ lines: [String]) -> [(name: String, value: String)] {
        let receiver = CurlResponseReceiver(maximumBodySize: 1024)
        for line in lines {
            Array(line.utf8).withUnsafeBytes { receiver.receiveHeaderLine($0) }
        }
        return receiver.headers
    }

    @Test func namesAndValuesAreTrimmedAndInOrder() {
        let headers = receive([
            "HTTP/1.1 200 OK\r\n", "Content-Type: application/json\r\n", "Retry-After:\t 120 \t\r\n",
            "X-Empty:\r\n", "X-Odd :  a: b  \r\n", "not a header\r\n", "\r\n",
        ])
        #expect(headers.map(\.name) == ["Content-Type", "Retry-After", "X-Empty", "X-Odd"])
        #expect(headers.map(\.value) == ["application/json", "120", "", "a: b"])
        let response = CurlHTTPResponse(status: 200, headers: headers, body: [], totalTime: .zero)
        #expect(response.header("retry-after") == "120")
    }

    @Test func anInterimResponseStartsTheListAfresh() {
        let headers = receive(["HTTP/1.1 100 Continue\r\n", "X-Interim: 1\r\n", "\r\n", "HTTP/1.1 503 Busy\r\n", "Retry-After: 7\r\n", "\r\n"])
        #expect(headers.map(\.name) == ["Retry-After"])
        #expect(headers.first?.value == "7")
    }

    @Test func bytesThatAreNotUTF8BecomeReplacementCharacters() {
        let receiver = CurlResponseReceiver(maximumBodySize: 1024)
        let line: [UInt8] = Array("X-Bin: a".utf8) + [0xFF] + Array("b\r\n".utf8)
        line.withUnsafeBytes { receiver.receiveHeaderLine($0) }
        #expect(receiver.headers.first?.value == "a\u{FFFD}b")
    }
}
