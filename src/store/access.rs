//! Who may call the local API: bearer tokens (by name, stored as SHA-256
//! hashes) and the back-office admin password (an argon2 PHC string).
//! Nothing here ever sees a token or a password in clear; hashing and
//! comparing are the caller's (`api::security`), so this file stays SQL.

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use serde::Serialize;

use super::StoreError;

const INSERT_TOKEN: &str = "
INSERT INTO api_tokens (name, hash, created_at) VALUES (:name, :hash, :now)
ON CONFLICT (name) DO NOTHING";
const LIST_TOKENS: &str = "SELECT name, created_at, last_used_at FROM api_tokens ORDER BY name";
const TOKEN_HASHES: &str = "SELECT name, hash FROM api_tokens ORDER BY name";
const REVOKE_TOKEN: &str = "DELETE FROM api_tokens WHERE name = :name";
const TOUCH_TOKEN: &str = "
UPDATE api_tokens SET last_used_at = :now
WHERE name = :name AND (last_used_at IS NULL OR last_used_at < :now - 60000)";
const PASSWORD: &str = "SELECT password_hash, changed_at FROM admin_credentials WHERE id = 1";
const SET_PASSWORD: &str = "
INSERT INTO admin_credentials (id, password_hash, changed_at) VALUES (1, :hash, :now)
ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, changed_at = excluded.changed_at";
const SET_FIRST_PASSWORD: &str = "
INSERT INTO admin_credentials (id, password_hash, changed_at) VALUES (1, :hash, :now)
ON CONFLICT (id) DO NOTHING";

/// A token as listed: never its value, which only its creator saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub name: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, to the minute; `None` until first used.
    pub last_used_at: Option<i64>,
}

/// Stores a new token's hash under `name`. `false` when the name is taken
/// (nothing changed).
pub fn create_token(
    tx: &Transaction<'_>,
    name: &str,
    hash: &[u8; 32],
    now_ms: i64,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        INSERT_TOKEN,
        named_params! { ":name": name, ":hash": &hash[..], ":now": now_ms },
    )?;
    Ok(n == 1)
}

/// Every token, by name.
pub fn list_tokens(conn: &Connection) -> Result<Vec<TokenInfo>, StoreError> {
    let mut stmt = conn.prepare_cached(LIST_TOKENS)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(TokenInfo {
                name: r.get(0)?,
                created_at: r.get(1)?,
                last_used_at: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// `(name, SHA-256)` of every valid token, for a constant-time scan.
pub fn token_hashes(conn: &Connection) -> Result<Vec<(String, [u8; 32])>, StoreError> {
    let mut stmt = conn.prepare_cached(TOKEN_HASHES)?;
    let rows = stmt
        .query_map([], |r| {
            let name: String = r.get(0)?;
            let hash: Vec<u8> = r.get(1)?;
            Ok((name, hash))
        })?
        .filter_map(|row| match row {
            Ok((name, hash)) => <[u8; 32]>::try_from(hash.as_slice())
                .ok()
                .map(|h| Ok((name, h))),
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Deletes the token `name`; `false` when there is none.
pub fn revoke_token(tx: &Transaction<'_>, name: &str) -> Result<bool, StoreError> {
    Ok(tx.execute(REVOKE_TOKEN, named_params! { ":name": name })? == 1)
}

/// Records that `name` was used (at most once a minute per token, so the
/// till's traffic does not turn every read into a write).
pub fn touch_token(tx: &Transaction<'_>, name: &str, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(TOUCH_TOKEN, named_params! { ":name": name, ":now": now_ms })?;
    Ok(())
}

/// The admin password's hash and when it was set, if it was.
pub fn admin_password(conn: &Connection) -> Result<Option<(String, i64)>, StoreError> {
    Ok(conn
        .prepare_cached(PASSWORD)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Sets (or replaces) the admin password's hash.
pub fn set_admin_password(tx: &Transaction<'_>, phc: &str, now_ms: i64) -> Result<(), StoreError> {
    tx.execute(SET_PASSWORD, named_params! { ":hash": phc, ":now": now_ms })?;
    Ok(())
}

/// Sets the admin password only if none is set yet (the first visit's
/// form); `false` when one already was, and nothing changed.
pub fn set_first_admin_password(
    tx: &Transaction<'_>,
    phc: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(tx.execute(
        SET_FIRST_PASSWORD,
        named_params! { ":hash": phc, ":now": now_ms },
    )? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn tokens_are_created_once_by_name_listed_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        let made = store
            .write(|tx| {
                Ok((
                    create_token(tx, "till-1", &[1; 32], 10)?,
                    create_token(tx, "till-1", &[2; 32], 11)?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(made, (true, false));
        let hashes = store.read(token_hashes).await.unwrap();
        assert_eq!(hashes, vec![("till-1".to_owned(), [1; 32])]);
        let revoked = store
            .write(|tx| Ok((revoke_token(tx, "till-1")?, revoke_token(tx, "till-1")?)))
            .await
            .unwrap();
        assert_eq!(revoked, (true, false));
        assert!(store.read(list_tokens).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_first_password_is_set_once_and_a_reset_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        let set = store
            .write(|tx| {
                Ok((
                    set_first_admin_password(tx, "$argon2id$a", 1)?,
                    set_first_admin_password(tx, "$argon2id$b", 2)?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(set, (true, false));
        assert_eq!(
            store.read(admin_password).await.unwrap(),
            Some(("$argon2id$a".to_owned(), 1))
        );
        store
            .write(|tx| set_admin_password(tx, "$argon2id$c", 3))
            .await
            .unwrap();
        assert_eq!(
            store.read(admin_password).await.unwrap(),
            Some(("$argon2id$c".to_owned(), 3))
        );
    }
}
