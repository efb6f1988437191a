"""Chrome: the lines a page puts around an article (navigation, 上一条/下一条, share buttons,
editor and source lines, disclaimers, copyright), recognised by what they say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from crawler.text import FULL_STOPS, HAN

DATE = r"(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?)"
NAME = rf"[{HAN}·]{{2,8}}(?:[ 、，,][{HAN}·]{{2,4}}){{0,3}}"


class Kind(Enum):
    BODY = "body"
    CHROME = "chrome"
    CAPTION = "caption"
    EDITOR = "editor"
    SOURCE = "source"


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    value: str | None = None  # the editor's name, the outlet, the caption


BODY = Verdict(Kind.BODY)
CHROME = Verdict(Kind.CHROME)

EDITOR = re.compile(
    rf"^[（(\[【]?\s*(?:责任编辑|责编|编辑|值班编辑|本文编辑|校对|审核|审校|监制)\s*[：:]?\s*({NAME})"
    r"\s*[）)\]】]?$"
)
SOURCE = re.compile(r"^(?:文章)?(?:来源|稿源|转自|出处)\s*[：:]\s*([^\s|，,。]{2,30})$")
CAPTION = re.compile(
    r"^(?:[（(]?(?:数据来源|资料来源|图片来源|图源|图片|图|摄影|制图|视频来源)\s*[：:]|图\s*\d+[\s：:、.．])"
)
RELATED = (
    r"(?:相关(?:稿件|新闻|阅读|报道|链接|文章|推荐)|延伸阅读|推荐阅读|热门(?:推荐|文章|新闻)|猜你喜欢"
    r"|精彩推荐|更多(?:精彩|新闻|阅读|资讯)|今日推荐|热点推荐|大家都在看|热门排行|排行榜"
    r"|作者简介|关于作者|作者介绍|作者)"
)
# Whole-line chrome: each names what it is at its start or throughout. The two kinds apart: one
# alternation of both would be tried whole at every character of a line.
CHROME_START = re.compile(
    "|".join(
        (
            r"^(?:上一[条篇页章]|下一[条篇页章]|上篇|下篇|返回(?:顶部|首页|列表)?)\s*[：:]?",
            rf"^{RELATED}\s*[：:>》]*$",
            r"^(?:当前位置|您的位置|你的位置|所在位置|现在位置)\s*[：:]",
            r"^(?:首页|首頁)\s*(?:>|>>|›|»|/|\|)",
            r"^(?:(?:免责|特别|版权|法律)?声明|免责条款|郑重声明)\s*[：:]",
            r"^(?:本网|本站|本文)(?:转载|登载|刊载|所载|注明)",
            r"^(?:凡本网注明|凡注明|如涉及作品内容|如有侵权|转载请注明)",
            r"^(?:更多|more|MORE|More)\s*(?:>>|»|›|>|\+)?$",
            r"^(?:分享到|分享至|扫一扫|打开微信|微信扫一扫|长按二维码|扫描二维码)",
            r"^(?:【?字号|【?字体)\s*[：:]?\s*[大中小]",
        )
    )
)
CHROME_ANYWHERE = re.compile(
    r"版权所有|版權所有|Copyright|copyright|©|ICP备|ICP證|ICP证|公网安备|公網安備"
    r"|经营许可证|经营许可證|互联网新闻信息服务许可证"
)
# Short button rows: what is left after removing these words is nothing, or a count. Each
# alternative starts with a literal, which lets the search skip the characters none starts with.
BUTTON_WORDS = re.compile(
    r"点赞|举报|反馈|纠错|打印(?:本文|本页)?|关闭(?:窗口|本页)?|收藏(?:本文)?|分享|评论|发表评论"
    r"|转发|推荐给朋友|发送给朋友|复制链接|顶部|返回|字号|大|中|小|次阅读|阅读|浏览|点击"
    r"|微信|微博|QQ空间|QQ|人人网|豆瓣|手机版|客户端|打开APP|APP"
)
INFO_LABELS = re.compile(
    r"(?:来源|來源|作者|记者|編輯|编辑|发布时间|發布時間|发布日期|發布日期|时间|日期|点击|浏览|阅读)"
    r"(?:次数|量)?\s*[：:]"
)
BUTTON_FILLER = re.compile(r"[\s\d|｜丨/·•:：()（）\[\]【】<>《》,，、-]+")
SENTENCE_END = re.compile(f"[{FULL_STOPS}]")
DATED = re.compile(DATE)
RELATED_HEADING = re.compile(f"^{RELATED}")


def classify_line(line: str) -> Verdict:
    """What one line of a page is: body, chrome, a caption, the editor or the source."""
    if match := EDITOR.match(line):
        return Verdict(Kind.EDITOR, match.group(1))
    if match := SOURCE.match(line):
        return Verdict(Kind.SOURCE, match.group(1))
    if len(line) <= 80 and CAPTION.match(line):
        return Verdict(Kind.CAPTION, line)
    if len(line) <= 200 and (CHROME_START.match(line) or CHROME_ANYWHERE.search(line)):
        return CHROME
    if len(line) <= 60 and _is_button_row(line):
        return CHROME
    if _is_info_line(line):
        return CHROME
    return BODY


def _is_button_row(line: str) -> bool:
    rest = BUTTON_WORDS.sub("", line)
    rest = BUTTON_FILLER.sub("", rest)
    return len(rest) <= 1 and rest != line


def _is_info_line(line: str) -> bool:
    """A byline/dateline such as "2023-11-21 11:02 来源:经济参考报 次阅读", not a sentence."""
    if len(line) > 100 or SENTENCE_END.search(line):
        return False
    labels = len(INFO_LABELS.findall(line))
    dated = DATED.search(line) is not None
    return labels >= 2 or (dated and (labels >= 1 or len(DATED.sub("", line).strip()) <= 12))


def is_related_heading(line: str) -> bool:
    """A 相关稿件-style heading (or an author box): the lines under it are not the article."""
    return RELATED_HEADING.match(line) is not None
