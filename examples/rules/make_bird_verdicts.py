"""Regenerate bird-verdicts.csv: eight weeks of officers' verdicts on bird-catching-night alerts, with a planted
change in the last week (more alerts outside the forest, mostly false alarms: net sellers at a night market).

    python examples/rules/make_bird_verdicts.py > examples/rules/bird-verdicts.csv

Columns: rule, version, alert_time (ISO 8601), verdict (confirmed | false-alarm | unclear), held (one 1/0 per
condition, in the rule's order: night, mist net, forest).
"""
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(7)
cst = timezone(timedelta(hours=8))
first_day = datetime(2026, 5, 4, tzinfo=cst)  # a Monday; weeks end on Sundays, the last on 2026-06-28
print("rule,version,alert_time,verdict,held")
for week in range(8):
    planted = week == 7
    for _ in range(40):
        pattern = rng.choices(["111", "110", "011"], weights=[4, 3 if planted else 1, 2])[0]
        p_false = {"111": 0.10, "110": 0.70 if planted else 0.45, "011": 0.25}[pattern]
        verdict = "false-alarm" if rng.random() < p_false else "confirmed"
        if rng.random() < 0.05:
            verdict = "unclear"
        when = first_day + timedelta(days=7 * week + rng.randint(0, 6), hours=rng.choice([21, 22, 23, 1, 2]),
                                     minutes=rng.randint(0, 59))
        print(f"bird-catching-night,1,{when.isoformat()},{verdict},{pattern}")
