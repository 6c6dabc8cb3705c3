//! What a support engineer asks about a replica (or the inbox beside it):
//! its schema version, SQLite's own integrity check, the shop's version as
//! learned, and the files' size on disk. Read-only; for `/metrics` and the
//! support bundle.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;
use super::sync_state;

const USER_VERSION: &str = "PRAGMA user_version";
const INTEGRITY_CHECK: &str = "PRAGMA integrity_check";

/// The capability row holding the shop's WooCommerce version, when a probe
/// recorded it.
pub const SHOP_VERSION_CAPABILITY: &str = "woocommerce_version";

/// The schema version (`PRAGMA user_version`) of the database `conn` is on.
pub fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(USER_VERSION, [], |r| r.get(0))?)
}

/// `PRAGMA integrity_check`: `["ok"]` for a sound file, otherwise one
/// line per problem found.
pub fn integrity_check(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(INTEGRITY_CHECK)?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The shop's WooCommerce version, if the replica learned it.
pub fn shop_version(conn: &Connection) -> Result<Option<String>, StoreError> {
    sync_state::capability(conn, SHOP_VERSION_CAPABILITY)
}

/// Bytes on disk of the database at `path` and its write-ahead log (an
/// absent file counts 0).
pub fn file_bytes(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_fresh_replica_is_sound_at_the_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let (version, check, shop) = store
            .read(|c| Ok((schema_version(c)?, integrity_check(c)?, shop_version(c)?)))
            .await
            .unwrap();
        assert_eq!(version, crate::store::SCHEMA_VERSION as i64);
        assert_eq!(check, vec!["ok".to_owned()]);
        assert_eq!(shop, None);
        assert!(file_bytes(store.path()) > 0);
    }
}
