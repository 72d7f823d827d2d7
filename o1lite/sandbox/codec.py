"""A strict, exact-type binary encoding for the values a program returns.

Only these exact types are encodable: None, bool, int, float, complex, str,
bytes, list, tuple, dict, set, frozenset. The encoder checks `type(x) is int`
(never `isinstance`), so an `int` subclass or an object that overrides
`__eq__` is rejected instead of being compared. Encoding runs no code of the
value itself: every accepted object is a built-in whose iteration and
conversion are fixed.

The decoder is the trusted side. It reads bytes that may have been written
by an adversary, so it checks every length against the bytes left, limits
nesting depth and container sizes, and never evaluates anything; any defect
raises `CodecError`.

Format (all integers little-endian):

    N | T | F                      None, True, False
    i <u32 n> <n bytes>            int, two's complement (signed, little-endian)
    f <8 bytes>                    float (IEEE 754 binary64, bit-exact)
    c <16 bytes>                   complex (real, imag)
    s <u32 n> <n bytes>            str, UTF-8 with surrogatepass
    b <u32 n> <n bytes>            bytes
    l | t | S | Z <u32 n> items    list, tuple, set, frozenset
    d <u32 n> key value ...        dict (n pairs)
"""

from __future__ import annotations

import struct

__all__ = ["CodecError", "encode", "decode", "MAX_DEPTH"]

MAX_DEPTH = 100

_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")


class CodecError(ValueError):
    """A value that cannot be encoded, or bytes that do not decode."""


_CONTAINER_TAGS = {list: b"l", tuple: b"t", set: b"S", frozenset: b"Z"}


def encode(value, limit: int = 1 << 22) -> bytes:
    """Encode `value` (exact built-in types only) into at most `limit` bytes."""
    out: list[bytes] = []
    size = _encode(value, out, 0, 0, limit)
    if size > limit:
        raise CodecError(f"encoded value exceeds {limit} bytes")
    return b"".join(out)


def _encode(value, out: list, depth: int, size: int, limit: int) -> int:
    if size > limit:
        raise CodecError(f"encoded value exceeds {limit} bytes")
    kind = type(value)
    if value is None:
        out.append(b"N")
        return size + 1
    if kind is bool:
        out.append(b"T" if value else b"F")
        return size + 1
    if kind is int:
        raw = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
        out.append(b"i" + _U32.pack(len(raw)) + raw)
        return size + 5 + len(raw)
    if kind is float:
        out.append(b"f" + _F64.pack(value))
        return size + 9
    if kind is str:
        raw = value.encode("utf-8", "surrogatepass")
        out.append(b"s" + _U32.pack(len(raw)) + raw)
        return size + 5 + len(raw)
    if kind is bytes:
        out.append(b"b" + _U32.pack(len(value)) + value)
        return size + 5 + len(value)
    if kind is complex:
        out.append(b"c" + _C128.pack(value.real, value.imag))
        return size + 17
    if depth >= MAX_DEPTH:
        raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
    tag = _CONTAINER_TAGS.get(kind)
    if tag is not None:
        items = list(value)  # a snapshot: exact built-ins iterate without user code
        out.append(tag + _U32.pack(len(items)))
        size += 5
        for item in items:
            size = _encode(item, out, depth + 1, size, limit)
        return size
    if kind is dict:
        pairs = list(value.items())
        out.append(b"d" + _U32.pack(len(pairs)))
        size += 5
        for key, item in pairs:
            size = _encode(key, out, depth + 1, size, limit)
            size = _encode(item, out, depth + 1, size, limit)
        return size
    name = type.__dict__["__qualname__"].__get__(kind)  # the real name, not a metaclass property
    raise CodecError(f"unsupported type {name[:80]}")


def decode(data: bytes):
    """Decode bytes written by `encode`; raise `CodecError` on any defect."""
    if type(data) is not bytes:
        raise CodecError("decode expects bytes")
    try:
        value, end = _decode(data, 0, 0)
    except CodecError:
        raise
    except (struct.error, UnicodeDecodeError, TypeError, OverflowError, MemoryError) as exc:
        raise CodecError(f"malformed value: {type(exc).__name__}") from None
    if end != len(data):
        raise CodecError("trailing bytes after value")
    return value


def _length(data: bytes, pos: int) -> tuple[int, int]:
    if pos + 4 > len(data):
        raise CodecError("truncated length")
    return _U32.unpack_from(data, pos)[0], pos + 4


def _decode(data: bytes, pos: int, depth: int):
    if pos >= len(data):
        raise CodecError("truncated value")
    tag = data[pos : pos + 1]
    pos += 1
    if tag == b"N":
        return None, pos
    if tag == b"T":
        return True, pos
    if tag == b"F":
        return False, pos
    if tag in (b"i", b"s", b"b"):
        n, pos = _length(data, pos)
        if pos + n > len(data):
            raise CodecError("truncated payload")
        raw = data[pos : pos + n]
        pos += n
        if tag == b"i":
            return int.from_bytes(raw, "little", signed=True), pos
        if tag == b"s":
            return raw.decode("utf-8", "surrogatepass"), pos
        return raw, pos
    if tag == b"f":
        if pos + 8 > len(data):
            raise CodecError("truncated float")
        return _F64.unpack_from(data, pos)[0], pos + 8
    if tag == b"c":
        if pos + 16 > len(data):
            raise CodecError("truncated complex")
        real, imag = _C128.unpack_from(data, pos)
        return complex(real, imag), pos + 16
    if tag in (b"l", b"t", b"S", b"Z", b"d"):
        if depth >= MAX_DEPTH:
            raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
        n, pos = _length(data, pos)
        per_item = 2 if tag == b"d" else 1
        if n * per_item > len(data) - pos:  # every item takes at least one byte
            raise CodecError("container length exceeds the data")
        if tag == b"d":
            result = {}
            for _ in range(n):
                key, pos = _decode(data, pos, depth + 1)
                item, pos = _decode(data, pos, depth + 1)
                try:
                    result[key] = item
                except TypeError:
                    raise CodecError("unhashable dict key") from None
            return result, pos
        items = []
        for _ in range(n):
            item, pos = _decode(data, pos, depth + 1)
            items.append(item)
        if tag == b"l":
            return items, pos
        if tag == b"t":
            return tuple(items), pos
        try:
            return (set(items) if tag == b"S" else frozenset(items)), pos
        except TypeError:
            raise CodecError("unhashable set element") from None
    raise CodecError(f"unknown tag {tag!r}")
