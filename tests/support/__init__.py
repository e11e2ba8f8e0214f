"""Tooling the tests and the benches share: worker processes, local clusters, fault scenarios."""
