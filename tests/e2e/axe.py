"""axe-core in the browser tests: inject the vendored axe (tests/e2e/vendor, MPL-2.0, see the licence beside
it) into a page and return the WCAG 2 A/AA violations that matter (impact serious or critical)."""
from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).with_name("vendor") / "axe-4.14.1.min.js"
BLOCKING = ("serious", "critical")

RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""


def violations(page) -> list[dict]:
    """Serious and critical WCAG 2 A/AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated through the devtools protocol: the app's CSP (script-src 'self') stays on and untouched
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    return [v for v in page.evaluate(RUN) if v["impact"] in BLOCKING]


def describe(found: list[dict]) -> str:
    """One line per failing element, readable in a test failure."""
    return "\n".join(f"  {v['id']} ({v['impact']}): {v['help']}\n" +
                     "\n".join(f"    {n['target']}: {n['summary']}" for n in v["nodes"]) for v in found)
