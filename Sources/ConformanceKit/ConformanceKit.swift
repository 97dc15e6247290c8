/// Replay engine, adapter protocol and divergence reports.
public enum ConformanceKit {}
