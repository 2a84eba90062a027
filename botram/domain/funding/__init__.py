"""Funding: sponsors, contributions (cash or in kind), event budgets, and how much of the cost APBD carries.

The funding rule, decided here and tested in tests/test_funding_domain.py:

- **Total cost of an event** = Σ over its non-voided budget lines of `actual`, or `planned` where no actual
  is known yet.
- **Sponsor cash** of an event = Σ `value` of its *received*, non-voided cash contributions.
- **In kind** of an event = Σ assessed `value` (never the sponsor's claimed value) of its *received*,
  non-voided in-kind contributions.
- **APBD remainder** = max(0, total − cash − in kind). When sponsors give more than the cost, the excess is
  reported as `surplus` (so total + surplus = cash + in kind + APBD, always).
- **APBD share** = APBD / total, `None` when the total is 0. Shares are floats in [0, 1] rounded to 4 places
  (basis-point precision); comparisons with the target are done on integers.
- Pledged contributions are shown beside (pledged vs received) but never counted as money in hand.
  Cancelled and voided contributions never count anywhere.
- **A year** holds the events dated in it, plus programme-wide contributions (no event) received in it
  (pledged ones by their pledge date). Programme-wide money counts in the year's figures, never in an event's.
  The year's APBD = max(0, Σ event cost − Σ cash − Σ in kind), programme-wide money included.
- **Target**: the coordinator (or admin) sets the highest APBD share for a year, stored in basis points
  (6000 = "APBD at most 60%"). Finance officers record money but do not set policy, so keuangan may not set
  the target. The year is *on track* when APBD × 10000 ≤ target × total.

Records: a contribution is never deleted or edited in place. It goes pledged → received (date not in the
future, receipt number unique among live entries) or pledged → cancelled (with a reason); a wrong entry is
voided with a reason and a correct one recorded anew. Budget lines may be corrected (planned/actual), each
change audited with old and new amounts, and are voided rather than deleted. Every write is audited with ids
and amounts only (no names, phone numbers or free text).

Amounts arrive as text typed by people ("Rp 1.500.000", "1,5 jt") and go through the one rupiah parser,
`botram.domain.money.parse_rupiah` (its docstring lists the accepted forms): exact amounts only; approximate
ones ("2jtan"), fractions, negatives, zero and more than Rp 100.000.000.000 are refused with a message.

CSR follows Perda Kabupaten Bekasi No. 6/2015 as docs/architecture.md cites it: a company's contribution is
recorded as a grant, and goods or services given in kind count at the value assessed by the regency (the
sponsor's claimed value is kept beside it, never counted).

Callers import the package (`from botram.domain import funding`); the modules hold:

| module | what |
|---|---|
| `sponsors.py` | sponsors registered and edited, the names the board thanks |
| `contributions.py` | pledges and contributions recorded, received, cancelled, voided; the filtered list |
| `budget.py` | an event's budget lines; the year's APBD target |
| `summary.py` | the mix of an event or a year by the rule above; the API's payload |
| `export.py` | contributions of a period as CSV and XLSX |
| `demo.py` | the demo's sponsors, contributions and budgets |
| `shared.py` | labels, field limits, text cleaning, a record's audit trail (internal) |
"""
from __future__ import annotations

from .budget import (BudgetLineInput, add_budget_line, budget_lines, parse_share_percent, set_target, target_bp,
                     update_budget_line, void_budget_line)
from .contributions import (ContributionFilter, ContributionInput, ItemInput, cancel_pledge, date_window,
                            list_contributions, mark_received, record_contribution, void_contribution)
from .shared import (ADDRESS_MAX, BASIS_MAX, BUDGET_CATEGORIES, BUDGET_DESCRIPTION_MAX, CONTACT_MAX, DESCRIPTION_MAX,
                     EMAIL_MAX, FORMS, IN_KIND_CATEGORIES, ITEM_MAX, MAX_AMOUNT, MAX_ITEMS, MAX_QUANTITY, NAME_MAX,
                     NOTES_MAX, NUMBER_MAX, REASON_MAX, REASON_MIN, SECTOR_MAX, SPONSOR_KINDS, STATUSES, UNIT_MAX,
                     history, parse_amount, status_key)
from .sponsors import SponsorInput, create_sponsor, format_npwp, format_phone, public_sponsors, update_sponsor
from .summary import (EventMix, Mix, YearFunding, by_month, funding_api_payload, funding_mix, funding_years, share,
                      year_bounds, yearly_funding)

__all__ = [
    # sponsors.py
    "SponsorInput", "create_sponsor", "update_sponsor", "format_npwp", "format_phone", "public_sponsors",
    # contributions.py
    "ItemInput", "ContributionInput", "record_contribution", "mark_received", "cancel_pledge", "void_contribution",
    "date_window", "ContributionFilter", "list_contributions",
    # budget.py
    "BudgetLineInput", "add_budget_line", "update_budget_line", "void_budget_line", "budget_lines",
    "parse_share_percent", "set_target", "target_bp",
    # summary.py
    "Mix", "EventMix", "YearFunding", "by_month", "share", "funding_mix", "year_bounds", "yearly_funding",
    "funding_years",
    "funding_api_payload",
    # shared.py
    "SPONSOR_KINDS", "FORMS", "IN_KIND_CATEGORIES", "BUDGET_CATEGORIES", "STATUSES", "status_key", "parse_amount",
    "history", "MAX_AMOUNT", "NAME_MAX", "SECTOR_MAX", "CONTACT_MAX", "EMAIL_MAX", "ADDRESS_MAX", "NOTES_MAX",
    "DESCRIPTION_MAX", "BASIS_MAX", "REASON_MAX", "NUMBER_MAX", "ITEM_MAX", "UNIT_MAX", "BUDGET_DESCRIPTION_MAX",
    "REASON_MIN", "MAX_ITEMS", "MAX_QUANTITY",
]
