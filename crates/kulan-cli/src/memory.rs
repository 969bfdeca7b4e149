//! Allocator settings for commands that allocate and free large arrays phase after phase.

/// Keeps freed memory in the process for the next allocation instead of returning it to the
/// system. The circuit solvers allocate and free hundreds of megabytes per phase (graph, matrix,
/// factor, solves, current maps); every fresh page costs a page fault, which on these machines
/// was a quarter of the run's CPU time. Peak memory stays what it was: freed blocks are reused.
/// Only glibc is tuned; elsewhere this does nothing.
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes glibc's allocation parameters; called before the large
    // allocations, from the main thread.
    unsafe {
        // Large blocks from the heap (reusable) rather than from mmap (returned on free) ...
        libc::mallopt(libc::M_MMAP_MAX, 0);
        // ... and the heap's top is not given back either.
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
