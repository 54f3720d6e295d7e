/// A simulated ViciDial box: see `amibridge simulate`.
public enum DialerSimulator {}
