//! What the shop itself checks on the fields the agent sends, checked at
//! the till first so the cashier hears of a refusal at once (a 422 naming
//! the field) instead of the manager finding the sale parked later.
//!
//! WordPress checks every email with `is_email()` (an order's
//! `billing.email`, a customer's email when registering), and stores a
//! customer's email in a 100-character column; an order's billing email
//! and phone columns hold 320 and 100 characters. The list is in README
//! ("What the till checks before the shop does").

/// Longest account email WordPress stores (`wp_users.user_email`).
pub const MAX_ACCOUNT_EMAIL_CHARS: usize = 100;
/// Longest billing email an order stores.
pub const MAX_BILLING_EMAIL_CHARS: usize = 320;
/// Longest phone number an order stores.
pub const MAX_PHONE_CHARS: usize = 100;

/// WordPress' `is_email()` (`wp-includes/formatting.php`, WordPress 7.1),
/// step by step: at least 6 bytes; an `@` after the first character; a
/// local part of letters, digits and ``!#$%&'*+/=?^_`{|}~.-``; a domain of
/// two or more dot-separated labels of letters, digits and inner hyphens,
/// with no empty label. PHP's `$` also matches before a final newline, so
/// the local part may end in one `\n`, as in WordPress.
pub fn is_email(email: &str) -> bool {
    if email.len() < 6 {
        return false;
    }
    let Some(at) = email.get(1..).and_then(|s| s.find('@')).map(|i| i + 1) else {
        return false;
    };
    let (local, domain) = (&email[..at], &email[at + 1..]);
    let local_chars = local.strip_suffix('\n').unwrap_or(local);
    if local_chars.is_empty()
        || !local_chars
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
    {
        return false;
    }
    if domain.contains("..") {
        return false;
    }
    const SPACE: &[char] = &[' ', '\t', '\n', '\r', '\0', '\x0b'];
    if domain.trim_matches(|c| SPACE.contains(&c) || c == '.') != domain {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            label.trim_matches(|c| SPACE.contains(&c) || c == '-') == *label
                && !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each case was run through WordPress 7.1's own `is_email()` (PHP 8.2)
    /// with the same answer.
    #[test]
    fn is_email_answers_as_wordpress_does() {
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
}
