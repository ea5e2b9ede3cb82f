"""The operations console and order tracking pages.

Staff (operator, planner, admin) get the console: sites with live module states, a site's
Gantt and OEE, the order book. Customers get their own orders and each unit's passport, and
everyone the quote page (the portal's configurator, in the customer's own market).
Pages call the same control functions and queries as the REST API.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Cookie, Depends, FastAPI, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from microfab.api.deps import LockDep, ServicesDep
from microfab.api.problems import Problem
from microfab.api.web import ordering, portal
from microfab.api.web.session import COOKIE, LoginRequiredError, PagePrincipal, login_url, safe_next
from microfab.control import operations, queries
from microfab.control.access import authenticate, label_of
from microfab.control.controller import latest_schedule
from microfab.domain.access import Principal, Role
from microfab.domain.codec import encode
from microfab.domain.errors import UnknownReferenceError
from microfab.kpi.downtime import DowntimeCause
from microfab.l10n import languages as i18n
from microfab.l10n.documents import status_label
from microfab.l10n.format import money
from microfab.l10n.quote_view import brand_for
from microfab.report.html import gantt_view

router = APIRouter(include_in_schema=False)
_STATIC = Path(__file__).parent / "static"
_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
_LIVE_TYPES = (
    "OperationStarted",
    "OperationCompleted",
    "ModuleFaulted",
    "ModuleRepaired",
    "OrderDelivered",
    "AlertRaised",
    "AlertCleared",
    "AlertAcknowledged",
)
_ACKNOWLEDGE = (Role.OPERATOR, Role.ADMIN)


@cache
def _environment(language: str) -> Environment:
    """One template environment per language, with that language's gettext catalog installed."""
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("microfab.api.web", "templates"), PackageLoader("microfab.report", "templates")]
        ),
        autoescape=select_autoescape(["html", "j2"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["pct"] = lambda x: "–" if x is None else f"{100 * x:.1f} %"
    env.filters["hours"] = lambda s: f"{s / 3600:.1f}"
    env.filters["when"] = lambda d: "–" if d is None else d.strftime("%Y-%m-%d %H:%M")
    env.globals.update(languages=i18n.LOCALES, html_lang=i18n.html_lang)
    return env


def page_language(
    request: Request,
    lang: Annotated[str | None, Query(max_length=35)] = None,
    mf_lang: Annotated[str | None, Cookie()] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> str:
    """The language of this page: ``?lang=``, then the cookie, then Accept-Language, then English."""
    chosen: str = i18n.negotiate(lang, mf_lang, accept_language)
    request.state.remember_language = chosen if i18n.supported(lang) else None
    return chosen


PageLanguage = Annotated[str, Depends(page_language)]


def render_page(request: Request, template: str, principal: Principal | None, **context: Any) -> HTMLResponse:
    """Render *template* in the page's language (``language`` in *context*), with the page headers."""
    language: str = context.pop("language")
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    lang_links = {code: f"{request.url.path}?{urlencode([*query, ('lang', code)])}" for code in i18n.LOCALES}
    html = (
        _environment(language)
        .get_template(template)
        .render(principal=principal, language=language, path=request.url.path, lang_links=lang_links, **context)
    )
    response = HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": _CSP})
    if getattr(request.state, "remember_language", None):
        response.set_cookie(i18n.COOKIE, language, samesite="lax", path="/", max_age=365 * 86400)
    return response


def _staff(principal: Principal) -> None:
    if principal.role is Role.CUSTOMER:
        raise Problem(403, "Forbidden", "the console is for operators, planners and admins")


@router.get("/", response_class=HTMLResponse)
async def home(principal: PagePrincipal) -> Response:
    """Staff land on the console, customers on their orders."""
    return RedirectResponse("/orders" if principal.role is Role.CUSTOMER else "/console", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    language: PageLanguage,
    next: Annotated[str | None, Query(max_length=500)] = None,
    failed: bool = False,
) -> HTMLResponse:
    """The sign-in form: paste an API key."""
    return render_page(request, "login.html.j2", None, language=language, next=safe_next(next, "/"), failed=failed)


@router.post("/login")
async def login(
    services: ServicesDep,
    lock: LockDep,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the key and keep it in an HttpOnly cookie."""
    async with lock:
        services.state.catch_up(services.log)
        principal = authenticate(services.state, key.strip())
    if principal is None:
        return RedirectResponse(login_url(safe_next(next, "/")) + "&failed=1", status_code=303)
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", path="/", max_age=8 * 3600)
    return response


@router.post("/logout")
async def logout() -> Response:
    """Forget the key."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/console", response_class=HTMLResponse)
async def console(
    request: Request, language: PageLanguage, services: ServicesDep, lock: LockDep, principal: PagePrincipal
) -> HTMLResponse:
    """Every site with its modules, their condition live (SSE), and what needs a person."""
    _staff(principal)
    network = services.state.network
    async with lock:
        states = operations.module_states(services)
        alerts = operations.alerts(services)
    sites = [
        {"site": s, "modules": [(m, states.get(m.name, "idle")) for m in network.modules_at(s.name)]}
        for s in network.sites.values()
    ]
    down = sorted(name for name, state in states.items() if state == "down")
    return render_page(
        request,
        "console.html.j2",
        principal,
        language=language,
        sites=sites,
        down=down,
        alerts=alerts,
        can_ack=principal.role in _ACKNOWLEDGE,
        after=services.state.position,
        live_types=_LIVE_TYPES,
    )


@router.post("/console/alerts/{alert_id}/acknowledge")
async def acknowledge_alert(alert_id: str, services: ServicesDep, lock: LockDep, principal: PagePrincipal) -> Response:
    """Take an alert on from the console (operators and admins), then back to the console."""
    _staff(principal)
    if principal.role not in _ACKNOWLEDGE:
        raise Problem(403, "Forbidden", "acknowledging alerts needs the operator or admin role")
    async with lock:
        known = {a.alert_id: a for a in operations.alerts(services, include_cleared=True)}
        if alert_id not in known:
            raise Problem(404, "Not found", f"unknown alert {alert_id!r}")
        if known[alert_id].acknowledged_by is None:
            operations.acknowledge(services, alert_id, by=label_of(services.state, principal))
    return RedirectResponse("/console", status_code=303)


@router.get("/console/sites/{site}", response_class=HTMLResponse)
async def site_page(
    request: Request, language: PageLanguage, site: str, services: ServicesDep, lock: LockDep, principal: PagePrincipal
) -> HTMLResponse:
    """A site: its Gantt (planned over actual), ISO 22400 OEE per module as a chart and a table, the downtime Pareto."""
    _staff(principal)
    if site not in services.state.network.sites:
        raise Problem(404, "Not found", f"unknown site {site!r}")
    async with lock:
        report = operations.report(services, gantt_site=site)
        created = latest_schedule(services.log, site)
    modules = {n: k for n, k in report.modules.items() if report.site_of[n] == site}
    pareto = _pareto([c for c in report.downtime if c.module in modules])
    return render_page(
        request,
        "site.html.j2",
        principal,
        language=language,
        site=services.state.network.sites[site],
        report=report,
        kpi=report.sites.get(site),
        modules=modules,
        gantt=gantt_view(report, created.operations if created else ()),
        pareto=pareto,
    )


def _pareto(causes: list[DowntimeCause], top: int = 12) -> list[tuple[DowntimeCause, float, float]]:
    """The largest downtime causes, each with its bar length (share of the largest) and the cumulative share."""
    ranked = sorted(causes, key=lambda c: -c.hours)[:top]
    total = sum(c.hours for c in causes) or 1.0
    largest = (ranked[0].hours if ranked else 0.0) or 1.0
    out, running = [], 0.0
    for cause in ranked:
        running += cause.hours
        out.append((cause, cause.hours / largest, running / total))
    return out


@router.get("/orders", response_class=HTMLResponse)
async def orders_page(
    request: Request, language: PageLanguage, services: ServicesDep, principal: PagePrincipal
) -> HTMLResponse:
    """The orders the signed-in user may see."""
    orders = queries.orders_for(services.state, principal, limit=500)
    return render_page(request, "orders.html.j2", principal, language=language, orders=orders)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(
    request: Request, language: PageLanguage, order_id: str, services: ServicesDep, principal: PagePrincipal
) -> HTMLResponse:
    """One order: its timeline of events and each unit's passport."""
    try:
        order = queries.order_for(services.state, principal, order_id)
    except UnknownReferenceError as exc:
        raise Problem(404, "Not found", str(exc)) from None
    timeline = []
    for recorded in services.log.read_stream(f"order-{order.id}"):
        if recorded.type in ("OperationDispatched", "OperationReleased"):
            continue
        _, data = encode(recorded.event)
        timeline.append((recorded.event.at, recorded.type, data.get("operation_id") or data.get("site") or ""))
    market = services.state.network.markets.get(order.market)
    brand = brand_for(market.brands, language, market.locale) if market is not None else None
    status = status_label(order.status, language)
    tag = portal.quote_locale(language, market) if market is not None else language
    return render_page(
        request,
        "order.html.j2",
        principal,
        language=language,
        order=order,
        timeline=timeline,
        brand=brand,
        status=status,
        total=money(order.total.quantize(), tag),
    )


@router.get(portal.PATH, response_class=HTMLResponse)
async def quote_page(  # noqa: PLR0913 - the form's own fields
    request: Request,
    language: PageLanguage,
    services: ServicesDep,
    lock: LockDep,
    principal: PagePrincipal,
    *,
    product: Annotated[str | None, Query(max_length=63)] = None,
    market: Annotated[str | None, Query(max_length=63)] = None,
    qty: Annotated[int, Query(ge=1, le=10_000)] = 1,
    ship_to: Annotated[str | None, Query(max_length=63)] = None,
    b2b: bool = False,
) -> HTMLResponse:
    """Configure a product and see its quote: price with the right tax, delivery, origin, every candidate site.

    A customer key bound to a market sees that market only; staff and unbound customers choose.
    Option values are query parameters named after the options; the form re-quotes on submit.
    """
    network = services.state.network
    if not network.products or not network.markets:
        raise Problem(404, "Not found", "no network is applied: nothing to quote")
    bound = principal.market if principal.role is Role.CUSTOMER else None
    if bound is not None and market not in (None, bound):
        raise Problem(403, "Forbidden", f"this key quotes in market {bound!r} only")
    chosen_product = network.products.get(product or next(iter(network.products)))
    if chosen_product is None:
        raise Problem(404, "Not found", f"unknown product {product!r}")
    chosen_market = network.markets.get(bound or market or portal.default_market(network, language).name)
    if chosen_market is None:
        raise Problem(404, "Not found", f"unknown market {market!r}")
    submitted = {key: request.query_params.getlist(key) for key in request.query_params}
    async with lock:
        page = portal.build(
            services,
            chosen_product,
            chosen_market,
            submitted,
            language=language,
            quantity=qty,
            ship_to=ship_to,
            b2b=b2b,
        )
    return render_page(
        request,
        "quote.html.j2",
        principal,
        language=language,
        page=page,
        products=[(p, portal.href(p, chosen_market.name, {}, qty, page.ship_to, b2b)) for p in network.products],
        markets=[] if bound else list(network.markets.values()),
        can_order=ordering.may_order(principal),
        staff=principal.role is not Role.CUSTOMER,
        order_token=ordering.new_token(),
        order_path=ordering.ORDER_PATH,
        quote_locale=portal.quote_locale(language, chosen_market),
    )


def install(app: FastAPI) -> None:
    """Mount the pages, their static assets and the login redirect."""
    from microfab.api.web.modules_page import router as modules  # noqa: PLC0415 - it builds on this module's helpers
    from microfab.api.web.planner import router as planner  # noqa: PLC0415 - it builds on this module's helpers

    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.include_router(router)
    app.include_router(ordering.router)
    app.include_router(planner)
    app.include_router(modules)

    @app.exception_handler(LoginRequiredError)
    async def _login(request: Request, exc: LoginRequiredError) -> Response:
        return RedirectResponse(login_url(exc.next_path), status_code=303)
