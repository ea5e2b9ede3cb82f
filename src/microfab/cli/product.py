"""``microfab product``: configure a product from the command line (options, check, explain, count, derive).

``TARGET`` is a YAML file holding one Product document, or the name of a product in the network
applied to ``--db``. Every command prints a table, or JSON with ``--json``; bad input is one
error line and exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from microfab import configurator
from microfab.control.bootstrap import bootstrap
from microfab.domain.errors import DomainError
from microfab.domain.products import ConfigValue, ProductTemplate, TextOption
from microfab.manifests import ManifestErrors, build_product, load_resources
from microfab.settings import Settings
from microfab.store.base import StoreUnavailableError

app = typer.Typer(
    help="Configure products: valid values, checks, conflicts, counts, BOM and routing.", no_args_is_help=True
)
console = Console(width=None if sys.stdout.isatty() else 150)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

Target = Annotated[str, typer.Argument(help="A YAML file with one Product document, or a product name (with --db).")]
Db = Annotated[str | None, typer.Option("--db", envvar="MICROFAB_DB", help="Event log URL.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Sets = Annotated[list[str] | None, typer.Option("--set", "-s", help="OPTION=VALUE, repeatable.")]
ConfigText = Annotated[str, typer.Option("--config", "-c", help="The configuration as JSON, like '{\"width\": 300}'.")]


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error[/]: {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn every expected failure into one clear line and exit status 1."""
    try:
        yield
    except ManifestErrors as exc:
        for error in exc.errors:
            errors.print(f"[red]error[/]: {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except (DomainError, ValueError, LookupError, OSError, StoreUnavailableError) as exc:
        _fail(str(exc))


def load(target: str, db: str | None) -> ProductTemplate:
    """The product in the YAML file *target*, or the product called *target* in the applied network."""
    path = Path(target)
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        if not path.is_file():
            raise ValueError(f"no such file: {target}")
        products = [r for r in load_resources(path) if r.kind == "Product"]
        if len(products) != 1:
            raise ValueError(f"{target}: expected one Product document, found {len(products)}")
        return build_product(products[0])
    services = bootstrap(Settings.from_env(db))
    try:
        return services.state.network.product(target)
    finally:
        close = getattr(services, "close", None)
        if callable(close):
            close()


def _sets(items: list[str] | None) -> dict[str, ConfigValue]:
    chosen: dict[str, ConfigValue] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set expects OPTION=VALUE, got {item!r}")
        chosen[name.strip()] = value
    return chosen


def _config(text: str) -> dict[str, ConfigValue]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--config: expected a JSON object, {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str | int | bool) for v in data.values()):
        raise ValueError('--config: expected a JSON object of option values, like {"width": 300}')
    return data


def _json(data: Any) -> None:
    console.print_json(json.dumps(data, default=_plain, ensure_ascii=False))


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _listing(product: ProductTemplate, name: str, values: tuple[ConfigValue, ...]) -> Any:
    if isinstance(product.option(name), TextOption):
        return {"lengths": list(values)}
    return list(values)


def _short(values: tuple[ConfigValue, ...], text: bool) -> str:
    if not values:
        return "[red]none[/]"
    shown = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    if text:
        return f"length {values[0]}–{values[-1]}" if len(values) > 1 else f"length {values[0]}"
    return (
        ", ".join(shown) if len(shown) <= 12 else f"{', '.join(shown[:5])}, …, {', '.join(shown[-3:])} ({len(shown)})"
    )


@app.command()
def options(target: Target, set_: Sets = None, db: Db = None, as_json: Json = False) -> None:
    """Show every option: its domain and, given the --set choices, the values that still lead to a valid product."""
    with _errors():
        product = load(target, db)
        chosen = product.parse(_sets(set_))
        valid = configurator.valid_values(product, chosen)
        dead_end = bool(valid) and not any(valid.values())
        conflict = configurator.explain(product, chosen) if dead_end or not valid else None
        if as_json:
            listing = {name: _listing(product, name, values) for name, values in valid.items()}
            _json({"product": product.name, "chosen": chosen, "valid": listing, "conflict": _conflict(conflict)})
            return
        table = Table("option", "kind", "domain", "chosen", "valid values", title=product.name)
        for option in product.options:
            shown = _short(valid.get(option.name, ()), isinstance(option, TextOption))
            pick = chosen.get(option.name)
            pick = str(pick).lower() if isinstance(pick, bool) else pick
            table.add_row(
                option.name,
                option.kind,
                option.describe(),
                "" if pick is None else str(pick),
                "" if pick is not None else shown,
            )
        console.print(table)
        if conflict is not None:
            _fail(f"no valid {product.name} extends these choices: {conflict}")


@app.command()
def check(target: Target, config: ConfigText, db: Db = None, as_json: Json = False) -> None:
    """Check a complete configuration (defaults fill the rest): every violated rule, exit status 1 if any."""
    with _errors():
        product = load(target, db)
        full = product.configure(_config(config))
        violations = configurator.validate(product, full)
    if as_json:
        _json(
            {
                "product": product.name,
                "valid": not violations,
                "config": full,
                "violations": [{"rule": v.rule_id, "message": v.message} for v in violations],
            }
        )
    elif not violations:
        console.print(f"[green]valid[/] {escape(product.name)} {escape(json.dumps(full))}", highlight=False)
    else:
        for violation in violations:
            errors.print(f"[red]violates[/] {violation.rule_id}: {escape(violation.message)}", highlight=False)
    if violations:
        raise typer.Exit(1)


def _conflict(conflict: configurator.Conflict | None) -> Any:
    if conflict is None:
        return None
    rules = [{"rule": v.rule_id, "message": v.message} for v in conflict.rules]
    return {"choices": conflict.choices, "rules": rules}


@app.command()
def explain(target: Target, set_: Sets = None, db: Db = None, as_json: Json = False) -> None:
    """Explain why the --set choices have no valid completion: a minimal set of choices and rules, and a repair."""
    with _errors():
        product = load(target, db)
        chosen = product.parse(_sets(set_))
        conflict = configurator.explain(product, chosen)
        fixed = configurator.repair(product, chosen) if conflict is not None else None
    if as_json:
        repair = None if fixed is None else {"config": fixed.config, "changed": list(fixed.changed)}
        _json({"product": product.name, "chosen": chosen, "conflict": _conflict(conflict), "repair": repair})
        return
    if conflict is None:
        console.print(f"[green]no conflict[/]: these choices extend to a valid {escape(product.name)}", highlight=False)
        return
    choices = ", ".join(f"{k}={v}" for k, v in conflict.choices.items()) or "(no choice: the rules alone)"
    console.print(f"[red]conflict[/]: {escape(choices)}", highlight=False)
    for rule in conflict.rules:
        console.print(f"  {rule.rule_id}: {escape(rule.message)}", highlight=False)
    if fixed is not None:
        changed = ", ".join(fixed.changed) or "nothing"
        console.print(f"nearest valid (changes {escape(changed)}): {escape(json.dumps(fixed.config))}", highlight=False)


@app.command()
def count(target: Target, db: Db = None, as_json: Json = False) -> None:
    """Count the valid configurations exactly (a text option counts once per allowed length)."""
    with _errors():
        product = load(target, db)
        number = configurator.count(product)
        raw = configurator.raw_space(product)
    if as_json:
        _json({"product": product.name, "valid": number, "raw": raw})
    else:
        console.print(f"{escape(product.name)}: {number:,} valid configurations of {raw:,} raw combinations")


@app.command()
def derive(target: Target, config: ConfigText, db: Db = None, as_json: Json = False) -> None:
    """Derive the BOM, routing, list price and material cost of a valid configuration."""
    with _errors():
        product = load(target, db)
        violations = configurator.validate(product, _config(config))
        if violations:
            _fail("; ".join(f"{v.rule_id}: {v.message}" for v in violations))
        result = configurator.derive(product, _config(config))
    if as_json:
        _json(_derivation_json(product, result))
        return
    bom = Table("item", "quantity", "unit", "unit cost", "cost", "origin", "HS code", title=f"{product.name} BOM")
    for line in result.bom:
        bom.add_row(
            line.item, str(line.quantity), line.unit, str(line.unit_cost), str(line.cost), line.origin, line.hs_code
        )
    routing = Table("operation", "capability", "duration", "family", title="routing")
    for op in result.routing:
        routing.add_row(op.name, op.capability, str(op.duration), op.family)
    console.print(bom, routing)
    console.print(f"list price {result.price}, material cost {result.cost}, mass {result.mass}", highlight=False)


def _derivation_json(product: ProductTemplate, result: configurator.Derivation) -> dict[str, Any]:
    return {
        "product": product.name,
        "version": product.version,
        "config": result.config,
        "bom": [
            {
                "item": b.item,
                "quantity": str(b.quantity),
                "unit": b.unit,
                "unitCost": str(b.unit_cost),
                "cost": str(b.cost),
                "origin": b.origin,
                "hsCode": b.hs_code,
            }
            for b in result.bom
        ],
        "routing": [
            {"name": o.name, "capability": o.capability, "seconds": o.duration.seconds, "family": o.family}
            for o in result.routing
        ],
        "price": {"amount": str(result.price.amount), "currency": result.price.currency},
        "cost": {"amount": str(result.cost.amount), "currency": result.cost.currency},
        "massKg": str(result.mass.kg),
    }
