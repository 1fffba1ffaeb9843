"""Running SQL on either warehouse (SQLite or PostgreSQL): the SQL files of
sql/, bulk writes and statistics, values as the drivers give them back. Every
stage uses it, so it imports nothing of theirs."""
