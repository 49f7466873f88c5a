#!/usr/bin/env python3
"""Fits the polynomials of erf_fast and tanh_fast (include/ember/kernels/math.hpp).

Chebyshev fits (mpmath.chebyfit: near-minimax) in 40-digit arithmetic, printed highest degree
first, as math.hpp evaluates them with Horner's rule:

  erf,  |x| < 1:  erf(x) = x * P(x^2),                       P: 7 coefficients on t in [0, 1]
  erf,  |x| >= 1: erf(x) = 1 - exp(-x^2) * Q((|x| - 2.5) / 1.5), Q: 12 coefficients on [-1, 1]
                  (Q fits erfc(z) * exp(z^2) for z in [1, 4]; the shifted variable keeps the
                  coefficients small, so float Horner does not cancel)
  tanh, |x| < 0.6: tanh(x) = x * R(x^2),                     R: 6 coefficients on t in [0, 0.36]
  Φ (normal_cdf_pdf), every x: erfc(w)/2 = t * G(t) * exp(-w^2), w = |x|/sqrt(2),
                  t = 1/(1 + 0.4 w) in (0, 1], G: 11 coefficients on [0, 1]
                  (G(0) is the limit c/(2 sqrt(pi)) as w grows)

  python3 tools/fit_math.py     (Debian: apt-get install python3-mpmath)
"""
import mpmath as mp

mp.mp.dps = 40


def erf_over_x(t):
    if t == 0:
        return 2 / mp.sqrt(mp.pi)
    x = mp.sqrt(t)
    return mp.erf(x) / x


def erfc_scaled(s):
    z = mp.mpf(2.5) + mp.mpf(1.5) * s
    return mp.erfc(z) * mp.exp(z * z)


def half_erfc_scaled(t):
    c = mp.mpf("0.4")
    if t == 0:
        return c / (2 * mp.sqrt(mp.pi))
    w = (1 / t - 1) / c
    return mp.erfc(w) * mp.exp(w * w) / (2 * t)


def tanh_over_x(t):
    if t == 0:
        return mp.mpf(1)
    x = mp.sqrt(t)
    return mp.tanh(x) / x


for name, f, interval, n in (("erf P", erf_over_x, [0, 1], 7),
                             ("erf Q", erfc_scaled, [-1, 1], 12),
                             ("tanh R", tanh_over_x, [0, 0.36], 6),
                             ("Phi G", half_erfc_scaled, [0, 1], 11)):
    coeffs, err = mp.chebyfit(f, interval, n, error=True)
    print(f"{name}: max fit error {mp.nstr(err, 3)}")
    print("  " + ", ".join(mp.nstr(c, 10, min_fixed=-100, max_fixed=100) + "f" for c in coeffs))
