"""Block Kit limit checks for the fake Slack Web API; every rule is one of Slack's documented limits.

Sources (docs.slack.dev/reference/block-kit/...): blocks, composition-objects/text-object,
block-elements/*, views/modal-views and views/home-tab-views; chat.postMessage for the message text limit.
The checks are deliberately limited to those documented numbers: anything Slack might accept is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Surfaces (blocks reference: "up to 50 blocks in each message, and 100 blocks in modals or Home tabs").
MESSAGE, MODAL, HOME = "message", "modal", "home"
MAX_BLOCKS = {MESSAGE: 50, MODAL: 100, HOME: 100}

MAX_MESSAGE_TEXT = 40_000  # chat.postMessage: text longer than 40,000 characters is refused (msg_too_long)
MAX_TEXT = 3000  # text object: "maximum length is 3000 characters" (section text, context texts)
MAX_FIELDS, MAX_FIELD_TEXT = 10, 2000  # section fields: "Maximum number of items is 10 … 2000 characters"
MAX_HEADER = 150  # header block text: plain_text, "Maximum length … is 150 characters"
MAX_ID = 255  # block_id, action_id, callback_id, external_id: "Maximum length … is 255 characters"
MAX_ACTIONS_ELEMENTS = 25  # actions block: "maximum of 25 elements"
MAX_CONTEXT_ELEMENTS = 10  # context block: "Maximum number of items is 10"
MAX_LABEL = 2000  # input block label and hint; image alt_text and title
MAX_BUTTON_TEXT, MAX_BUTTON_VALUE, MAX_URL = 75, 2000, 3000  # button element text / value / url
MAX_PLACEHOLDER = 150  # select menus and inputs: placeholder, plain_text only
MAX_OPTIONS, MAX_OPTION_TEXT, MAX_OPTION_VALUE = 100, 75, 150  # select options and option objects
MAX_OVERFLOW_OPTIONS = 5  # overflow menu: "Maximum number of options is 5"
CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}  # confirmation dialog object
MAX_VIEW_TITLE = 24  # modal title, submit and close: "Maximum length … is 24 characters"
MAX_PRIVATE_METADATA = 3000  # views: private_metadata "Maximum length … is 3000 characters"
MAX_VIEW_BYTES = 250_000  # views.open/update/push/publish: view_too_large "Views cannot exceed 250kb"

# Layout blocks Slack documents; anything else is refused as an unknown type.
KNOWN_BLOCKS = frozenset({"actions", "context", "divider", "file", "header", "image", "input",
                          "markdown", "rich_text", "section", "table", "video"})
_SELECTS_WITH_OPTIONS = ("static_select", "multi_static_select", "radio_buttons", "checkboxes")


@dataclass(frozen=True)
class Violation:
    """One broken limit: `rule` names it, `pointer` locates it in the payload (as Slack's errors do)."""

    rule: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


def check_message(message: dict[str, Any]) -> list[Violation]:
    """Limits on a chat.postMessage / chat.update / chat.postEphemeral / response_url payload."""
    checker = _Checker(MESSAGE)
    text = message.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        checker.add("message.text<=40000", "/text", f"text is {len(text)} characters, more than 40000")
    blocks = message.get("blocks")
    if blocks is not None:
        checker.blocks(blocks, "/blocks")
    return checker.violations


def check_view(view: Any) -> list[Violation]:
    """Limits on a modal or Home tab view (views.open/update/push/publish, response_action update/push)."""
    if not isinstance(view, dict):
        return [Violation("view.object", "/view", "view must be a JSON object")]
    kind = view.get("type")
    if kind not in (MODAL, HOME):
        return [Violation("view.type", "/view/type", f"view type must be modal or home, not {kind!r}")]
    checker = _Checker(kind)
    for key in ("callback_id", "external_id"):
        checker.max_len(view.get(key), MAX_ID, f"view.{key}<=255", f"/view/{key}")
    checker.max_len(view.get("private_metadata"), MAX_PRIVATE_METADATA, "view.private_metadata<=3000",
                    "/view/private_metadata")
    if kind == MODAL:
        # Modal title is required; title, submit and close are plain_text of at most 24 characters.
        checker.text(view.get("title"), "/view/title", MAX_VIEW_TITLE, "modal.title<=24", plain=True)
        for key in ("submit", "close"):
            if key in view:
                checker.text(view[key], f"/view/{key}", MAX_VIEW_TITLE, f"modal.{key}<=24", plain=True)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        checker.add("view.blocks", "/view/blocks", "view must have a blocks array")
    else:
        checker.blocks(blocks, "/view/blocks")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if kind == MODAL and has_input and "submit" not in view:
            # modal-views: "submit … Required if an input block is within the blocks array".
            checker.add("modal.submit_required_with_input", "/view/submit",
                        "a modal with an input block must define submit")
    return checker.violations


def view_size(view: Any) -> int:
    """The view's size as Slack measures it for view_too_large: its JSON in UTF-8 bytes."""
    return len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode())


def input_block_ids(view: dict[str, Any]) -> set[str]:
    """block_ids of the view's input blocks: the only valid keys of response_action=errors."""
    return {b["block_id"] for b in view.get("blocks") or []
            if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("block_id"), str)}


class _Checker:
    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.violations: list[Violation] = []
        self._block_ids: set[str] = set()

    def add(self, rule: str, pointer: str, message: str) -> None:
        self.violations.append(Violation(rule, pointer, message))

    def max_len(self, value: Any, limit: int, rule: str, pointer: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(rule, pointer, "must be a string")
        elif len(value) > limit:
            self.add(rule, pointer, f"must be at most {limit} characters, got {len(value)}")

    def text(self, obj: Any, pointer: str, limit: int, rule: str, *, plain: bool = False) -> None:
        """A text object: the right type, 1..limit characters (text object: "minimum length is 1")."""
        if not isinstance(obj, dict):
            self.add(rule, pointer, "must be a text object")
            return
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.add(rule.split("<=")[0] + ".plain_text" if plain else rule, f"{pointer}/type",
                     f"text type must be {' or '.join(allowed)}, not {obj.get('type')!r}")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.add(rule, f"{pointer}/text", "text must be a non-empty string")
        elif len(text) > limit:
            self.add(rule, f"{pointer}/text", f"must be at most {limit} characters, got {len(text)}")

    def blocks(self, blocks: Any, pointer: str) -> None:
        if not isinstance(blocks, list):
            self.add("blocks.array", pointer, "blocks must be an array")
            return
        limit = MAX_BLOCKS[self.surface]
        if len(blocks) > limit:
            self.add(f"{self.surface}.blocks<={limit}", pointer,
                     f"no more than {limit} blocks allowed in a {self.surface}, got {len(blocks)}")
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, ptr: str) -> None:
        if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
            kind = block.get("type") if isinstance(block, dict) else block
            self.add("block.type", f"{ptr}/type", f"unknown block type {kind!r}")
            return
        block_id = block.get("block_id")
        self.max_len(block_id, MAX_ID, "block_id<=255", f"{ptr}/block_id")
        if isinstance(block_id, str):
            # blocks reference: "block_id should be unique for each message or view"; Slack refuses repeats.
            if block_id in self._block_ids:
                self.add("block_id.unique", f"{ptr}/block_id", f"duplicate block_id {block_id!r}")
            self._block_ids.add(block_id)
        getattr(self, f"_block_{block['type']}", lambda b, p: None)(block, ptr)

    def _block_section(self, block: dict[str, Any], ptr: str) -> None:
        if "text" not in block and "fields" not in block:
            self.add("section.text_or_fields", ptr, "a section needs text or fields")
        if "text" in block:
            self.text(block["text"], f"{ptr}/text", MAX_TEXT, "section.text<=3000")
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
                self.add("section.fields<=10", f"{ptr}/fields", "fields must be an array of at most 10")
            else:
                for i, field in enumerate(fields):
                    self.text(field, f"{ptr}/fields/{i}", MAX_FIELD_TEXT, "section.field<=2000")
        if "accessory" in block:
            self.elements([block["accessory"]], f"{ptr}/accessory", single=True)

    def _block_header(self, block: dict[str, Any], ptr: str) -> None:
        self.text(block.get("text"), f"{ptr}/text", MAX_HEADER, "header.text<=150", plain=True)

    def _block_context(self, block: dict[str, Any], ptr: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add("context.elements", f"{ptr}/elements", "context needs a non-empty elements array")
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self.add("context.elements<=10", f"{ptr}/elements",
                     f"no more than 10 elements allowed in a context block, got {len(elements)}")
        for i, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") == "image":
                continue
            self.text(element, f"{ptr}/elements/{i}", MAX_TEXT, "context.text<=3000")

    def _block_actions(self, block: dict[str, Any], ptr: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add("actions.elements", f"{ptr}/elements", "actions needs a non-empty elements array")
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self.add("actions.elements<=25", f"{ptr}/elements",
                     f"no more than 25 elements allowed in an actions block, got {len(elements)}")
        self.elements(elements, f"{ptr}/elements")

    def _block_input(self, block: dict[str, Any], ptr: str) -> None:
        if self.surface == MESSAGE:
            # Input block reference, "Available in surfaces: Modals, Home tabs" (the app never needs more).
            self.add("input.surface", ptr, "input blocks are only allowed in modals and Home tabs")
        self.text(block.get("label"), f"{ptr}/label", MAX_LABEL, "input.label<=2000", plain=True)
        if "hint" in block:
            self.text(block["hint"], f"{ptr}/hint", MAX_LABEL, "input.hint<=2000", plain=True)
        if not isinstance(block.get("element"), dict):
            self.add("input.element", f"{ptr}/element", "input needs one element")
        else:
            self.elements([block["element"]], f"{ptr}/element", single=True)

    def _block_image(self, block: dict[str, Any], ptr: str) -> None:
        self.max_len(block.get("image_url"), MAX_URL, "image.image_url<=3000", f"{ptr}/image_url")
        self.max_len(block.get("alt_text"), MAX_LABEL, "image.alt_text<=2000", f"{ptr}/alt_text")
        if "title" in block:
            self.text(block["title"], f"{ptr}/title", MAX_LABEL, "image.title<=2000", plain=True)

    def elements(self, elements: Iterable[Any], ptr: str, *, single: bool = False) -> None:
        action_ids: set[str] = set()
        for i, element in enumerate(elements):
            eptr = ptr if single else f"{ptr}/{i}"
            if not isinstance(element, dict) or not isinstance(element.get("type"), str):
                self.add("element.type", eptr, "an element must be an object with a type")
                continue
            action_id = element.get("action_id")
            self.max_len(action_id, MAX_ID, "action_id<=255", f"{eptr}/action_id")
            if isinstance(action_id, str):
                # "action_id … should be unique among all other action_ids in the containing block".
                if action_id in action_ids:
                    self.add("action_id.unique", f"{eptr}/action_id", f"duplicate action_id {action_id!r}")
                action_ids.add(action_id)
            self.element(element, eptr)

    def element(self, element: dict[str, Any], ptr: str) -> None:
        kind = element["type"]
        if kind == "button":
            self.text(element.get("text"), f"{ptr}/text", MAX_BUTTON_TEXT, "button.text<=75", plain=True)
            self.max_len(element.get("value"), MAX_BUTTON_VALUE, "button.value<=2000", f"{ptr}/value")
            self.max_len(element.get("url"), MAX_URL, "button.url<=3000", f"{ptr}/url")
        if "placeholder" in element:
            self.text(element["placeholder"], f"{ptr}/placeholder", MAX_PLACEHOLDER, "placeholder<=150",
                      plain=True)
        if kind in _SELECTS_WITH_OPTIONS or kind == "overflow":
            limit = MAX_OVERFLOW_OPTIONS if kind == "overflow" else MAX_OPTIONS
            options = element.get("options")
            if isinstance(options, list):
                if len(options) > limit:
                    self.add(f"{kind}.options<={limit}", f"{ptr}/options",
                             f"no more than {limit} options allowed, got {len(options)}")
                for i, option in enumerate(options):
                    self.option(option, f"{ptr}/options/{i}", plain=kind != "checkboxes"
                                and kind != "radio_buttons")
        if "confirm" in element:
            self.confirm(element["confirm"], f"{ptr}/confirm")

    def option(self, option: Any, ptr: str, *, plain: bool) -> None:
        if not isinstance(option, dict):
            self.add("option.object", ptr, "an option must be an object")
            return
        # Option object: text at most 75 characters (plain_text in selects and overflow menus), value 150.
        self.text(option.get("text"), f"{ptr}/text", MAX_OPTION_TEXT, "option.text<=75", plain=plain)
        self.max_len(option.get("value"), MAX_OPTION_VALUE, "option.value<=150", f"{ptr}/value")

    def confirm(self, confirm: Any, ptr: str) -> None:
        if not isinstance(confirm, dict):
            self.add("confirm.object", ptr, "confirm must be an object")
            return
        for key, limit in CONFIRM_LIMITS.items():
            if key in confirm:
                # Confirmation dialog: title/confirm/deny plain_text; text may be mrkdwn.
                self.text(confirm[key], f"{ptr}/{key}", limit, f"confirm.{key}<={limit}", plain=key != "text")
