//! Seeded people: the administrator (user 1) and customers with billing and
//! shipping addresses, plus the guest identities used on guest orders.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::days;
use crate::woo::clock::Ts;
use crate::words::{
    COMPANIES, City, EU_CITIES, FIRST_NAMES, GB_CITIES, LAST_NAMES, STREETS_EU, STREETS_GB,
    STREETS_US, US_CITIES,
};
use serde_json::Value;

use crate::woo::model::{Address, Customer, Ids, Meta, Store};

/// ASCII form of a name for logins and e-mail addresses.
fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '\u{e1}' | '\u{e0}' | '\u{e2}' | '\u{e4}' => Some('a'),
            '\u{e9}' | '\u{e8}' | '\u{eb}' => Some('e'),
            '\u{ed}' => Some('i'),
            '\u{f3}' | '\u{f6}' => Some('o'),
            '\u{fa}' | '\u{fc}' => Some('u'),
            '\u{159}' => Some('r'),
            _ => None,
        })
        .collect()
}

fn pick_city(rng: &mut ChaCha8Rng) -> &'static City {
    let list = match rng.gen_range(0..100) {
        0..=59 => GB_CITIES,
        60..=79 => US_CITIES,
        _ => EU_CITIES,
    };
    list.choose(rng).expect("cities")
}

fn postcode(rng: &mut ChaCha8Rng, city: &City) -> String {
    const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let letter = |rng: &mut ChaCha8Rng| LETTERS[rng.gen_range(0..LETTERS.len())] as char;
    match city.country {
        "GB" => format!(
            "{} {}{}{}",
            city.postcode,
            rng.gen_range(1..10),
            letter(rng),
            letter(rng)
        ),
        "IE" => format!(
            "{} {}{}{}{}",
            city.postcode,
            letter(rng),
            rng.gen_range(10..99),
            letter(rng),
            letter(rng)
        ),
        "US" if city.postcode.len() == 5 => city.postcode.to_owned(),
        _ => format!("{}{:02}", city.postcode, rng.gen_range(1..99)),
    }
}

fn street(rng: &mut ChaCha8Rng, country: &str) -> String {
    let streets = match country {
        "GB" => STREETS_GB,
        "US" => STREETS_US,
        _ => STREETS_EU,
    };
    let name = streets.choose(rng).expect("streets");
    if matches!(country, "DE") {
        format!("{name} {}", rng.gen_range(1..120))
    } else {
        format!("{} {name}", rng.gen_range(1..400))
    }
}

/// A person's billing address at a random city.
pub(crate) fn address(rng: &mut ChaCha8Rng, first: &str, last: &str, email: &str) -> Address {
    let city = pick_city(rng);
    Address {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        company: if rng.gen_bool(0.1) {
            (*COMPANIES.choose(rng).expect("companies")).to_owned()
        } else {
            String::new()
        },
        address_1: street(rng, city.country),
        address_2: if rng.gen_bool(0.15) {
            format!("Flat {}", rng.gen_range(1..30))
        } else {
            String::new()
        },
        city: city.name.to_owned(),
        state: city.state.to_owned(),
        postcode: postcode(rng, city),
        country: city.country.to_owned(),
        email: email.to_owned(),
        phone: if rng.gen_bool(0.85) {
            format!("{} {:04}", city.phone_prefix, rng.gen_range(0..10_000))
        } else {
            String::new()
        },
    }
}

/// A made-up name, unique by construction of the caller's set.
pub(crate) fn person(rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
    (
        FIRST_NAMES.choose(rng).expect("first names"),
        LAST_NAMES.choose(rng).expect("last names"),
    )
}

fn admin(anchor: Ts) -> Customer {
    let created = anchor - days(800);
    Customer {
        id: 1,
        created,
        modified: created,
        email: "admin@example.com".to_owned(),
        first_name: String::new(),
        last_name: String::new(),
        role: "administrator",
        username: "admin".to_owned(),
        display_name: "admin".to_owned(),
        billing: Address::default(),
        shipping: Address::default(),
        is_paying_customer: false,
        meta: vec![],
    }
}

/// The administrator and `n` customers, registered over the last two years.
pub(crate) fn customers(store: &mut Store, rng: &mut ChaCha8Rng, n: usize, anchor: Ts) {
    store.customers.insert(1, admin(anchor));
    let mut logins: HashSet<String> = HashSet::new();
    let span = days(700);
    let step = (span / (n.max(1) as i64)).max(2);
    for i in 0..n {
        let (first, last) = person(rng);
        let base = format!("{}.{}", ascii_lower(first), ascii_lower(last));
        let mut username = base.clone();
        let mut k = 2;
        while !logins.insert(username.clone()) {
            username = format!("{base}{k}");
            k += 1;
        }
        let domain = ["example.com", "example.co.uk", "example.org", "example.net"]
            .choose(rng)
            .expect("domains");
        let email = format!("{username}@{domain}");
        let created = anchor - span - days(1) + step * i as i64 + rng.gen_range(0..step / 2 + 1);
        let billing = address(rng, first, last, &email);
        let shipping = match rng.gen_range(0..100) {
            0..=69 => Address {
                email: String::new(),
                ..billing.clone()
            },
            70..=84 => Address {
                email: String::new(),
                ..address(rng, first, last, "")
            },
            // Never given a shipping address.
            _ => Address::default(),
        };
        let id = Ids::next(&mut store.ids.user);
        // Accounts created without a password (checkout, REST) carry the
        // "change your generated password" flag WordPress sets.
        let meta = if rng.gen_bool(0.2) {
            vec![Meta {
                id: Ids::next(&mut store.ids.user_meta),
                key: "default_password_nag".to_owned(),
                value: Value::String("1".to_owned()),
            }]
        } else {
            vec![]
        };
        store.customers.insert(
            id,
            Customer {
                id,
                created,
                modified: created + rng.gen_range(0..days(30)).min((anchor - created).max(0)),
                email,
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                role: "customer",
                display_name: format!("{first} {last}"),
                username,
                billing,
                shipping,
                is_paying_customer: false,
                meta,
            },
        );
    }
}
