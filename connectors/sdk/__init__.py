"""The connector SDK: the only interface between the hub and any connector."""
