import DialerSimulator
import Testing

@Suite struct DialerSimulatorTests {
    @Test func moduleLinks() {
        #expect(String(describing: DialerSimulator.self) == "DialerSimulator")
    }
}
