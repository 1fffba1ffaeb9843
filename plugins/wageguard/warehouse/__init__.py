"""The warehouse: engine from a URL, schema migrations, SQL files, the run ledger."""
