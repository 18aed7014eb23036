"""Outbox: fulfilment requests handed to the operational systems exactly once."""
