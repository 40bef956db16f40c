"""API clients: keys, scopes and the authentication of every request."""
