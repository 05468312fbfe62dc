"""The SVG trend charts: target line, gaps for unknown periods, points below target marked, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from dealersync.portal.charts import line_chart, value_range

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_rate_chart_with_target_and_a_gap():
    svg = line_chart(
        "回访率 <b>", ["W44", "W45", "W46", "W47"], [1.0, None, 0.9, 0.95], rate=True, target=0.98
    )
    root = parse(svg)
    # the unknown week breaks the line: one segment of two points needs two known neighbours
    assert len(root.findall(f"{SVG}polyline")) == 1
    points = root.findall(f"{SVG}circle")
    assert len(points) == 3
    tips = [p.find(f"{SVG}title").text for p in points]
    assert tips == ["W44: 100.0%", "W46: 90.0%", "W47: 95.0%"]
    # points below the target are red, the one on it is not
    assert [p.get("fill") for p in points] == ["#1f5fa8", "#c00000", "#c00000"]
    target = [line for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray")]
    assert len(target) == 1 and "98.0%" in target[0].find(f"{SVG}title").text
    assert "回访率 &lt;b&gt;" in svg and "<b>" not in svg


def test_target_line_sits_where_its_value_is():
    svg = line_chart("x", ["a", "b"], [0.9, 1.0], rate=True, target=0.95)
    root = parse(svg)
    (target,) = [line for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray")]
    circles = root.findall(f"{SVG}circle")
    low, high = float(circles[0].get("cy")), float(circles[1].get("cy"))
    assert float(target.get("y1")) == pytest.approx((low + high) / 2, abs=0.2)


def test_no_inline_style_for_the_content_security_policy():
    svg = line_chart("x", ["a", "b", "c"], [3, 5, 1], rate=False)
    assert not re.search(r"\sstyle=", svg)


def test_chart_with_no_value_says_so():
    root = parse(line_chart("x", ["a", "b"], [None, None], rate=True, target=1.0, no_data="无数据"))
    assert [t.text for t in root.findall(f"{SVG}text") if t.get("class") == "chart-empty"] == ["无数据"]


@pytest.mark.parametrize(
    ("values", "target", "rate", "expected"),
    [
        ([0.97, 0.99], 0.98, True, (0.95, 1.0)),  # a rate near its target gets a close-up axis
        ([0.5, 0.99], 1.0, True, (0.45, 1.0)),
        ([None], None, True, (0.95, 1.0)),
        ([3, 9], None, False, (0.0, 10.0)),  # counts start at zero
    ],
)
def test_axis_range(values, target, rate, expected):
    assert value_range(values, target, rate) == pytest.approx(expected)
