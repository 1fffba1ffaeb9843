"""Names that read like the province's: companies, people, projects and banks.

Company names are unique after the register's name normalisation, so that matching a
party by name finds one company unless a case is planted to make it ambiguous."""

from __future__ import annotations

import random

from wageguard.identity import normalise_name

from .identifiers import District

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷"
    "钱汤尹黎易常武乔贺赖龚文乌"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志海燕玉红金鑫宇浩凯亮斌波辉晨峰瑞"
_BRAND = "鑫宏达源泰恒盛昌华兴鼎隆博宇金正天瑞祥安和嘉利凯丰众通远德信富龙新广辉蒙草原北塞元"
_CONTRACTOR_TRADES = (
    "建筑工程", "建设工程", "建工", "市政工程", "路桥建设", "建筑安装工程", "建设集团",
)
_BUILDER_TRADES = ("房地产开发", "置业", "城市建设投资", "城市发展投资", "实业", "工业园区开发")
_SUFFIXES = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司", "（集团）有限公司")

_PLACES = (
    "阿尔丁大街", "钢铁大街", "民族东路", "建设路", "幸福路", "友谊大街", "青年路", "新华大街",
    "工业园区", "物流园区", "滨河新区", "北梁", "沼潭", "万达广场东侧", "火车站西侧", "开发区",
    "南湖", "乌兰察布东街", "察哈尔大街", "新区", "老城区",
)
_WORKS = (
    "棚户区改造项目", "住宅小区（一期）", "住宅小区（二期）", "综合楼建设工程",
    "中学教学楼新建工程",
    "医院门诊楼建设项目", "市政道路工程", "污水管网改造工程", "保障性住房项目", "商业综合体",
    "标准化厂房", "老旧小区改造工程", "供热管网改造工程", "体育馆建设项目", "幼儿园新建工程",
)
_BANKS = (
    "中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "内蒙古银行",
    "蒙商银行", "中国邮政储蓄银行",
)


class NameBook:
    def __init__(self, rng: random.Random):
        self._rng = rng
        self._taken: set[str | None] = set()

    def company(self, district: District, *, builder: bool, suffix: str | None = None) -> str:
        rng = self._rng
        trades = _BUILDER_TRADES if builder else _CONTRACTOR_TRADES
        brand_length = 2
        while True:
            place = district.city if rng.random() < 0.7 else district.city + district.name
            brand = "".join(rng.choices(_BRAND, k=brand_length))
            name = f"{place}{brand}{rng.choice(trades)}{suffix or rng.choice(_SUFFIXES)}"
            key = normalise_name(name)
            if key not in self._taken:
                self._taken.add(key)
                return name
            # Large worlds use up two-character brands; a third keeps the draw quick.
            brand_length = 3

    def person(self) -> str:
        rng = self._rng
        return rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2, 2))))

    def project(self, district: District) -> str:
        rng = self._rng
        return f"{district.name}{rng.choice(_PLACES)}{rng.choice(_WORKS)}"

    def bank_branch(self, district: District) -> str:
        return f"{self._rng.choice(_BANKS)}{district.city}{district.name}支行"
