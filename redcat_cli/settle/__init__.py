"""Contracts, the settlement engine, maturity and the projected final payout."""
