// The simulator's tests live beside this file (see Tests/DialerSimulatorTests).
