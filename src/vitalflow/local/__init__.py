"""Local runtime: the lake is a folder, DuckDB answers queries, files stand in for AWS services."""
