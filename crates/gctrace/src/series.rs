//! A time series that never holds more than a fixed number of points.
//!
//! A service can run for days under `--follow`; keeping every major GC would make memory grow
//! with the log. When the cap is reached every other point is dropped and only every
//! `stride`-th new point is kept, so the series stays evenly spread over the whole run.
//! The most recent point is always kept aside, so the latest value is never decimated away.

/// One point: seconds since the isolate started, and a value in MB.
pub use leakhound_schema::gc::Point;

#[derive(Debug, Clone)]
pub struct BoundedSeries {
    cap: usize,
    stride: u64,
    seen: u64,
    points: Vec<Point>,
    last: Option<Point>,
}

impl BoundedSeries {
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(4);
        BoundedSeries {
            cap,
            stride: 1,
            seen: 0,
            points: Vec::with_capacity(cap),
            last: None,
        }
    }

    pub fn push(&mut self, p: Point) {
        // `stride` is a power of two.
        if self.seen & (self.stride - 1) == 0 {
            self.points.push(p);
            if self.points.len() >= self.cap {
                let mut i = 0;
                self.points.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
        }
        self.seen += 1;
        self.last = Some(p);
    }

    /// Kept points plus the latest one (when it was not kept), in time order.
    pub fn points(&self) -> Vec<Point> {
        let mut v = self.points.clone();
        if let Some(last) = self.last {
            if v.last() != Some(&last) {
                v.push(last);
            }
        }
        v
    }

    /// How many points were pushed in total.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    pub fn last(&self) -> Option<Point> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_spread() {
        let mut s = BoundedSeries::new(64);
        for i in 0..100_000 {
            s.push(Point {
                t_s: i as f64,
                mb: i as f64,
            });
        }
        let pts = s.points();
        assert!(pts.len() <= 65, "{}", pts.len());
        assert!(pts.len() >= 32);
        assert_eq!(pts[0].t_s, 0.0);
        assert_eq!(pts.last().unwrap().t_s, 99_999.0);
        assert!(pts.windows(2).all(|w| w[0].t_s < w[1].t_s));
        // Evenly spread: the middle point sits near the middle of the run.
        let mid = pts[pts.len() / 2].t_s;
        assert!((30_000.0..70_000.0).contains(&mid), "{mid}");
        assert_eq!(s.seen(), 100_000);
    }
}
