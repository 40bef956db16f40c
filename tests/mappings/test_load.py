"""Loading mapping folders: what loads, and every problem reported at once with its file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.mappings import MappingLoadError, MappingRegistry
from hub.mappings.files import FileError, parse_yaml
from hub.mappings.registry import mapping_files
from hub.mappings.tables import load_table
from tests.mappings.conftest import mapping_document, write


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(MappingLoadError) as caught:
        MappingRegistry.load(folder)
    assert str(caught.value).startswith(f"{len(caught.value.problems)} problem(s)")
    return caught.value.problems


def only_problem(folder: Path) -> str:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    return problems[0]


def test_a_valid_folder_loads(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", mapping_document("a"))
    write(tmp_path, "deeper/b.yml", mapping_document("b"))
    registry = MappingRegistry.load(tmp_path)
    assert registry.names == ["a", "b"]
    assert len(registry) == 2
    assert [m.name for m in registry] == ["a", "b"]
    assert "a" in registry and "c" not in registry
    assert registry.get("b").path == tmp_path / "deeper" / "b.yml"
    with pytest.raises(KeyError, match="no mapping named 'c'"):
        registry.get("c")


def test_tables_vectors_hidden_files_and_other_suffixes_are_not_mappings(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", mapping_document("a"))
    write(tmp_path, "tables/units.yaml", {"stuk": "EA"})
    write(tmp_path, "shop/vectors/order.yaml", {"id": 1})
    write(tmp_path, ".a.yaml.swp.yaml", "not: [valid")
    write(tmp_path, ".drafts/x.yaml", "not: [valid")
    write(tmp_path, "README.md", "# notes")
    assert mapping_files(tmp_path) == [tmp_path / "a.yaml"]
    assert MappingRegistry.load(tmp_path).names == ["a"]


def test_a_missing_folder_is_a_load_error(tmp_path: Path) -> None:
    assert "does not exist" in only_problem(tmp_path / "nowhere")


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        mapping_document(
            "a",
            fields={
                "sku": {"path": "sku", "via": ["capitalise"]},
                "gtin": {"path": "line_items[", "via": ["gtin"]},
                "uom": {"path": "unit", "vai": ["uom"]},
                "location": {"path": "loc", "via": [{"lookup": "nowhere"}]},
            },
        ),
    )
    write(tmp_path, "b.yaml", mapping_document("b", fields={"n": {"index": 1}}))
    write(tmp_path, "c.yaml", "name: c\nfields: [unclosed")
    problems = problems_of(tmp_path)
    a, b, c = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    assert problems == [
        f"{a}: field sku: unknown transform 'capitalise'; known: "
        + problems[0].split("known: ")[1],
        f"{a}: field gtin: 'line_items[' is not valid JMESPath: "
        + problems[1].split("JMESPath: ")[1],
        f"{a}: field uom: unknown key(s) vai (a path field takes path, via)",
        f"{a}: field location: lookup: no table 'nowhere' in this mapping's `tables` "
        "(declared: none) (argument: a table name, or {table, column, default})",
        f"{b}: field n: `index` is the position inside `each`; this field is not in one",
        problems[5],
    ]
    assert problems[5].startswith(f"{c}: not valid YAML")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"x": "id"}, "field x: expected a mapping such as {path: ...} or {value: ...}, got 'id'"),
        (
            {"x": {"via": ["upper"]}},
            "field x: give exactly one source of path, root, value, index, concat, each "
            "(given: none)",
        ),
        ({"x": {"path": "a", "value": 1}}, "given: path, value"),
        ({"x": {"path": "a", "via": "upper"}}, "field x: `via` is a list of transforms"),
        ({"x": {"path": "a", "via": [{"upper": None, "lower": None}]}}, "one-key mapping"),
        ({"x": {"path": "a", "via": [{"prefix": 3}]}}, "field x: prefix: expected a string, got 3"),
        (
            {"x": {"value": "pcs", "via": ["gtin"]}},
            "field x: the literal 'pcs' fails its transforms: gtin: 'pcs' is not digits",
        ),
        (
            {"x": {"value": None, "via": ["required"]}},
            "the literal None fails its transforms: required",
        ),
        ({"x": {"concat": [{"path": "a"}]}}, "`concat` is a list of at least two sources"),
        (
            {"x": {"concat": [{"path": "a"}, {"each": "b"}]}},
            "concat part 1: `each` cannot be part of a concat",
        ),
        (
            {"x": {"concat": [{"path": "a"}, {"pth": "b"}]}},
            "concat part 1: give exactly one source",
        ),
        ({"x": {"concat": [{"path": "a"}, {"path": "b"}], "sep": 1}}, "`sep` is a string"),
        ({"x": {"each": "items"}}, "fields of x: expected a mapping of target path to source"),
        (
            {"x": {"each": "items", "fields": {"n": {"index": "1"}}}},
            "field x[].n: `index` is the number to count from",
        ),
        (
            {"x": {"each": "items", "fields": {"n": {"path": "a["}}}},
            "field x[].n: 'a[' is not valid JMESPath",
        ),
        (
            {"data": {"value": 1}, "data.status": {"value": "x"}},
            "field data.status: data is a field of its own",
        ),
        ({"data..x": {"value": 1}}, "a target is a dotted path"),
        ({}, "fields: expected a mapping of target path to source"),
    ],
)
def test_field_problems(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    write(tmp_path, "m.yaml", mapping_document("m", fields=fields))
    problem = only_problem(tmp_path)
    assert problem.startswith(f"{tmp_path / 'm.yaml'}: ")
    assert message in problem


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Shopify Orders"}, "`name` is lower-case letters"),
        ({"descripton": "typo"}, "unknown key(s) descripton"),
        ({"description": ["x"]}, "`description` is text"),
        (
            {"source": {"connector": "shopify"}},
            "`source` is {connector: …, kind: …} or {contract: …, version: …}",
        ),
        ({"target": {"contract": "reservation", "version": 1.0}}, 'quote versions: "1.0"'),
        ({"source": {1: "x", "kind": "y"}}, "`source` is {connector: …, kind: …}"),
        ({"source": "shopify"}, "`source` is {connector: …, kind: …}"),
        ({"tables": ["units.csv"]}, "`tables` maps a table name to a file path"),
        ({"tables": {"units": "tables/units.csv"}}, "tables.units:"),
        ({"tests": []}, "`tests` is a list of test vectors; a mapping needs at least one"),
        ({"tests": [{"input": {}, "expect": {}}]}, "tests[0]: every vector has a `name`"),
        (
            {"tests": [{"name": "a", "input": {}, "expect": {}, "error": "x"}]},
            "give exactly one of expect, expect_file or error",
        ),
        (
            {"tests": [{"name": "a", "input": {}}]},
            "give exactly one of expect, expect_file or error",
        ),
        ({"tests": [{"name": "a", "expect": {}}]}, "give exactly one of input or input_file"),
        (
            {"tests": [{"name": "a", "input_file": "vectors/none.json", "expect": {}}]},
            "none.json: cannot read",
        ),
        ({"tests": [{"name": "a", "input": {}, "error": ""}]}, "`error` is a substring"),
        ({"tests": [{"name": "a", "input": {}, "expect": {}, "note": "x"}]}, "unknown key(s) note"),
        (
            {"tests": [{"name": "a", "input": {}, "expect": {}}] * 2},
            "tests[1]: another vector is also named 'a'",
        ),
    ],
)
def test_file_problems(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    write(tmp_path, "m.yaml", {**mapping_document("m"), **overrides})
    problems = problems_of(tmp_path)
    assert any(message in p for p in problems), problems


def test_duplicate_names_name_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a/orders.yaml", mapping_document("orders"))
    second = write(
        tmp_path,
        "b/orders.yaml",
        mapping_document("orders", source={"connector": "x", "kind": "y"}),
    )
    assert only_problem(tmp_path) == f"{second}: name 'orders' is already used by {first}"


def test_two_mappings_for_the_same_source_and_target_clash(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        mapping_document("a", source={"connector": "shopify", "kind": "orders/create"}),
    )
    write(
        tmp_path,
        "b.yaml",
        mapping_document("b", source={"connector": "shopify", "kind": "orders/create"}),
    )
    assert "a (" in only_problem(tmp_path)
    assert "already maps shopify orders/create → reservation 1.0" in only_problem(tmp_path)


def test_a_missing_table_names_the_table_and_the_file(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", mapping_document("m", tables={"locations": "tables/locations.csv"}))
    problem = only_problem(tmp_path)
    assert problem.startswith(f"{tmp_path / 'm.yaml'}: tables.locations: ")
    assert "locations.csv: cannot read" in problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key\nA\n", "the first row names the columns"),
        ("", "the first row names the columns"),
        ("key,value\nA,1\nA,2\n", "row 3: key 'A' appears twice"),
        ("key,value\nA,1,extra\n", "row 2 has 3 cells, the header 2"),
        ("key,value,value\nA,1,2\n", "column names repeat"),
    ],
)
def test_malformed_csv_tables(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(FileError, match=message):
        load_table(path)


def test_csv_tables_tolerate_a_bom_blank_lines_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffkey , value\n A , 1 \n\nB,\n".encode())
    table = load_table(path)
    assert table.columns == ("value",)
    assert table.column(None) == {"A": "1", "B": None}


def test_yaml_tables(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yaml", "1234: {code: WH-RTM}\nNO: Norway\n")
    table = load_table(path)
    assert table.column("code") == {"1234": "WH-RTM", "NO": None}
    write(tmp_path, "list.yaml", "[1, 2]")
    with pytest.raises(FileError, match="a YAML table is a mapping"):
        load_table(tmp_path / "list.yaml")
    write(tmp_path, "t.txt", "x")
    with pytest.raises(FileError, match=r"a table is a \.csv, \.yaml or \.yml file"):
        load_table(tmp_path / "t.txt")


def test_yaml_reads_like_json() -> None:
    document = parse_yaml(
        "date: 2026-03-14\ncountry: NO\nanswer: yes\nyes_really: true\ncode: 0777\n"
        "time: 10:30\nhex: 0x1F\nfloat: 1e3\nid: 5678901234567890123\nnothing: null\n",
        "t",
    )
    assert document == {
        "date": "2026-03-14",
        "country": "NO",
        "answer": "yes",
        "yes_really": True,
        "code": 777,
        "time": "10:30",
        "hex": "0x1F",
        "float": 1000.0,
        "id": 5678901234567890123,
        "nothing": None,
    }


def test_a_key_given_twice_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", "name: m\nfields:\n  id: {path: id}\n  id: {path: other}\n")
    assert "duplicate key 'id'" in only_problem(tmp_path)


def test_vector_files_and_inline_documents_are_read_as_json(tmp_path: Path) -> None:
    write(tmp_path, "vectors/in.json", '{"id": 5678901234567890123, "price": "12.30"}')
    write(tmp_path, "vectors/out.yaml", "id: 5678901234567890123\n")
    write(
        tmp_path,
        "m.yaml",
        mapping_document(
            "m",
            tests=[
                {
                    "name": "files",
                    "input_file": "vectors/in.json",
                    "expect_file": "vectors/out.yaml",
                },
                {"name": "inline", "input": {"id": 1, "when": "2026-03-14"}, "expect": {"id": 1}},
            ],
        ),
    )
    mapping = MappingRegistry.load(tmp_path).get("m")
    assert mapping.tests[0].input == {"id": 5678901234567890123, "price": "12.30"}
    assert mapping.tests[0].expect == {"id": 5678901234567890123}
    assert mapping.tests[1].input == {"id": 1, "when": "2026-03-14"}
    assert (tmp_path / "vectors" / "in.json").resolve() in mapping.files
