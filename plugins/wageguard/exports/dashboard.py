"""The visual supervision board (可视化督办): static pages in the night's
dashboard/ folder, index.html for the province and one page per city and per
district, for supervisors and inspectors.

Pages reach each other, their assets and the district workbooks by relative
links only and load nothing from the network, so the folder reads the same
from disk (file://) and from any web server. Nothing on a page depends on when
or how often the night ran: a re-run writes the same bytes."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from wageguard.db.sqlfiles import read_sql
from wageguard.exports.district_lists import UNRESOLVED
from wageguard.exports.flag_list import (
    CHART_COLOURS,
    LEVELS,
    TREND_NIGHTS,
    ZH_LEVEL,
    Contractors,
    Figures,
    OpenFlag,
    Summary,
    TrendNight,
    Trends,
)
from wageguard.rules.catalogue import Rule

TEMPLATES = Path(__file__).parent / "templates"
ASSETS = "assets"
PLOTLY_JS = f"{ASSETS}/plotly.min.js"
STYLESHEET = f"{ASSETS}/dashboard.css"
# The district workbooks, as night_outputs places lists/ beside dashboard/.
WORKBOOKS = "../lists"
# A district page lists its overdue red flags; past this many the workbook,
# which holds them all, is the place to work through them.
OVERDUE_RED_SHOWN = 50
SEVERITIES = tuple(reversed(LEVELS))  # the most urgent first, as inspectors read them
FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
SOURCE_ZH = {
    "projects": "住建：工程项目",
    "wage_accounts": "住建：农民工工资专用账户",
    "wage_deposits": "住建：农民工工资保证金",
    "realname_monthly": "住建：实名制考勤(月)",
    "enterprises": "信用：企业登记",
    "list_entries": "信用：失信及违法公布名单",
    "investment_projects": "发改：投资项目",
    "fund_disbursements": "发改：资金拨付(人工费用)",
}


class OverdueRed:
    """The overdue red flags each district's page lists, gathered as the
    night's flags go by: per district the first OVERDUE_RED_SHOWN in list order
    and how many there are, so a province's flags are never held for the board."""

    def __init__(self) -> None:
        self._first: dict[str, list[OpenFlag]] = defaultdict(list)
        self._count: Counter[str] = Counter()

    def add(self, flag: OpenFlag) -> None:
        if not flag.overdue_red:
            return
        self._count[flag.district_code] += 1
        first = self._first[flag.district_code]
        first.append(flag)
        if len(first) > 2 * OVERDUE_RED_SHOWN:
            self._keep_first(first)

    def of(self, districts: Iterable[str] | None) -> tuple[list[OpenFlag], int]:
        """The first OVERDUE_RED_SHOWN of the districts together, and how many;
        None: of every district, the summary's or not, as the province's page."""
        districts = list(self._count if districts is None else districts)
        first = [flag for district in districts for flag in self._first.get(district, [])]
        self._keep_first(first)
        return first, sum(self._count[district] for district in districts)

    @staticmethod
    def _keep_first(flags: list[OpenFlag]) -> None:
        flags.sort(key=lambda f: f.list_order)
        del flags[OVERDUE_RED_SHOWN:]


@dataclass
class Area:
    """The province, a city or a district: its figures, and the overdue red
    flags its page lists."""

    kind: str  # province | city | district
    code: str
    name: str | None
    page: str
    districts: list[str]
    figures: Figures
    overdue_red: list[OpenFlag]
    overdue_red_total: int
    parent: Area | None = None
    children: list[Area] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name or self.code

    def trail(self) -> list[Area]:
        """The areas above this one, the province first."""
        return [*self.parent.trail(), self.parent] if self.parent else []

    def walk(self) -> Iterator[Area]:
        yield self
        for child in self.children:
            yield from child.walk()


def _area(figures: Figures, page: str, districts: list[str], overdue_red: OverdueRed,
          parent: Area | None) -> Area:
    area = Area(figures.area_kind, figures.area_code, figures.area_name, page, districts,
                figures, *overdue_red.of(districts), parent)
    if parent:
        parent.children.append(area)
    return area


def _areas(summary: Summary, overdue_red: OverdueRed) -> Area:
    """The province with its cities, each with its districts, in code order, as
    the summary groups them."""
    districts = summary.areas("district")
    province = Area("province", "", "全省", "index.html", [d.area_code for d in districts],
                    summary.of("province", ""), *overdue_red.of(None))
    for figures in summary.areas("city"):
        members = [d for d in districts if d.parent_code == figures.area_code]
        city = _area(figures, f"city-{figures.area_code}.html",
                     [d.area_code for d in members], overdue_red, province)
        for district in members:
            _area(district, f"district-{district.area_code}.html", [district.area_code],
                  overdue_red, city)
    return province


def _by_rule(area: Area, summary: Summary, rules: dict[str, Rule]) -> list[tuple]:
    """(code, title, figures) of every rule in the area."""
    return [(code, rule.title, summary.of(area.kind, area.code, code))
            for code, rule in rules.items()]


class _TrendChart:
    """The trend as plotly draws it, in a div of a fixed id so pages repeat byte
    for byte; the plotly.js it needs is the page's own asset. One figure serves
    every page: building a plotly figure costs far more than drawing it."""

    def __init__(self):
        import plotly.graph_objects as go

        self._figure = go.Figure(
            [go.Bar(name=f"{ZH_LEVEL[level]}色", marker_color=CHART_COLOURS[level])
             for level in SEVERITIES],
            layout={
                "barmode": "stack", "template": "plotly_white", "height": 320,
                "margin": {"l": 50, "r": 20, "t": 20, "b": 70},
                "font": {"family": FONTS, "size": 13},
                "xaxis": {"type": "category", "tickangle": -45},
                "yaxis": {"title": {"text": "预警数"}, "rangemode": "tozero"},
                "legend": {"orientation": "h", "y": 1.12, "traceorder": "normal"},
            })

    def html(self, trend: list[TrendNight]):
        from markupsafe import Markup

        for bar, level in zip(self._figure.data, SEVERITIES, strict=True):
            bar.x = [night.night.isoformat() for night in trend]
            bar.y = [getattr(night, level) for night in trend]
        return Markup(self._figure.to_html(
            full_html=False, include_plotlyjs=False, div_id="trend-chart",
            config={"displayModeBar": False, "responsive": True}))


def night_pulls(conn: Connection, run_date: dt.date, cutoff: str) -> list[dict]:
    """Per source table, what the pulls behind night D brought in (see the SQL)."""
    rows = conn.execute(text(read_sql("exports/dashboard_pulls.sql")),
                        {"run_date": run_date, "cutoff": cutoff}).mappings()
    return [{"table": r["source_table"], "label": SOURCE_ZH.get(r["source_table"], ""),
             **{k: int(r[k] or 0)
                for k in ("pulled", "loaded", "quarantined", "warned", "superseded",
                          "unchanged")}}
            for r in rows]


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def write_dashboard(conn: Connection, folder: Path, run_date: dt.date, summary: Summary,
                    overdue_red: OverdueRed, trends: Trends, contractors: Contractors,
                    report: dict, rules: dict[str, Rule]) -> int:
    """Writes the board of night D and returns the number of pages. `report` is
    the night's run report (its previous night, knowledge cutoff and dev-reform
    bundle). The summary's areas and names make the pages; a city or district
    the roster does not name shows its code. Exempted and false-positive flags
    are left off, as on the lists; the trend and the contractors are those of
    their marts (flag_list.trends, flag_list.top_contractors)."""
    from plotly.offline import get_plotlyjs

    (folder / ASSETS).mkdir(parents=True, exist_ok=True)
    (folder / PLOTLY_JS).write_text(get_plotlyjs(), encoding="utf-8")
    shutil.copyfile(TEMPLATES / "dashboard.css", folder / STYLESHEET)
    province = _areas(summary, overdue_red)
    chart = _TrendChart()
    template = _environment().get_template("dashboard.html.j2")
    shared = {
        "run_date": run_date.isoformat(),
        "previous": report["previous_night"],
        "pulls": night_pulls(conn, run_date, report["knowledge_cutoff"]),
        "devreform": report["devreform"],
        "severities": SEVERITIES,
        "zh_level": ZH_LEVEL,
        "trend_nights": TREND_NIGHTS,
        "plotly_js": PLOTLY_JS,
        "stylesheet": STYLESHEET,
        "overdue_red_shown": OVERDUE_RED_SHOWN,
        "workbooks": WORKBOOKS,
        "unresolved": UNRESOLVED,
    }
    pages = 0
    for area in province.walk():
        page = template.render(
            **shared, area=area, figures=area.figures, by_rule=_by_rule(area, summary, rules),
            chart=chart.html(trends.get((area.kind, area.code), [])),
            children=[(child, child.figures) for child in area.children],
            contractors=contractors.get((area.kind, area.code), []),
            overdue_red=area.overdue_red, overdue_red_total=area.overdue_red_total,
            rules=rules,
        )
        (folder / area.page).write_text(page, encoding="utf-8", newline="\n")
        pages += 1
    return pages
