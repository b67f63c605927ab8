"""Ways to browse the catalog without knowing which department does what.

* ``THEMES`` (主题分类): department-independent topics, stored in ``ItemVersion.themes``.
* ``LIFE_EVENTS`` (人生事件 for people, 企业事件 for legal persons): the moments of a life or of a
  business that bring people to the government, stored in ``ItemVersion.life_events``.

Codes are stable English keys; labels are Chinese msgids translated by gettext. Each vocabulary
is split by audience (``natural`` 个人 / ``legal`` 法人); a code belongs to exactly one audience
within its vocabulary, so the portal's 个人办事 / 法人办事 tabs can list them.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PERSONAL_LIFE_EVENTS: dict[str, Promise] = {
    "birth": _("生育"),
    "school": _("入学"),
    "employment": _("就业"),
    "marriage": _("婚姻"),
    "housing": _("住房"),
    "social_security": _("社保"),
    "elderly": _("养老"),
    "travel": _("出行"),
    "health": _("医疗"),
    "household": _("户籍"),
    "driving": _("驾驶"),
    "military": _("兵役"),
    "disability": _("助残"),
    "relief": _("救助"),
    "death": _("身后事"),
}

BUSINESS_LIFE_EVENTS: dict[str, Promise] = {
    "start_business": _("开办企业"),
    "operating_permit": _("经营许可"),
    "construction": _("工程建设"),
    "talent": _("人才"),
    "tax": _("税务"),
    "closure": _("注销"),
    "change": _("变更登记"),
    "investment": _("投资项目"),
    "trade": _("进出口贸易"),
    "financing": _("融资信贷"),
    "intellectual_property": _("知识产权"),
    "qualification": _("资质认定"),
    "staffing": _("用工招聘"),
}

PERSONAL_THEMES: dict[str, Promise] = {
    "p_birth_adoption": _("生育收养"),
    "p_household": _("户籍办理"),
    "p_education": _("教育科研"),
    "p_military": _("入伍服役"),
    "p_employment": _("就业创业"),
    "p_marriage": _("婚姻登记"),
    "p_housing": _("住房保障"),
    "p_social_security": _("社会保障"),
    "p_health": _("医疗卫生"),
    "p_transport": _("交通出行"),
    "p_documents": _("证件办理"),
    "p_exit_entry": _("出境入境"),
    "p_consumer": _("消费维权"),
    "p_public_safety": _("公共安全"),
    "p_justice": _("司法公证"),
    "p_qualification": _("职业资格"),
    "p_fees": _("行政缴费"),
    "p_preferential": _("优待抚恤"),
    "p_retirement": _("离职退休"),
    "p_funeral": _("死亡殡葬"),
    "p_culture_sport": _("文化体育"),
    "p_utilities": _("公用事业"),
    "p_other": _("其他"),
}

BUSINESS_THEMES: dict[str, Promise] = {
    "b_establish": _("设立变更"),
    "b_permits": _("准营准办"),
    "b_certification": _("资质认证"),
    "b_annual_review": _("年检年审"),
    "b_tax_finance": _("税收财务"),
    "b_human_resources": _("人力资源"),
    "b_social_security": _("社会保障"),
    "b_investment": _("投资审批"),
    "b_financing": _("融资信贷"),
    "b_mortgage": _("抵押质押"),
    "b_commerce": _("商务贸易"),
    "b_bidding": _("招标拍卖"),
    "b_customs": _("海关口岸"),
    "b_foreign": _("涉外服务"),
    "b_agriculture": _("农林牧渔"),
    "b_planning": _("规划建设"),
    "b_transport": _("交通运输"),
    "b_environment": _("环保绿化"),
    "b_safety": _("安全生产"),
    "b_innovation": _("科技创新"),
    "b_ip": _("知识产权"),
    "b_health": _("医疗卫生"),
    "b_food_drug": _("食品药品"),
    "b_culture_education": _("文体教育"),
    "b_closure": _("破产注销"),
    "b_other": _("其他"),
}

LIFE_EVENTS: dict[str, Promise] = {**PERSONAL_LIFE_EVENTS, **BUSINESS_LIFE_EVENTS}
THEMES: dict[str, Promise] = {**PERSONAL_THEMES, **BUSINESS_THEMES}

AUDIENCES: dict[str, Promise] = {"natural": _("个人办事"), "legal": _("法人办事")}


def life_events_for(audience: str) -> dict[str, Promise]:
    """Life events of ``natural`` (个人) or ``legal`` (法人) applicants."""
    return PERSONAL_LIFE_EVENTS if audience == "natural" else BUSINESS_LIFE_EVENTS


def themes_for(audience: str) -> dict[str, Promise]:
    return PERSONAL_THEMES if audience == "natural" else BUSINESS_THEMES


def audience_of_life_event(code: str) -> str | None:
    if code in PERSONAL_LIFE_EVENTS:
        return "natural"
    if code in BUSINESS_LIFE_EVENTS:
        return "legal"
    return None


def theme_label(code: str) -> str:
    """The label of a theme code; an unknown code is shown as it is."""
    return str(THEMES.get(code, code))


def life_event_label(code: str) -> str:
    return str(LIFE_EVENTS.get(code, code))


def labels(codes, vocabulary: dict[str, Promise]) -> list[str]:
    return [str(vocabulary.get(c, c)) for c in codes or ()]
