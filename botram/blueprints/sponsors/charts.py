"""The funding charts live with every other chart in botram/blueprints/reports/charts.py (one scale, one
palette, one SVG writer); this name stays for the sponsors blueprint's imports."""
from ..reports.charts import (APBD_COLOUR, CASH_COLOUR, IN_KIND_COLOUR, TARGET_COLOUR, Bar, Segment,  # noqa: F401
                              StackedChart, TrendChart, nice_step, share_bar, share_trend, short_rupiah,
                              stacked_bars)
