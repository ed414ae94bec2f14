"""Small data structures: a case-insensitive dict, a context bag, an ETag.

These are re-exported at the top level, as in Falcon (``gyrfalcon.Context``,
``gyrfalcon.ETag``, ``gyrfalcon.CaseInsensitiveDict``).
"""

from __future__ import annotations

from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
    ValuesView,
)
from typing import TYPE_CHECKING, Any

__all__ = ('CaseInsensitiveDict', 'Context', 'ETag')


class CaseInsensitiveDict(MutableMapping[str, Any]):
    """A ``dict``-like mapping whose string keys ignore case.

    Lookups, membership tests, deletion and equality ignore case; iteration
    gives back each key in the case it was last set with::

        cid = CaseInsensitiveDict()
        cid['Accept'] = 'application/json'
        cid['aCCEPT'] == 'application/json'  # True
        list(cid) == ['Accept']  # True

    Args:
        data: Initial items, as a mapping or an iterable of pairs.
        **kwargs: More initial items.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        self._store: dict[str, tuple[str, Any]] = {}
        self.update(data or {}, **kwargs)

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> Any:
        return self._store[key.lower()][1]

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return (cased for cased, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def lower_items(self) -> Iterator[tuple[str, Any]]:
        """Iterate over the items with every key in lowercase.

        Returns:
            An iterator of ``(lowercase_key, value)`` pairs.
        """
        return ((lower, pair[1]) for lower, pair in self._store.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        theirs = other if isinstance(other, CaseInsensitiveDict) else None
        if theirs is None:
            theirs = CaseInsensitiveDict(other)
        return dict(self.lower_items()) == dict(theirs.lower_items())

    # NOTE(gyrfalcon): mutable, so unhashable (like dict).
    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> CaseInsensitiveDict:
        """Return a shallow copy that keeps each key's case.

        Returns:
            A new ``CaseInsensitiveDict`` with the same items.
        """
        return CaseInsensitiveDict(self._store.values())

    def __repr__(self) -> str:
        return f'{type(self).__name__}({dict(self.items())!r})'


class Context:
    """A bag of attributes that also reads and writes like a ``dict``.

    It is the default type of ``req.context`` and ``resp.context``. Set
    attributes on it (``req.context.user = user``); the mapping interface
    (``req.context['user']``, ``'user' in req.context``, ``get()``...) works
    on the same data, for apps written against Falcon 1's ``dict`` context.
    Prefer attributes: they are faster. Do not shadow the mapping methods
    (``items``, ``get``...) with attributes of the same name.
    """

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

        def __delattr__(self, name: str) -> None: ...

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__[key] = value

    def __delitem__(self, key: str) -> None:
        del self.__dict__[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self.__dict__ == other.__dict__
        return self.__dict__ == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    # NOTE(gyrfalcon): mutable, so unhashable (like dict).
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.__dict__!r})'

    def __str__(self) -> str:
        return f'{type(self).__name__}({self.__dict__!s})'

    def clear(self) -> None:
        """Remove every attribute."""
        self.__dict__.clear()

    def copy(self) -> Context:
        """Return a shallow copy of the same type.

        Returns:
            A new context holding the same attributes.
        """
        duplicate = type(self)()
        duplicate.update(self.__dict__)
        return duplicate

    def get(self, key: str, default: Any | None = None) -> Any | None:
        """Return an attribute's value, or `default` when it is not set.

        Args:
            key: The attribute name.
            default: The value to return when the attribute is missing.

        Returns:
            The attribute's value or `default`.
        """
        return self.__dict__.get(key, default)

    def items(self) -> ItemsView[str, Any]:
        """Return a view of the ``(name, value)`` pairs."""
        return self.__dict__.items()

    def keys(self) -> KeysView[str]:
        """Return a view of the attribute names."""
        return self.__dict__.keys()

    def values(self) -> ValuesView[Any]:
        """Return a view of the attribute values."""
        return self.__dict__.values()

    def pop(self, key: str, default: Any | None = None) -> Any | None:
        """Remove an attribute and return its value (or `default`).

        Args:
            key: The attribute name.
            default: The value to return when the attribute is missing.

        Returns:
            The removed value or `default`.
        """
        return self.__dict__.pop(key, default)

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the most recently set ``(name, value)`` pair.

        Returns:
            The removed pair.

        Raises:
            KeyError: The context is empty.
        """
        return self.__dict__.popitem()

    def setdefault(self, key: str, default_value: Any | None = None) -> Any | None:
        """Return an attribute's value, setting it to a default when missing.

        Args:
            key: The attribute name.
            default_value: The value to set when the attribute is missing.

        Returns:
            The attribute's (possibly new) value.
        """
        return self.__dict__.setdefault(key, default_value)

    def update(self, items: Mapping[str, Any]) -> None:
        """Set several attributes at once.

        Args:
            items: A mapping of attribute names to values.
        """
        self.__dict__.update(items)


class ETag(str):
    """A parsed HTTP entity-tag (RFC 9110 §8.8.3).

    The string value is the opaque tag, without the quotes and without the
    ``W/`` weakness prefix; ``is_weak`` says whether the prefix was there.
    Because it is a ``str``, ``==`` performs the weak comparison; use
    ``strong_compare()`` for the strong one. For example::

        for etag in req.if_none_match or ():
            if etag == '*' or etag == current_etag:
                resp.status = falcon.HTTP_304
                return
    """

    is_weak: bool = False
    """``True`` for a weak entity-tag (one written with ``W/``)."""

    def strong_compare(self, other: ETag) -> bool:
        """Compare with another entity-tag using the strong comparison.

        Two tags match strongly when neither is weak and their opaque tags
        are identical (RFC 9110 §8.8.3.2).

        Args:
            other: The entity-tag to compare with.

        Returns:
            ``True`` when the tags match strongly.
        """
        return self == other and not (self.is_weak or other.is_weak)

    def dumps(self) -> str:
        """Serialize the tag for a header such as ``ETag`` or ``If-Match``.

        Returns:
            The quoted tag, with the ``W/`` prefix when it is weak.
        """
        if self.is_weak:
            return f'W/"{self}"'
        return f'"{self}"'

    @classmethod
    def loads(cls, etag_str: str) -> ETag:
        """Parse a single entity-tag (not a comma-separated list).

        Args:
            etag_str: An entity-tag such as ``'"abc"'`` or ``'W/"abc"'``.

        Returns:
            The parsed tag.
        """
        weak = etag_str[:2] in ('W/', 'w/')
        value = etag_str[2:] if weak else etag_str
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        # NOTE(gyrfalcon): Falcon strips a lone '"' too ('"'[:1] == '"'[-1:]).
        elif value == '"':
            value = ''
        tag = cls(value)
        tag.is_weak = weak
        return tag
