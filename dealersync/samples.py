"""Sample inboxes: realistic, messy-but-valid dealer, warehouse and reference workbooks, with a manifest of them."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import NamedTuple

import opencc
import xlsxwriter

from dealersync.schemas.aliases import DEFAULT_ALIASES_FILE, Aliases, load_aliases, read_alias_file
from dealersync.schemas.contract import BOOL, DATE, DATETIME, DEC, ENUM, INT, SHEETS, Column

# --- what was written -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadCell:
    """One cell made invalid on purpose: the pipeline must reject its row, with exactly this rule."""

    file: str  # file name
    sheet: str  # sheet name as written
    excel_row: int  # 1-based, as the steward sees it
    field: str  # canonical field
    column_name: str  # the header as written (stripped, as the reader reports it)
    value: str  # the cell as written ("" for a blank required cell)
    rule: str  # rule id of schemas.messages


@dataclass(frozen=True)
class WrittenSheet:
    """One sheet as written: where its header is and what the reader must find in it."""

    file: str
    sheet: str
    kind: str
    header_row: int  # Excel row of the header
    headers: dict[str, str]  # field -> header as written (stripped)
    extra_headers: list[str]  # unknown columns, in sheet order
    rows: int  # data rows (bad ones included; blank and total rows not)
    blank_rows: int  # blank rows between the data
    total_rows: list[int]  # Excel rows of the 合计 rows


@dataclass
class Manifest:
    """Everything generate_inbox wrote, for the demo, the tests and the benchmarks."""

    directory: Path
    today: date
    files: list[Path]  # every file written: reference, dealers, warehouse, then the one to refuse
    reference_file: Path
    warehouse_file: Path | None
    dealer_files: dict[str, Path]  # dealer code -> its workbook
    sheets: list[WrittenSheet]
    bad_cells: list[BadCell]
    refused_files: dict[str, str]  # file name -> why the pipeline must refuse it
    customers_without_file: dict[str, list[str]]  # dealer code -> customers with visits but no customer row

    @property
    def rows(self) -> dict[str, dict[str, int]]:
        """File name -> sheet kind -> data rows written."""
        rows: dict[str, dict[str, int]] = {}
        for sheet in self.sheets:
            kinds = rows.setdefault(sheet.file, {})
            kinds[sheet.kind] = kinds.get(sheet.kind, 0) + sheet.rows
        return rows


def generate_inbox(
    directory: Path,
    *,
    today: date,
    dealers: int = 5,
    visits_per_dealer: int = 200,
    seed: int = 0,
    bad_cell_rate: float = 0.0,
    messy: bool = True,
    with_bad_file: bool = False,
    with_warehouse: bool = True,
) -> Manifest:
    """Write a reference workbook, one workbook per dealer and a parts-warehouse workbook into `directory`.

    Every row is valid against the contract and warning-free, except `bad_cell_rate` of the rows of
    each dealer and warehouse sheet, which get exactly one bad cell each (listed in `bad_cells`).
    `messy` varies sheet names, headers, layout and cell forms as the contract tolerates; the same
    seed writes the same files. About 3.7 rows per visit: 40 dealers of 1,500 visits is ~220k rows.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    aliases = load_aliases()
    world = _World(random.Random(f"{seed}:world"), today, dealers)
    writer = _Writer(directory, today, aliases, messy, bad_cell_rate, seed)
    reference_file = writer.workbook(
        "总部基础资料.xlsx",
        {"dealers": world.dealers, "parts": world.parts, "campaigns": world.campaigns},
        banner="总部售后服务部",
    )
    dealer_files: dict[str, Path] = {}
    warranty_visits: list[dict] = []
    customers_without_file: dict[str, list[str]] = {}
    for dealer in world.dealers:
        book = _DealerBook(world, dealer, random.Random(f"{seed}:{dealer['dealer_code']}"), visits_per_dealer)
        dealer_files[dealer["dealer_code"]] = writer.workbook(
            f"{dealer['dealer_code']}_{dealer['city']}_客服台账.xlsx",
            book.sheets(),
            banner=dealer["name"],
        )
        warranty_visits += book.warranty_visits
        customers_without_file[dealer["dealer_code"]] = book.customers_without_file
    warehouse_file = None
    if with_warehouse:
        warehouse = _Warehouse(world, random.Random(f"{seed}:warehouse"), visits_per_dealer, warranty_visits)
        warehouse_file = writer.workbook(
            "配件仓库_出库与质量反馈.xlsx", warehouse.sheets(), banner="售后配件库"
        )
    refused_files: dict[str, str] = {}
    if with_bad_file:
        bad_file = directory / f"{world.dealers[0]['dealer_code']}_客服台账(副本).xlsx"
        bad_file.write_text("经销商代码,客户编号\nD0001,C00001\n", encoding="utf-8")
        writer.files.append(bad_file)
        refused_files[bad_file.name] = "a text (CSV) file named .xlsx: not a spreadsheet"
    return Manifest(
        directory=directory,
        today=today,
        files=writer.files,
        reference_file=reference_file,
        warehouse_file=warehouse_file,
        dealer_files=dealer_files,
        sheets=writer.sheets,
        bad_cells=writer.bad_cells,
        refused_files=refused_files,
        customers_without_file=customers_without_file,
    )


# --- vocabulary -------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文辉鹏飞宇浩婷雪梅晨阳海峰春燕新亮"
SHOP_WORDS = ("宏达", "鑫源", "恒通", "顺发", "永盛", "华瑞", "金诚", "安达", "盛世", "通力", "嘉禾", "众和")
COMPANY_WORDS = ("物流", "快递", "农机", "建材", "商贸", "配送", "果蔬", "运输")
# (region, province, city, area code, plate prefix)
CITIES = (
    ("华中", "河南", "郑州", "0371", "豫A"),
    ("华中", "河南", "洛阳", "0379", "豫C"),
    ("华中", "湖北", "武汉", "027", "鄂A"),
    ("华东", "山东", "临沂", "0539", "鲁Q"),
    ("华东", "江苏", "徐州", "0516", "苏C"),
    ("华东", "安徽", "合肥", "0551", "皖A"),
    ("华北", "河北", "石家庄", "0311", "冀A"),
    ("华北", "山西", "太原", "0351", "晋A"),
    ("华南", "广东", "广州", "020", "粤A"),
    ("华南", "广西", "南宁", "0771", "桂A"),
    ("西南", "四川", "成都", "028", "川A"),
    ("西北", "陕西", "西安", "029", "陕A"),
    ("东北", "辽宁", "沈阳", "024", "辽A"),
)
DISTRICTS = ("新华路", "建设路", "人民路", "解放大道", "中山路", "工业园", "开发区", "城关镇", "胜利街")
# (model, vehicle type, WMI + VDS: the VIN's first 8 characters)
MODELS = (
    ("DS-100", "电动三轮车", "LJ1DS10A"),
    ("DS-150", "电动三轮车", "LJ1DS15A"),
    ("DK-300", "货运三轮车", "LJ1DK30B"),
    ("DL-200", "电动四轮车", "LJ1DL20C"),
    ("DL-260", "电动四轮车", "LJ1DL26C"),
)
MOBILE_PREFIXES = tuple(
    f"1{n}" for n in (30, 31, 32, 35, 36, 37, 38, 39, 50, 51, 52, 55, 58, 59, 77, 80, 83, 86, 88, 89, 99)
)
# (component, part prefix, names); the first seven are the critical components.
PART_FAMILIES = (
    ("motor", "DJ", ("驱动电机总成 1.2kW", "驱动电机总成 1.5kW", "电机霍尔传感器")),
    ("controller", "KZ", ("电机控制器 48V", "电机控制器 60V", "控制器线束")),
    ("rear_axle", "HQ", ("后桥总成", "后桥半轴", "后桥壳")),
    ("differential", "CS", ("差速器总成", "差速器齿轮组")),
    ("frame", "CJ", ("车架总成", "车架横梁")),
    ("front_shock", "QJ", ("前减震器（左）", "前减震器（右）", "前减震器总成")),
    ("rim_weld", "LW", ("前轮辋焊合", "后轮辋焊合")),
    (
        "other",
        "QT",
        (
            "刹车片",
            "刹车蹄",
            "蓄电池",
            "充电器",
            "大灯总成",
            "转向灯",
            "轮胎",
            "内胎",
            "雨刮片",
            "后视镜",
            "喇叭",
            "仪表",
        ),
    ),
)
SUPPLIERS = ("常州电机厂", "无锡驱动科技", "天津控制器公司", "重庆车桥厂", "台州减震器厂", "临沂车架厂")
FAILURE_MODES = {
    "motor": ("电机异响", "电机无力", "电机过热断电"),
    "controller": ("控制器烧毁", "飞车", "无法启动"),
    "rear_axle": ("后桥漏油", "后桥异响"),
    "differential": ("差速器打齿", "转弯异响"),
    "frame": ("车架开焊", "车架断裂"),
    "front_shock": ("前减震漏油", "减震失效"),
    "rim_weld": ("轮辋焊缝开裂", "轮辋变形"),
}
SERVICE_ITEMS = {
    "maintenance": ("定期保养", "首次保养", "更换刹车油", "全车检查、紧固"),
    "repair": ("更换刹车片", "修复灯光线路", "更换轮胎", "调整刹车", "更换蓄电池"),
    "warranty": ("三包更换", "质量索赔维修"),
    "consultation": ("咨询保养事宜", "咨询电池续航", "咨询配件价格"),
}
PREFERRED_SERVICES = ("上门保养", "保养到期提醒", "免费检测", "配件优惠", "电池检测")
REQUESTS = ("希望缩短维修时间", "希望增加周末服务", "询问保养价格", "希望上门取车", "配件价格偏高")
COMPLAINTS = {
    "product_quality": "车辆使用不久出现故障",
    "repair_quality": "维修后问题未解决",
    "service_attitude": "接待人员态度冷淡",
    "parts_supply": "配件等待时间过长",
    "timeliness": "交车时间延误",
    "other": "其他问题",
}
EXTRA_HEADERS = ("录入人", "审核状态", "备用字段", "填表说明")
# The unit each number column may carry in a messy sheet (all listed in contract.UNITS).
UNIT_OF = {
    "mileage_km": "km",
    "amount": "元",
    "unit_price": "元",
    "maintenance_cycle_days": "天",
    "qty_ordered": "件",
    "qty_shipped": "件",
    "quantity": "件",
}
# Fields written as codes: a messy sheet may write them in lower case or with stray spaces.
CODE_FIELDS = frozenset({"dealer_code", "customer_id", "work_order_no", "call_id", "vin"})
VISIT_TYPES, VISIT_WEIGHTS = ("warranty", "consultation", "maintenance", "repair"), (15, 8, 42, 35)
AMOUNT_RANGE = {"warranty": (0, 0), "maintenance": (80, 600), "repair": (80, 2500)}  # consultations: blank
ERROR_TYPES = ("wrong_part", "wrong_qty", "damaged", "missing")
OUTCOMES, OUTCOME_WEIGHTS = ("reached", "no_answer", "wrong_number", "refused"), (78, 12, 3, 7)
# Sheets that end with a 合计 row in a messy workbook, and the column it sums.
TOTAL_OF = {"service_visits": "amount", "part_shipments": "qty_shipped"}

WARRANTY_YEARS = 2
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_DAY = EXCEL_EPOCH.date()
VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
MODEL_YEAR = dict(zip(range(2019, 2031), "KLMNPRSTVWXY", strict=True))  # the VIN's 10th character


def vin_with_check_digit(first_eight: str, year: int, plant: str, serial: int) -> str:
    """A 17-character VIN whose 9th character is the ISO 3779 check digit of the others."""
    body = f"{first_eight}0{MODEL_YEAR.get(year, 'A')}{plant}{serial:06d}"
    total = sum(VIN_VALUES[c] * w for c, w in zip(body, VIN_WEIGHTS, strict=True)) % 11
    return body[:8] + ("X" if total == 10 else str(total)) + body[9:]


def _add_years(day: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- the world: dealers, parts, campaigns ----------------------------------------------------------


class _World:
    """Head office's reference data: dealers across regions, the parts catalogue, batches and campaigns."""

    def __init__(self, rng: random.Random, today: date, dealer_count: int):
        self.rng = rng
        self.today = today
        cities = list(CITIES)
        rng.shuffle(cities)
        self.dealers = [self._dealer(i, cities[i % len(cities)]) for i in range(dealer_count)]
        self.parts: list[dict] = []
        for component, prefix, names in PART_FAMILIES:
            for i, name in enumerate(names):
                price = rng.choice((35, 48, 85, 120, 260, 380, 560, 980, 1450))
                self.parts.append(
                    {
                        "part_no": f"{prefix}{101 + i}",
                        "name": name,
                        "component": component,
                        "critical": None if rng.random() < 0.6 else component != "other",
                        "unit_price": price + rng.choice((0, 0.5, 0.8)),
                    }
                )
        self.critical_parts = [p for p in self.parts if p["component"] != "other"]
        self.other_parts = [p for p in self.parts if p["component"] == "other"]
        self.batches: dict[str, list[dict]] = {}
        for part in self.critical_parts:
            self.batches[part["part_no"]] = [
                {
                    "part_no": part["part_no"],
                    "batch_no": f"B{produced:%y%m}-{part['part_no'][:2]}{k + 1}",
                    "production_date": produced,
                    "quantity": rng.randrange(500, 3000, 50),
                    "supplier": rng.choice(SUPPLIERS),
                }
                for k, produced in enumerate(
                    sorted(today - timedelta(days=rng.randint(150, 500)) for _ in range(3))
                )
            ]
        self.bad_part = self.critical_parts[0]
        self.bad_batch = self.batches[self.bad_part["part_no"]][-1]  # the batch that fails too often
        self.campaigns = self._campaigns()

    def _dealer(self, index: int, city: tuple[str, str, str, str, str]) -> dict:
        """A dealer in a city, with its advisors and call staff."""
        region, province, city_name, area_code, plate = city
        rng = self.rng
        return {
            "dealer_code": f"D{index + 1:04d}",
            "name": f"{city_name}{rng.choice(SHOP_WORDS)}{'汽车' if rng.random() < 0.5 else '电动车'}销售服务有限公司",
            "region": region,
            "province": province,
            "city": city_name,
            "contact_person": _person_name(rng),
            "phone": _landline(rng, area_code),
            "roving_staff": _person_name(rng),
            "has_service_shop": rng.random() < 0.9,
            "active": True,
            "area_code": area_code,
            "plate": plate,
            "advisors": [_person_name(rng) for _ in range(3)],
            "staff": [_person_name(rng) for _ in range(2)],
        }

    def _campaigns(self) -> list[dict]:
        """Campaigns around today: one ended, one running, some starting soon (calls due), one later."""
        today = self.today
        region = self.dealers[0]["region"]
        plans = (  # (id, name, type, start offset, length in days, region, model)
            ("HD001", "春季免费检测周", "free_check", -45, 7, None, None),
            ("HD002", "保养优惠月", "discount", -10, 30, None, None),
            ("HD003", "老客户联谊会", "social", 10, 1, None, None),
            ("HD004", "电池免费检测", "free_check", 5, 20, None, "DL-200"),
            ("HD005", f"{region}服务下乡", "free_check", 12, 5, region, None),
            ("HD006", "秋季回馈活动", "discount", 60, 10, None, None),
        )
        return [
            {
                "campaign_id": cid,
                "name": name,
                "campaign_type": kind,
                "start_date": today + timedelta(days=start),
                "end_date": today + timedelta(days=start + length - 1),
                "region": area,
                "model": model,
            }
            for cid, name, kind, start, length, area, model in plans
        ]


def _person_name(rng: random.Random) -> str:
    """A Chinese name: a surname and one or two given characters."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random, area_code: str) -> str:
    """A landline with its area code, 10 to 12 digits in all (`0371-66123456`)."""
    digits = 8 if len(area_code) == 3 else rng.choice((7, 8))
    return f"{area_code}-{rng.randint(2, 8)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


# --- one dealer's customers, visits, calls, letters and complaints ------------------------------------


class _DealerBook:
    """One dealer's workbook, consistent within itself: calls follow visits, campaigns and complaints."""

    def __init__(self, world: _World, dealer: dict, rng: random.Random, visit_count: int):
        self.world, self.dealer, self.rng, self.today = world, dealer, rng, world.today
        self.code = dealer["dealer_code"]
        self.customers: list[dict] = []
        self.vehicles: list[dict] = []
        self._customers(max(4, round(visit_count * 0.45)))
        self.visits = self._visits(visit_count)
        self.complaints = self._complaints()
        self.calls: list[dict] = []
        self.letters: list[dict] = []
        self._follow_ups()
        self._maintenance_reminders()
        self._campaign_calls()
        self._complaint_calls()
        self._inbound_calls()
        without_file = [c for c in self.customers if c["no_file"]]
        self.customers_without_file = sorted({c["customer_id"] for c in without_file})
        self.warranty_visits = [
            v for v in self.visits if v["visit_type"] == "warranty" and v["critical_part"]
        ]

    def sheets(self) -> dict[str, list[dict]]:
        """Kind -> rows; calls and letters numbered in time order."""
        customer_rows = [
            {**customer, **vehicle}
            for customer in self.customers
            if not customer["no_file"]
            for vehicle in customer["vehicles"]
        ]
        by_time = sorted(self.calls, key=lambda call: call["call_time"])
        for number, call in enumerate(by_time, 1):
            call["call_id"] = f"TEL{number:06d}"
        for number, letter in enumerate(sorted(self.letters, key=lambda letter: letter["sent_date"]), 1):
            letter["letter_id"] = f"XH{number:05d}"
        return {
            "customers": customer_rows,
            "service_visits": self.visits,
            "follow_up_calls": by_time,
            "letters": self.letters,
            "complaints": self.complaints,
        }

    def _customers(self, count: int) -> None:
        """Customers with one or two vehicles each; a few have visits but no customer file."""
        rng, dealer, today = self.rng, self.dealer, self.today
        for number in range(1, count + 1):
            company = rng.random() < 0.15
            name = (
                f"{dealer['city']}{rng.choice(SHOP_WORDS)}{rng.choice(COMPANY_WORDS)}有限公司"
                if company
                else _person_name(rng)
            )
            customer = {
                "dealer_code": self.code,
                "customer_id": f"C{number:05d}",
                "name": name,
                "phone": _landline(rng, dealer["area_code"]) if rng.random() < 0.15 else _mobile(rng),
                "address": f"{dealer['province']}{dealer['city']}{rng.choice(DISTRICTS)}{rng.randint(1, 300)}号",
                "region": dealer["region"] if rng.random() < 0.5 else None,
                "contact_person": _person_name(rng) if company else None,
                "preferred_services": rng.choice(PREFERRED_SERVICES) if rng.random() < 0.4 else None,
                "no_file": count > 20 and rng.random() < 0.03,
                "vehicles": [],
            }
            for _ in range(2 if rng.random() < 0.1 else 1):
                model, vehicle_type, first_eight = rng.choice(MODELS)
                purchase = today - timedelta(days=rng.randint(130, 1100))
                vehicle = {
                    "customer_id": customer["customer_id"],
                    "vin": vin_with_check_digit(
                        first_eight, purchase.year, rng.choice("ABC"), rng.randrange(10**6)
                    ),
                    "plate_no": dealer["plate"] + "".join(rng.choice("0123456789DF") for _ in range(5))
                    if rng.random() < 0.85
                    else None,
                    "model": model,
                    "vehicle_type": vehicle_type,
                    "purchase_date": purchase,
                    "warranty_end": _add_years(purchase, WARRANTY_YEARS) if rng.random() < 0.7 else None,
                    "km_per_day": rng.uniform(15, 60),
                }
                customer["vehicles"].append(vehicle)
                self.vehicles.append(vehicle | {"customer": customer})
            self.customers.append(customer)

    def _visits(self, count: int) -> list[dict]:
        """Work orders over the last four months, more of them recent, numbered in intake order."""
        rng, today = self.rng, self.today
        visits = []
        for _ in range(count):
            vehicle = rng.choice(self.vehicles)
            intake = today - timedelta(days=int(120 * rng.random() ** 1.5))
            warranty_end = _add_years(vehicle["purchase_date"], WARRANTY_YEARS)
            in_warranty = warranty_end >= intake
            visit_type = rng.choices(VISIT_TYPES, VISIT_WEIGHTS)[0]
            if visit_type == "warranty" and not in_warranty:
                visit_type = "repair"
            if visit_type == "consultation":
                pickup = None
            elif (today - intake).days <= 2 and rng.random() < 0.5:
                pickup = None  # still in the shop
            else:
                pickup = min(today, intake + timedelta(days=rng.choice((0, 0, 1, 1, 2, 3, 5))))
            cycle = rng.choice((90, 180)) if visit_type == "maintenance" else None
            critical = None
            if visit_type == "warranty":  # a quarter of warranty repairs replace the part of the bad batch
                critical = (
                    self.world.bad_part if rng.random() < 0.25 else rng.choice(self.world.critical_parts)
                )
            parts = [critical] if critical else []
            if visit_type == "repair" or (visit_type == "maintenance" and rng.random() < 0.3):
                parts += rng.sample(self.world.other_parts, rng.choice((1, 1, 2)))
            mileage = int((intake - vehicle["purchase_date"]).days * vehicle["km_per_day"])
            visits.append(
                {
                    "dealer_code": self.code,
                    "customer_id": vehicle["customer_id"],
                    "vin": vehicle["vin"],
                    "intake_date": intake,
                    "pickup_date": pickup,
                    "visit_type": visit_type,
                    "service_items": rng.choice(SERVICE_ITEMS[visit_type]),
                    "parts_used": rng.choice((",", "、", "; ", " ")).join(p["part_no"] for p in parts)
                    or None,
                    "mileage_km": None if visit_type == "consultation" and rng.random() < 0.5 else mileage,
                    "amount": round(rng.uniform(*AMOUNT_RANGE[visit_type]), 2)
                    if visit_type in AMOUNT_RANGE
                    else None,
                    "maintenance_cycle_days": cycle,
                    "next_maintenance_date": pickup + timedelta(days=cycle)
                    if cycle and pickup and rng.random() < 0.5
                    else None,
                    "under_warranty": in_warranty if rng.random() < 0.6 else None,
                    "advisor": rng.choice(self.dealer["advisors"]),
                    "customer": vehicle["customer"],
                    "critical_part": critical,
                }
            )
        visits.sort(key=lambda visit: visit["intake_date"])
        for number, visit in enumerate(visits, 1):
            visit["work_order_no"] = f"WO{number:06d}"
        return visits

    def _call(self, when: datetime, call_type: str, customer: dict, **fields) -> dict:
        """Log one call; satisfaction only on reached follow-ups and complaint call-backs."""
        rng = self.rng
        outcome = fields.pop("outcome", None) or rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
        rates = call_type in ("first_follow_up", "second_follow_up", "complaint_callback")
        call = {
            "dealer_code": self.code,
            "call_time": when,
            "direction": fields.pop("direction", None),
            "call_type": call_type,
            "customer_id": customer["customer_id"],
            "work_order_no": None,
            "campaign_id": None,
            "complaint_id": None,
            "staff": rng.choice(self.dealer["staff"]),
            "outcome": outcome,
            "satisfaction": (
                rng.choices(("satisfied", "fair", "dissatisfied"), (85, 11, 4))[0]
                if rates and outcome == "reached"
                else None
            ),
            "customer_request": rng.choice(REQUESTS)
            if outcome == "reached" and rng.random() < 0.15
            else None,
            "needs_action": None,
            "notes": "客户不方便接听，改日再联系" if outcome == "no_answer" and rng.random() < 0.3 else None,
            **fields,
        }
        if call["customer_request"]:
            call["needs_action"] = rng.random() < 0.5
        self.calls.append(call)
        return call

    def _at_work_hours(self, day: date) -> datetime:
        """A moment of `day` between 08:30 and 17:30."""
        minutes = self.rng.randrange(8 * 60 + 30, 17 * 60 + 30)
        return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)

    def _day_between(self, first: date, last: date) -> date | None:
        """A day in [first, last] that is not after today, or None when there is none."""
        last = min(last, self.today)
        return None if first > last else first + timedelta(days=self.rng.randint(0, (last - first).days))

    def _follow_ups(self) -> None:
        """First follow-up 3–7 days after pickup (intake for a consultation), a second one a week later."""
        rng = self.rng
        for visit in self.visits:
            base = visit["pickup_date"] or (
                visit["intake_date"] if visit["visit_type"] == "consultation" else None
            )
            chance = 0.95 if visit["visit_type"] == "warranty" else 0.8
            day = self._day_between(base + timedelta(days=3), base + timedelta(days=7)) if base else None
            if day is None or rng.random() > chance:
                continue
            first = self._call(
                self._at_work_hours(day),
                "first_follow_up",
                visit["customer"],
                work_order_no=visit["work_order_no"],
                direction=self._outbound(),
            )
            if first["outcome"] == "no_answer" and (
                retry := self._day_between(day + timedelta(days=1), day + timedelta(days=2))
            ):
                first = self._call(
                    self._at_work_hours(retry),
                    "first_follow_up",
                    visit["customer"],
                    work_order_no=visit["work_order_no"],
                    direction=self._outbound(),
                )
            second = self._day_between(day + timedelta(days=7), day + timedelta(days=12))
            if first["outcome"] == "reached" and second and rng.random() < 0.6:
                self._call(
                    self._at_work_hours(second),
                    "second_follow_up",
                    visit["customer"],
                    work_order_no=visit["work_order_no"],
                    direction=self._outbound(),
                )

    def _maintenance_reminders(self) -> None:
        """Half the customers whose next maintenance falls in the coming week have had their reminder."""
        rng = self.rng
        for visit in self.visits:
            cycle, pickup = visit["maintenance_cycle_days"], visit["pickup_date"]
            due = visit["next_maintenance_date"] or (
                pickup + timedelta(days=cycle) if cycle and pickup else None
            )
            if due and 0 <= (due - self.today).days <= 7 and rng.random() < 0.5:
                self._call(
                    self._at_work_hours(self.today - timedelta(days=rng.randint(0, 2))),
                    "maintenance_reminder",
                    visit["customer"],
                    work_order_no=visit["work_order_no"],
                    direction=self._outbound(),
                )

    def _outbound(self) -> str | None:
        """An outbound call's direction cell: often left blank (the default)."""
        return "outbound" if self.rng.random() < 0.4 else None

    def _campaign_calls(self) -> None:
        """Phone eligible customers from two weeks before a campaign; a letter follows a reached call."""
        rng = self.rng
        models_of = {c["customer_id"]: {v["model"] for v in c["vehicles"]} for c in self.customers}
        for campaign in self.world.campaigns:
            opens = campaign["start_date"] - timedelta(days=14)
            if not opens <= self.today <= campaign["end_date"]:
                continue
            for customer in self.customers:
                region = customer["region"] or self.dealer["region"]
                if campaign["region"] not in (None, region) or campaign["model"] not in (
                    None,
                    *models_of[customer["customer_id"]],
                ):
                    continue
                day = self._day_between(max(opens, self.today - timedelta(days=20)), campaign["end_date"])
                if day is None or rng.random() > 0.35:
                    continue
                call = self._call(
                    self._at_work_hours(day),
                    "campaign_notice",
                    customer,
                    campaign_id=campaign["campaign_id"],
                    direction=self._outbound(),
                )
                sent = self._day_between(day, day + timedelta(days=2))
                if call["outcome"] == "reached" and sent and rng.random() < 0.7:
                    self.letters.append(
                        {
                            "dealer_code": self.code,
                            "customer_id": customer["customer_id"],
                            "sent_date": sent,
                            "letter_type": "invitation"
                            if campaign["campaign_type"] == "social"
                            else "notice",
                            "campaign_id": campaign["campaign_id"],
                            "notes": None,
                        }
                    )

    def _complaints(self) -> list[dict]:
        """Complaints after some visits; some escalated, some resolved (with a resolution)."""
        rng, today = self.rng, self.today
        complaints = []
        for visit in self.visits:
            if rng.random() > 0.05:
                continue
            received = min(today, visit["intake_date"] + timedelta(days=rng.randint(1, 10)))
            category = rng.choices(tuple(COMPLAINTS), (30, 25, 15, 15, 10, 5))[0]
            component = None
            if category == "product_quality" and rng.random() < 0.7:
                component = (
                    visit["critical_part"]["component"]
                    if visit["critical_part"]
                    else rng.choice([p["component"] for p in self.world.critical_parts])
                )
            escalated = (
                self._day_between(received, received + timedelta(days=2)) if rng.random() < 0.5 else None
            )
            resolved = self._day_between(received + timedelta(days=1), received + timedelta(days=10))
            resolved = resolved if rng.random() < 0.6 else None
            complaints.append(
                {
                    "dealer_code": self.code,
                    "received_date": received,
                    "customer_id": visit["customer_id"],
                    "vin": visit["vin"] if rng.random() < 0.7 else None,
                    "channel": rng.choice(("phone", "visit", "letter", "online")),
                    "category": category,
                    "component": component,
                    "description": f"{COMPLAINTS[category]}（工单 {visit['work_order_no']}）",
                    "severity": rng.choices(("low", "medium", "high", None), (30, 40, 10, 20))[0],
                    "escalated_date": escalated,
                    "resolved_date": resolved,
                    "resolution": "已与客户沟通并处理完毕" if resolved else None,
                    "customer_satisfied": rng.random() < 0.85 if resolved and rng.random() < 0.8 else None,
                    "customer": visit["customer"],
                }
            )
        complaints.sort(key=lambda complaint: complaint["received_date"])
        for number, complaint in enumerate(complaints, 1):
            complaint["complaint_id"] = f"TS{number:05d}"
        return complaints

    def _complaint_calls(self) -> None:
        """After a resolution, call the customer back; some get a reply letter."""
        rng = self.rng
        for complaint in self.complaints:
            resolved = complaint["resolved_date"]
            if resolved is None:
                continue
            day = self._day_between(resolved, resolved + timedelta(days=3))
            if day and rng.random() < 0.65:
                self._call(
                    self._at_work_hours(day),
                    "complaint_callback",
                    complaint["customer"],
                    complaint_id=complaint["complaint_id"],
                    direction=self._outbound(),
                )
            sent = self._day_between(resolved, resolved + timedelta(days=3))
            if sent and rng.random() < 0.2:
                self.letters.append(
                    {
                        "dealer_code": self.code,
                        "customer_id": complaint["customer_id"],
                        "sent_date": sent,
                        "letter_type": "reply",
                        "campaign_id": None,
                        "notes": f"答复投诉 {complaint['complaint_id']}",
                    }
                )

    def _inbound_calls(self) -> None:
        """Customers calling in with an inquiry or a complaint."""
        rng = self.rng
        for _ in range(max(1, len(self.visits) // 20)):
            customer = rng.choice(self.customers)
            day = self.today - timedelta(days=rng.randint(0, 60))
            call_type = rng.choice(("inquiry", "inquiry", "complaint", "other"))
            self._call(
                self._at_work_hours(day),
                call_type,
                customer,
                direction="inbound",
                outcome="reached",
                customer_request=rng.choice(REQUESTS),
            )


# --- the parts warehouse ------------------------------------------------------------------------------


class _Warehouse:
    """Shipments to every dealer, part-quality feedback from warranty visits, and the batches behind them."""

    def __init__(self, world: _World, rng: random.Random, visit_count: int, warranty_visits: list[dict]):
        self.world, self.rng, self.today = world, rng, world.today
        self.shipments = self._shipments(max(5, visit_count // 3))
        self.failures = self._failures(warranty_visits)

    def sheets(self) -> dict[str, list[dict]]:
        """Kind -> rows."""
        batches = [batch for part_batches in self.world.batches.values() for batch in part_batches]
        return {"part_shipments": self.shipments, "part_failures": self.failures, "part_batches": batches}

    def _shipments(self, lines_per_dealer: int) -> list[dict]:
        """Order lines shipped to every dealer; a few shipped wrongly, with the error type."""
        rng, today = self.rng, self.today
        lines = []
        for dealer in self.world.dealers:
            order = 0
            first_line = len(lines)
            while len(lines) - first_line < lines_per_dealer:
                order += 1
                ship_date = today - timedelta(days=rng.randint(0, 60))
                for part in rng.sample(self.world.parts, rng.randint(1, 5)):
                    ordered = rng.randint(1, 20)
                    correct = rng.choices((None, True, False), (70, 26, 4))[0]
                    error = rng.choice(ERROR_TYPES) if correct is False else None
                    shipped = ordered
                    if error == "wrong_qty":
                        shipped = ordered - rng.randint(1, ordered)
                    elif error == "missing":
                        shipped = 0
                    lines.append(
                        {
                            "order_no": f"DD{ship_date:%y%m%d}{dealer['dealer_code'][1:]}{order:02d}",
                            "dealer_code": dealer["dealer_code"],
                            "part_no": part["part_no"],
                            "qty_ordered": ordered,
                            "qty_shipped": shipped,
                            "ship_date": ship_date,
                            "shipped_correct": correct,
                            "error_type": error,
                        }
                    )
        lines.sort(key=lambda line: line["ship_date"])
        for number, line in enumerate(lines, 1):
            line["shipment_line_id"] = f"CK{number:07d}"
        return lines

    def _failures(self, warranty_visits: list[dict]) -> list[dict]:
        """Feedback on most warranty repairs of critical parts; the bad batch's part fails from it mostly."""
        rng = self.rng
        failures = []
        for visit in warranty_visits:
            part = visit["critical_part"]
            if rng.random() > 0.7:
                continue
            bad = part is self.world.bad_part and rng.random() < 0.75
            batch = self.world.bad_batch if bad else rng.choice(self.world.batches[part["part_no"]])
            failures.append(
                {
                    "report_date": self._report_day(visit),
                    "dealer_code": visit["dealer_code"],
                    "vin": visit["vin"],
                    "part_no": part["part_no"],
                    "component": part["component"] if rng.random() < 0.6 else None,
                    "batch_no": batch["batch_no"],
                    "production_date": batch["production_date"] if rng.random() < 0.7 else None,
                    "mileage_km": visit["mileage_km"],
                    "failure_mode": rng.choice(FAILURE_MODES[part["component"]]),
                    "work_order_no": visit["work_order_no"],
                }
            )
        failures.sort(key=lambda failure: failure["report_date"])
        for number, failure in enumerate(failures, 1):
            failure["feedback_id"] = f"FK{number:06d}"
        return failures

    def _report_day(self, visit: dict) -> date:
        """The day a warranty repair is reported to the warehouse."""
        return min(
            self.today,
            (visit["pickup_date"] or visit["intake_date"]) + timedelta(days=self.rng.randint(0, 2)),
        )


# --- bad cells ----------------------------------------------------------------------------------------


class Injector(NamedTuple):
    """A way to make one cell of a row break one rule, when the row allows it unambiguously."""

    field: str
    rule: str
    applies: Callable[[dict, date], bool]  # (row, today) -> whether the row can take this bad cell
    bad_value: Callable[[dict, date], str]


def _always(row: dict, today: date) -> bool:
    """Any row can take this bad cell."""
    return True


def _iso(day: date) -> str:
    """A valid date in text, for a bad cell that breaks a rule between two dates."""
    return day.isoformat()


INJECTORS: dict[str, tuple[Injector, ...]] = {
    "customers": (
        Injector("name", "required", _always, lambda row, today: ""),
        Injector(
            "phone", "phone_shape", _always, lambda row, today: "1" + row["phone"][-9:].replace("-", "0")
        ),
        Injector("vin", "vin_format", _always, lambda row, today: row["vin"][:16]),
        Injector(
            "purchase_date", "not_a_date", _always, lambda row, today: f"{row['purchase_date'].year}-02-30"
        ),
        Injector(
            "warranty_end",
            "warranty_end_before_purchase",
            _always,
            lambda row, today: _iso(row["purchase_date"] - timedelta(days=30)),
        ),
    ),
    "service_visits": (
        Injector(
            "pickup_date",
            "not_a_date",
            lambda row, today: row["pickup_date"] is not None,
            lambda row, today: f"{row['intake_date'].year}-02-30",
        ),
        Injector(
            "pickup_date",
            "pickup_before_intake",
            lambda row, today: row["pickup_date"] is not None,
            lambda row, today: _iso(row["intake_date"] - timedelta(days=2)),
        ),
        Injector("visit_type", "not_in_list", _always, lambda row, today: "年检"),
        Injector("visit_type", "required", _always, lambda row, today: ""),
        Injector(
            "amount",
            "negative",
            lambda row, today: bool(row["amount"]),
            lambda row, today: f"-{row['amount']:.2f}",
        ),
        Injector("under_warranty", "not_yes_no", _always, lambda row, today: "待定"),
        Injector(
            "maintenance_cycle_days",
            "cycle_range",
            lambda row, today: row["maintenance_cycle_days"] is not None,
            lambda row, today: "900",
        ),
    ),
    "follow_up_calls": (
        Injector(
            "call_time",
            "not_a_datetime",
            _always,
            lambda row, today: f"{row['call_time']:%Y}-13-{row['call_time']:%d %H:%M}",
        ),
        Injector(
            "outcome",
            "not_in_list",
            lambda row, today: row["satisfaction"] is None,
            lambda row, today: "占线中",
        ),
        Injector("staff", "required", _always, lambda row, today: ""),
        Injector(
            "satisfaction",
            "satisfaction_without_reach",
            lambda row, today: row["outcome"] != "reached",
            lambda row, today: "满意",
        ),
        Injector(
            "work_order_no",
            "work_order_required",
            lambda row, today: row["call_type"] in ("first_follow_up", "second_follow_up"),
            lambda row, today: "",
        ),
    ),
    "letters": (
        Injector("sent_date", "not_a_date", _always, lambda row, today: f"{row['sent_date'].year}/2/30"),
        Injector("letter_type", "not_in_list", _always, lambda row, today: "明信片"),
    ),
    "complaints": (
        Injector("category", "not_in_list", _always, lambda row, today: "价格"),
        Injector("description", "required", _always, lambda row, today: ""),
        Injector(
            "resolved_date",
            "resolved_before_received",
            lambda row, today: row["resolved_date"] is not None and row["escalated_date"] is None,
            lambda row, today: _iso(row["received_date"] - timedelta(days=3)),
        ),
        Injector(
            "resolution",
            "resolution_required",
            lambda row, today: row["resolved_date"] is not None,
            lambda row, today: "",
        ),
        Injector("severity", "not_in_list", _always, lambda row, today: "特急"),
    ),
    "part_shipments": (
        Injector("qty_ordered", "not_positive", _always, lambda row, today: "0"),
        Injector("qty_shipped", "negative", _always, lambda row, today: "-2"),
        Injector("ship_date", "not_a_date", _always, lambda row, today: f"{row['ship_date'].year}-04-31"),
        Injector(
            "shipped_correct",
            "not_yes_no",
            lambda row, today: row["error_type"] is None,
            lambda row, today: "部分",
        ),
        Injector(
            "error_type",
            "error_type_required",
            lambda row, today: row["error_type"] is not None,
            lambda row, today: "",
        ),
    ),
    "part_failures": (
        Injector("report_date", "not_a_date", _always, lambda row, today: f"{row['report_date'].year}-02-30"),
        Injector(
            "production_date",
            "production_after_report",
            lambda row, today: (today - row["report_date"]).days >= 5,
            lambda row, today: _iso(row["report_date"] + timedelta(days=5)),
        ),
        Injector("failure_mode", "required", _always, lambda row, today: ""),
        Injector(
            "mileage_km",
            "not_a_number",
            lambda row, today: row["mileage_km"] is not None,
            lambda row, today: f"约{row['mileage_km']}",
        ),
    ),
    "part_batches": (
        Injector("quantity", "not_positive", _always, lambda row, today: "0"),
        Injector(
            "production_date",
            "not_a_date",
            _always,
            lambda row, today: f"{row['production_date'].year}-02-30",
        ),
    ),
}


# --- writing ------------------------------------------------------------------------------------------


# Text forms of a date the contract accepts (`2024-03-05`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`);
# a date-time adds `HH:MM[:SS]` to any of them but the compact one.
DATE_TEXT_FORMS: tuple[Callable[[date], str], ...] = (
    lambda day: day.isoformat(),
    lambda day: f"{day.year}/{day.month}/{day.day}",
    lambda day: f"{day.year}.{day.month}.{day.day}",
    lambda day: f"{day.year}年{day.month}月{day.day}日",
    lambda day: f"{day:%Y%m%d}",
)
TIME_TEXT_FORMS: tuple[str, ...] = ("%H:%M", "%H:%M:%S")
YES_NO_FORMS = (("是", "否"), ("是", "否"), ("Y", "N"), ("yes", "no"), ("true", "false"), ("√", "×"))
SCORES = {"satisfied": ("5", "4分"), "fair": ("3",), "dissatisfied": ("2", "1")}
EXTRA_VALUES = ("张敏", "已审核", "待核", "补录")

Write = Callable[[int, int, object], None]  # (row, column, canonical value)


@cache
def _s2t() -> opencc.OpenCC:
    """Simplified-to-traditional converter, to write headers and sheet names as a Taiwan or HK office would."""
    return opencc.OpenCC("s2t")


_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


class _Writer:
    """Writes workbooks sheet by sheet, choosing each file's messiness from its own seeded Random."""

    def __init__(
        self, directory: Path, today: date, aliases: Aliases, messy: bool, bad_cell_rate: float, seed: int
    ):
        self.directory, self.today, self.aliases = directory, today, aliases
        self.messy, self.bad_cell_rate, self.seed = messy, bad_cell_rate, seed
        self.files: list[Path] = []
        self.sheets: list[WrittenSheet] = []
        self.bad_cells: list[BadCell] = []
        self.labels = _alias_labels()

    def workbook(self, file_name: str, sheets: dict[str, list[dict]], *, banner: str) -> Path:
        """Write one workbook of `sheets` (kind -> rows of canonical values)."""
        rng = random.Random(f"{self.seed}:{file_name}")
        path = self.directory / file_name
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        book.set_properties({"created": datetime.combine(self.today, datetime.min.time())})
        date_format = (
            rng.choice(("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"')) if self.messy else "yyyy-mm-dd"
        )
        formats = {
            DATE: book.add_format({"num_format": date_format}),
            DATETIME: book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "banner": book.add_format({"bold": True, "font_size": 14, "align": "center"}),
        }
        for kind, rows in sheets.items():
            self._sheet(book, formats, rng, file_name, kind, rows, banner)
        book.close()
        self.files.append(path)
        return path

    def _sheet(
        self, book, formats, rng: random.Random, file_name: str, kind: str, rows: list[dict], banner: str
    ):
        """One sheet: banner and blank rows above the header, columns in any order, blank rows, a 合计 row."""
        messy = self.messy and (SHEETS[kind].source != "reference" or rng.random() < 0.5)
        bad_rows = self._choose_bad_rows(kind, rows, rng) if SHEETS[kind].source != "reference" else {}
        fields = list(SHEETS[kind].names)
        if messy and rng.random() < 0.5:
            rng.shuffle(fields)
        headers = {f: self._header(kind, f, rng, messy) for f in fields}
        extras = rng.sample(EXTRA_HEADERS, rng.randint(1, 2)) if messy else []
        name = self._sheet_name(kind, rng, messy)
        sheet = book.add_worksheet(name)
        left = rng.choice((0, 0, 1, 2)) if messy else 0
        row_number = 0
        if messy and rng.random() < 0.7:
            title = f"{banner} {SHEETS[kind].zh}（截至{self.today:%Y年%m月%d日}）"
            sheet.merge_range(0, left, 0, left + len(fields) + len(extras) - 1, title, formats["banner"])
            row_number = rng.choice((1, 2, 3))
            if row_number == 3:
                sheet.write_string(1, left, f"填报日期：{self.today:%Y-%m-%d}")
        header_row = row_number + 1
        for column, text in enumerate([headers[f] for f in fields] + extras, left):
            sheet.write_string(row_number, column, text)
        writers = [
            (f, column, _column_writer(sheet, formats, rng, SHEETS[kind].column(f), messy, self.labels))
            for column, f in enumerate(fields, left)
        ]
        blank_rows, total = 0, 0.0
        for index, row in enumerate(rows):
            row_number += 1
            if messy and index and rng.random() < 0.01:
                row_number += 1
                blank_rows += 1
            bad = bad_rows.get(index)
            bad_field = bad.field if bad else None
            for f, column, write in writers:
                if f == bad_field:
                    value = bad.bad_value(row, self.today)
                    self.bad_cells.append(
                        BadCell(file_name, name, row_number + 1, f, headers[f].strip(), value, bad.rule)
                    )
                    if value:
                        sheet.write_string(row_number, column, value)
                elif (value := row.get(f)) is not None:
                    write(row_number, column, value)
            for column in range(left + len(fields), left + len(fields) + len(extras)):
                if rng.random() < 0.6:
                    sheet.write_string(row_number, column, rng.choice(EXTRA_VALUES))
            total += row.get(TOTAL_OF.get(kind, ""), 0) or 0
        total_rows = []
        if messy and kind in TOTAL_OF and rows:
            row_number += 1
            total_column = fields.index(TOTAL_OF[kind])
            sheet.write_string(row_number, left + (1 if total_column == 0 else 0), "合计")
            sheet.write_number(row_number, left + total_column, round(total, 2))
            total_rows.append(row_number + 1)
        self.sheets.append(
            WrittenSheet(
                file=file_name,
                sheet=name,
                kind=kind,
                header_row=header_row,
                headers={f: headers[f].strip() for f in SHEETS[kind].names},
                extra_headers=extras,
                rows=len(rows),
                blank_rows=blank_rows,
                total_rows=total_rows,
            )
        )

    def _choose_bad_rows(self, kind: str, rows: list[dict], rng: random.Random) -> dict[int, Injector]:
        """Row index -> the injector that spoils it: round(rate × rows) rows, each with one bad cell."""
        wanted = round(self.bad_cell_rate * len(rows))
        if not wanted:
            return {}
        eligible = [
            (i, injectors)
            for i, row in enumerate(rows)
            if (injectors := [inj for inj in INJECTORS[kind] if inj.applies(row, self.today)])
        ]
        return {i: rng.choice(injectors) for i, injectors in rng.sample(eligible, min(wanted, len(eligible)))}

    def _header(self, kind: str, field_name: str, rng: random.Random, messy: bool) -> str:
        """The header a dealer might write for a field; always one the alias table maps back to it."""
        column = SHEETS[kind].column(field_name)
        if not messy:
            return column.zh
        header = rng.choice(
            [column.zh, column.zh, column.name, *self.labels["headers"].get((kind, field_name), ())]
        )
        decorations = (
            lambda text: _s2t().convert(text),
            lambda text: text.translate(_FULL_WIDTH) if text.isascii() else text,
            lambda text: f"{text[: len(text) // 2]}\n{text[len(text) // 2 :]}",
            lambda text: f"{text}（{UNIT_OF[field_name]}）" if field_name in UNIT_OF else text,
            lambda text: f"{text} ",
        )
        for decorate in rng.sample(decorations, rng.choice((0, 1, 1, 2))):
            header = decorate(header)
        return header if self.aliases.field_for(kind, header) == field_name else column.zh

    def _sheet_name(self, kind: str, rng: random.Random, messy: bool) -> str:
        """A sheet name that the alias table maps to `kind` and that Excel allows."""
        if not messy:
            return SHEETS[kind].zh
        name = rng.choice([SHEETS[kind].zh, kind, *self.labels["sheets"].get(kind, ())])
        if rng.random() < 0.3:
            name = _s2t().convert(name)
        allowed = len(name) <= 31 and not set(name) & set("[]:*?/\\")
        return name if allowed and self.aliases.sheet_kind(name) == kind else SHEETS[kind].zh


def _column_writer(
    sheet, formats: dict, rng: random.Random, column: Column, messy: bool, labels: dict
) -> Write:
    """How one column's values are written: in a messy sheet, each cell in one of the forms its type accepts."""
    write_string, write_number, write_boolean = sheet.write_string, sheet.write_number, sheet.write_boolean
    draw = rng.random if messy else float  # float() is 0.0: always the plain form
    if column.type in (DATE, DATETIME):
        with_time = column.type == DATETIME
        date_format = formats[column.type]
        text_forms = DATE_TEXT_FORMS[:-1] if with_time else DATE_TEXT_FORMS

        def write_date(row: int, col: int, value: object) -> None:
            assert isinstance(value, date)
            chance = draw()
            if chance < 0.5:
                serial = (
                    (value - EXCEL_EPOCH).total_seconds() / 86400 if with_time else (value - EXCEL_DAY).days
                )
                write_number(row, col, serial, date_format if chance < 0.42 else None)
                return
            day = value.date() if isinstance(value, datetime) else value
            text = text_forms[int((chance - 0.5) * 2 * len(text_forms))](day)
            write_string(row, col, f"{text} {value:{rng.choice(TIME_TEXT_FORMS)}}" if with_time else text)

        return write_date
    if column.type in (INT, DEC):
        unit = UNIT_OF.get(column.name, "")
        spaced_unit = f" {unit}" if unit.isascii() else unit

        def write_amount(row: int, col: int, value: object) -> None:
            assert isinstance(value, int | float)
            chance = draw()
            if chance < 0.6:
                write_number(row, col, value)
                return
            text = f"{value:.2f}" if column.type == DEC else str(value)
            if chance < 0.7:
                write_string(row, col, text)
            elif chance < 0.8:
                write_string(row, col, f"{value:,.2f}" if column.type == DEC else f"{value:,}")
            elif chance < 0.9:
                write_string(row, col, text + spaced_unit)
            else:
                write_string(row, col, text.translate(_FULL_WIDTH))

        return write_amount
    if column.type == BOOL:

        def write_yes_no(row: int, col: int, value: object) -> None:
            chance = draw()
            if not messy:
                write_string(row, col, "是" if value else "否")
            elif chance < 0.15:
                write_boolean(row, col, bool(value))
            elif chance < 0.25:
                write_number(row, col, 1 if value else 0)
            else:
                yes, no = YES_NO_FORMS[int((chance - 0.25) / 0.75 * len(YES_NO_FORMS))]
                write_string(row, col, yes if value else no)

        return write_yes_no
    if column.type == ENUM:
        assert column.enum is not None
        enum = column.enum

        def write_label(row: int, col: int, value: object) -> None:
            assert isinstance(value, str)
            chance = draw()
            if column.name == "satisfaction" and chance >= 0.85:
                write_string(row, col, rng.choice(SCORES[value]))
            elif chance < 0.6:
                write_string(row, col, enum.zh(value))
            elif chance < 0.8:
                write_string(row, col, value)
            else:
                write_string(row, col, rng.choice(labels["enums"].get((enum.name, value), (enum.zh(value),))))

        return write_label
    if messy and column.name == "phone":
        return lambda row, col, value: _write_phone(sheet, row, col, str(value), draw(), rng)
    if messy and column.name in CODE_FIELDS:

        def write_code(row: int, col: int, value: object) -> None:
            text = str(value)
            if draw() < 0.15:
                text = rng.choice((text.lower(), f" {text}", f"{text} "))
            write_string(row, col, text)

        return write_code
    return lambda row, col, value: write_string(row, col, str(value))


def _write_phone(sheet, row: int, col: int, phone: str, chance: float, rng: random.Random) -> None:
    """A phone as dealers write it: with spaces, dashes, +86 or 0086, or a mobile stored as a number."""
    if phone.startswith("0"):
        sheet.write_string(row, col, phone if chance < 0.7 else phone.replace("-", " "))
    elif chance < 0.4:
        sheet.write_string(row, col, phone)
    elif chance < 0.55:
        sheet.write_number(row, col, int(phone))
    else:
        forms = (
            f"{phone[:3]} {phone[3:7]} {phone[7:]}",
            f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"+86 {phone}",
            f"0086-{phone}",
            f"+86-{phone[:3]}-{phone[3:7]}-{phone[7:]}",
        )
        sheet.write_string(row, col, rng.choice(forms))


@cache
def _alias_labels() -> dict[str, dict]:
    """The alias table's labels as written (not folded), to write headers, sheet names and enum labels."""
    data = read_alias_file(DEFAULT_ALIASES_FILE)
    headers: dict[tuple[str, str], tuple[str, ...]] = {}
    for scope, fields in data.get("headers", {}).items():
        for kind, sheet in SHEETS.items():
            if scope in ("common", kind):
                for name, labels in fields.items():
                    if name in sheet.column_by_name:
                        headers[(kind, name)] = headers.get((kind, name), ()) + tuple(labels)
    return {
        "headers": headers,
        "sheets": {kind: tuple(names) for kind, names in data.get("sheets", {}).items()},
        "enums": {
            (name, code): tuple(labels)
            for name, codes in data.get("enums", {}).items()
            for code, labels in codes.items()
        },
    }
