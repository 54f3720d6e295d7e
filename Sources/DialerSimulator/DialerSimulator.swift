// The simulated ViciDial box behind `amibridge simulate`, in three layers (STYLE.md):
// - Plan/: decisions. `TrafficPlanner` draws each call (agent, lead, outcome, timings) from a seed.
// - Events/ and Rows/: pure translations. `CallScriptGenerator` turns a call into the Asterisk 20
//   events the captures show; `ViciDialRowPlan` into the rows ViciDial writes, when it writes them.
// - Server/: I/O. `SimulatorState` merges every call's events and rows into one timeline (pure);
//   `DialerSimulator` streams it to every AMI client, answers actions, and hands rows to
//   `ViciDialRowWriter`, which writes them on its own without ever holding up the stream.
