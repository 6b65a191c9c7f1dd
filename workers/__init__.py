"""Inferchain worker node: pulls jobs, runs inference, pins results, gets paid."""
