"""Calculator logic with no drawing: a tiny arithmetic parser and the key-by-key state machine.

Numbers are exact fractions, so 0.1+0.2 shows 0.3, and the parser is our own (no ``eval``):
``+ - * /`` with the usual precedence and unary minus.
"""

from __future__ import annotations

import re
from fractions import Fraction

OPERATORS = "+-*/"
ERROR = "Error"
TOKEN = re.compile(r"\s*(?:(\d+\.?\d*|\.\d+)|([-+*/]))")


class CalcError(ValueError):
    """The expression cannot be evaluated (bad syntax, division by zero)."""


def tokenize(expr: str) -> list[Fraction | str]:
    """Numbers as fractions and operators as one-character strings."""
    tokens: list[Fraction | str] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        match = TOKEN.match(expr, pos)
        if match is None:
            raise CalcError(f"unexpected {expr[pos]!r}")
        number, operator = match.groups()
        tokens.append(Fraction(number) if number is not None else operator)
        pos = match.end()
    return tokens


def evaluate(expr: str) -> Fraction:
    """Value of ``expr``: expr := term (('+'|'-') term)*, term := factor (('*'|'/') factor)*."""
    tokens = tokenize(expr)
    pos = 0

    def peek() -> Fraction | str | None:
        return tokens[pos] if pos < len(tokens) else None

    def factor() -> Fraction:
        nonlocal pos
        token = peek()
        pos += 1
        if token == "-":
            return -factor()
        if token == "+":
            return factor()
        if isinstance(token, Fraction):
            return token
        raise CalcError("expected a number")

    def term() -> Fraction:
        nonlocal pos
        value = factor()
        while peek() in ("*", "/"):
            operator = peek()
            pos += 1
            right = factor()
            if operator == "/" and right == 0:
                raise CalcError("division by zero")
            value = value * right if operator == "*" else value / right
        return value

    def expression() -> Fraction:
        nonlocal pos
        value = term()
        while peek() in ("+", "-"):
            operator = peek()
            pos += 1
            right = term()
            value = value + right if operator == "+" else value - right
        return value

    result = expression()
    if pos != len(tokens):
        raise CalcError("unexpected input after the expression")
    return result


def format_number(value: Fraction) -> str:
    """Integers without '.0'; other values to 12 significant digits."""
    if value.denominator == 1 and abs(value) < 10**15:
        return str(value.numerator)
    try:
        text = f"{float(value):.12g}"
    except OverflowError as exc:
        raise CalcError("result too large") from exc
    return "0" if text == "-0" else text


class Calculator:
    """What the display shows after each key: the expression being typed, or a result."""

    def __init__(self) -> None:
        self.display = "0"
        self.history = ""
        """The last evaluated expression ('12+7 ='), shown small above the result."""
        self._result_shown = False

    def press(self, key: str) -> bool:
        """Apply one key ('0'-'9', '.', '+', '-', '*', '/', '=', 'C', 'DEL'); False if unknown."""
        if key.isdigit() and len(key) == 1 or key == ".":
            self._digit(key)
        elif key in OPERATORS and len(key) == 1:
            self._operator(key)
        elif key == "=":
            self._equals()
        elif key == "C":
            self.display, self.history, self._result_shown = "0", "", False
        elif key == "DEL":
            if self._result_shown or self.display == ERROR:
                self.display, self._result_shown = "0", False
            else:
                self.display = self.display[:-1] or "0"
        else:
            return False
        return True

    def _digit(self, key: str) -> None:
        if self._result_shown or self.display == ERROR:
            self.display, self._result_shown = "0", False
        current = re.split(r"[-+*/]", self.display)[-1]
        if key == ".":
            if "." in current:
                return
            self.display += "." if current else "0."
        elif current == "0":
            self.display = self.display[:-1] + key  # no leading zeros: '0' then '7' is '7'
        else:
            self.display += key

    def _operator(self, key: str) -> None:
        if self.display == ERROR:
            return
        self._result_shown = False
        if self.display[-1] in OPERATORS:
            if key == "-" and self.display[-1] in "*/":
                self.display += key  # '2*-3': a negative factor
                return
            self.display = self.display.rstrip(OPERATORS) or "0"
        self.display += key

    def _equals(self) -> None:
        if self.display == ERROR:
            return
        expr = self.display.rstrip(OPERATORS) or "0"
        try:
            self.display = format_number(evaluate(expr))
        except CalcError:
            self.display = ERROR
        self.history = f"{expr} ="
        self._result_shown = True
