//! The sim's argument checks against answers captured from a real
//! WooCommerce 11.0.1 (`tests/fixtures/woocommerce/rest/err_400_*`).

use super::*;

fn captured(name: &str) -> Value {
    let path = format!(
        "{}/../tests/fixtures/woocommerce/rest/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("capture exists")).unwrap()
}

/// The request body a capture was answered for.
fn sent(name: &str) -> Map<String, Value> {
    captured(&format!("{name}.headers"))["request"]["json_body"]
        .as_object()
        .expect("a JSON request body")
        .clone()
}

fn answer(e: ApiError) -> Value {
    json!({ "code": e.code, "message": e.message, "data": *e.data })
}

/// The sim answers the captured request exactly as the real store did.
fn assert_answers_like_the_shop(route: Route, capture: &str) {
    let e = check(route, "POST", &sent(capture)).expect_err("the shop refused it");
    assert_eq!(e.status, 400);
    assert_eq!(answer(e), captured(capture), "{capture}");
}

#[test]
fn an_empty_billing_email_is_refused_as_the_shop_refuses_it() {
    assert_answers_like_the_shop(Route::Orders, "err_400_order_billing_email_empty");
}

#[test]
fn an_address_is_email_rejects_is_refused_as_the_shop_refuses_it() {
    assert_answers_like_the_shop(Route::Orders, "err_400_order_billing_email_no_tld_dot");
}

#[test]
fn nested_type_enum_and_list_errors_match_the_shop_in_order_and_detail() {
    assert_answers_like_the_shop(Route::Orders, "err_400_order_nested_invalid_params");
}

#[test]
fn a_missing_required_arg_is_named_like_the_shop() {
    assert_answers_like_the_shop(Route::Customers, "err_400_customer_missing_email");
}

#[test]
fn what_the_agent_sends_now_is_accepted() {
    let input = json!({
        "status": "completed", "set_paid": true,
        "billing": {"country": "GB", "state": "LND", "email": null},
        "line_items": [{"product_id": 28, "quantity": 1}],
        "meta_data": [{"key": "possync_key", "value": "k"}],
    });
    assert!(check(Route::Orders, "POST", input.as_object().unwrap()).is_ok());
    let input = json!({"billing": {"email": "ada@example.com"}});
    assert!(check(Route::Order, "PUT", input.as_object().unwrap()).is_ok());
}

#[test]
fn wordpress_loose_type_rules() {
    let ok =
        json!({"stock_quantity": "5", "featured": "1", "upsell_ids": "1, 2", "menu_order": 3.0});
    assert!(check(Route::Product, "PUT", ok.as_object().unwrap()).is_ok());
    let bad = json!({"stock_quantity": "lots", "regular_price": 5, "type": "box", "featured": ""});
    let e = check(Route::Products, "POST", bad.as_object().unwrap()).unwrap_err();
    assert_eq!(e.code, "rest_invalid_param");
    assert_eq!(
        e.message,
        "Invalid parameter(s): type, featured, regular_price, stock_quantity"
    );
    assert_eq!(
        e.data["params"]["type"],
        "type is not one of simple, grouped, external, and variable."
    );
    assert_eq!(
        e.data["details"]["regular_price"]["data"],
        json!({"param": "regular_price"})
    );
}

#[test]
fn a_delete_checks_the_delete_args_only() {
    let input = json!({"force": "yes"});
    let e = check(Route::Order, "DELETE", input.as_object().unwrap()).unwrap_err();
    assert_eq!(e.data["params"]["force"], "force is not of type boolean.");
    let input = json!({"force": "true", "name": 5});
    assert!(check(Route::Order, "DELETE", input.as_object().unwrap()).is_ok());
}

#[test]
fn date_time_format_is_checked() {
    let input = json!({"date_on_sale_from": "tomorrow"});
    // `date_on_sale_from` has no format in the capture: any string.
    assert!(check(Route::Product, "PUT", input.as_object().unwrap()).is_ok());
    let schema = json!({"type": "string", "format": "date-time"});
    assert!(validate(&json!("2026-12-02T10:00:00"), &schema, "d").is_ok());
    assert!(validate(&json!("2026-12-02 10:00:00.5+01:00"), &schema, "d").is_ok());
    assert_eq!(
        validate(&json!("2026-13-02T10:00:00"), &schema, "d")
            .unwrap_err()
            .code,
        "rest_invalid_date"
    );
}

#[test]
fn is_email_follows_wordpress() {
    for ok in [
        "ada@example.com",
        "a.b+c@sub.example.co.uk",
        "o'neil@x-y.io",
        "ab@c.de",
        "ab\n@example.com",
        "a@b.c.d",
    ] {
        assert!(is_email(ok), "{ok:?} is an email to WordPress");
    }
    for bad in [
        "",
        "x@y.z",
        "@example.com",
        "ada",
        "ada@localhost",
        "ada@exa..mple.com",
        "ada@.example.com",
        "ada@example.com.",
        "ada@-example.com",
        "ada@exam_ple.com",
        "ada lovelace@example.com",
        "ada@example.com\n",
        "adä@example.com",
        "ada@exämple.com",
        "ada@@example.com",
        "ada(x)@example.com",
    ] {
        assert!(!is_email(bad), "{bad:?} is not an email to WordPress");
    }
}
