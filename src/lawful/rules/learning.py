"""Learning from officers' verdicts: per-rule weekly precision and misjudgment rate with Wilson intervals, change
detection against the previous weeks, suggested weights, and the plain-language report. Pure: no database.

Misjudgment rate = false alarms / (confirmed + false alarms); 'unclear' verdicts are counted but excluded, so an
officer unsure of an alert neither helps nor hurts a rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from lawful.rules.language import Rule

VERDICTS = ("confirmed", "false-alarm", "unclear")


@dataclass(frozen=True)
class Verdict:
    rule: str
    version: int
    at: datetime  # when the alert fired (tz-aware)
    verdict: str
    held: tuple[bool, ...]  # which of the rule's conditions held on the alert


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n: sensible at small n and at 0 or n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Week:
    end: date  # last local day of the week
    confirmed: int
    false_alarms: int
    unclear: int

    @property
    def decided(self) -> int:
        return self.confirmed + self.false_alarms

    @property
    def misjudgment(self) -> float | None:
        return self.false_alarms / self.decided if self.decided else None

    @property
    def misjudgment_ci(self) -> tuple[float, float]:
        return wilson(self.false_alarms, self.decided)

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


def weekly(verdicts: list[Verdict], *, rule: str, weeks: int, until: date, tz: ZoneInfo) -> list[Week]:
    """The rule's verdicts in `weeks` seven-day weeks ending on `until` (local days), oldest first."""
    out = []
    for w in range(weeks - 1, -1, -1):
        end = until - timedelta(days=7 * w)
        lo, hi = end - timedelta(days=6), end
        vs = [v for v in verdicts if v.rule == rule and lo <= v.at.astimezone(tz).date() <= hi]
        out.append(Week(end, sum(v.verdict == "confirmed" for v in vs), sum(v.verdict == "false-alarm" for v in vs),
                        sum(v.verdict == "unclear" for v in vs)))
    return out


@dataclass(frozen=True)
class Change:
    before: float  # misjudgment rate over the baseline weeks
    after: float  # this week's
    points: float  # (after - before) * 100
    p_value: float
    significant: bool


def detect_change(weeks: list[Week], baseline_weeks: int = 4, alpha: float = 0.05,
                  min_points: float = 5.0) -> Change | None:
    """Last week against the pooled baseline weeks before it: two-proportion z-test; a change counts when it is
    both significant and at least min_points percentage points."""
    if len(weeks) < 2:
        return None
    last, base = weeks[-1], weeks[-1 - baseline_weeks:-1]
    k0, n0 = sum(w.false_alarms for w in base), sum(w.decided for w in base)
    k1, n1 = last.false_alarms, last.decided
    if not n0 or not n1:
        return None
    p0, p1 = k0 / n0, k1 / n1
    pooled = (k0 + k1) / (n0 + n1)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
    p_value = 1.0 if se == 0 else float(2 * norm.sf(abs(p1 - p0) / se))
    points = (p1 - p0) * 100
    return Change(p0, p1, points, p_value, p_value < alpha and abs(points) >= min_points)


def suggest_weights(verdicts: list[Verdict], rule: Rule, strength: float = 1.0) -> list[float] | None:
    """Weights learned from the verdicts: L2-regularised logistic regression of 'confirmed' on which conditions
    held, shrunk toward the current weights (strength = how hard), kept >= 0, scaled back so they add up to the
    current total. Conditions that hold on false alarms lose weight. None if there is nothing to learn from."""
    vs = [v for v in verdicts if v.rule == rule.id and v.version == rule.version and v.verdict != "unclear"
          and len(v.held) == len(rule.clauses)]
    if len(vs) < 10 or len({v.verdict for v in vs}) < 2:
        return None
    x = np.array([v.held for v in vs], dtype=float)
    y = np.array([v.verdict == "confirmed" for v in vs], dtype=float)
    w0 = np.array([c.weight for c in rule.clauses])
    scale = 4.0 / w0.sum()  # an alert with every condition holding starts at logit ~ +4 - intercept
    beta0 = w0 * scale

    def loss(params):
        b, beta = params[0], params[1:]
        z = b + x @ beta
        nll = np.sum(np.logaddexp(0, z) - y * z)
        return nll + strength * len(vs) ** 0.5 * np.sum((beta - beta0) ** 2)

    start = np.concatenate([[-w0.sum() * scale / 2], beta0])
    res = minimize(loss, start, method="L-BFGS-B", bounds=[(None, None)] + [(0, None)] * len(w0))
    beta = np.maximum(res.x[1:], 0)
    if beta.sum() == 0:
        return None
    return [round(float(b), 2) for b in beta / beta.sum() * w0.sum()]


def report(rule: Rule, weeks: list[Week], change: Change | None, suggested: list[float] | None) -> str:
    """The plain-language report for one rule."""
    last = weeks[-1]
    lines = [f"Rule {rule.id} (version {rule.version}, {rule.action}), week to {last.end:%A %d %B %Y}:"]
    if last.decided:
        lo, hi = last.misjudgment_ci
        lines.append(f"  {last.decided + last.unclear} alerts judged: {last.confirmed} confirmed, {last.false_alarms} "
                     f"false alarms, {last.unclear} unclear. Misjudgment rate {last.misjudgment:.0%} "
                     f"(95% interval {lo:.0%} to {hi:.0%}); precision {last.precision:.0%}.")
    else:
        lines.append("  No alert of this rule was judged this week.")
    if change and change.significant:
        verb = "rose" if change.points > 0 else "fell"
        lines.append(f"  The misjudgment rate of rule {rule.id} {verb} from {change.before:.0%} to {change.after:.0%} "
                     f"({change.points:+.0f} points) in the week to {last.end:%Y-%m-%d}, against the previous weeks "
                     f"(p = {change.p_value:.3f}).")
    elif change:
        lines.append(f"  No significant change against the previous weeks ({change.before:.0%} -> {change.after:.0%}, "
                     f"p = {change.p_value:.2f}).")
    if suggested:
        pairs = "; ".join(f"{c.text}: {c.weight:g} -> {s:g}" for c, s in zip(rule.clauses, suggested))
        lines.append(f"  Suggested weights, learned from {rule.id}'s verdicts: {pairs}.")
        if change and change.significant and change.points > 0:
            lines.append("  Please review the rule weights: write them as a new version with --propose; it takes "
                         "effect only once approved.")
    return "\n".join(lines)
