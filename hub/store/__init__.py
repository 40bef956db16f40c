"""Database access shared by every domain: engine, sessions, base model, migrations."""
