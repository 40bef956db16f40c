"""Finding mappings, chaining contract versions, and reloading edited files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.mappings import MappingLoadError, MappingRegistry
from tests.mappings.conftest import mapping_document, write


def version_mapping(folder: Path, source: str, target: str, family: str = "reservation") -> None:
    name = f"{family}-{source}-to-{target}".replace(".", "-")
    write(
        folder,
        f"versions/{name}.yaml",
        mapping_document(
            name,
            source={"contract": family, "version": source},
            target={"contract": family, "version": target},
            fields={"specversion": {"path": "specversion"}},
        ),
    )


def edit(path: Path, text: str) -> None:
    """Rewrite a file so that a stat sees it changed, even within one clock tick."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    later = max(path.stat().st_mtime_ns, before + 1_000_000_000)
    os.utime(path, ns=(later, later))


def test_find_by_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shop.yaml",
        mapping_document("shop", source={"connector": "shopify", "kind": "orders/create"}),
    )
    write(tmp_path, "edi.yaml", mapping_document("edi", source={"connector": "x12", "kind": "850"}))
    registry = MappingRegistry.load(tmp_path)
    found = registry.find(connector="shopify", kind="orders/create")
    assert found is not None and found.name == "shop"
    assert registry.find(connector="shopify", kind="orders/updated") is None
    assert registry.find(contract="reservation", version="1.0") is None
    with pytest.raises(LookupError, match="several mappings match"):
        registry.find()


def test_find_a_version_conversion_needs_the_target_when_several(tmp_path: Path) -> None:
    version_mapping(tmp_path, "1.0", "1.1")
    version_mapping(tmp_path, "1.0", "2.0")
    registry = MappingRegistry.load(tmp_path)
    with pytest.raises(LookupError, match="give a target"):
        registry.find(contract="reservation", version="1.0")
    found = registry.find(
        contract="reservation", version="1.0", target={"contract": "reservation", "version": "2.0"}
    )
    assert found is not None and found.name == "reservation-1-0-to-2-0"


def test_version_path_finds_the_shortest_chain(tmp_path: Path) -> None:
    version_mapping(tmp_path, "1.0", "1.1")
    version_mapping(tmp_path, "1.1", "2.0")
    version_mapping(tmp_path, "2.0", "3.0")
    version_mapping(tmp_path, "1.1", "1.0")
    version_mapping(tmp_path, "2.0", "1.1")
    version_mapping(tmp_path, "1.0", "1.1", family="transfer")
    registry = MappingRegistry.load(tmp_path)

    def names(family: str, source: str, target: str) -> list[str] | None:
        chain = registry.version_path(family, source, target)
        return None if chain is None else [m.name for m in chain]

    assert names("reservation", "1.0", "1.0") == []
    assert names("reservation", "1.0", "1.1") == ["reservation-1-0-to-1-1"]
    assert names("reservation", "1.0", "3.0") == [
        "reservation-1-0-to-1-1",
        "reservation-1-1-to-2-0",
        "reservation-2-0-to-3-0",
    ]
    assert names("reservation", "2.0", "1.0") == [
        "reservation-2-0-to-1-1",
        "reservation-1-1-to-1-0",
    ]
    assert names("reservation", "3.0", "1.0") is None  # nothing converts down from 3.0
    assert names("transfer", "1.0", "2.0") is None
    assert names("backorder", "1.0", "1.1") is None

    version_mapping(tmp_path, "1.0", "3.0")
    registry = MappingRegistry.load(tmp_path)
    assert names("reservation", "1.0", "3.0") == ["reservation-1-0-to-3-0"]


def test_a_chain_of_conversions_applies_in_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        mapping_document(
            "r-1-0-to-1-1",
            source={"contract": "r", "version": "1.0"},
            target={"contract": "r", "version": "1.1"},
            fields={
                "dataschema": {"value": "urn:crossdock:contract:r:1.1"},
                "data.qty": {"path": "data.quantity", "via": ["decimal"]},
            },
        ),
    )
    write(
        tmp_path,
        "b.yaml",
        mapping_document(
            "r-1-1-to-2-0",
            source={"contract": "r", "version": "1.1"},
            target={"contract": "r", "version": "2.0"},
            fields={
                "dataschema": {"value": "urn:crossdock:contract:r:2.0"},
                "data.lines": {"each": "[data]", "fields": {"requested_qty": {"path": "qty"}}},
            },
        ),
    )
    registry = MappingRegistry.load(tmp_path)
    chain = registry.version_path("r", "1.0", "2.0")
    assert chain is not None
    message = {"dataschema": "urn:crossdock:contract:r:1.0", "data": {"quantity": "2.50"}}
    for mapping in chain:
        message = mapping.apply(message)
    assert message == {
        "dataschema": "urn:crossdock:contract:r:2.0",
        "data": {"lines": [{"requested_qty": 2.5}]},
    }


def test_refresh_reloads_an_edited_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", mapping_document("m", fields={"x": {"value": "old"}}))
    registry = MappingRegistry.load(tmp_path)
    old = registry.get("m")
    assert registry.refresh() is False
    assert not registry.changed()
    edit(path, path.read_text().replace("old", "new"))
    assert registry.changed()
    assert registry.refresh() is True
    assert registry.get("m").apply({}) == {"x": "new"}
    assert old.apply({}) == {"x": "old"}  # a mapping already handed out keeps working
    assert registry.refresh() is False


def test_refresh_sees_added_and_removed_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", mapping_document("a"))
    registry = MappingRegistry.load(tmp_path)
    write(tmp_path, "sub/b.yaml", mapping_document("b"))
    assert registry.refresh() is True
    assert registry.names == ["a", "b"]
    (tmp_path / "a.yaml").unlink()
    assert registry.refresh() is True
    assert registry.names == ["b"]


def test_refresh_sees_edited_tables_and_vectors_even_outside_the_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    folder = tmp_path / "mappings"
    write(shared, "units.csv", "name,value\nstuk,EA\n")
    write(folder, "vectors/in.json", '{"unit": "stuk"}')
    write(
        folder,
        "m.yaml",
        mapping_document(
            "m",
            tables={"units": "../shared/units.csv"},
            fields={"uom": {"path": "unit", "via": [{"lookup": "units"}]}},
            tests=[{"name": "v", "input_file": "vectors/in.json", "expect": {"uom": "EA"}}],
        ),
    )
    registry = MappingRegistry.load(folder)
    assert registry.get("m").apply({"unit": "stuk"}) == {"uom": "EA"}
    assert (shared / "units.csv").resolve() in registry.files

    edit(shared / "units.csv", "name,value\nstuk,PCE\n")
    assert registry.refresh() is True
    assert registry.get("m").apply({"unit": "stuk"}) == {"uom": "PCE"}

    edit(folder / "vectors" / "in.json", '{"unit": "stuk", "more": 1}')
    assert registry.refresh() is True
    assert registry.get("m").tests[0].input == {"unit": "stuk", "more": 1}


def test_a_broken_edit_keeps_the_old_mappings_until_fixed(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", mapping_document("m", fields={"x": {"value": "good"}}))
    good_text = path.read_text()
    registry = MappingRegistry.load(tmp_path)

    edit(path, good_text.replace("value: good", "value: good\n    via: [nonsense]"))
    with pytest.raises(MappingLoadError, match="unknown transform 'nonsense'"):
        registry.refresh()
    assert registry.get("m").apply({}) == {"x": "good"}
    with pytest.raises(MappingLoadError, match="unknown transform 'nonsense'"):
        registry.refresh()  # still broken: said again

    edit(path, good_text.replace("good", "fixed"))
    assert registry.refresh() is True
    assert registry.get("m").apply({}) == {"x": "fixed"}


def test_reverting_a_broken_edit_needs_no_reload(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", mapping_document("m"))
    registry = MappingRegistry.load(tmp_path)
    stat = path.stat()
    good = path.read_text()
    edit(path, "name: [broken")
    with pytest.raises(MappingLoadError):
        registry.refresh()
    path.write_text(good)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert registry.refresh() is False
    assert registry.names == ["m"]
