//! Logging set-up, called once by `main`. The library never installs a
//! global subscriber itself, so tests can install their own.
//!
//! Logs go to stderr in one of three shapes:
//!
//! - **text** (the default on a terminal or in a file): timestamp, level,
//!   message and fields, coloured on a terminal only;
//! - **journal**, chosen by itself when systemd connected stderr to the
//!   journal (`JOURNAL_STREAM` names stderr's device and inode): no
//!   timestamp of our own (the journal stamps each line) and an sd-daemon
//!   priority prefix (`<3>` error, `<4>` warn, `<6>` info, `<7>` debug and
//!   trace), so `journalctl -p warning` shows what it should;
//! - **json** (`--log-format json`): one JSON object a line, for log shippers.
//!
//! The filter comes from `POSSYNC_LOG` (or `RUST_LOG`), default `info`.
//! Nothing logged may carry a secret, a full upstream URL or customer details.

pub mod metrics;

use std::fmt;
use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The default filter: our info, dependencies' warnings.
const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,tower_http=warn";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Text under a terminal or in a file; journal lines under systemd.
    #[default]
    Auto,
    /// Timestamped text lines.
    Text,
    /// sd-daemon priority prefixes, no timestamps (the journal adds them).
    Journal,
    /// One JSON object a line.
    Json,
}

impl LogFormat {
    /// `Auto` resolved for this process: journal lines when systemd
    /// connected stderr to the journal (its `JOURNAL_STREAM` is
    /// `DEVICE:INODE` of that stream), text otherwise.
    pub fn resolve(self, journal_stream: Option<&str>) -> LogFormat {
        match self {
            LogFormat::Auto if journal_stream.is_some_and(stderr_is) => LogFormat::Journal,
            LogFormat::Auto => LogFormat::Text,
            other => other,
        }
    }
}

/// Whether stderr is the stream `DEVICE:INODE` names.
fn stderr_is(journal_stream: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Some((dev, ino)) = journal_stream.split_once(':') else {
            return false;
        };
        let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
            return false;
        };
        // stderr's own metadata, through /proc (no unsafe fstat).
        std::fs::metadata("/proc/self/fd/2").is_ok_and(|m| m.dev() == dev && m.ino() == ino)
    }
    #[cfg(not(unix))]
    {
        let _ = journal_stream;
        false
    }
}

/// The sd-daemon priority of a level (`sd-daemon(3)`).
fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// `<6>message key=value`: a journal line.
struct JournalLine;

impl<S, N> FormatEvent<S, N> for JournalLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(event.metadata().level()))?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                write!(writer, "{}: ", span.name())?;
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    let filter = std::env::var("POSSYNC_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    let journal_stream = std::env::var("JOURNAL_STREAM").ok();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format.resolve(journal_stream.as_deref()) {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Journal => builder
            .with_ansi(false)
            .event_format(JournalLine)
            .try_init(),
        LogFormat::Auto | LogFormat::Text => builder
            // Colour codes only on a terminal, never in a log file.
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_sd_daemon() {
        assert_eq!(priority(&Level::ERROR), 3);
        assert_eq!(priority(&Level::WARN), 4);
        assert_eq!(priority(&Level::INFO), 6);
        assert_eq!(priority(&Level::DEBUG), 7);
    }

    #[test]
    fn auto_is_text_without_a_journal_stream_or_a_foreign_one() {
        assert_eq!(LogFormat::Auto.resolve(None), LogFormat::Text);
        assert_eq!(LogFormat::Auto.resolve(Some("0:0")), LogFormat::Text);
        assert_eq!(LogFormat::Auto.resolve(Some("junk")), LogFormat::Text);
        assert_eq!(LogFormat::Json.resolve(Some("1:2")), LogFormat::Json);
    }
}
