"""The PC's devices at their standard ports, all deterministic."""
