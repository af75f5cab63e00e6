//! Big zeroed work arrays, mapped in before use; prefetch hints for random reads.
//!
//! A fresh `vec![0; n]` is untouched memory: each 4 KiB page faults on first access. Worse,
//! most of the analysis passes *read* an entry before writing it (`if semi[w] == 0`,
//! `count[to] += 1`), so the first read maps the shared zero page and the write that
//! follows faults a second time, copies, and flushes the TLB on every core. On a 1 GB
//! snapshot that was a tenth of the kernel time. `MADV_POPULATE_WRITE` (Linux 5.14) maps
//! the whole array writable in one call; where it is missing the hint fails harmlessly and
//! the pages fault in as before.

/// Arrays smaller than this are not worth a system call.
const MIN_BYTES: usize = 1 << 20;

/// `vec![T::default(); n]` (zero bytes for the integer and bool types used here), with its
/// pages mapped writable up front.
pub fn zeroed<T: Clone + Default>(n: usize) -> Vec<T> {
    let v = vec![T::default(); n];
    populate(&v);
    v
}

/// Map in the pages of `v`'s buffer for writing.
pub fn populate<T>(v: &[T]) {
    let bytes = std::mem::size_of_val(v);
    if bytes < MIN_BYTES {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => 4096,
        };
        let start = (v.as_ptr() as usize).next_multiple_of(page);
        let end = (v.as_ptr() as usize + bytes) / page * page;
        if end > start {
            // SAFETY: [start, end) lies inside `v`'s buffer; populating changes no contents.
            unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    end - start,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
}

/// A hint to bring `v[i]`'s cache line in, for a random read coming soon (nothing on other
/// targets, nothing when `i` is out of range).
#[inline(always)]
pub fn prefetch<T>(v: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = v.get(i) {
        // SAFETY: a prefetch is a hint with no effect on memory; the address is in bounds.
        unsafe {
            std::arch::x86_64::_mm_prefetch(
                (x as *const T).cast::<i8>(),
                std::arch::x86_64::_MM_HINT_T0,
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, i);
}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_is_zero_and_writable() {
        let mut v: Vec<u32> = super::zeroed(3 << 20);
        assert!(v.iter().all(|&x| x == 0));
        v[12345] = 7;
        assert_eq!(v.iter().map(|&x| u64::from(x)).sum::<u64>(), 7);
        let b: Vec<bool> = super::zeroed(10);
        assert_eq!(b, vec![false; 10]);
    }
}
