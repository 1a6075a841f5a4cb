"""One module per virtualization technique, a common protocol, a registry, a cost model."""
