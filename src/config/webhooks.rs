//! `[webhooks]`: the secret of subscriptions made by hand in WooCommerce
//! (those made by `possync webhooks install` keep theirs in the replica).

use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;

/// Webhook settings.
#[derive(Debug, Clone, Default)]
pub struct WebhooksConfig {
    /// The secret entered in WooCommerce for a subscription made by hand.
    pub secret: Option<SecretString>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhooks {
    /// A raw value, so a wrongly typed secret is never quoted in an error.
    secret: Option<toml::Value>,
}

impl RawWebhooks {
    pub(super) fn validate(self) -> Result<WebhooksConfig, ConfigError> {
        let secret = match self.secret {
            None => None,
            Some(toml::Value::String(s)) if !s.is_empty() => Some(SecretString::from(s)),
            Some(toml::Value::String(_)) => {
                return Err(ConfigError::invalid("webhooks.secret", "must not be empty"));
            }
            Some(_) => return Err(ConfigError::invalid("webhooks.secret", "must be a string")),
        };
        Ok(WebhooksConfig { secret })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    fn load(text: &str) -> Result<Config, super::ConfigError> {
        crate::config::tests::load(text, &[])
    }

    #[test]
    fn secret_is_read_and_never_shown() {
        let c = load("[webhooks]\nsecret = \"hand-made-hook-secret\"\n").unwrap();
        assert!(c.webhooks.secret.is_some());
        assert!(!format!("{c:?}").contains("hand-made-hook-secret"));
        assert!(c.view().webhook_secret_set);
        let v = serde_json::to_string(&c.view()).unwrap();
        assert!(!v.contains("hand-made-hook-secret"), "{v}");
    }

    #[test]
    fn a_wrongly_typed_secret_is_not_quoted() {
        let e = load("[webhooks]\nsecret = 12345678\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("webhooks.secret") && !e.contains("12345678"),
            "{e}"
        );
    }

    #[test]
    fn env_sets_the_secret() {
        let c = Config::load(
            None,
            vec![("POSSYNC_WEBHOOKS_SECRET".to_owned(), "from-env".to_owned())],
            &[],
        )
        .unwrap();
        assert!(c.webhooks.secret.is_some());
    }
}
