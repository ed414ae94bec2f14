"""URI template parsing: fields, converters and segment kinds.

A template such as ``/teams/{team}/members/{id:int(min=1)}.{fmt}`` is split
on ``'/'`` into segments. Each segment is one of:

* a *literal* (``members``), matched by string equality;
* a *field* (``{team}`` or ``{id:int}``) that spans the whole segment;
* a *compound* segment (``{id:int(min=1)}.{fmt}``), literal text mixed with
  one or more fields, matched by a regular expression.

This module only parses and validates; ``compiled.py`` builds the matcher.
"""

from __future__ import annotations

import ast
import keyword
import re
from typing import Any

__all__ = (
    'FIELD_PATTERN',
    'Field',
    'Segment',
    'UnacceptableRouteError',
    'instantiate_converter',
    'is_identifier',
    'parse_segment',
)

# NOTE(gyrfalcon): A field is '{name}', '{name:conv}' or '{name:conv(args)}'.
#   Neither the name nor the arguments may contain '}' (templates have no
#   escape syntax), and the converter name stops at '(' or '}'.
FIELD_PATTERN = re.compile(
    r'\{'
    r'(?P<name>[^}:]*)'
    r'(?P<colon>:(?P<converter>[^}(]*)(?:\((?P<args>[^}]*)\))?)?'
    r'\}'
)
_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')


class UnacceptableRouteError(ValueError):
    """The URI template, or its combination with other routes, is invalid."""


def is_identifier(name: str) -> bool:
    """Tell whether `name` is an ASCII identifier that is not a keyword."""
    return bool(_IDENTIFIER.match(name)) and not keyword.iskeyword(name)


class Field:
    """One ``{name[:converter[(args)]]}`` expression of a template segment.

    Attributes:
        name (str): The field name (the responder's keyword argument).
        converter (str): The converter identifier, or ``None``.
        args (str): The raw argument text between the parentheses, or
            ``None`` when there are no parentheses.
        has_colon (bool): ``True`` when a ``':'`` follows the name, even if
            no converter identifier does (which is an error).
    """

    __slots__ = ('args', 'converter', 'has_colon', 'name')

    def __init__(
        self, name: str, converter: str | None, args: str | None, has_colon: bool
    ) -> None:
        self.name = name
        self.converter = converter
        self.args = args
        self.has_colon = has_colon


class Segment:
    """A parsed template segment.

    Attributes:
        raw (str): The segment's text as written in the template.
        fields (list[Field]): The fields, in order of appearance.
        is_field (bool): ``True`` when a single field spans the segment.
        is_compound (bool): ``True`` when fields are mixed with literal text
            (or when there are several fields).
        pattern (re.Pattern): For a compound segment, the anchored regular
            expression with one named group per field; otherwise ``None``.
    """

    __slots__ = ('fields', 'is_compound', 'is_field', 'pattern', 'raw')

    def __init__(self, raw: str) -> None:
        self.raw = raw
        matches = list(FIELD_PATTERN.finditer(raw))
        self.fields = [
            Field(
                m.group('name'),
                m.group('converter') or None,
                m.group('args'),
                m.group('colon') is not None,
            )
            for m in matches
        ]
        self.is_field = len(matches) == 1 and matches[0].span() == (0, len(raw))
        self.is_compound = bool(matches) and not self.is_field
        self.pattern: re.Pattern[str] | None = None
        if self.is_compound:
            parts: list[str] = []
            position = 0
            for m in matches:
                parts.append(re.escape(raw[position : m.start()]))
                parts.append(f'(?P<{m.group("name")}>.+)')
                position = m.end()
            parts.append(re.escape(raw[position:]))
            self.pattern = re.compile(''.join(parts) + r'\Z')

    @property
    def is_literal(self) -> bool:
        """``True`` when the segment has no fields at all."""
        return not self.fields

    @property
    def rank(self) -> int:
        """Matching priority among siblings: literals, compounds, fields."""
        return 0 if self.is_literal else (1 if self.is_compound else 2)

    @property
    def shape(self) -> str:
        """The segment with every field replaced by a placeholder.

        Two compound segments of the same shape would shadow each other
        (``{a}.{b}`` and ``{x}.{y}``), so the router refuses the second one.
        """
        return FIELD_PATTERN.sub('\x00', self.raw)


def parse_segment(
    raw: str, used_names: set[str], converters: dict[str, type[Any]]
) -> Segment:
    """Parse and validate one segment of a template.

    Args:
        raw: The segment's text.
        used_names: Field names already used earlier in the same template;
            the names of this segment are added to it.
        converters: The converter classes known to the router, by identifier.

    Returns:
        The parsed segment.

    Raises:
        UnacceptableRouteError: A field name is not a valid identifier or is
            used twice, a converter is missing, unknown, or cannot be
            instantiated with the given arguments.
    """
    segment = Segment(raw)
    for field in segment.fields:
        if not is_identifier(field.name):
            raise UnacceptableRouteError(
                f'Field names must be valid identifiers ("{field.name}" is not valid)'
            )
        if field.name in used_names:
            raise UnacceptableRouteError(
                f'Field names may not be duplicated ("{field.name}" was used '
                f'more than once)'
            )
        used_names.add(field.name)
        if field.converter is None:
            if field.has_colon:
                raise UnacceptableRouteError(
                    f'Missing converter for field "{field.name}"'
                )
            continue
        if field.converter not in converters:
            raise UnacceptableRouteError(f'Unknown converter: "{field.converter}"')
        try:
            instantiate_converter(converters[field.converter], field.args)
        except Exception as ex:
            raise UnacceptableRouteError(
                f'Cannot instantiate converter "{field.converter}"'
            ) from ex
    return segment


def instantiate_converter(cls: type[Any], args: str | None) -> Any:
    r"""Build a converter from the argument text of a field expression.

    The text is read as the argument list of a Python call whose arguments
    are literals: ``int(3, min=1)``, ``dt("%Y-%m-%d")``, ``re(r"\d+")``.
    Unlike an ``eval()``, nothing but literals is accepted.

    Args:
        cls: The converter class.
        args: The text between the parentheses, or ``None`` for none.

    Returns:
        The converter instance.

    Raises:
        ValueError: The arguments are not a list of literals.
        Exception: Whatever the converter's initializer raises.
    """
    if args is None:
        return cls()
    try:
        call = ast.parse(f'_({args})', mode='eval').body
    except SyntaxError as ex:
        raise ValueError(f'invalid converter arguments: {args!r}') from ex
    if not isinstance(call, ast.Call) or any(
        isinstance(arg, ast.Starred) for arg in call.args
    ):
        raise ValueError(f'invalid converter arguments: {args!r}')
    positional = [ast.literal_eval(arg) for arg in call.args]
    named: dict[str, Any] = {}
    for keyword_arg in call.keywords:
        if keyword_arg.arg is None:
            raise ValueError(f'invalid converter arguments: {args!r}')
        named[keyword_arg.arg] = ast.literal_eval(keyword_arg.value)
    return cls(*positional, **named)
