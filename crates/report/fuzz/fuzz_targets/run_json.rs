//! Any bytes given to `leakhound report` / `compare`: parse, then render and compare whatever
//! parses. Nothing may panic or hang (hostile numbers reach the chart code).
#![no_main]

use leakhound_report::{compare, gate, html, markdown, render, run_schema, units};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = units::parse_size(s);
        let _ = units::parse_percent(s);
        let _ = gate::Budgets::default().set_fail_on(s);
    }
    if let Ok(r) = run_schema::from_json(data) {
        let _ = html::render(&r);
        let _ = markdown::render(&r);
        let _ = render::to_string(&render::Text, &r);
        let c = compare::compare(&r, &r);
        let _ = compare::render_terminal(&c);
        let _ = gate::check(
            &r,
            &gate::Budgets {
                fail_on_leak: true,
                fail_on_pressure: true,
                max_retained_per_request: Some(1024.0),
                max_gc_share: Some(0.1),
            },
        );
    }
});
