//! Small numerical helpers shared with `tps`: a stable log-sum-exp, `exp` and `ln` written as
//! branch-free polynomials with fused multiply-adds and no library call, so that loops over
//! them vectorise (the OBC2 pair loops, `tps`'s GELU), and the instruction sets those loops
//! are compiled for, detected once.

/// How wide the vectors of an [`Isa`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// AVX-512 (eight f64).
    Avx512,
    /// AVX2 with fused multiply-add (four f64).
    Avx2Fma,
    /// Whatever the build targets.
    Portable,
}

/// An instruction set this CPU runs. Made only by detection (or as [`Isa::PORTABLE`]), so
/// code that dispatches on its [`Width`] to `#[target_feature]` functions is sound. Loops
/// written with `mul_add` give the same bits on every width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Isa(Width);

impl Isa {
    /// The build's own instructions, available everywhere.
    pub const PORTABLE: Isa = Isa(Width::Portable);

    /// Those this CPU can run, widest first.
    pub fn available() -> Vec<Self> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                out.push(Isa(Width::Avx512));
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                out.push(Isa(Width::Avx2Fma));
            }
        }
        out.push(Self::PORTABLE);
        out
    }

    /// The widest this CPU runs, detected once: hot calls ask every time.
    pub fn widest() -> Self {
        static WIDEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *WIDEST.get_or_init(|| Self::available()[0])
    }

    /// Its vector width.
    pub fn width(self) -> Width {
        self.0
    }
}

/// `log Σ exp(t_i)` without overflow.
pub fn log_sum_exp(terms: &[f64]) -> f64 {
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

/// `exp(x)` to 10⁻¹⁵ relative for `x ≤ 0` (0 below −708), vectorisable: `x = n ln 2 + r`
/// with `|r| ≤ ln 2 / 2`, a degree-13 Taylor polynomial in `r`, `2ⁿ` built in the exponent bits.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const SHIFTER: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵², rounds to an integer when added
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let clamped = if x < -708.0 { -708.0 } else { x };
    let shifted = clamped * std::f64::consts::LOG2_E + SHIFTER;
    let n = shifted - SHIFTER;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let mut p = 0.0;
    for c in INV_FACTORIAL.iter().rev() {
        p = r.mul_add(p, *c);
    }
    // The low bits of `shifted` hold n; n + 1023 in the exponent field is 2ⁿ for n ≥ −1022.
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    let e = p * scale;
    if x < -708.0 { 0.0 } else { e }
}

/// `1 / k!` for `k ≤ 13`, the Taylor coefficients of `exp`.
const INV_FACTORIAL: [f64; 14] = {
    let mut c = [1.0; 14];
    let mut k = 1;
    while k < 14 {
        c[k] = c[k - 1] / k as f64;
        k += 1;
    }
    c
};

/// `ln(x)` for positive normal `x`, within one ulp (the test), vectorisable: `x = 2ᵏ m` with
/// `m ∈ [√½, √2)`, `ln m = 2 atanh(s)` with `s = (m − 1)/(m + 1)`, `|s| < 0.172`, summed as
/// `f − s (f − R)` (`f = m − 1`, `R` the series' tail in `s²`, to `s¹⁸`: below 10⁻¹⁷).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    let (k, f) = ln_reduce(x);
    ln_finish(k, f, f / (2.0 + f))
}

/// The first half of [`ln`]: `(k, f)` with `x = 2ᵏ (1 + f)`, `1 + f ∈ [√½, √2)`. A caller
/// with several logarithms to take can share the one division, `s = f/(2 + f)`, between them
/// (divisions are the slowest vector instruction) and finish each with [`ln_finish`].
#[inline(always)]
pub fn ln_reduce(x: f64) -> (f64, f64) {
    const MANTISSA: u64 = (1 << 52) - 1;
    const ONE: u64 = 0x3ff0_0000_0000_0000;
    // 2⁵² + e as a double for an exponent field e: the exponent as a double without a
    // conversion instruction.
    const TWO_52: u64 = 0x4330_0000_0000_0000;
    let bits = x.to_bits();
    let biased = f64::from_bits(TWO_52 | (bits >> 52)) - (4_503_599_627_370_496.0 + 1023.0);
    let m = f64::from_bits((bits & MANTISSA) | ONE);
    let high = m > std::f64::consts::SQRT_2;
    let m = if high { 0.5 * m } else { m };
    let k = if high { biased + 1.0 } else { biased };
    (k, m - 1.0)
}

/// `ln(2ᵏ (1 + f))` from [`ln_reduce`]'s `(k, f)` and `s = f/(2 + f)`.
#[inline(always)]
pub fn ln_finish(k: f64, f: f64, s: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let z = s * s;
    let mut tail = 0.0;
    for c in TWO_OVER_ODD.iter().rev() {
        tail = z.mul_add(tail, *c);
    }
    // ln(1 + f) = 2s + s R with R = Σ 2zⁿ/(2n + 1), and 2s = f − s f.
    let ln_m = f - s * (f - z * tail);
    k.mul_add(LN2_HI, k.mul_add(LN2_LO, ln_m))
}

/// `2/(2n + 1)` for `n = 1..=9`, the series of `2 atanh(s)/s − 2` in `s²`.
const TWO_OVER_ODD: [f64; 9] = {
    let mut c = [0.0; 9];
    let mut n = 0;
    while n < 9 {
        c[n] = 2.0 / (2 * n + 3) as f64;
        n += 1;
    }
    c
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_to_the_last_bits() {
        for i in 0..=100_000 {
            let x = -745.0 * i as f64 / 100_000.0;
            let want = x.exp();
            let got = exp(x);
            if want > 1e-307 {
                assert!(
                    ((got - want) / want).abs() < 1e-15,
                    "exp({x}) = {got}, not {want}"
                );
            } else {
                assert!(got <= 1e-307);
            }
        }
    }

    /// Distance in units in the last place between `got` and std's (correctly rounded in
    /// practice) `want`.
    fn ulps(got: f64, want: f64) -> f64 {
        let ulp = f64::from_bits(want.abs().to_bits() + 1) - want.abs();
        ((got - want) / ulp).abs()
    }

    #[test]
    fn ln_within_one_ulp_of_std_from_1e_minus_300_to_1e300() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = 10f64.powf(-300.0 + 600.0 * i as f64 / 2_000_000.0);
            let u = ulps(ln(x), x.ln());
            worst = worst.max(u);
        }
        // Near 1 the result is small: every double in [0.5, 2] at a stride.
        for bits in (0x3fe0_0000_0000_0000u64..0x4000_0000_0000_0000).step_by(1 << 31) {
            let x = f64::from_bits(bits);
            let want = x.ln();
            let u = if want == 0.0 {
                (ln(x) != 0.0) as u8 as f64
            } else {
                ulps(ln(x), want)
            };
            worst = worst.max(u);
        }
        eprintln!("ln: worst {worst:.3} ulp");
        assert!(worst <= 1.0, "worst {worst} ulp");
    }
}
