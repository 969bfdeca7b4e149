//! Preconditioned conjugate gradients with thread-count independent arithmetic.

use rayon::prelude::*;

use crate::solver::SolveStats;
use crate::CircuitError;

/// Dot product with a fixed summation order: partial sums over fixed 8192-element blocks, added
/// in block order. A rayon `sum()` adds in an order that depends on the thread count and on
/// work stealing, which would make CG iterates (and outputs) differ with RAYON_NUM_THREADS.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    const BLOCK: usize = 8192;
    let partial: Vec<f64> =
        a.par_chunks(BLOCK).zip(b.par_chunks(BLOCK)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>()).collect();
    partial.iter().sum()
}

/// Solves `A x = rhs` in place by CG, stopping at relative residual ‖b − Ax‖/‖b‖ ≤ `tol`.
/// `matvec(x, y)` sets y = A x; `precond(r, z)` sets z ≈ A⁻¹ r (symmetric positive definite).
pub fn preconditioned_cg(
    rhs: &mut [f64],
    matvec: impl Fn(&[f64], &mut [f64]),
    precond: impl Fn(&[f64], &mut [f64]),
    tol: f64,
    max_iter: usize,
) -> Result<SolveStats, CircuitError> {
    let n = rhs.len();
    let bnorm = dot(rhs, rhs).sqrt();
    if bnorm == 0.0 {
        return Ok(SolveStats::default());
    }
    let mut r = rhs.to_vec();
    // The solution is built in `rhs` (one vector less than a separate x).
    let x = rhs;
    x.iter_mut().for_each(|v| *v = 0.0);
    let mut z = vec![0.0; n];
    precond(&r, &mut z);
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let mut ap = vec![0.0; n];
    let (mut it, mut rel) = (0, 1.0);
    while it < max_iter {
        it += 1;
        matvec(&p, &mut ap);
        let pap = dot(&p, &ap);
        if !(pap > 0.0) {
            return Err(CircuitError::Numerical(format!(
                "conjugate gradients broke down at iteration {it} (the matrix is not positive \
                 definite in double precision; conductances may span too wide a range)"
            )));
        }
        let alpha = rz / pap;
        x.par_iter_mut().zip(p.par_iter()).with_min_len(8192).for_each(|(xi, pi)| *xi += alpha * pi);
        r.par_iter_mut().zip(ap.par_iter()).with_min_len(8192).for_each(|(ri, api)| *ri -= alpha * api);
        rel = dot(&r, &r).sqrt() / bnorm;
        if rel <= tol {
            break;
        }
        precond(&r, &mut z);
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        p.par_iter_mut().zip(z.par_iter()).with_min_len(8192).for_each(|(pi, zi)| *pi = zi + beta * *pi);
    }
    if rel > tol {
        return Err(CircuitError::Numerical(format!(
            "conjugate gradients did not reach relative residual {tol:e} in {max_iter} iterations (reached {rel:e})"
        )));
    }
    Ok(SolveStats { iterations: it, relative_residual: rel })
}
