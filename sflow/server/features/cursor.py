"""What is at and before the cursor, from the raw text: works on broken, half-typed documents.

The AST only covers what parsed; completion and signature help need the enclosing call, the
argument being typed and the word under the cursor even when the statement cannot parse yet.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

_BLOCK_LINE = re.compile(r"^[ \t]*(strategy|test)\b")
_WORD_BEFORE = re.compile(r"[$\w]*$")
_WORD_AFTER = re.compile(r"^[\w]*")
_CALLEE = re.compile(r"([A-Za-z_]\w*)\s*$")
_KWARG = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)")


@dataclass
class CallContext:
    """The innermost call whose `(` is open at the cursor."""

    func: str
    arg_index: int  # 0-based positional index of the argument being typed
    kwarg: str | None  # `name=` of the argument being typed, if any
    used: set[str] = field(default_factory=set)  # keyword names already given
    current: str = ""  # text of the argument being typed


def block_start(lines: list[str], line: int) -> tuple[int, str | None]:
    """The line where the block around `line` starts and its kind (`strategy`/`test`/None)."""
    for i in range(min(line, len(lines) - 1), -1, -1):
        m = _BLOCK_LINE.match(lines[i])
        if m:
            return i, m.group(1)
    return 0, None


def prefix_text(lines: list[str], line: int, col: int, start: int) -> str:
    head = lines[line][:col] if line < len(lines) else ""
    return "\n".join([*lines[start:line], head])


def word_before(text: str) -> str:
    return _WORD_BEFORE.search(text).group(0)


def word_at(lines: list[str], line: int, col: int) -> tuple[str, int, int] | None:
    """The identifier (or `$field`) touching (line, col): (text, start col, end col)."""
    if not 0 <= line < len(lines):
        return None
    text = lines[line]
    before = _WORD_BEFORE.search(text[:col]).group(0)
    after = _WORD_AFTER.match(text[col:]).group(0)
    word = before + after
    if not word:
        return None
    return word, col - len(before), col + len(after)


def in_comment_or_string(line_text: str) -> bool:
    """Whether the end of `line_text` is inside a comment or a string."""
    quoted = False
    i = 0
    while i < len(line_text):
        ch = line_text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "#":
            return True
        i += 1
    return quoted


def enclosing_call(prefix: str) -> CallContext | None:
    """Scan `prefix` (skipping strings and comments) for the innermost unclosed call."""
    stack: list[list] = []  # [func, open offset, arg starts]
    i, n = 0, len(prefix)
    while i < n:
        ch = prefix[i]
        if ch == '"':
            i += 1
            while i < n and prefix[i] not in '"\n':
                i += 2 if prefix[i] == "\\" else 1
        elif ch == "#":
            while i < n and prefix[i] != "\n":
                i += 1
        elif ch == "(":
            m = _CALLEE.search(prefix, 0, i)
            stack.append([m.group(1) if m else "", i, [i + 1]])
        elif ch == ")":
            if stack:
                stack.pop()
        elif ch == "," and stack:
            stack[-1][2].append(i + 1)
        elif ch == "\n" and stack and _BLOCK_LINE.match(prefix, i + 1):
            stack.clear()
        i += 1
    if not stack or not stack[-1][0]:
        return None
    func, _, starts = stack[-1]
    args = [prefix[a : b - 1] for a, b in itertools.pairwise(starts)]
    current = prefix[starts[-1] :]
    used = {m.group(1) for a in args if (m := _KWARG.match(a))}
    m = _KWARG.match(current)
    positional = sum(1 for a in args if not _KWARG.match(a))
    return CallContext(func, positional, m.group(1) if m else None, used, current)


def _depth_change(text: str) -> int:
    """Net `(` minus `)` of a line, outside strings and comments; 1000 if it holds a `}`."""
    depth, quoted, i = 0, False, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "#":
            break
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "}":
            return _CLOSED
        i += 1
    return depth


_CLOSED = 1000


def statement_prefix(lines: list[str], line: int, col: int, start: int) -> str:
    """A short text that leaves the parser in the same state as the block up to the cursor.

    Statements end at newlines outside parentheses, so every statement of a body starts in the
    same parser state: the block's header line plus the current statement is enough (and keeps
    `expected_at` cheap at the end of a long block)."""
    header = lines[start] if start < len(lines) else ""
    if "{" not in header or _depth_change(header) != 0 or line == start:
        return prefix_text(lines, line, col, start)
    first, depth = start + 1, 0
    for i in range(start + 1, line + 1):
        change = _depth_change(lines[i] if i < line else lines[i][:col])
        if change == _CLOSED:  # the block is closed before the cursor: parse it all
            return prefix_text(lines, line, col, start)
        depth += change
        if depth <= 0 and i < line:
            depth, first = 0, i + 1
    body = prefix_text(lines, line, col, first)
    return header[: header.index("{") + 1] + "\n" + body
