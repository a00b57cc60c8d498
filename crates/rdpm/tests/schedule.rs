//! End-to-end tests of schedules.
