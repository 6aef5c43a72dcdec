"""Credits: one integer wallet per account, an append-only ledger, and holds that settle once."""
