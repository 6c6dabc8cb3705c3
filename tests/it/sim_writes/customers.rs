//! Customer writes: duplicate e-mails, lookup by e-mail, deletion needs
//! `force`.

use serde_json::json;

use super::spawn;
use crate::sim_fixtures::shape::{assert_same_shape, captured, load};

#[tokio::test]
async fn sim_customers_are_created_once_per_email_and_deleted_only_with_force() {
    let (sim, c) = spawn().await;
    let body = json!({"email": "till-577a475a@example.com", "first_name": "Till", "last_name": "Shopper",
                      "billing": {"phone": "+44 20 7946 0000"}});
    let r = c.write("POST", "customers", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["username"], "till-577a475a");
    assert_eq!(created["billing"]["phone"], "+44 20 7946 0000");
    assert_same_shape(
        "customer create",
        &captured(&["customer_single", "delete_customer_force_response"]),
        std::slice::from_ref(&created),
        &[],
        &[],
    );

    let r = c.write("POST", "customers", Some(&body)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"code": "registration-error-email-exists",
               "message": "An account is already registered with till-577a475a@example.com. Please log in or use a different email address.",
               "data": {"status": 400}})
    );
    let found = c
        .get("customers", &[("email", "till-577a475a@example.com")])
        .await
        .ids();
    assert_eq!(found, vec![id]);
    assert_eq!(
        sim.customer_id_by_email("TILL-577A475A@example.com"),
        Some(id)
    );

    let r = c
        .write("POST", "customers", Some(&json!({"first_name": "No mail"})))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("rest_missing_callback_param"))
    );

    let r = c
        .write(
            "PUT",
            &format!("customers/{id}"),
            Some(&json!({"last_name": "Changed"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["last_name"].clone()),
        (200, json!("Changed"))
    );

    let r = c.write("DELETE", &format!("customers/{id}"), None).await;
    assert_eq!(r.status, 501);
    assert_eq!(r.json(), load("delete_customer_noforce_error"));
    let r = c
        .try_write(
            "DELETE",
            &format!("customers/{id}"),
            &[("force", "true"), ("reassign", "0")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], id);
    assert!(sim.customer(id).is_none());

    let made = sim
        .create_customer("handle@example.com", "Han", "Dle")
        .unwrap();
    assert!(
        sim.create_customer("handle@example.com", "Han", "Dle")
            .is_err()
    );
    assert!(sim.delete_customer(made));
}
