"""Reading exports into the store: the reader, cell values, export kinds, the ingest transaction."""
