"""Everything that talks HTTP to Simkl: the client, the login and its token store, the account."""
