//! `strftime_now`, which chat templates call for today's date (SmolLM3's and
//! Granite's without checking that it exists): a small strftime over the
//! date and time, local in the browser and UTC natively.

/// A calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub year: i64,
    /// 1-12.
    pub month: u32,
    /// 1-31.
    pub day: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

impl Now {
    /// The date of `secs` seconds after 1970-01-01 00:00 UTC (the proleptic
    /// Gregorian calendar, by whole 400-year eras).
    pub fn from_unix(secs: i64) -> Now {
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Now {
            year,
            month,
            day,
            weekday: (days + 4).rem_euclid(7) as u32,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    /// Now: the browser's local date and time, or UTC natively.
    pub fn current() -> Now {
        #[cfg(target_arch = "wasm32")]
        {
            let d = js_sys::Date::new_0();
            Now {
                year: d.get_full_year() as i64,
                month: d.get_month() + 1,
                day: d.get_date(),
                weekday: d.get_day(),
                hour: d.get_hours(),
                minute: d.get_minutes(),
                second: d.get_seconds(),
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
            Now::from_unix(secs)
        }
    }

    /// Python's strftime for the directives templates use (`%d %B %Y`, `%-d
    /// %b %Y`, ...); `-` drops the zero padding; others come out as written.
    pub fn format(&self, fmt: &str) -> String {
        let mut out = String::new();
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let pad = chars.peek() != Some(&'-');
            if !pad {
                chars.next();
            }
            let num = |n: u32| if pad { format!("{n:02}") } else { n.to_string() };
            match chars.next() {
                Some('Y') => out.push_str(&self.year.to_string()),
                Some('y') => out.push_str(&num(self.year.rem_euclid(100) as u32)),
                Some('m') => out.push_str(&num(self.month)),
                Some('d') => out.push_str(&num(self.day)),
                Some('e') => out.push_str(&format!("{:>2}", self.day)),
                Some('H') => out.push_str(&num(self.hour)),
                Some('M') => out.push_str(&num(self.minute)),
                Some('S') => out.push_str(&num(self.second)),
                Some('B') => out.push_str(MONTHS[(self.month as usize + 11) % 12]),
                Some('b') | Some('h') => out.push_str(&MONTHS[(self.month as usize + 11) % 12][..3]),
                Some('A') => out.push_str(DAYS[self.weekday as usize % 7]),
                Some('a') => out.push_str(&DAYS[self.weekday as usize % 7][..3]),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_formats() {
        // 2026-12-06 was a Sunday; 2024-02-29 a leap day; before 1970 too.
        let d = Now::from_unix(20_793 * 86_400 + 13 * 3600 + 5 * 60 + 9);
        assert_eq!(d, Now { year: 2026, month: 12, day: 6, weekday: 0, hour: 13, minute: 5, second: 9 });
        assert_eq!(d.format("%d %B %Y"), "06 December 2026");
        assert_eq!(d.format("%-d %b %y, %A %H:%M:%S %% %q"), "6 Dec 26, Sunday 13:05:09 % %q");
        assert_eq!(Now::from_unix(19_782 * 86_400).format("%Y-%m-%d %a"), "2024-02-29 Thu");
        assert_eq!(Now::from_unix(-86_400).format("%Y-%m-%d %A"), "1969-12-31 Wednesday");
    }
}
