//! RFC 3339 timestamps and policy durations, without a date library: the engine is pure and
//! the current time is an argument, so all it needs is "text → Unix seconds".

use std::fmt;

use serde::Deserialize;

/// How far in the future a document's time may be (the builder's clock against ours) before it
/// is refused rather than counted as fresh.
pub(super) const CLOCK_SKEW_SECONDS: i64 = 300;

/// A maximum age written in a policy: a positive whole number and a unit — `s`, `m`, `h`, `d`
/// (24 h), `w` (7 d) — or a sum of them, as in `90m`, `720h`, `30d`, `1d12h`.
///
/// In YAML it is a string: `maxAge: 30d`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct MaxAge {
    seconds: i64,
    text: String,
}

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {}: {problem}; write a number and a unit (s, m, h, d, w), e.g. 30d or 720h",
    quote(.text)
)]
pub struct DurationError {
    text: String,
    problem: DurationProblem,
}

impl DurationError {
    /// What is wrong with it.
    pub fn problem(&self) -> DurationProblem {
        self.problem
    }
}

/// What is wrong with a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationProblem {
    /// Nothing is written.
    #[error("it is empty")]
    Empty,
    /// A unit (or another character) where a number should be.
    #[error("a unit must follow a number")]
    NoNumber,
    /// A number over 2^63.
    #[error("the number is too large")]
    NumberTooLarge,
    /// A unit other than s, m, h, d, w.
    #[error("unknown unit")]
    UnknownUnit,
    /// A number without unit.
    #[error("the unit is missing")]
    MissingUnit,
    /// More seconds than an i64 holds.
    #[error("the duration is too large")]
    TooLarge,
    /// Zero in total.
    #[error("it must be longer than zero")]
    Zero,
}

/// Why a time was too old (or not a time): the failure of a `maxAge` rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgeFailure {
    /// The value is not an RFC 3339 time.
    #[error("{what} {} is not an RFC 3339 time: {problem}", quote(.value))]
    NotATime {
        /// Which field (`the SPDX SBOM's creationInfo.created`).
        what: String,
        /// Its value.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The time is further in the future than clock skew explains.
    #[error(
        "{what} {} is {} in the future, more than the {} allowed for clock skew",
        quote(.value),
        human(*.ahead),
        human(CLOCK_SKEW_SECONDS)
    )]
    Future {
        /// Which field.
        what: String,
        /// Its value.
        value: String,
        /// How many seconds ahead of now.
        ahead: i64,
    },
    /// The time is older than the rule allows.
    #[error("{what} {} is {} old, more than maxAge {max}", quote(.value), human(*.age))]
    TooOld {
        /// Which field.
        what: String,
        /// Its value.
        value: String,
        /// Its age in seconds.
        age: i64,
        /// The rule.
        max: MaxAge,
    },
}

impl MaxAge {
    /// Parses `90m`, `720h`, `30d`, `1d12h`; `Err` says what is wrong.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let invalid = |problem| DurationError {
            text: text.to_owned(),
            problem,
        };
        let mut seconds: i64 = 0;
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(invalid(DurationProblem::Empty));
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid(DurationProblem::NoNumber));
            }
            let (number, after) = rest.split_at(digits);
            let number: i64 = number
                .parse()
                .map_err(|_| invalid(DurationProblem::NumberTooLarge))?;
            let mut chars = after.chars();
            let unit = match chars.next() {
                Some('s') => 1,
                Some('m') => 60,
                Some('h') => 3_600,
                Some('d') => 86_400,
                Some('w') => 604_800,
                Some(_) => return Err(invalid(DurationProblem::UnknownUnit)),
                None => return Err(invalid(DurationProblem::MissingUnit)),
            };
            seconds = number
                .checked_mul(unit)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(|| invalid(DurationProblem::TooLarge))?;
            rest = chars.as_str();
        }
        if seconds == 0 {
            return Err(invalid(DurationProblem::Zero));
        }
        Ok(Self {
            seconds,
            text: text.trim().to_owned(),
        })
    }

    /// The duration in seconds.
    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    /// Checks that `created` (RFC 3339) is at most this old at `now_unix`; `what` names it
    /// for the reason (`the SPDX SBOM's creationInfo.created`).
    pub fn check(&self, what: &str, created: &str, now_unix: i64) -> Result<(), AgeFailure> {
        let at = parse_rfc3339(created).map_err(|problem| AgeFailure::NotATime {
            what: what.to_owned(),
            value: created.to_owned(),
            problem,
        })?;
        self.check_unix(what, created, at, now_unix)
    }

    /// [`Self::check`] for a time already read: `at` (Unix seconds), written `value`.
    pub fn check_unix(
        &self,
        what: &str,
        value: &str,
        at: i64,
        now_unix: i64,
    ) -> Result<(), AgeFailure> {
        let age = now_unix.saturating_sub(at);
        if age < -CLOCK_SKEW_SECONDS {
            return Err(AgeFailure::Future {
                what: what.to_owned(),
                value: value.to_owned(),
                ahead: -age,
            });
        }
        if age > self.seconds {
            return Err(AgeFailure::TooOld {
                what: what.to_owned(),
                value: value.to_owned(),
                age,
                max: self.clone(),
            });
        }
        Ok(())
    }
}

impl TryFrom<String> for MaxAge {
    type Error = DurationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl fmt::Display for MaxAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An age in the largest whole unit: `3 days`, `5 hours`, `42 seconds`.
pub(crate) fn human(seconds: i64) -> String {
    let (n, unit) = if seconds >= 86_400 {
        (seconds / 86_400, "day")
    } else if seconds >= 3_600 {
        (seconds / 3_600, "hour")
    } else if seconds >= 60 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Parses an RFC 3339 date-time (`2022-06-07T22:14:56Z`, `2022-06-07T22:14:56.123+02:00`)
/// into Unix seconds (fractions are dropped). Years 0001 to 9999, as RFC 3339 allows, so Go's
/// zero time `0001-01-01T00:00:00Z` parses (and is very old).
pub(crate) fn parse_rfc3339(text: &str) -> Result<i64, &'static str> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let digits = b.get(range).ok_or("it is too short")?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err("a digit is expected");
        }
        Ok(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let expect = |at: usize, allowed: &[u8]| -> Result<(), &'static str> {
        match b.get(at) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err("it is not in the form 2006-01-02T15:04:05Z"),
        }
    };
    let year = num(0..4)?;
    expect(4, b"-")?;
    let month = num(5..7)?;
    expect(7, b"-")?;
    let day = num(8..10)?;
    expect(10, b"Tt ")?;
    let hour = num(11..13)?;
    expect(13, b":")?;
    let minute = num(14..16)?;
    expect(16, b":")?;
    let second = num(17..19)?;
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let fraction = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return Err("a fraction of a second needs digits");
        }
        at += fraction;
    }
    let offset = match b.get(at) {
        Some(b'Z' | b'z') => {
            at += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hours = num(at + 1..at + 3)?;
            expect(at + 3, b":")?;
            let minutes = num(at + 4..at + 6)?;
            if hours > 23 || minutes > 59 {
                return Err("the UTC offset is out of range");
            }
            at += 6;
            let offset = hours * 3_600 + minutes * 60;
            if sign == b'+' { offset } else { -offset }
        }
        _ => return Err("the UTC offset (Z or +hh:mm) is missing"),
    };
    if at != b.len() {
        return Err("there is text after the time");
    }
    if year == 0 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("the date does not exist");
    }
    // 60 is a leap second, which RFC 3339 allows.
    if hour > 23 || minute > 59 || second > 60 {
        return Err("the time of day is out of range");
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A value from the statement, quoted and cut to 200 characters for a failure reason.
pub(crate) fn quote(text: &str) -> String {
    const MAX: usize = 200;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_unix_seconds() {
        let cases: &[(&str, Result<i64, &str>)] = &[
            ("1970-01-01T00:00:00Z", Ok(0)),
            ("2022-06-07T22:14:56Z", Ok(1_654_640_096)),
            ("2022-04-07T19:22:25Z", Ok(1_649_359_345)),
            ("2022-04-07t19:22:25z", Ok(1_649_359_345)),
            ("2022-04-07 19:22:25Z", Ok(1_649_359_345)),
            ("2022-04-07T21:22:25.123456789+02:00", Ok(1_649_359_345)),
            ("2022-04-07T17:52:25-01:30", Ok(1_649_359_345)),
            ("2024-02-29T00:00:00Z", Ok(1_709_164_800)),
            ("0001-01-01T00:00:00Z", Ok(-62_135_596_800)),
            ("2016-12-31T23:59:60Z", Ok(1_483_228_800)),
            ("2023-02-29T00:00:00Z", Err("the date does not exist")),
            ("2022-13-01T00:00:00Z", Err("the date does not exist")),
            (
                "2022-06-07T24:00:00Z",
                Err("the time of day is out of range"),
            ),
            (
                "2022-06-07T22:14:56",
                Err("the UTC offset (Z or +hh:mm) is missing"),
            ),
            (
                "2022-06-07T22:14:56.Z",
                Err("a fraction of a second needs digits"),
            ),
            (
                "2022-06-07T22:14:56Zjunk",
                Err("there is text after the time"),
            ),
            (
                "2022-06-07",
                Err("it is not in the form 2006-01-02T15:04:05Z"),
            ),
            ("22-06-07T22:14:56Z", Err("a digit is expected")),
            ("", Err("it is too short")),
            ("2022-06-07T22:14:56+2:00", Err("a digit is expected")),
        ];
        for (text, want) in cases {
            assert_eq!(parse_rfc3339(text), *want, "{text}");
        }
    }

    #[test]
    fn durations_parse_with_units_and_sums() {
        let cases: &[(&str, Option<i64>)] = &[
            ("90m", Some(5_400)),
            ("720h", Some(2_592_000)),
            ("30d", Some(2_592_000)),
            ("2w", Some(1_209_600)),
            ("1d12h", Some(129_600)),
            ("45s", Some(45)),
            (" 1h ", Some(3_600)),
            ("0d", None),
            ("", None),
            ("30", None),
            ("d", None),
            ("30y", None),
            ("1.5h", None),
            ("-1h", None),
            ("99999999999999999999d", None),
            ("9999999999999999d", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                MaxAge::parse(text).ok().map(|d| d.seconds()),
                *want,
                "{text}"
            );
        }
        let err = match MaxAge::parse("30y") {
            Err(e) => e.to_string(),
            Ok(d) => panic!("parsed as {d}"),
        };
        assert!(
            err.contains("\"30y\"") && err.contains("unknown unit"),
            "{err}"
        );
    }

    #[test]
    fn ages_are_checked_against_now() {
        let max = MaxAge::parse("1d").unwrap_or_else(|e| panic!("{e}"));
        let created = "2022-06-07T22:14:56Z";
        let at = 1_654_640_096;
        let what = "its created";
        let check =
            |created: &str, now: i64| max.check(what, created, now).map_err(|e| e.to_string());
        assert_eq!(check(created, at + 86_400), Ok(()));
        assert_eq!(
            check(created, at + 86_401),
            Err("its created \"2022-06-07T22:14:56Z\" is 1 day old, more than maxAge 1d".into())
        );
        assert_eq!(check(created, at - 60), Ok(()));
        assert_eq!(
            check(created, at - 7_200),
            Err("its created \"2022-06-07T22:14:56Z\" is 2 hours in the future, more than the 5 minutes allowed for clock skew".into())
        );
        assert_eq!(
            check("yesterday", at),
            Err("its created \"yesterday\" is not an RFC 3339 time: a digit is expected".into())
        );
    }
}
