"""Routes: which messages go to which connection, in what order, with what retry policy."""
