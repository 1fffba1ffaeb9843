"""E-mailing each district's list to its inspectors (the roster), with a ledger
in the warehouse of what went to whom."""
