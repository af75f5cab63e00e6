//! CI gating: `--fail-on leak,pressure` and budgets, checked against a finished run.
//!
//! Each failure has its own exit code so a CI script can tell a leak from a blown budget
//! without parsing text. The codes avoid `run`'s own 0-4 and `compare`'s 5-6.

use crate::format;
use crate::run_schema::RunReport;
#[cfg(test)]
use crate::units;

/// What the user asked to gate on. `Default` gates on nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    /// `--fail-on leak`: a `leak` verdict fails (exit 1, as `run` already does).
    pub fail_on_leak: bool,
    /// `--fail-on pressure`: an allocation-pressure finding fails.
    pub fail_on_pressure: bool,
    /// `--max-retained-per-request`, bytes.
    pub max_retained_per_request: Option<f64>,
    /// `--max-gc-share`, 0..1.
    pub max_gc_share: Option<f64>,
}

impl Budgets {
    /// Parse a `--fail-on` list such as `leak,pressure` into this set.
    pub fn set_fail_on(&mut self, list: &str) -> Result<(), String> {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "leak" => self.fail_on_leak = true,
                "pressure" => self.fail_on_pressure = true,
                other => {
                    return Err(format!(
                        "--fail-on: unknown condition `{other}` (use leak, pressure)"
                    ))
                }
            }
        }
        Ok(())
    }
}

/// Exit code for `--fail-on leak` (the same as `run`'s leak code).
pub const EXIT_LEAK: i32 = 1;
/// Exit code for `--fail-on pressure`.
pub const EXIT_PRESSURE: i32 = 10;
/// Exit code for an exceeded `--max-retained-per-request`.
pub const EXIT_RETAINED_BUDGET: i32 = 11;
/// Exit code for an exceeded `--max-gc-share`.
pub const EXIT_GC_SHARE_BUDGET: i32 = 12;

#[derive(Debug, Clone, PartialEq)]
pub enum BudgetFailure {
    Leak,
    Pressure(String),
    RetainedPerRequest { actual: f64, budget: f64 },
    GcShare { actual: f64, budget: f64 },
}

impl BudgetFailure {
    pub fn exit_code(&self) -> i32 {
        match self {
            BudgetFailure::Leak => EXIT_LEAK,
            BudgetFailure::Pressure(_) => EXIT_PRESSURE,
            BudgetFailure::RetainedPerRequest { .. } => EXIT_RETAINED_BUDGET,
            BudgetFailure::GcShare { .. } => EXIT_GC_SHARE_BUDGET,
        }
    }

    /// One line naming the budget, for the terminal and the Markdown summary.
    pub fn message(&self) -> String {
        match self {
            BudgetFailure::Leak => "--fail-on leak: the verdict is leak".into(),
            BudgetFailure::Pressure(p) => format!("--fail-on pressure: {p}"),
            BudgetFailure::RetainedPerRequest { actual, budget } => format!(
                "--max-retained-per-request {}: retained {} per request",
                format::bytes(*budget),
                format::bytes(*actual)
            ),
            BudgetFailure::GcShare { actual, budget } => format!(
                "--max-gc-share {}: GC took {} of the time",
                format::percent(*budget),
                format::percent(*actual)
            ),
        }
    }
}

/// Every budget the run exceeded, in a stable order (the first one's code is the exit code).
pub fn check(r: &RunReport, b: &Budgets) -> Vec<BudgetFailure> {
    let mut out = Vec::new();
    if b.fail_on_leak && r.verdict == leakhound_schema::Verdict::Leak {
        out.push(BudgetFailure::Leak);
    }
    if b.fail_on_pressure {
        if let Some(p) = &r.allocation_pressure {
            out.push(BudgetFailure::Pressure(p.clone()));
        }
    }
    if let Some(budget) = b.max_retained_per_request {
        if r.retained_bytes_per_request > budget {
            out.push(BudgetFailure::RetainedPerRequest {
                actual: r.retained_bytes_per_request,
                budget,
            });
        }
    }
    if let (Some(budget), Some(actual)) = (b.max_gc_share, r.gc_time_share) {
        if actual > budget {
            out.push(BudgetFailure::GcShare { actual, budget });
        }
    }
    out
}

/// The exit code for a list of failures: the first failure's, or `None` when all passed.
pub fn exit_code(failures: &[BudgetFailure]) -> Option<i32> {
    failures.first().map(BudgetFailure::exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        RunReport {
            verdict: leakhound_schema::Verdict::Leak,
            retained_bytes_per_request: 3000.0,
            gc_time_share: Some(0.2),
            allocation_pressure: Some("high allocation rate".into()),
            ..Default::default()
        }
    }

    #[test]
    fn each_exceeded_budget_is_named_with_its_code() {
        let mut b = Budgets::default();
        b.set_fail_on("leak,pressure").unwrap();
        b.max_retained_per_request = Some(units::parse_size("1KB").unwrap());
        b.max_gc_share = Some(units::parse_percent("10%").unwrap());
        let f = check(&report(), &b);
        let codes: Vec<i32> = f.iter().map(BudgetFailure::exit_code).collect();
        assert_eq!(codes, vec![1, 10, 11, 12]);
        assert!(f[2].message().contains("1.0 KiB") && f[2].message().contains("2.9 KiB"));
        assert!(f[3].message().contains("20.0%"));
        assert_eq!(exit_code(&f), Some(1));
    }

    #[test]
    fn budgets_within_limits_pass() {
        let mut r = report();
        r.verdict = leakhound_schema::Verdict::NoLeak;
        r.allocation_pressure = None;
        let b = Budgets {
            fail_on_leak: true,
            fail_on_pressure: true,
            max_retained_per_request: Some(4096.0),
            max_gc_share: Some(0.5),
        };
        assert!(check(&r, &b).is_empty());
        assert_eq!(exit_code(&[]), None);
        assert!(check(&report(), &Budgets::default()).is_empty());
    }

    #[test]
    fn unknown_fail_on_is_rejected() {
        assert!(Budgets::default().set_fail_on("leak,oops").is_err());
    }
}
