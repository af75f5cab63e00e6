//! The seed's `[MEM] label: N MB` lines, which services print about their own memory; kept
//! beside the samples in the report.

/// A `[MEM] label: N MB` line, as the seed's services print them.
#[derive(Debug, Clone, PartialEq)]
pub struct MemLine {
    pub label: String,
    pub mb: f64,
}

/// Parse the seed's `[MEM] label: N MB` convention.
pub fn parse_mem_line(line: &str) -> Option<MemLine> {
    let rest = &line[line.find("[MEM]")? + 5..];
    let (label, value) = rest.rsplit_once(':')?;
    let num = value.trim().strip_suffix("MB")?.trim();
    Some(MemLine {
        label: label.trim().to_string(),
        mb: num.parse().ok()?,
    })
}
