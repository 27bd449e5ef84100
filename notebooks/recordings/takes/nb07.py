"""Takes for ``07-tools-and-search.ipynb``: a tool loop, a failing tool, a dict tool, web search, an image.

All ILLUSTRATIVE (see builder.py): written to show the timeline, the tool cards, the sources and the
image offline, not model output; the search results are made up (their URLs are real pages).

The tools and the figure are the notebook's own: the code cells tagged ``tools`` and ``figure`` are
run here, so the schemas in the requests and the tool results in each later round's history are
exactly what the notebook computes (edit the notebook, then rebuild the recordings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

from takes.builder import Call, Take, tool_loop

NOTEBOOK = Path(__file__).resolve().parents[2] / "07-tools-and-search.ipynb"


def _cells(*tags: str) -> dict[str, Any]:
    """The namespace of the notebook's code cells tagged with one of ``tags``, run in order
    (``plt.show()`` left out: they run off screen)."""
    namespace: dict[str, Any] = {}
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        if set(tags) & set(cell.metadata.get("tags", [])):
            exec(cell.source.replace("plt.show()", ""), namespace)
    return namespace


def _figure() -> Any:
    """The notebook's figure, drawn off screen (the same PNG bytes the notebook sends)."""
    import matplotlib

    matplotlib.use("Agg")
    return _cells("tools", "figure")["fig"]


_TOOLS = _cells("tools")
convert_units, query_cities = _TOOLS["convert_units"], _TOOLS["query_cities"]

TWO_CITIES = "表里人口最多的两个城市，面积分别是多少平方英里？"
_CITIES_ROUNDS = [
    (
        "用户要表里人口最多的两个城市的面积，单位是平方英里。表里的面积是平方公里，所以分两步："
        "先用 query_cities 按 population_m 从大到小取前 2 行，再把它们的 area_km2 换算成平方英里。",
        [Call("call_nb07_cities_1", "query_cities", {"sort_by": "population_m", "descending": True, "limit": 2})],
    ),
    (
        "人口最多的两个城市是 Shanghai（2490 万人，6341 平方公里）和 Beijing（2190 万人，16410 平方公里）。"
        "两次换算互不依赖，可以一起调用 convert_units：km2 → mile2。",
        [
            Call("call_nb07_cities_2", "convert_units", {"value": 6341, "from_unit": "km2", "to_unit": "mile2"}),
            Call("call_nb07_cities_3", "convert_units", {"value": 16410, "from_unit": "km2", "to_unit": "mile2"}),
        ],
    ),
]
_CITIES_REASONING = (
    "换算结果：上海 6341 km² ≈ 2448.27 平方英里，北京 16410 km² ≈ 6335.94 平方英里。"
    "核对一下量级：1 平方英里约 2.59 平方公里，6341 / 2.59 ≈ 2448，16410 / 2.59 ≈ 6336，对得上。"
    "有意思的是人口第一的上海面积反而小得多。"
)
_CITIES_ANSWER = (
    "表里人口最多的两个城市：\n\n"
    "| 城市 | 人口（百万） | 面积（km²） | 面积（平方英里） |\n|---|---|---|---|\n"
    "| 上海 Shanghai | 24.9 | 6341 | **2448.27** |\n"
    "| 北京 Beijing | 21.9 | 16410 | **6335.94** |\n\n"
    "上海人口更多，面积却不到北京的四成。"
)

JIN = "3 斤等于多少磅？"
_JIN_ROUNDS = [
    (
        "用户问 3 斤是多少磅。convert_units 可以做质量换算，直接试试从 jin 换到 lb。",
        [Call("call_nb07_jin_1", "convert_units", {"value": 3, "from_unit": "jin", "to_unit": "lb"})],
    ),
    (
        "工具报错：它不认识 jin，已知单位里有 kg。1 斤 = 0.5 千克，所以 3 斤 = 1.5 kg，再把 1.5 kg 换算成 lb。",
        [Call("call_nb07_jin_2", "convert_units", {"value": 1.5, "from_unit": "kg", "to_unit": "lb"})],
    ),
]
_JIN_REASONING = "1.5 kg ≈ 3.31 lb。核对：1 kg ≈ 2.2046 lb，1.5 × 2.2046 ≈ 3.31，没错。"
_JIN_ANSWER = (
    "3 斤 = 1.5 千克 ≈ **3.31 磅**。\n\n（换算工具不认识“斤”，所以先按 1 斤 = 0.5 千克换成千克，再换算成磅。）"
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Today's weather forecast for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

PYTHON = "Python 3.13 有哪些主要新特性？"
_PYTHON_SOURCES = (
    {
        "index": 1,
        "title": "What's New In Python 3.13",
        "url": "https://docs.python.org/3/whatsnew/3.13.html",
        "site_name": "Python documentation",
        "icon": "",
    },
    {
        "index": 2,
        "title": "PEP 703 – Making the Global Interpreter Lock Optional in CPython",
        "url": "https://peps.python.org/pep-0703/",
        "site_name": "peps.python.org",
        "icon": "",
    },
    {
        "index": 3,
        "title": "PEP 744 – JIT Compilation",
        "url": "https://peps.python.org/pep-0744/",
        "site_name": "peps.python.org",
        "icon": "",
    },
)
_PYTHON_REASONING = (
    "搜索结果里有官方的 What's New 文档 [ref_1]，还有两篇 PEP：PEP 703（可选的 GIL）[ref_2] 和 "
    "PEP 744（JIT）[ref_3]。按重要程度整理：新的交互式解释器、自由线程（实验性）、JIT（实验性），"
    "再加上错误信息改进和一些移除的旧模块。每一点都标上来源。"
)
_PYTHON_ANSWER = (
    "Python 3.13（2024 年 10 月发布）的主要新特性：\n\n"
    "1. **新的交互式解释器（REPL）**：支持多行编辑、彩色提示和历史浏览 [ref_1]。\n"
    "2. **自由线程模式（实验性）**：可以构建并运行不带 GIL 的 CPython，让多线程真正并行 [ref_2]。\n"
    "3. **JIT 编译器（实验性）**：一个 copy-and-patch JIT，默认关闭，构建时可开启 [ref_3]。\n"
    "4. **更友好的错误信息**：回溯默认彩色显示，常见错误给出更具体的提示 [ref_1]。\n"
    "5. **清理旧模块**：PEP 594 列出的一批“死电池”标准库模块被移除 [ref_1]。"
)

FIGURE = "这张图画的是什么？哪个城市最拥挤，大约是最不拥挤的城市的几倍？"
_FIGURE_REASONING = (
    "图是一张柱状图，标题 Population density，纵轴 people per km²，横轴是六个城市。"
    "最高的柱子是 Shenzhen，接近 9000；最矮的是 Hangzhou，不到 1000，大约 700 多。"
    "Shanghai 第二，约 4000；Guangzhou 约 2500；Beijing 和 Chengdu 都在 1300 到 1500 左右。"
    "倍数：约 8900 / 740 ≈ 12。从图上读数有误差，说“大约 12 倍”。"
)
_FIGURE_ANSWER = (
    "这是一张**人口密度柱状图**（每平方公里人数），比较六个城市。\n\n"
    "- 最拥挤的是 **深圳 Shenzhen**，约 8900 人/km²；\n"
    "- 最不拥挤的是 **杭州 Hangzhou**，约 740 人/km²；\n"
    "- 深圳大约是杭州的 **12 倍**。\n\n"
    "上海约 3900 人/km² 排第二，其余三个城市在 1300 到 2500 之间。"
)

TAKES = [
    *tool_loop(
        "nb07-cities",
        "qwen-plus",
        TWO_CITIES,
        [convert_units, query_cities],
        _CITIES_ROUNDS,
        _CITIES_ANSWER,
        _CITIES_REASONING,
        enable_thinking=True,
    ),
    *tool_loop(
        "nb07-jin", "qwen-plus", JIN, [convert_units], _JIN_ROUNDS, _JIN_ANSWER, _JIN_REASONING, enable_thinking=True
    ),
    Take(
        "nb07-weather-dict-tool",
        "qwen-plus",
        "杭州今天要带伞吗？",
        "",
        tools=(WEATHER_TOOL,),
        tool_calls=(Call("call_nb07_weather_1", "get_weather", {"city": "杭州"}),),
        first_token_seconds=0.4,
    ),
    Take(
        "nb07-search-python",
        "qwen-plus",
        PYTHON,
        _PYTHON_ANSWER,
        _PYTHON_REASONING,
        enable_thinking=True,
        protocol="dashscope",
        search={"enable_source": True, "enable_citation": True, "citation_format": "[ref_<number>]"},
        search_results=_PYTHON_SOURCES,
        first_token_seconds=1.6,  # the search runs before the first token
    ),
    Take(
        "nb07-figure-density",
        "qwen3-vl-plus",
        FIGURE,
        _FIGURE_ANSWER,
        _FIGURE_REASONING,
        enable_thinking=True,
        images=(_figure(),),
        first_token_seconds=0.9,
    ),
]
