//! Robust trend statistics over short series: Theil–Sen slope with Sen's confidence
//! interval, the Mann–Kendall trend test, and R² of the robust line. All of them live in
//! `leakhound-gctrace`'s one statistics module; the session's names for them stay here.

pub use leakhound_gctrace::stats::{
    mann_kendall_p_up, normal_cdf, theil_sen_interval as theil_sen, SenFit as Fit,
};
