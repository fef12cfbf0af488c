//! Three-vectors as arrays: the few operations the force field's terms need.

/// `a − b`.
pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
/// `a · b`.
pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
/// `a × b`.
pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
/// `f += s v`.
pub(crate) fn add_to(f: &mut [f64; 3], v: [f64; 3], s: f64) {
    f[0] += s * v[0];
    f[1] += s * v[1];
    f[2] += s * v[2];
}
