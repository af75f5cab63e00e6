//! The budgets a run exceeded (`--fail-on`, `--max-*`), one line each, as `run` prints them.

use std::io;

use super::{Render, Text};
use crate::gate::BudgetFailure;

impl Render<[BudgetFailure]> for Text {
    fn render(&self, failures: &[BudgetFailure], out: &mut dyn io::Write) -> io::Result<()> {
        for f in failures {
            writeln!(
                out,
                "budget exceeded (exit {}): {}",
                f.exit_code(),
                f.message()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::to_string;

    #[test]
    fn each_failure_is_one_line_with_its_code() {
        let f = [
            BudgetFailure::Leak,
            BudgetFailure::RetainedPerRequest {
                actual: 3000.0,
                budget: 1024.0,
            },
        ];
        assert_eq!(
            to_string(&Text, &f[..]),
            "budget exceeded (exit 1): --fail-on leak: the verdict is leak\n\
             budget exceeded (exit 11): --max-retained-per-request 1.0 KiB: retained 2.9 KiB per request\n"
        );
        assert_eq!(to_string(&Text, &f[..0]), "");
    }
}
