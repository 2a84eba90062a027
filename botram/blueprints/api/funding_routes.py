"""The funding mix for finance, the coordinator and the regency's data portal."""
from __future__ import annotations

from ...domain.clock import today_wib
from ...domain.funding import funding_api_payload
from ...permissions import may_read_funding
from . import bp
from .auth import api_requires
from .schemas import Funding, FundingQuery
from .spec import TAGS, answer, answers, api_spec


@bp.get("/funding")
@api_requires(may_read_funding)
@api_spec.validate(resp=answers(200, Funding, description="The funding mix."), tags=[TAGS["funding"]],
                   operation_id="getFunding")
def funding(query: FundingQuery):
    """How much of BOTRAM the regional budget (APBD) still carries, for one year

    Total cost (budget lines: actual, else planned), sponsor cash and in-kind value (received and not voided),
    the APBD remainder and share, against the year's target.
    """
    return answer(Funding, funding_api_payload(query.year if query.year is not None else today_wib().year))
