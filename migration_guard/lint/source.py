"""Source text handling: UTF-8 decoding with a byte-offset policy, offset to line/column.

The parser reports statement and node locations as byte offsets into the UTF-8 encoding;
findings carry 1-based lines and 1-based character columns.
"""

from __future__ import annotations

from bisect import bisect_right

BOM = b"\xef\xbb\xbf"


class SourceMap:
    """Maps UTF-8 byte offsets (or character offsets) of one text to (line, column).

    The line index is built on the first lookup: most files of a change set have no
    finding and never need one.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._ascii = text.isascii()
        self._data: bytes | None = None
        self._starts: list[int] = []

    @property
    def data(self) -> bytes:
        """The text's UTF-8 encoding."""
        if self._data is None:
            self._data = self.text.encode("ascii" if self._ascii else "utf-8")
        return self._data

    def _line_starts(self) -> list[int]:
        if not self._starts:
            starts = [0]
            find = self.data.find
            pos = find(b"\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find(b"\n", pos + 1)
            self._starts = starts
        return self._starts

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of a byte offset; the column counts characters."""
        starts = self._line_starts()
        offset = max(0, min(offset, len(self.data)))
        index = bisect_right(starts, offset) - 1
        start = starts[index]
        if self._ascii:
            return index + 1, offset - start + 1
        column = len(self.data[start:offset].decode("utf-8", errors="replace")) + 1
        return index + 1, column

    def char_to_byte(self, char_offset: int) -> int:
        if self._ascii:
            return char_offset
        return len(self.text[:char_offset].encode("utf-8"))

    def line_of_char(self, char_offset: int) -> int:
        return self.position(self.char_to_byte(char_offset))[0]


def decode(data: bytes) -> tuple[str, int | None]:
    """Decode migration bytes as UTF-8, dropping a leading BOM.

    Returns ``(text, None)`` or, for invalid UTF-8, ``("", offset)`` with the byte offset
    of the first invalid byte (relative to the original bytes, BOM included). Never
    guesses another encoding: a file a server would read differently must be fixed.
    """
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[skip:].decode("utf-8"), None
    except UnicodeDecodeError as error:
        return "", skip + error.start


def line_and_column_of_byte(data: bytes, offset: int) -> tuple[int, int]:
    """(line, column) of a byte offset in raw bytes that may not be valid UTF-8."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", errors="replace")) + 1
