"""The database: every table, and the migrations that bring a database to the current schema."""
