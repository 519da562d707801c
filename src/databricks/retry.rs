//! When to try a failed request again: exponential backoff with jitter, `Retry-After`, and an
//! overall deadline.
//!
//! The Databricks SDKs retry 429, 503, connection failures and timeouts for 5 minutes in total,
//! waiting up to 10 s between tries. Python honours `Retry-After` in seconds; this client also
//! reads the HTTP-date form.

use std::time::{Duration, Instant, SystemTime};

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// Maximum wait taken from a `Retry-After` header, so that a server cannot stall a run for hours.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Share of a backoff step added at random, so that clients that failed together do not retry together.
const JITTER_SHARE: f64 = 0.25;

/// IMF-fixdate, the HTTP-date form that RFC 9110 requires senders to use.
const IMF_FIXDATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// Returns the backoff before retry number `attempt` (0 for the first retry): `base`, doubled
/// for each earlier retry, plus `jitter` (between 0 and 1) times a quarter of that, at most `max_wait`.
pub fn backoff_delay(base: Duration, max_wait: Duration, attempt: u32, jitter: f64) -> Duration {
    let step = base.saturating_mul(2u32.saturating_pow(attempt.min(31)));
    let jitter = step.mul_f64(JITTER_SHARE * jitter.clamp(0.0, 1.0));

    step.saturating_add(jitter).min(max_wait)
}

/// Parses a `Retry-After` value: a number of seconds, or an IMF-fixdate such as
/// `Wed, 21 Oct 2015 07:28:00 GMT`, counted from `now`. A date in the past means no wait.
///
/// NOTE: the obsolete RFC 850 and asctime date forms are not read; such a header is ignored and
/// the backoff applies.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }

    let date = time::PrimitiveDateTime::parse(value, IMF_FIXDATE)
        .ok()?
        .assume_utc();
    let now = OffsetDateTime::from(now);
    let wait = date - now;

    Some(wait.try_into().unwrap_or(Duration::ZERO))
}

/// Tracks the retries of one operation against its deadline.
#[derive(Debug)]
pub(crate) struct RetrySchedule {
    started: Instant,
    deadline: Duration,
    base: Duration,
    max_wait: Duration,
    retries: u32,
}

impl RetrySchedule {
    pub fn new(deadline: Duration, base: Duration, max_wait: Duration) -> Self {
        Self {
            started: Instant::now(),
            deadline,
            base,
            max_wait,
            retries: 0,
        }
    }

    /// Returns the wait before the next try, or `None` when that try would start after the
    /// deadline. The wait is the larger of the backoff and the capped `Retry-After`.
    pub fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let backoff = backoff_delay(self.base, self.max_wait, self.retries, rand::random());
        let wait = match retry_after {
            Some(requested) => requested.min(RETRY_AFTER_CAP).max(backoff),
            None => backoff,
        };

        if self.started.elapsed().saturating_add(wait) > self.deadline {
            return None;
        }
        self.retries += 1;
        Some(wait)
    }

    /// Returns the number of retries granted so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const TEN_SECONDS: Duration = Duration::from_secs(10);

    #[test]
    fn backoff_doubles_up_to_cap() {
        let delays: Vec<Duration> = (0..6)
            .map(|attempt| backoff_delay(SECOND, TEN_SECONDS, attempt, 0.0))
            .collect();

        assert_eq!(
            delays,
            [1, 2, 4, 8, 10, 10].map(Duration::from_secs).to_vec()
        );
    }

    #[test]
    fn backoff_adds_jitter() {
        assert_eq!(
            backoff_delay(SECOND, TEN_SECONDS, 0, 1.0),
            Duration::from_millis(1250)
        );
        assert_eq!(
            backoff_delay(SECOND, TEN_SECONDS, 2, 0.5),
            Duration::from_millis(4500)
        );
        assert_eq!(backoff_delay(SECOND, TEN_SECONDS, 3, 1.0), TEN_SECONDS);
    }

    #[test]
    fn backoff_survives_huge_attempt() {
        assert_eq!(
            backoff_delay(SECOND, TEN_SECONDS, u32::MAX, 1.0),
            TEN_SECONDS
        );
    }

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::UNIX_EPOCH;

        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_http_date() {
        // 2015-10-21T07:27:30Z is 1445412450 seconds after the epoch.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_450);

        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn retry_after_past_date_is_zero() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_450);

        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_rejects_other_text() {
        let now = SystemTime::UNIX_EPOCH;

        for value in ["soon", "-5", "1.5", "Wednesday, 21-Oct-15 07:28:00 GMT", ""] {
            assert_eq!(parse_retry_after(value, now), None, "{value}");
        }
    }

    #[test]
    fn schedule_prefers_longer_retry_after() {
        let mut schedule = RetrySchedule::new(
            Duration::from_secs(3600),
            Duration::from_millis(1),
            Duration::from_millis(1),
        );

        assert_eq!(
            schedule.next_wait(Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            schedule.next_wait(Some(Duration::from_secs(600))),
            Some(RETRY_AFTER_CAP)
        );
        assert_eq!(schedule.next_wait(None), Some(Duration::from_millis(1)));
        assert_eq!(schedule.retries(), 3);
    }

    #[test]
    fn schedule_stops_at_deadline() {
        let mut schedule = RetrySchedule::new(
            Duration::from_secs(5),
            Duration::from_millis(1),
            Duration::from_millis(1),
        );

        assert_eq!(schedule.next_wait(Some(Duration::from_secs(30))), None);
        assert_eq!(schedule.retries(), 0);
    }
}
