"""A surface nobody tuned tps to: two channels between asymmetric wells, for
systems/two_channels.toml (issue 30: the default and the learned route must take the lowest
pass).

In polar coordinates (r, θ) around the origin: a ring of radius R = 1.5 holds the wells,
U = k (r − R)² + s(r) V(θ) with k = 4, s(r) = r²/(r² + 0.1) so that U is smooth at the origin
(a hill of k R² = 9 that the straight line from A to B must climb). Along the ring,
V(θ) = 8 − 7 g(θ − π) − 6 g(θ) − 6 g(θ + π/2) − 2.5 g(θ − π/2), g(d) = exp(−d²/(2·0.6²))
with d wrapped to [−π, π). Along the ring: A at θ = π (0.72, the deepest), B at θ = 0 (1.71),
an intermediate well I at θ = −π/2 (1.58) in the lower channel with passes 2.51 (A–I) and
2.90 (I–B), and the upper channel's single pass 5.11 at θ ≈ 1.32. The system file sets
kT = 0.4: the lowest route crosses 5.5 kT above A, the upper channel 5.5 kT higher still.

    python3 systems/two_channels/make_surface.py     # writes two_channels.dat beside it
"""
import math
import os

R, K, W = 1.5, 4.0, 0.6


def g(d):
    d = (d + math.pi) % (2 * math.pi) - math.pi
    return math.exp(-d * d / (2 * W * W))


def energy(x, y):
    r = math.hypot(x, y)
    t = math.atan2(y, x)
    v = 8 - 7 * g(t - math.pi) - 6 * g(t) - 6 * g(t + math.pi / 2) - 2.5 * g(t - math.pi / 2)
    return K * (r - R) ** 2 + r * r / (r * r + 0.1) * v


def main():
    n, lo, hi = 161, -2.6, 2.6
    h = (hi - lo) / (n - 1)
    lines = ["#! FIELDS x y energy",
             f"#! SET min_x {lo:.9f}", f"#! SET max_x {hi:.9f}", f"#! SET nbins_x {n - 1}",
             "#! SET periodic_x false",
             f"#! SET min_y {lo:.9f}", f"#! SET max_y {hi:.9f}", f"#! SET nbins_y {n - 1}",
             "#! SET periodic_y false",
             "# two channels between asymmetric wells (systems/two_channels/make_surface.py)"]
    for j in range(n):
        for i in range(n):
            x, y = lo + i * h, lo + j * h
            lines.append(f"{x:.9f} {y:.9f} {energy(x, y):.9f}")
        lines.append("")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "two_channels.dat"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
