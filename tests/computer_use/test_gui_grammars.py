"""Open GUI models' grammars: UI-TARS text and Qwen-VL tool calls, and their coordinates.

Replies are written the way the models write them (several actions, box spellings, escaped
and unescaped quotes); each convention must land on the same pixel; malformed replies give
one clear line the model can act on.
"""

from __future__ import annotations

import pytest

from cradle.computer_use.actions import to_skill_calls
from cradle.computer_use.coordinates import Coordinates, coordinates_from_flags, smart_resize
from cradle.computer_use.qwen import DEFAULT_COORDINATES as QWEN_DEFAULT
from cradle.computer_use.qwen import parse_qwen, system_prompt
from cradle.computer_use.uitars import DEFAULT_COORDINATES as UITARS_DEFAULT
from cradle.computer_use.uitars import parse_uitars
from cradle.errors import ConfigError, ModelReplyError

IMAGE = (1280, 720)
PIXELS = Coordinates("absolute", "image")


@pytest.mark.parametrize(
    ("size", "grid"),
    [
        ((1280, 720), (1288, 728)),
        ((1024, 768), (1036, 756)),
        ((1920, 1080), (1932, 1092)),
        ((5000, 4000), (4004, 3192)),
        ((20, 20), (56, 56)),
    ],
)
def test_smart_resize_rounds_to_28_within_the_pixel_bounds(size, grid) -> None:
    assert smart_resize(size) == grid
    w, h = smart_resize(size)
    assert w % 28 == 0 and h % 28 == 0 and 3136 <= w * h <= 12845056


@pytest.mark.parametrize(
    ("coordinates", "written"),
    [
        (Coordinates("absolute", "image"), (640, 360)),
        (Coordinates("absolute", "smart-resize"), (644, 364)),
        (Coordinates("absolute", "2560x1440"), (1280, 720)),
        (Coordinates("relative-1000"), (500, 500)),
        (Coordinates("normalized"), (0.5, 0.5)),
    ],
)
def test_every_convention_lands_on_the_same_pixel(coordinates, written) -> None:
    text = f"Thought: centre.\nAction: click(start_box='({written[0]},{written[1]})')"
    action = parse_uitars(text, coordinates, IMAGE).actions[0]
    assert (action.x, action.y) == (640, 360)


def test_the_convention_is_described_for_the_record() -> None:
    assert UITARS_DEFAULT.describe(IMAGE) == (
        "absolute on the 1288x728 smart-resize grid of the 1280x720 image (default of uitars)"
    )
    chosen = coordinates_from_flags("relative-1000", None, default=QWEN_DEFAULT)
    assert (
        chosen.convention == "relative-1000"
        and "--coordinates relative-1000" in chosen.describe(IMAGE)
    )
    assert coordinates_from_flags(None, "640x360", default=QWEN_DEFAULT).grid == "640x360"


@pytest.mark.parametrize(
    ("convention", "grid", "message"),
    [
        ("relative-1000", "640x360", "applies to absolute coordinates only"),
        ("absolute", "640by360", "must be image, smart-resize or WIDTHxHEIGHT"),
        ("absolute", "0x360", "must be image, smart-resize or WIDTHxHEIGHT"),
        ("pixels", None, "must be one of absolute, relative-1000, normalized"),
    ],
)
def test_bad_coordinate_flags_are_one_line_errors(convention, grid, message) -> None:
    with pytest.raises(ConfigError, match=message):
        coordinates_from_flags(convention, grid, default=UITARS_DEFAULT)


def test_uitars_reply_with_several_actions_and_every_box_spelling() -> None:
    reply = (
        "Thought: I will write the note, then save it.\n"
        "Action: type(content='It\\'s a \"note\"\\nsecond line')\n\n"
        "click(start_box='<|box_start|>(100,200)<|box_end|>')\n\n"
        "left_double(start_box='[90,190,110,210]')\n\n"
        "right_single(point='<point>100 200</point>')\n\n"
        "drag(start_box='(10,10)', end_box='(50,60)')\n\n"
        "hotkey(key='ctrl s')\n\n"
        "scroll(start_box='(5,5)', direction='up')\n\n"
        "wait()"
    )
    parsed = parse_uitars(reply, PIXELS, IMAGE)
    assert parsed.thought == "I will write the note, then save it." and not parsed.done
    calls = [call for action in parsed.actions for call in to_skill_calls(action)]
    assert calls == [
        "type_text(text='It\\'s a \"note\"\\nsecond line')",
        "click(x=100, y=200)",
        "double_click(x=100, y=200)",
        "right_click(x=100, y=200)",
        "drag(x1=10, y1=10, x2=50, y2=60)",
        "hotkey('ctrl', 's')",
        "scroll(amount=5, x=5, y=5)",
        "wait(seconds=5.0)",
    ]
    assert parsed.actions[1].raw == "click(start_box='<|box_start|>(100,200)<|box_end|>')"


def test_uitars_unescaped_quote_and_cut_off_reply_keep_the_text() -> None:
    parsed = parse_uitars("Thought: t\nAction: type(content='don't stop')", PIXELS, IMAGE)
    assert parsed.actions[0].text == "don't stop"
    cut = parse_uitars("Thought: t\nAction: type(content='hello wor", PIXELS, IMAGE)
    assert cut.actions[0].text == "hello wor"


def test_uitars_finished_and_call_user() -> None:
    done = parse_uitars("Thought: All set.\nAction: finished(content='saved')", PIXELS, IMAGE)
    assert done.done and done.actions[-1].kind == "done"
    stuck = parse_uitars("Thought: I need a password.\nAction: call_user()", PIXELS, IMAGE)
    assert stuck.asks_user == "I need a password." and not stuck.done


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I would click the button.", "no 'Action:' in the reply"),
        ("Thought: t\nAction: long_press(start_box='(1,1)')", "unknown action 'long_press'"),
        ("Thought: t\nAction: click()", "click needs start_box"),
        ("Thought: t\nAction: click(start_box='(1300,10)')", "outside the 1280x720 screenshot"),
        ("Thought: t\nAction: click(start_box='(10)')", "malformed box"),
        ("Thought: t\nAction: scroll(direction='sideways')", "scroll needs direction"),
        ("Thought: t\nAction: hotkey(key='')", "hotkey needs key"),
        ("Thought: t\nAction: print('x')", "expected key='value'"),
        ("Thought: t\nAction: ", "'Action:' is empty"),
    ],
)
def test_uitars_malformed_replies_are_one_line_errors(reply, message) -> None:
    with pytest.raises(ModelReplyError, match=message) as caught:
        parse_uitars(reply, PIXELS, IMAGE)
    assert "\n" not in str(caught.value)


def test_uitars_relative_1000_for_version_1() -> None:
    coordinates = Coordinates("relative-1000")
    parsed = parse_uitars("Action: click(start_box='(250,500,250,500)')", coordinates, IMAGE)
    assert (parsed.actions[0].x, parsed.actions[0].y) == (320, 360)


def _tool(arguments: dict | str) -> str:
    import json

    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return f'<tool_call>\n{{"name": "computer_use", "arguments": {args}}}\n</tool_call>'


def test_qwen_tool_calls_become_skill_calls() -> None:
    reply = (
        "I open the menu and type.\n"
        + _tool({"action": "left_click", "coordinate": [644, 364]})
        + _tool({"action": "type", "text": "hi"})
        + _tool({"action": "key", "keys": ["ctrl", "s"]})
        + _tool({"action": "scroll", "pixels": 3, "coordinate": [0, 0]})
        + _tool({"action": "left_click_drag", "coordinate": [100, 100]})
        + _tool({"action": "triple_click", "coordinate": [644, 364]})
        + _tool('"{\\"action\\": \\"wait\\", \\"time\\": 2}"')
    )
    parsed = parse_qwen(reply, QWEN_DEFAULT, IMAGE)
    calls = [call for action in parsed.actions for call in to_skill_calls(action)]
    assert calls == [
        "click(x=640, y=360)",
        "type_text(text='hi')",
        "hotkey('ctrl', 's')",
        "scroll(amount=3, x=0, y=0)",
        "mouse_down()",
        "move_to(x=99, y=99)",
        "mouse_up(x=99, y=99)",
        "triple_click(x=640, y=360)",
        "wait(seconds=2.0)",
    ]
    assert parsed.thought == "I open the menu and type."


def test_qwen_terminate_success_is_done_failure_asks_the_user() -> None:
    done = parse_qwen(_tool({"action": "terminate", "status": "success"}), QWEN_DEFAULT, IMAGE)
    assert done.done
    failed = parse_qwen(
        "Cannot log in. " + _tool({"action": "terminate", "status": "failure"}), QWEN_DEFAULT, IMAGE
    )
    assert failed.asks_user == "Cannot log in."


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("Click at 10, 10.", "no <tool_call> in the reply"),
        ("<tool_call>{not json}</tool_call>", "is not JSON"),
        (_tool({"action": "fly"}), "unknown action 'fly'"),
        (_tool({"action": "left_click"}), "left_click needs coordinate"),
        (_tool({"action": "left_click", "coordinate": [1, "a"]}), "left_click needs coordinate"),
        (_tool({"action": "left_click", "coordinate": [99999, 5]}), "outside the 1280x720"),
        ('<tool_call>{"name": "browser", "arguments": {}}</tool_call>', "call the computer_use"),
        (_tool({"action": "key", "keys": []}), "key needs keys"),
    ],
)
def test_qwen_malformed_calls_are_one_line_errors(reply, message) -> None:
    with pytest.raises(ModelReplyError, match=message) as caught:
        parse_qwen(reply, QWEN_DEFAULT, IMAGE)
    assert "\n" not in str(caught.value)


def test_qwen_prompt_declares_the_resolution_of_its_convention() -> None:
    assert "The screen's resolution is 1288x728." in system_prompt(QWEN_DEFAULT, IMAGE)
    assert "The screen's resolution is 1000x1000." in system_prompt(
        Coordinates("relative-1000"), IMAGE
    )
    assert '"name": "computer_use"' in system_prompt(QWEN_DEFAULT, IMAGE)


def test_key_names_as_models_write_them() -> None:
    parsed = parse_uitars(
        "Action: hotkey(key='ctrl C')\n\nhotkey(key='ArrowLeft')\n\nhotkey(key='ctrl+shift+s')",
        PIXELS,
        IMAGE,
    )
    assert [a.keys for a in parsed.actions] == [("ctrl", "c"), ("left",), ("ctrl", "shift", "s")]
    qwen = parse_qwen(
        _tool({"action": "key", "keys": ["Return"]}) + _tool({"action": "key", "keys": ["ctrl+a"]}),
        QWEN_DEFAULT,
        IMAGE,
    )
    assert [a.keys for a in qwen.actions] == [("enter",), ("ctrl", "a")]


def test_action_inside_typed_text_does_not_split_the_reply() -> None:
    parsed = parse_uitars(
        "Thought: write it\nAction: type(content='Next Action: call Bob')", PIXELS, IMAGE
    )
    assert parsed.thought == "write it" and parsed.actions[0].text == "Next Action: call Bob"
