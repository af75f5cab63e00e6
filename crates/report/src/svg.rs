//! Inline SVG charts, generated in Rust so the HTML report needs no script or network.
//!
//! Tooltips are SVG `<title>` elements: browsers show them natively, no JavaScript needed.

use std::fmt::Write;

use crate::escape::html as esc;

/// Chart canvas in viewBox units; CSS scales it to the column width.
const W: f64 = 560.0;
const H: f64 = 300.0;
const ML: f64 = 64.0;
const MR: f64 = 16.0;
const MT: f64 = 14.0;
const MB: f64 = 46.0;

/// Long series are thinned to about this many points (evenly, keeping the ends).
pub const MAX_POINTS: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line,
    Dashed,
    Dots,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    /// Accessible name of the figure.
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Start the y axis at zero (memory charts) rather than at the data's minimum.
    pub y_from_zero: bool,
}

/// Thin `points` to at most `max` evenly spaced ones, first and last kept.
pub fn downsample<T: Clone>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = (points.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| points[((i as f64 * step).round() as usize).min(points.len() - 1)].clone())
        .collect()
}

/// Round tick positions covering `[lo, hi]`: steps of 1, 2 or 5 times a power of ten.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, f64) {
    let (lo, hi) = if (hi - lo).abs() < f64::EPSILON * hi.abs().max(1.0) {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = mag
        * if norm <= 1.0 {
            1.0
        } else if norm <= 2.0 {
            2.0
        } else if norm <= 5.0 {
            5.0
        } else {
            10.0
        };
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

/// The tick positions, by index so that a step lost in a huge value's rounding (or a NaN
/// from hostile input) can never loop forever; at most 50 ticks.
fn tick_values(lo: f64, hi: f64, step: f64) -> impl Iterator<Item = f64> {
    let n = ((hi - lo) / step).round();
    let n = if n.is_finite() && n >= 0.0 {
        (n as usize).min(50)
    } else {
        0
    };
    let ok = lo.is_finite() && step.is_finite() && step > 0.0;
    (0..=n)
        .filter(move |_| ok)
        .map(move |i| lo + step * i as f64)
}

/// A tick label: `12k`, `1.5M`, or as many decimals as the step needs.
pub fn tick_label(v: f64, step: f64) -> String {
    let a = v.abs();
    if a >= 1e6 && step >= 1e5 {
        format!("{}M", trim(v / 1e6, step / 1e6))
    } else if a >= 1e4 && step >= 1e3 {
        format!("{}k", trim(v / 1e3, step / 1e3))
    } else {
        trim(v, step)
    }
}

fn trim(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        // Capped: a hostile step of 1e-300 must not ask for 300 decimals.
        ((-step.log10().floor()) as usize).min(6)
    };
    let s = format!("{v:.decimals$}");
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

impl Chart {
    pub fn render(&self) -> String {
        let pts = || self.series.iter().flat_map(|s| s.points.iter());
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        if pts().filter(finite).count() == 0 {
            return format!("<p class=\"empty\">No data for “{}”.</p>", esc(&self.title));
        }
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in pts().filter(finite) {
            x0 = x0.min(p.0);
            x1 = x1.max(p.0);
            y0 = y0.min(p.1);
            y1 = y1.max(p.1);
        }
        if self.y_from_zero {
            y0 = y0.min(0.0);
        }
        let (xt0, xt1, xs) = nice_ticks(x0, x1, 6);
        let (yt0, yt1, ys) = nice_ticks(y0, y1, 5);
        let pw = W - ML - MR;
        let ph = H - MT - MB;
        let sx = move |x: f64| ML + (x - xt0) / (xt1 - xt0) * pw;
        let sy = move |y: f64| MT + ph - (y - yt0) / (yt1 - yt0) * ph;

        let mut o = String::new();
        let _ = write!(
            o,
            "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" \
             xmlns=\"http://www.w3.org/2000/svg\">",
            esc(&self.title)
        );
        // Grid and tick labels.
        for y in tick_values(yt0, yt1, ys) {
            let py = sy(y);
            let _ = write!(
                o,
                "<line class=\"grid\" x1=\"{ML}\" x2=\"{:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/>\
                 <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                W - MR,
                ML - 6.0,
                py + 4.0,
                esc(&tick_label(y, ys))
            );
        }
        for x in tick_values(xt0, xt1, xs) {
            let px = sx(x);
            let _ = write!(
                o,
                "<line class=\"grid\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{MT}\" y2=\"{:.1}\"/>\
                 <text class=\"tick\" x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                MT + ph,
                MT + ph + 16.0,
                esc(&tick_label(x, xs))
            );
        }
        let _ = write!(
            o,
            "<line class=\"axis\" x1=\"{ML}\" x2=\"{ML}\" y1=\"{MT}\" y2=\"{:.1}\"/>\
             <line class=\"axis\" x1=\"{ML}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
             <text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text class=\"label\" transform=\"translate(14 {:.1}) rotate(-90)\" \
             text-anchor=\"middle\">{}</text>",
            MT + ph,
            W - MR,
            MT + ph,
            MT + ph,
            ML + pw / 2.0,
            H - 8.0,
            esc(&self.x_label),
            MT + ph / 2.0,
            esc(&self.y_label)
        );
        for s in &self.series {
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            let points = downsample(&points, MAX_POINTS);
            match s.style {
                Style::Line | Style::Dashed => {
                    let d: Vec<String> = points
                        .iter()
                        .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                        .collect();
                    let dash = if s.style == Style::Dashed {
                        " stroke-dasharray=\"6 4\""
                    } else {
                        ""
                    };
                    let _ = write!(
                        o,
                        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} \
                         points=\"{}\"><title>{}</title></polyline>",
                        s.color,
                        d.join(" "),
                        esc(&s.name)
                    );
                    if s.style == Style::Line && points.len() <= 60 {
                        for &(x, y) in &points {
                            let _ = write!(
                                o,
                                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\">\
                                 <title>{}: {} at {}</title></circle>",
                                sx(x),
                                sy(y),
                                s.color,
                                esc(&s.name),
                                esc(&tick_label(y, ys / 10.0)),
                                esc(&tick_label(x, xs / 10.0))
                            );
                        }
                    }
                }
                Style::Dots => {
                    for &(x, y) in &points {
                        let _ = write!(
                            o,
                            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{}\" \
                             fill-opacity=\"0.75\"><title>{}: {} at {}</title></circle>",
                            sx(x),
                            sy(y),
                            s.color,
                            esc(&s.name),
                            esc(&tick_label(y, ys / 10.0)),
                            esc(&tick_label(x, xs / 10.0))
                        );
                    }
                }
            }
        }
        o.push_str("</svg>");
        // Legend as HTML so it wraps and stays readable.
        o.push_str("<div class=\"legend\">");
        for s in &self.series {
            let sw = match s.style {
                Style::Dots => "dot",
                Style::Dashed => "dash",
                Style::Line => "line",
            };
            let _ = write!(
                o,
                "<span><i class=\"{sw}\" style=\"--c:{}\"></i>{}</span>",
                s.color,
                esc(&s.name)
            );
        }
        o.push_str("</div>");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 97.0, 5), (0.0, 100.0, 20.0));
        assert_eq!(nice_ticks(3.2, 3.9, 5), (3.2, 4.0, 0.2));
        let (lo, hi, _) = nice_ticks(5.0, 5.0, 5);
        assert!(lo < 5.0 && hi > 5.0);
        assert_eq!(tick_label(12000.0, 2000.0), "12k");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(1_500_000.0, 500_000.0), "1.5M");
    }

    #[test]
    fn extreme_values_render_without_hanging() {
        for (a, b) in [
            (1e16, 1e16 + 2.0),
            (-1e308, 1e308),
            (0.0, 1e-300),
            (5.0, 5.0),
        ] {
            let c = Chart {
                title: "t".into(),
                x_label: "x".into(),
                y_label: "y".into(),
                series: vec![Series {
                    name: "s".into(),
                    color: "#000",
                    style: Style::Dots,
                    points: vec![(a, a), (b, b), (f64::NAN, 1.0)],
                }],
                y_from_zero: false,
            };
            assert!(c.render().contains("</svg>"));
        }
    }

    #[test]
    fn downsampling_keeps_the_ends_and_the_bound() {
        let v: Vec<usize> = (0..1000).collect();
        let d = downsample(&v, 50);
        assert_eq!(d.len(), 50);
        assert_eq!((d[0], d[49]), (0, 999));
        assert_eq!(downsample(&v[..10], 50).len(), 10);
    }

    #[test]
    fn labels_are_escaped_and_empty_charts_say_so() {
        let c = Chart {
            title: "<b>".into(),
            x_label: "x & y".into(),
            y_label: "MB".into(),
            series: vec![Series {
                name: "<script>".into(),
                color: "#000",
                style: Style::Line,
                points: vec![(0.0, 1.0), (1.0, 2.0)],
            }],
            y_from_zero: true,
        };
        let s = c.render();
        assert!(s.contains("&lt;script&gt;") && !s.contains("<script>"));
        assert!(s.contains("x &amp; y"));
        let empty = Chart {
            series: vec![],
            ..c
        }
        .render();
        assert!(empty.contains("No data"));
    }
}
