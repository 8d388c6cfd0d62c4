#!/usr/bin/env python3
"""Generate ruptures regression cases for Gaffer's analysis/changepoint/detect.

Every case is a signal, a method, a cost and its parameters, and the
breakpoints ruptures returns for them. TestRupturesParityGenerated requires
Gaffer to return the same list on every case. A case is marked
rounding_tie when ruptures itself answers differently once its segment
costs move by 1e-12 of their size (8 perturbations; tie_bkps lists the
other answers): the data tie exactly and only the last bits of NumPy's (or
LAPACK's) arithmetic decide.

    python3 generate_cases.py [--count 2200] [--seed 18] [--only-cost l1]
        [--out ruptures_cases_generated.json.gz]

It needs ruptures importable (see docs/changepoint.md for building it from
source with Debian's NumPy and SciPy). Signals are rounded to 6 significant
digits before ruptures sees them, so both sides read identical inputs from
the file. Most cases are small (n <= 300); a few per method reach n = 2,000
where ruptures runs them in seconds.
"""

import argparse
import gzip
import json
import math
import random
import sys
import time

import numpy as np
import ruptures as rpt

METHODS = {
    # method: (costs, stopping rules)
    "pelt": (["l1", "l2", "normal", "rbf", "cosine", "linear", "clinear", "rank", "ar", "mahalanobis"], ["pen"]),
    "binseg": (["l1", "l2", "normal", "rbf", "cosine", "linear", "clinear", "rank", "ar", "mahalanobis"], ["pen", "n_bkps", "epsilon"]),
    "bottomup": (["l1", "l2", "normal", "rbf", "cosine", "linear", "clinear", "rank", "ar", "mahalanobis"], ["pen", "n_bkps", "epsilon"]),
    "window": (["l1", "l2", "normal", "rbf", "cosine", "linear", "clinear", "rank", "ar", "mahalanobis"], ["pen", "n_bkps", "epsilon"]),
    "dynp": (["l1", "l2", "normal", "rbf", "cosine", "linear", "clinear", "rank", "ar", "mahalanobis"], ["n_bkps"]),
    "kernelcpd": (["linear", "rbf", "cosine"], ["pen", "n_bkps"]),
}

# Methods whose ruptures run stays short at n = 2,000 (with these costs).
LARGE_OK = {
    "pelt": {"l2", "l1", "normal", "rank", "mahalanobis"},
    "binseg": {"l2", "l1", "normal", "rank", "clinear", "mahalanobis"},
    "bottomup": {"l2", "l1", "normal", "rank", "clinear", "mahalanobis"},
    "window": {"l2", "l1", "normal", "rank", "rbf", "cosine", "mahalanobis"},
    "kernelcpd": {"linear", "rbf", "cosine"},
}

GENERATORS = ["pw_constant", "pw_normal", "pw_linear", "pw_wavy"]


def round6(x):
    """Round every value to 6 significant digits (what the file stores)."""
    return np.vectorize(lambda v: float("%.6g" % v), otypes=[float])(x)


def make_signal(rng, n, d, kind, n_true, regression=False):
    """A signal of n samples and d dimensions, continuous or tie-heavy; a
    regression signal (the linear cost) is pw_linear's response and d-1
    covariates."""
    gen = "pw_linear" if regression else rng.choice(GENERATORS)
    seed = rng.randrange(1 << 30)
    if gen == "pw_constant":
        sig, _ = rpt.pw_constant(n, d, n_true, noise_std=rng.choice([0.5, 1.0, 3.0]), seed=seed)
    elif gen == "pw_normal":
        sig, _ = rpt.pw_normal(n, n_true, seed=seed)
        sig = sig[:, :d] if d <= 2 else np.hstack([sig, sig[:, :d - 2] * 0.5])
    elif gen == "pw_linear":
        sig, _ = rpt.pw_linear(n, max(d - 1, 1), n_true, noise_std=rng.choice([0.1, 1.0]), seed=seed)
    else:
        sig, _ = rpt.pw_wavy(n, n_true, noise_std=rng.choice([0.1, 0.5]), seed=seed)
        sig = sig.reshape(-1, 1)
        if d > 1:
            sig = np.hstack([sig] + [np.roll(sig, 7 * k) for k in range(1, d)])
    sig = np.asarray(sig, dtype=float).reshape(n, -1)[:, :d]
    if kind == "ties":
        # Few distinct values: small integers, halves, or runs of one value.
        style = rng.choice(["int", "half", "runs"])
        scale = np.std(sig) or 1.0
        if style == "int":
            sig = np.round(sig / scale * rng.choice([1, 2, 3]))
        elif style == "half":
            sig = np.round(sig / scale * 2) / 2
        else:
            sig = np.round(sig / scale * 4) / 4
            for _ in range(rng.randint(1, 4)):
                a = rng.randrange(n)
                b = min(n, a + rng.randint(3, max(4, n // 5)))
                sig[a:b] = sig[a]
        gen += "+" + style
    return round6(sig), gen


def cost_params(rng, cost, d):
    """ruptures' params for the cost, and the same for the file."""
    if cost == "rbf" and rng.random() < 0.4:
        g = float("%.4g" % rng.choice([0.05, 0.1, 0.5, 1.0, 2.0]))
        return {"gamma": g}, {"gamma": g}
    if cost == "ar":
        o = rng.choice([1, 2, 3, 4])
        return {"order": o}, {"order": o}
    return None, {}


def stop_value(rng, kind, algo_cost, n, d):
    """A penalty, a number of breakpoints or an epsilon on the signal's scale."""
    if kind == "n_bkps":
        return rng.randint(1, 6)
    whole = abs(algo_cost.error(0, n))
    per = max(whole / n, 1e-3)
    if kind == "pen":
        return float("%.6g" % (per * math.log(n) * d * rng.choice([0.5, 1, 2, 4, 8])))
    return float("%.6g" % (whole * rng.choice([0.05, 0.1, 0.2, 0.4, 0.7])))


def build(method, cost, params, min_size, jump, width):
    if method == "kernelcpd":
        return rpt.KernelCPD(kernel=cost, min_size=min_size, params=params)
    if method == "window":
        return rpt.Window(width=width, model=cost, min_size=min_size, jump=jump, params=params)
    cls = {"pelt": rpt.Pelt, "binseg": rpt.Binseg, "bottomup": rpt.BottomUp, "dynp": rpt.Dynp}[method]
    return cls(model=cost, min_size=min_size, jump=jump, params=params)


def perturbed_bkps(method, cost, params, min_size, jump, width, sig, kind, stop, seed):
    """ruptures' answer when every segment cost is moved by about 1e-12 of
    its size (and of the whole signal's cost per sample): a different
    answer means that rounding, not the data, decided the case."""
    algo = build(method, cost, params, min_size, jump, width)
    exact = algo.cost.error
    whole = []

    def error(start, end):
        v = exact(start, end)
        if not whole:
            whole.append(abs(exact(0, len(sig))) / len(sig) + 1e-300)
        u = ((start * 7919 + end * 104729 + seed * 15485863) % 1009) / 1009 - 0.5
        return v + (abs(v) + whole[0]) * 1e-12 * u

    algo.cost.error = error
    try:
        algo.fit(sig)
        return algo.predict(**{kind: stop})
    except Exception as err:
        return repr(err)


def one_case(rng, method, cost, kind, large):
    if large:
        n = rng.choice([800, 1200, 1600, 2000])
    else:
        n = rng.choice([20, 30, 40, 60, 80, 100, 120, 150, 200, 250, 300])
        if method == "dynp" or (method == "pelt" and cost in {"rbf", "cosine", "linear", "clinear", "ar"}):
            n = min(n, 150)
    regression = cost == "linear" and method != "kernelcpd"
    d = 1 if cost == "ar" else rng.choice([2, 3]) if regression else rng.choice([1, 1, 2, 3])
    signal_kind = "ties" if rng.random() < 0.4 else "continuous"
    sig, gen = make_signal(rng, n, d, signal_kind, rng.randint(1, 5), regression)
    min_size = rng.choice([1, 2, 2, 3, 5])
    jump = 1 if method == "kernelcpd" else rng.choice([1, 1, 2, 5])
    if large and method in {"binseg", "bottomup", "window", "pelt"} and cost not in {"l2"}:
        jump = max(jump, 5)
    width = rng.choice([10, 20, 40, 60]) if method == "window" else 0
    if cost == "cosine":
        # A zero sample has no direction: ruptures' cosine cost is NaN there.
        sig[np.all(sig == 0, axis=1)] = 1.0
    rparams, fparams = cost_params(rng, cost, d)
    if method == "kernelcpd" and rparams is None:
        rparams = None
    algo = build(method, cost, rparams, min_size, jump, width)
    # A cost of the same kind gives the scale of the penalty or epsilon.
    try:
        scale = rpt.costs.cost_factory(model="l2" if cost == "linear" and method == "kernelcpd" else cost,
                                       **(rparams or {}))
        scale.fit(sig)
        stop = stop_value(rng, kind, scale, n, d)
        if not math.isfinite(stop):
            return None, "stop value %r" % stop
        t0 = time.process_time()
        algo.fit(sig)
        bkps = algo.predict(**{kind: stop})
    except Exception as err:  # an impossible configuration: not a case
        return None, repr(err)
    secs = time.process_time() - t0
    others = []  # ruptures' other answers once its costs move by 1e-12
    if method != "kernelcpd":
        for seed in range(1, 9):
            alt = perturbed_bkps(method, cost, rparams, min_size, jump, width, sig, kind, stop, seed)
            if isinstance(alt, list):
                alt = [int(b) for b in alt]
                if alt != list(bkps) and alt not in others:
                    others.append(alt)
    p = {"min_size": min_size, "jump": jump, kind: stop}
    if width:
        p["width"] = width
    p.update(fparams)
    return {
        "method": method, "cost": cost, "params": p,
        "expected_bkps": [int(b) for b in bkps],
        "rounding_tie": bool(others),
        "tie_bkps": others,
        "ruptures_seconds": round(secs, 4), "generator": gen + "/" + signal_kind,
        "signal": sig.tolist(),
    }, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2200)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--large", type=int, default=40, help="cases with n >= 800")
    ap.add_argument("--only-cost", default="")
    ap.add_argument("--only-method", default="")
    ap.add_argument("--out", default="ruptures_cases_generated.json.gz")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    combos = [(m, c, k) for m, (costs, kinds) in METHODS.items() for c in costs for k in kinds
              if (not a.only_cost or c == a.only_cost) and (not a.only_method or m == a.only_method)]
    large = [x for x in combos if x[1] in LARGE_OK.get(x[0], set())]
    cases, skipped, i = [], 0, 0
    start = time.time()
    while len(cases) < a.count:
        is_large = i < a.large and large
        m, c, k = large[i % len(large)] if is_large else combos[i % len(combos)]
        i += 1
        case, err = one_case(rng, m, c, k, bool(is_large))
        if case is None:
            skipped += 1
            continue
        cases.append(case)
        if len(cases) % 100 == 0:
            print(f"{len(cases)} cases, {skipped} skipped, {time.time() - start:.0f}s", file=sys.stderr)
    out = {
        "source": f"ruptures {getattr(rpt, '__version__', '?')} at commit ee1c8ff, numpy {np.__version__}, "
                  f"generated by generate_cases.py --seed {a.seed} --count {a.count} --large {a.large}",
        "cases": cases,
    }
    with gzip.open(a.out, "wt", compresslevel=9) as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases ({skipped} skipped) to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
