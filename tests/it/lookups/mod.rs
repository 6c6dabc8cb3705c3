//! Till lookups end to end: a simulated shop pulled into a real replica,
//! then asked over HTTP on loopback what a till asks.

mod bad_input;
mod catalog;
mod during_pull;
mod first_pull_search;
mod own_sales;
mod people;

use serde_json::Value;

use crate::common::{TestApp, assert_completed, small_sim};

/// A shop pulled into a fresh replica, with a few products the tests know.
pub struct Shop {
    pub t: TestApp,
    /// "Crème Brûlée Torch", SKU `CRB-Torch-1`, £12.50, 7 in stock.
    pub torch: i64,
}

pub async fn pulled_shop() -> Shop {
    let sim = possync_sim::woo::Sim::spawn(small_sim())
        .await
        .expect("sim starts");
    let torch = sim.add_simple_product("Crème Brûlée Torch", "CRB-Torch-1", "12.50", Some(7));
    let t = TestApp::spawn_with_sim(sim, |_| {}).await;
    assert_completed(&t.pulled().await);
    Shop { t, torch }
}

/// One row of the replica, every column as text (NULL as ""): the facts a
/// test checks the answers against.
pub async fn fact(t: &TestApp, sql: &'static str) -> Vec<String> {
    t.store()
        .read(move |c| {
            let mut stmt = c.prepare(sql)?;
            let n = stmt.column_count();
            Ok(stmt.query_row([], |r| {
                (0..n)
                    .map(|i| {
                        let v: rusqlite::types::Value = r.get(i)?;
                        Ok(match v {
                            rusqlite::types::Value::Null => String::new(),
                            rusqlite::types::Value::Integer(i) => i.to_string(),
                            rusqlite::types::Value::Real(f) => f.to_string(),
                            rusqlite::types::Value::Text(s) => s,
                            rusqlite::types::Value::Blob(_) => "<blob>".to_owned(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?)
        })
        .await
        .expect("the replica answers")
}

/// `GET path`, expecting 200, returning the body.
pub async fn ok(t: &TestApp, path: &str) -> Value {
    let (status, body) = t.get_json(path).await;
    assert_eq!(status, 200, "GET {path} answered {status}: {body}");
    body
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("a page has items")
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}
