"""The JSON contract for scripts: every JSON output carries schema_version and validates
against the schema shipped in the package; every failure under --json is one JSON error
object on stderr with a documented code, and nothing on stdout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from redcat_cli import schemas
from redcat_cli.cli import cli, json_requested
from redcat_cli.cli.render import SCHEMA_VERSION
from redcat_cli.demo import example_contract, example_files
from redcat_cli.errors import CODES

jsonschema = pytest.importorskip("jsonschema")
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def validate(name: str, doc: object) -> None:
    jsonschema.Draft202012Validator(
        schemas.load(name), format_checker=jsonschema.FormatChecker()
    ).validate(doc)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("json") / "redcat.duckdb"
    res = run("ingest", "-q", "--store", str(path), "--json", *map(str, example_files()))
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    validate("ingest", doc)
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert len(doc["files"]) >= 9
    return str(path)


def test_every_shipped_schema_is_a_valid_json_schema() -> None:
    assert {"ingest", "status", "attribute", "settle", "error"} <= set(schemas.names())
    for name in schemas.names():
        jsonschema.Draft202012Validator.check_schema(schemas.load(name))


def test_status_output_validates(demo_store: str) -> None:
    doc = json.loads(run("status", "--store", demo_store, "--json").stdout)
    validate("status", doc)
    assert [s["source"] for s in doc["sources"]][:2] == ["alimama", "juguang"]
    lines = run("status", "--store", demo_store, "-f", "jsonl").stdout.splitlines()
    assert lines and all(json.loads(x)["schema_version"] == 1 for x in lines)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--by", "day", "--max-lag", "3"],
        ["--by", "plan"],
        ["--baseline", "2025-06-01..2025-06-15", "--compare", "2025-06-16..2025-06-30"],
    ],
)
def test_attribute_output_validates(demo_store: str, args: list[str]) -> None:
    res = run("attribute", "--store", demo_store, "--json", *args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    validate("attribute", doc)
    assert doc["schema_version"] == 1


def test_attribute_schema_rejects_a_broken_output(demo_store: str) -> None:
    """The schema is not a rubber stamp: money as a float, or a missing n, fails it."""
    doc = json.loads(run("attribute", "--store", demo_store, "--json").stdout)
    bad = json.loads(json.dumps(doc))
    bad["totals"]["spend"] = 141289.97
    with pytest.raises(jsonschema.ValidationError):
        validate("attribute", bad)
    bad = json.loads(json.dumps(doc))
    del bad["correlations"][0]["n"]
    with pytest.raises(jsonschema.ValidationError):
        validate("attribute", bad)
    bad = json.loads(json.dumps(doc))
    del bad["schema_version"]
    with pytest.raises(jsonschema.ValidationError):
        validate("attribute", bad)


def test_settle_output_validates(demo_store: str, tmp_path: Path) -> None:
    contract = str(example_contract())
    res = run("settle", "--store", demo_store, "--contract", contract, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    validate("settle", doc)
    out = tmp_path / "st.json"
    run("settle", "--store", demo_store, "--contract", contract, "--out", str(out))
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["schema_version"] == 1
    validate("settle", saved)


def test_sources_output_is_versioned() -> None:
    assert json.loads(run("sources", "--json").stdout)["schema_version"] == 1


def test_schema_command_prints_each_schema() -> None:
    listing = run("schema").stdout
    for name in ["ingest", "status", "attribute", "settle", "error", "contract"]:
        assert re.search(rf"^{name}\s", listing, re.M)
    assert json.loads(run("schema", "settle").stdout) == schemas.load("settle")
    assert json.loads(run("schema", "contract").stdout)["type"] == "object"


def _error(res) -> dict:
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    doc = json.loads(lines[0])
    validate("error", doc)
    assert doc["error"]["exit"] == res.exit_code
    assert doc["error"]["code"] in CODES
    assert CODES[doc["error"]["code"]][0] == res.exit_code
    return doc["error"]


def test_error_objects_for_every_command(demo_store: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "none.duckdb")
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n", encoding="utf-8")
    bad_contract = tmp_path / "bad.yaml"
    bad_contract.write_text("contract_id: x\n", encoding="utf-8")
    cases = {
        ("status", "--store", missing, "--json"): "store_missing",
        ("attribute", "--store", missing, "--format", "json"): "store_missing",
        ("attribute", "--store", missing, "-f", "jsonl"): "store_missing",
        ("settle", "--store", missing, "--contract", str(example_contract()), "--json"): (
            "store_missing"
        ),
        ("settle", "--store", demo_store, "--contract", str(bad_contract), "--json"): (
            "contract_invalid"
        ),
        ("ingest", "--store", str(tmp_path / "s.duckdb"), str(junk), "--json"): (
            "unrecognised_export"
        ),
        (
            "ingest",
            "--store",
            str(tmp_path / "s.duckdb"),
            "--source",
            "nope",
            str(junk),
            "--json",
        ): ("bad_input"),
        ("attribute", "--store", demo_store, "--window", "9", "--json"): "cannot_answer",
        ("sources", "--format=json", "--bogus"): "usage",
        ("status", "--json", "--top", "3"): "usage",
        ("report", "--json"): "usage",
        ("contract", "check", "--json"): "usage",
        ("schema", "nope", "--json"): "usage",
        ("demo", "--json"): "usage",
        ("statsu", "--json"): "unknown_command",
    }
    for args, code in cases.items():
        res = run(*args)
        err = _error(res)
        assert err["code"] == code, (args, err)
        assert err["message"]
    err = _error(run("settle", "--store", demo_store, "--contract", str(bad_contract), "--json"))
    assert err["problems"], "a contract error lists its problems"


def test_text_errors_stay_text(tmp_path: Path) -> None:
    res = run("status", "--store", str(tmp_path / "none.duckdb"))
    assert res.exit_code == 1 and res.stderr.startswith("Error: no store at")


def test_mistyped_command_gets_a_suggestion() -> None:
    res = run("setle")
    assert res.exit_code == 2 and "Did you mean 'settle'?" in res.stderr
    res = run("atribute")
    assert "Did you mean 'attribute'?" in res.stderr


def test_json_is_read_from_the_words() -> None:
    assert json_requested(["status", "--json"])
    assert json_requested(["attribute", "-f", "jsonl"])
    assert json_requested(["attribute", "--format=json"])
    assert not json_requested(["attribute", "-f", "csv"])
    assert not json_requested(["ingest", "--", "--json"])


def test_every_code_is_documented() -> None:
    doc = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \| \d+ \|", doc, re.M))
    assert documented == set(CODES)


def test_every_command_answers_a_failure_in_json() -> None:
    """Every command there is (those added later too): a usage error under --json is one
    JSON error object on stderr, nothing on stdout."""
    from redcat_cli.cli import COMMANDS

    for name in COMMANDS:
        args = [name, "--json", "--no-such-option"]
        if name == "contract":
            args = ["contract", "check", "--json", "--no-such-option"]
        err = _error(run(*args))
        # the first unknown option is named: --json itself where a command has no JSON output
        assert err["code"] == "usage" and "No such option '--" in err["message"], (name, err)
