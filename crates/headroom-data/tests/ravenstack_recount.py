"""Recounts, with the Python standard library only, the data-quality findings
that `headroom validate` reports for the RavenStack export with
data/mappings/ravenstack.toml. The Rust test `ravenstack_findings_match_recount`
asserts the numbers printed here.

    python3 crates/headroom-data/tests/ravenstack_recount.py ../shared/data/ravenstack
"""

import calendar
import csv
import datetime as dt
import sys
from collections import defaultdict


def read(folder, name):
    with open(f"{folder}/ravenstack_{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def day(text):
    return dt.datetime.strptime(text, "%d-%m-%Y").date()


def add_months(date, months):
    """Adds months, ending on the month's last day when the day does not exist."""
    index = date.year * 12 + date.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(date.day, last))


def main(folder):
    accounts = read(folder, "accounts")
    subs = read(folder, "subscriptions")
    usage = read(folder, "feature_usage")
    churn = read(folder, "churn_events")
    by_id = {s["subscription_id"]: s for s in subs}
    data_end = dt.date(2024, 12, 31)  # latest date in every file

    before = sum(day(u["usage_date"]) < day(by_id[u["subscription_id"]]["start_date"]) for u in usage)
    after = sum(
        by_id[u["subscription_id"]]["end_date"] != ""
        and day(u["usage_date"]) > day(by_id[u["subscription_id"]]["end_date"])
        for u in usage
    )
    print("usage rows dated before their subscription starts:", before)
    print("usage rows dated after their subscription ends:", after)

    churned = {c["account_id"] for c in churn}
    flagged = {a["account_id"] for a in accounts if a["churn_flag"] == "TRUE"}
    print("churn flag without churn event:", len(flagged - churned))
    print("churn event without churn flag:", len(churned - flagged))

    paid = [s for s in subs if s["is_trial"] != "TRUE"]
    terms = {"monthly": 1, "annual": 12}
    per_account = defaultdict(list)
    for s in paid:
        start = day(s["start_date"])
        if s["end_date"]:
            end = day(s["end_date"])
        else:
            k = 1
            while add_months(start, k * terms[s["billing_frequency"]]) <= data_end:
                k += 1
            end = add_months(start, k * terms[s["billing_frequency"]])
        per_account[s["account_id"]].append((start, end, s["subscription_id"]))
    overlapping, accounts_with_overlap = 0, 0
    for rows in per_account.values():
        rows.sort()
        latest_end, found = None, 0
        for start, end, _ in rows:
            if latest_end is not None and start < latest_end:
                found += 1
            latest_end = end if latest_end is None else max(latest_end, end)
        overlapping += found
        accounts_with_overlap += found > 0
    print("contracts starting before an earlier one ends:", overlapping)
    print("accounts with such contracts:", accounts_with_overlap)

    renewed = 0
    for s in paid:
        start = day(s["start_date"])
        end = day(s["end_date"]) if s["end_date"] else None
        k = 1
        while True:
            date = add_months(start, 12 * k)
            if date > data_end or (end is not None and date >= end):
                break
            renewed += 1
            k += 1
    print("renewed outcomes (yearly anniversaries while open):", renewed)
    both = sum(s["upgrade_flag"] == "TRUE" and s["downgrade_flag"] == "TRUE" for s in paid)
    print("expanded outcomes:", sum(s["upgrade_flag"] == "TRUE" for s in paid) - both)
    print("contracted outcomes:", sum(s["downgrade_flag"] == "TRUE" for s in paid) - both)
    print("paid contracts:", len(paid), "open-ended:", sum(s["end_date"] == "" for s in paid))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ravenstack")
