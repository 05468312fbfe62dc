"""A month of nights from a small seeded world: each night's workbooks (new rows, corrected resends, changed
customers, duplicates, bad files) and, kept apart from the pipeline, what the warehouse must hold after it."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from contract_books import contract_workbook

from dealersync.samples import vin_with_check_digit

REGIONS = {"D01": "华东", "D02": "华北", "D03": "华南"}
IMPOSSIBLE_DAY = "2026-02-30"  # not_a_date: the row is rejected, its key is known


@dataclass
class Expected:
    """What an independent count of the inputs says the warehouse holds."""

    keys: dict[str, set[tuple]] = field(default_factory=dict)  # core table -> business keys
    versions: dict[tuple, list[tuple[date, tuple]]] = field(default_factory=dict)  # customer -> (from, attrs)
    dealer_versions: dict[str, list[tuple[date, tuple]]] = field(default_factory=dict)
    open_rejections: set[tuple[str, str, str, str]] = field(default_factory=set)  # kind, key, field, rule
    raw_rows: int = 0  # rows of every file whose content was loaded (once per content)
    statuses: dict[str, str] = field(default_factory=dict)  # file name -> loaded / skipped / refused

    def count(self, table: str) -> int:
        if table == "customers":
            return sum(len(v) for v in self.versions.values())
        if table == "dealers":
            return sum(len(v) for v in self.dealer_versions.values())
        return len(self.keys.get(table, set()))


def _changed(history: dict, key, as_of: date, attributes: tuple) -> None:
    """A file says `attributes` hold from `as_of` on: a new version only when they changed."""
    versions = history.setdefault(key, [])
    earlier = [v for v in versions if v[0] < as_of]
    if earlier and earlier[-1][1] == attributes:
        history[key] = earlier
    else:
        history[key] = [*earlier, (as_of, attributes)]


class MonthWorld:
    """Three dealers' customers, visits, calls and complaints, sent night after night."""

    def __init__(self, seed: int, first_night: date):
        self.rng = random.Random(seed)
        self.first_night = first_night
        self.expected = Expected()
        self.customers: dict[tuple[str, str], dict] = {}
        self.mileage: dict[str, int] = {}
        self.visits: dict[tuple[str, str], dict] = {}
        self.counter = 0
        self.sent: list[tuple[str, bytes]] = []  # name and bytes of every file loaded so far
        self.clean_books: list[dict[str, list[dict]]] = []  # the rows of dealer files without a bad cell
        self.fixes: list[tuple[date, str, str, dict]] = []  # (night due, dealer, kind, fixed row)

    # --- rows ----------------------------------------------------------------------------------

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:05d}"

    def new_customer(self, dealer: str) -> dict:
        serial = self.counter + 1
        vin = vin_with_check_digit("LJ1DS10A", 2024, "A", serial)
        row = {
            "dealer_code": dealer,
            "customer_id": self._next("C"),
            "name": self.rng.choice("王李张刘陈杨") + self.rng.choice("伟芳娜敏静丽强"),
            "phone": f"13{self.rng.randint(100000000, 999999999)}",
            "vin": vin,
            "model": "DS-100",
        }
        self.mileage[vin] = self.rng.randint(100, 5000)
        return row

    def new_visit(self, dealer: str, as_of: date) -> dict | None:
        mine = [c for (d, _), c in self.customers.items() if d == dealer]
        if not mine:
            return None
        customer = self.rng.choice(mine)
        self.mileage[customer["vin"]] += self.rng.randint(200, 2000)
        day = as_of - timedelta(days=1)
        return {
            "dealer_code": dealer,
            "work_order_no": self._next("W"),
            "customer_id": customer["customer_id"],
            "vin": customer["vin"],
            "intake_date": day,
            "pickup_date": day,
            "visit_type": self.rng.choice(["保养", "维修"]),
            "mileage_km": self.mileage[customer["vin"]],
            "amount": self.rng.randint(80, 900),
        }

    def new_call(self, dealer: str, as_of: date) -> dict | None:
        due = [
            v
            for (d, _), v in self.visits.items()
            if d == dealer and v["pickup_date"] <= as_of - timedelta(days=4)
        ]
        if not due:
            return None
        visit = self.rng.choice(due)
        return {
            "dealer_code": dealer,
            "call_id": self._next("K"),
            "call_time": datetime.combine(as_of - timedelta(days=1), datetime.min.time())
            + timedelta(hours=10),
            "call_type": "首次回访",
            "customer_id": visit["customer_id"],
            "work_order_no": visit["work_order_no"],
            "staff": "客服小李",
            "outcome": "接通",
            "satisfaction": self.rng.choice(["满意", "基本满意", "不满意"]),
        }

    # --- one night -------------------------------------------------------------------------------

    def night(self, number: int, as_of: date, inbox: Path) -> list[Path]:
        """Write night `number`'s files into `inbox` and note what they must do to the warehouse."""
        files: list[Path] = []
        if number == 0:
            files.append(self._reference(inbox, as_of, number, {d: "张经理" for d in REGIONS}))
        if number == 12:  # a dealer's contact changes: the dealers history gets a version
            files.append(
                self._reference(inbox, as_of, number, {"D01": "张经理", "D02": "赵经理", "D03": "张经理"})
            )
        for dealer in REGIONS:
            if number and self.rng.random() < 0.2:
                continue  # this dealer sends nothing tonight
            files.append(self._dealer_file(inbox, dealer, as_of, number))
        if number % 7 == 3 and self.sent:  # the same bytes again: skipped
            name, content = self.rng.choice(self.sent)
            copy = inbox / f"n{number:02d}_copy_of_{name}"
            copy.write_bytes(content)
            files.append(copy)
            self.expected.statuses[copy.name] = "skipped"
        if number % 5 == 2 and self.clean_books:  # the same rows saved again (other bytes): loaded, no change
            book = {k: v for k, v in self.rng.choice(self.clean_books).items() if k != "customers"}
            if not book:  # (an old customers row would say an old phone number: a change, not a resend)
                return self._ordered(files, number)
            path = contract_workbook(inbox / f"n{number:02d}_resaved.xlsx", book, extra=f"night {number}")
            self._loaded(path, sum(len(rows) for rows in book.values()))
            files.append(path)
        if number % 9 == 4:  # a workbook cut short, sent twice the same night: both refused
            for suffix in ("", "(2)"):
                path = inbox / f"n{number:02d}_cut{suffix}.xlsx"
                path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40)
                files.append(path)
                self.expected.statuses[path.name] = "refused"
        if number % 11 == 6:
            path = inbox / f"n{number:02d}_export.xlsx"
            path.write_text("经销商代码,客户编号\nD01,C1\n", encoding="utf-8")
            files.append(path)
            self.expected.statuses[path.name] = "refused"
        return self._ordered(files, number)

    @staticmethod
    def _ordered(files: list[Path], number: int) -> list[Path]:
        """The inbox takes files oldest first: give them modification times in the order written."""
        for offset, path in enumerate(files):
            stamp = 1_700_000_000 + number * 1000 + offset
            os.utime(path, (stamp, stamp))
        return files

    def _reference(self, inbox: Path, as_of: date, number: int, contacts: dict[str, str]) -> Path:
        rows = [
            {"dealer_code": d, "name": f"{d} 服务站", "region": r, "contact_person": contacts[d]}
            for d, r in REGIONS.items()
        ]
        for row in rows:
            _changed(self.expected.dealer_versions, row["dealer_code"], as_of, (row["contact_person"],))
        path = contract_workbook(inbox / f"n{number:02d}_总部基础资料.xlsx", {"dealers": rows})
        self._loaded(path, len(rows))
        return path

    def _dealer_file(self, inbox: Path, dealer: str, as_of: date, number: int) -> Path:
        sheets: dict[str, list[dict]] = {"customers": [], "service_visits": [], "follow_up_calls": []}
        rejected: list[tuple[str, dict, str]] = []  # kind, good row, bad field
        for due, fix_dealer, kind, row in list(self.fixes):  # corrected rows sent again
            if fix_dealer == dealer and due <= as_of:
                self.fixes.remove((due, fix_dealer, kind, row))
                sheets[kind].append(row)
        for _ in range(2 if number == 0 else self.rng.randint(0, 1)):
            sheets["customers"].append(self.new_customer(dealer))
        if number and self.rng.random() < 0.3:  # a customer's new phone number: a new version tonight
            mine = [c for (d, _), c in self.customers.items() if d == dealer]
            if mine:
                changed = dict(self.rng.choice(mine), phone=f"15{self.rng.randint(100000000, 999999999)}")
                sheets["customers"].append(changed)
        for row in sheets["customers"]:
            self._accept_customer(row, as_of)
        for _ in range(self.rng.randint(1, 3)):
            if (visit := self.new_visit(dealer, as_of)) is not None:
                sheets["service_visits"].append(visit)
        for _ in range(self.rng.randint(0, 2)):
            if (call := self.new_call(dealer, as_of)) is not None and call["work_order_no"] not in {
                c["work_order_no"] for c in sheets["follow_up_calls"]
            }:
                sheets["follow_up_calls"].append(call)
        written = {kind: [dict(r) for r in rows] for kind, rows in sheets.items() if rows}
        if number and self.rng.random() < 0.35 and written.get("service_visits"):  # a bad cell tonight
            row = self.rng.choice(written["service_visits"])
            rejected.append(("service_visits", dict(row), "intake_date"))
            row["intake_date"] = IMPOSSIBLE_DAY
        for kind, rows in written.items():
            bad = {(r["dealer_code"], r.get("work_order_no")) for k, r, _ in rejected if k == kind}
            for row in rows:
                if kind == "service_visits" and (row["dealer_code"], row["work_order_no"]) in bad:
                    continue
                self._accept(kind, row)
        for kind, row, bad_field in rejected:
            key = f"{row['dealer_code']}|{row['work_order_no']}"
            self.expected.open_rejections.add((kind, key, bad_field, "not_a_date"))
            self.fixes.append((as_of + timedelta(days=self.rng.randint(1, 4)), row["dealer_code"], kind, row))
        path = contract_workbook(inbox / f"n{number:02d}_{dealer}_客服台账.xlsx", written)
        self._loaded(path, sum(len(rows) for rows in written.values()))
        if not rejected:
            self.clean_books.append(written)
        return path

    def _accept_customer(self, row: dict, as_of: date) -> None:
        key = (row["dealer_code"], row["customer_id"])
        self.customers[key] = row
        _changed(self.expected.versions, key, as_of, (row["name"], row["phone"]))
        self.expected.keys.setdefault("vehicles", set()).add((row["dealer_code"], row["vin"]))

    def _accept(self, kind: str, row: dict) -> None:
        if kind == "customers":
            return
        key = (row["dealer_code"], row["work_order_no"] if kind == "service_visits" else row["call_id"])
        self.expected.keys.setdefault(kind, set()).add(key)
        if kind == "service_visits":
            self.visits[key] = row
            self.expected.open_rejections = {
                e for e in self.expected.open_rejections if not (e[0] == kind and e[1] == "|".join(key))
            }

    def _loaded(self, path: Path, rows: int) -> None:
        self.expected.statuses[path.name] = "loaded"
        self.expected.raw_rows += rows
        self.sent.append((path.name, path.read_bytes()))
