//! The server's clock: the time jobs are stamped with and the scheduler
//! waits on.
//!
//! Production uses the [`SystemClock`]. Tests install a [`ManualClock`],
//! which stands still until advanced, so that a simulated day of schedules
//! runs in seconds; whoever sleeps on it wakes when an advance reaches the
//! instant they wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};
use tokio::sync::watch;

/// A future the clock returns from [`Clock::sleep_until`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where the server's time comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, in UTC, to the microsecond the catalog keeps.
    fn now(&self) -> DateTime<Utc>;

    /// Completes once [`Clock::now`] is at or past `at`.
    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

/// The longest a system-clock sleep waits before it looks at the clock
/// again: the wall clock can jump (suspend, a time correction), and a
/// monotonic timer does not notice.
const SYSTEM_RECHECK: Duration = Duration::from_secs(30);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        Box::pin(async move {
            loop {
                let left = at - Utc::now();
                let Ok(left) = left.to_std() else {
                    return;
                };
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left.min(SYSTEM_RECHECK)).await;
            }
        })
    }
}

/// A clock that moves only when told to.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    changed: watch::Sender<DateTime<Utc>>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.now())
            .finish()
    }
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        let start = start.trunc_subsecs(6);
        ManualClock {
            now: Mutex::new(start),
            changed: watch::Sender::new(start),
        }
    }

    /// Moves the clock forward by `by` and wakes every sleeper whose
    /// instant it reached. Returns the new time.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let by = chrono::TimeDelta::from_std(by).unwrap_or(chrono::TimeDelta::MAX);
        let now = {
            let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
            *now = now
                .checked_add_signed(by)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            *now
        };
        self.changed.send_replace(now);
        now
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> Sleep<'_> {
        let mut changes = self.changed.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock, which outlives this
            // borrow; an error would mean it is gone, and then nothing
            // will ever wake us, so wait for good.
            if changes.wait_for(|now| *now >= at).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// The clock a server runs on.
#[derive(Debug, Clone, Default)]
pub enum ClockSetting {
    /// The operating system's clock.
    #[default]
    System,
    /// A manual clock, advanced by the caller or by the administrator
    /// through `POST /api/v1/clock/advance`, which exists only then.
    Manual(Arc<ManualClock>),
}

impl PartialEq for ClockSetting {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ClockSetting::System, ClockSetting::System) => true,
            (ClockSetting::Manual(a), ClockSetting::Manual(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ClockSetting {}

impl ClockSetting {
    /// The clock itself.
    pub fn clock(&self) -> Arc<dyn Clock> {
        match self {
            ClockSetting::System => Arc::new(SystemClock),
            ClockSetting::Manual(m) => Arc::clone(m) as Arc<dyn Clock>,
        }
    }

    /// The manual clock, when it is one.
    pub fn manual(&self) -> Option<&Arc<ManualClock>> {
        match self {
            ClockSetting::System => None,
            ClockSetting::Manual(m) => Some(m),
        }
    }
}

/// The instant `text` names in RFC 3339, for tests.
#[cfg(test)]
pub(crate) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a test's time is RFC 3339")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_sleeper_wakes_when_an_advance_reaches_its_instant() {
        let clock = Arc::new(ManualClock::new(at("2025-03-01T00:00:00Z")));
        let target = at("2025-03-01T00:15:00Z");
        let sleeper = {
            let clock = Arc::clone(&clock);
            tokio::spawn(async move { clock.sleep_until(target).await })
        };
        clock.advance(Duration::from_secs(14 * 60));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sleeper.is_finished(), "woke before its instant");
        clock.advance(Duration::from_secs(60));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woke once the clock reached its instant")
            .unwrap();
        assert_eq!(clock.now(), target);
    }

    #[tokio::test]
    async fn sleeping_until_the_past_returns_at_once() {
        let clock = ManualClock::new(at("2025-03-01T00:00:00Z"));
        tokio::time::timeout(
            Duration::from_secs(1),
            clock.sleep_until(at("2024-01-01T00:00:00Z")),
        )
        .await
        .expect("past instants do not wait");
        tokio::time::timeout(
            Duration::from_secs(1),
            SystemClock.sleep_until(Utc::now() - chrono::TimeDelta::seconds(1)),
        )
        .await
        .expect("past instants do not wait");
    }

    #[test]
    fn settings_compare_by_the_clock_they_share() {
        let m = Arc::new(ManualClock::new(at("2025-03-01T00:00:00Z")));
        assert_eq!(ClockSetting::System, ClockSetting::System);
        assert_eq!(
            ClockSetting::Manual(Arc::clone(&m)),
            ClockSetting::Manual(Arc::clone(&m))
        );
        assert_ne!(
            ClockSetting::Manual(m),
            ClockSetting::Manual(Arc::new(ManualClock::new(at("2025-03-01T00:00:00Z"))))
        );
    }
}
