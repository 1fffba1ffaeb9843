"""Clients for the three source systems, per ../shared/contracts/."""
