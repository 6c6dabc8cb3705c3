-- Who may call the local API: the till front-ends' bearer tokens and the
-- back-office admin password (see src/store/access.rs). Only hashes are
-- kept: a token's SHA-256, the password's argon2 PHC string.

CREATE TABLE api_tokens (
    name        TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the token (32 bytes); the token itself is shown once.
    hash        BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at  INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;

CREATE TABLE admin_credentials (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    password_hash TEXT NOT NULL,
    changed_at    INTEGER NOT NULL
) STRICT;
