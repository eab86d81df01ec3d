"""``redcat lift``: parse options, call ``redcat_cli.analysis.lift``, render the result.

statsmodels, numpy and duckdb load only when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

from redcat_cli.cli.options import (
    READ_MERCHANT,
    calendar_option,
    choice_option,
    count_option,
    file_option,
    format_options,
    period_option,
    resolve_format,
    seed_option,
    seeded_ids,
    seeded_options,
    store_option,
    store_path,
)


def _pct(v: float | None) -> str | None:
    from redcat_cli.cli.render import percent

    return percent(v, places=1, sign=True)


def _tables(doc: dict[str, Any]) -> list[Any]:
    from redcat_cli.cli.render import Table, money
    from redcat_cli.cli.render import p_value as _p

    e, p, n = doc["effect"], doc["placebo"], doc["naive"]
    rows = [
        [
            "effect",
            _pct(e["relative"]),
            f"[{_pct(e['relative_ci_low'])}, {_pct(e['relative_ci_high'])}]",
            _p(e["p_value"]),
            e["incremental"],
        ],
        [
            "placebo",
            _pct(p["relative"]),
            f"[{_pct(p['relative_ci_low'])}, {_pct(p['relative_ci_high'])}]",
            _p(p["p_value"]),
            None,
        ],
        ["naive", _pct(n["relative"]), None, None, None],
    ]
    t = doc["pre_trend"]
    caption = (
        f"Incremental sales 95% CI: {money(e['incremental_ci_low'])} to "
        f"{money(e['incremental_ci_high'])}. Placebo: a fake start on {p['start']}, pre data "
        "only. Naive: the treated products' own change in average daily sales, post vs pre.\n"
        f"{doc['method']}.\n"
        f"Treated: {len(doc['treated'])} · controls: {doc['controls']} · "
        f"pre {doc['pre']['from']}..{doc['pre']['to']} · post {doc['post']['from']}..{doc['post']['to']}. "
        f"Pre-trend: {_pct(t['relative_per_week'])} a week (p {_p(t['p_value'])}).\n"
        "Assumes treated and controls would have moved in parallel without the seeding; "
        "the placebo and the pre-trend test it."
    )
    if doc["events"]:
        caption += "\nCalendar: " + "; ".join(
            f"{ev['name']} {ev['stage']} {ev['from']:%m-%d}..{ev['to']:%m-%d} "
            f"({', '.join(ev['periods'])}{', provisional' if ev['provisional'] else ''})"
            for ev in doc["events"]
        )
    tables = [
        Table(
            title=f"Lift on {doc['outcome']}",
            columns=["", "relative", "95% CI", "p", "incremental"],
            rows=rows,
            caption=caption,
        )
    ]
    return tables


@click.command("lift", context_settings={"help_option_names": ["-h", "--help"]})
@READ_MERCHANT
@store_option
@seeded_options(required_start=True)
@period_option("--pre", "Pre period FROM..TO [default: the 28 days before --start].")
@period_option("--post", "Post period FROM..TO [default: --start to the last date held].")
@choice_option(
    "--outcome",
    ("sycm", "qianniu"),
    default="sycm",
    help_text="sycm: each product's daily 支付金额; qianniu: the store's paid GMV against --comparison.",
)
@file_option(
    "--comparison",
    metavar="FILE.csv",
    help_text="With --outcome qianniu: a daily comparison series, CSV of date,amount.",
)
@count_option(
    "--permutations",
    default=500,
    minimum=99,
    help_text="Placebo sets drawn with --inference permutation.",
)
@seed_option("Seed of the permutations.")
@calendar_option
@format_options
def lift(
    merchant: str | None,
    store: str | None,
    treated: tuple[str, ...],
    treated_file: str | None,
    lift_start: Any,
    inference: str,
    pre: Any,
    post: Any,
    outcome: str,
    comparison: str | None,
    permutations: int,
    seed: int,
    calendar_file: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """What the seeding added to Taobao sales, against products the notes did not touch.

    Difference-in-differences on each product's daily sales (生意参谋),
    with day effects (a festival that lifts every product is not credited to
    the campaign), a placebo start inside the pre period, a pre-trend check,
    and the naive before/after beside it.

    \b
    Examples:
      redcat lift --treated 718923450011,718923450012 --start 2025-06-01
      redcat lift --treated-file seeded.txt --start 2025-06-01 \\
                  --inference permutation
      redcat lift --outcome qianniu --comparison category.csv \\
                  --start 2025-06-01 --json
    """
    from redcat_cli.analysis import lift as core
    from redcat_cli.cli import render
    from redcat_cli.errors import UsageError
    from redcat_cli.queries import merchant_scope
    from redcat_cli.store.db import open_store
    from redcat_cli.store.merchants import for_reading

    ids = seeded_ids(treated, treated_file)
    if outcome == "qianniu" and ids:
        raise UsageError("--treated names products; --outcome qianniu compares the whole store")
    if comparison and outcome != "qianniu":
        raise UsageError("--comparison goes with --outcome qianniu")
    req = core.Request(
        treated=tuple(ids),
        start=lift_start,
        pre=pre,
        post=post,
        outcome=outcome,
        inference=inference,
        permutations=permutations,
        seed=seed,
        comparison=core.read_comparison(comparison) if comparison else None,
        calendar=calendar_file,
    )
    with (
        open_store(store_path(store), read_only=True) as st,
        merchant_scope(for_reading(st.con, merchant)),
    ):
        res = core.lift(st.con, req)
    for w in res.warnings:
        render.notice(f"warning: {w}")
    out = resolve_format(fmt, as_json)
    doc = res.doc
    if out == "json":
        render.emit_json(doc)
    elif out == "jsonl":
        render.emit_jsonl([doc])
    elif out == "csv":
        render.emit_csv(*_csv(doc))
    else:
        render.emit_tables(_tables(doc))
        render.stdout_console().print(doc["verdict"], markup=False, highlight=False, soft_wrap=True)


def _csv(doc: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The effect, the placebo and the naive figure, one row each."""
    e, p = doc["effect"], doc["placebo"]
    return (
        ["measure", "relative", "ci_low", "ci_high", "p_value", "incremental"],
        [
            [
                "effect",
                e["relative"],
                e["relative_ci_low"],
                e["relative_ci_high"],
                e["p_value"],
                e["incremental"],
            ],
            [
                "placebo",
                p["relative"],
                p["relative_ci_low"],
                p["relative_ci_high"],
                p["p_value"],
                None,
            ],
            ["naive", doc["naive"]["relative"], None, None, None, None],
        ],
    )
