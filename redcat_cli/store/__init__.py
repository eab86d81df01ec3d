"""The embedded DuckDB store, its schema and migrations, merchants, the Parquet warehouse."""
