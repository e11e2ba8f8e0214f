"""Fault scenarios against a real broker, and the accounting that proves what they lost.

Each scenario runs a real worker over a known feed, injects one fault (a crash, a broker
outage, a rebalance, a broker lost from a cluster, hostile input, clock trouble), then
accounts for every record through Kafka itself: the consumer group's committed offsets,
the dead-letter topic and the alert ids, against what the same feed gives offline. The
integration tests assert the reports; ``bench/faults.py`` prints them.
"""
