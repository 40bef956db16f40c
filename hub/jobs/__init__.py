"""Background jobs (bulk replays, backfills): bounded, resumable, with progress."""
