"""Query parameter access for ``Request``: ``get_param()`` and its typed kin.

Every getter follows the same rules, as in Falcon. A parameter that is
absent gives `default` (``None`` unless given), or raises
``HTTPMissingParam`` when `required` is set. A parameter given several times
(``?a=1&a=2``) gives its last value, or raises ``HTTPInvalidParam`` when
`allow_multiple` is ``False``. A value that does not convert raises
``HTTPInvalidParam``, which the app turns into a 400 response. With `store`,
the converted value is also saved under the parameter's name in that
mapping (``store=req.context`` is a common choice).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import date, datetime
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload
from uuid import UUID

from ..constants import FALSE_STRINGS, MEDIA_JSON, TRUE_STRINGS
from ..errors import HTTPBadRequest, HTTPInvalidParam, HTTPMissingParam
from ..media.json import _DEFAULT_JSON_HANDLER

if TYPE_CHECKING:
    from ..media.base import BaseHandler
    from ..options import RequestOptions

__all__ = ()

_T = TypeVar('_T')
_N = TypeVar('_N', int, float)

StoreArg = MutableMapping[str, Any] | None

# The delimiters get_param_as_list() accepts (the OpenAPI style names too).
_LIST_DELIMITERS = {
    ',': ',',
    '|': '|',
    ' ': ' ',
    'pipeDelimited': '|',
    'spaceDelimited': ' ',
}

_MULTIPLE_VALUES = 'It may not have more than one value.'


def _save(store: StoreArg, name: str, value: Any) -> None:
    if store is not None:
        store[name] = value


class _RequestParams:
    """The parameter getters of ``Request`` (a mixin)."""

    __slots__ = ()

    _params: dict[str, str | list[str]]
    options: RequestOptions

    @property
    def params(self) -> dict[str, str | list[str]]:
        """The query parameters: names mapped to a value or a list of values.

        This is the parsed query string (see ``RequestOptions`` for how blank
        values and comma-separated lists are treated).
        """
        return self._params

    def has_param(self, name: str) -> bool:
        """Tell whether the query string has a parameter of the given name.

        Args:
            name: The parameter's name (case-sensitive).

        Returns:
            ``True`` when the parameter is present, even with a blank value.
        """
        return name in self._params

    def _param_value(
        self, name: str, required: bool, allow_multiple: bool
    ) -> str | None:
        """Return a parameter's last value, or ``None`` when it is absent."""
        try:
            value = self._params[name]
        except KeyError:
            if required:
                raise HTTPMissingParam(name) from None
            return None
        if isinstance(value, list):
            if not allow_multiple:
                raise HTTPInvalidParam(_MULTIPLE_VALUES, name)
            return value[-1]
        return value

    @overload
    def get_param(
        self,
        name: str,
        required: Literal[True],
        store: StoreArg = ...,
        default: str | None = ...,
        allow_multiple: bool = ...,
    ) -> str: ...

    @overload
    def get_param(
        self,
        name: str,
        required: bool = ...,
        store: StoreArg = ...,
        *,
        default: str,
        allow_multiple: bool = ...,
    ) -> str: ...

    @overload
    def get_param(
        self,
        name: str,
        required: bool = ...,
        store: StoreArg = ...,
        default: str | None = ...,
        allow_multiple: bool = ...,
    ) -> str | None: ...

    def get_param(
        self,
        name: str,
        required: bool = False,
        store: StoreArg = None,
        default: str | None = None,
        allow_multiple: bool = True,
    ) -> str | None:
        """Return a query parameter's value, as a string.

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when the parameter is absent
                (default ``False``).
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                return its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The parameter occurs more than once and
                `allow_multiple` is ``False``.
        """
        value = self._param_value(name, required, allow_multiple)
        if value is None:
            return default
        _save(store, name, value)
        return value

    def _get_number(
        self,
        name: str,
        kind: Callable[[str], _N],
        message: str,
        required: bool,
        min_value: _N | None,
        max_value: _N | None,
        store: StoreArg,
        default: _N | None,
        allow_multiple: bool,
    ) -> _N | None:
        raw = self._param_value(name, required, allow_multiple)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            raise HTTPInvalidParam(message, name) from None
        if min_value is not None and value < min_value:
            raise HTTPInvalidParam(f'The value must be at least {min_value}', name)
        if max_value is not None and value > max_value:
            raise HTTPInvalidParam(f'The value may not exceed {max_value}', name)
        _save(store, name, value)
        return value

    @overload
    def get_param_as_int(
        self,
        name: str,
        required: Literal[True],
        min_value: int | None = ...,
        max_value: int | None = ...,
        store: StoreArg = ...,
        default: int | None = ...,
        allow_multiple: bool = ...,
    ) -> int: ...

    @overload
    def get_param_as_int(
        self,
        name: str,
        required: bool = ...,
        min_value: int | None = ...,
        max_value: int | None = ...,
        store: StoreArg = ...,
        *,
        default: int,
        allow_multiple: bool = ...,
    ) -> int: ...

    @overload
    def get_param_as_int(
        self,
        name: str,
        required: bool = ...,
        min_value: int | None = ...,
        max_value: int | None = ...,
        store: StoreArg = ...,
        default: int | None = ...,
        allow_multiple: bool = ...,
    ) -> int | None: ...

    def get_param_as_int(
        self,
        name: str,
        required: bool = False,
        min_value: int | None = None,
        max_value: int | None = None,
        store: StoreArg = None,
        default: int | None = None,
        allow_multiple: bool = True,
    ) -> int | None:
        """Return a query parameter's value, as an ``int``.

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when it is absent.
            min_value: The smallest value allowed (inclusive).
            max_value: The largest value allowed (inclusive).
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value is not an integer, is out of range,
                or occurs more than once without `allow_multiple`.
        """
        return self._get_number(
            name,
            int,
            'The value must be an integer.',
            required,
            min_value,
            max_value,
            store,
            default,
            allow_multiple,
        )

    @overload
    def get_param_as_float(
        self,
        name: str,
        required: Literal[True],
        min_value: float | None = ...,
        max_value: float | None = ...,
        store: StoreArg = ...,
        default: float | None = ...,
        allow_multiple: bool = ...,
    ) -> float: ...

    @overload
    def get_param_as_float(
        self,
        name: str,
        required: bool = ...,
        min_value: float | None = ...,
        max_value: float | None = ...,
        store: StoreArg = ...,
        *,
        default: float,
        allow_multiple: bool = ...,
    ) -> float: ...

    @overload
    def get_param_as_float(
        self,
        name: str,
        required: bool = ...,
        min_value: float | None = ...,
        max_value: float | None = ...,
        store: StoreArg = ...,
        default: float | None = ...,
        allow_multiple: bool = ...,
    ) -> float | None: ...

    def get_param_as_float(
        self,
        name: str,
        required: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
        store: StoreArg = None,
        default: float | None = None,
        allow_multiple: bool = True,
    ) -> float | None:
        """Return a query parameter's value, as a ``float``.

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when it is absent.
            min_value: The smallest value allowed (inclusive).
            max_value: The largest value allowed (inclusive).
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value is not a number, is out of range,
                or occurs more than once without `allow_multiple`.
        """
        return self._get_number(
            name,
            float,
            'The value must be a float.',
            required,
            min_value,
            max_value,
            store,
            default,
            allow_multiple,
        )

    def get_param_as_uuid(
        self,
        name: str,
        required: bool = False,
        store: StoreArg = None,
        default: UUID | None = None,
        allow_multiple: bool = True,
    ) -> UUID | None:
        """Return a query parameter's value, as a ``UUID``.

        Any form ``uuid.UUID`` accepts will do (with or without hyphens or
        braces).

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value is not a UUID, or occurs more than
                once without `allow_multiple`.
        """
        raw = self._param_value(name, required, allow_multiple)
        if raw is None:
            return default
        try:
            value = UUID(raw)
        except ValueError:
            raise HTTPInvalidParam('The value must be a UUID string.', name) from None
        _save(store, name, value)
        return value

    def get_param_as_bool(
        self,
        name: str,
        required: bool = False,
        store: StoreArg = None,
        blank_as_true: bool = True,
        default: bool | None = None,
        allow_multiple: bool = True,
    ) -> bool | None:
        """Return a query parameter's value, as a ``bool``.

        ``'true'``, ``'True'``, ``'t'``, ``'yes'``, ``'y'``, ``'1'`` and
        ``'on'`` are true; ``'false'``, ``'False'``, ``'f'``, ``'no'``,
        ``'n'``, ``'0'`` and ``'off'`` are false.

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the value in, under `name`.
            blank_as_true: What a blank value (``?flag=``, kept when
                ``keep_blank_qs_values`` is set) means (default ``True``).
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value is none of the above, or occurs more
                than once without `allow_multiple`.
        """
        raw = self._param_value(name, required, allow_multiple)
        if raw is None:
            return default
        if raw in TRUE_STRINGS:
            value = True
        elif raw in FALSE_STRINGS:
            value = False
        elif not raw:
            value = blank_as_true
        else:
            raise HTTPInvalidParam(
                'The value of the parameter must be "true" or "false".', name
            )
        _save(store, name, value)
        return value

    def get_param_as_list(
        self,
        name: str,
        transform: Callable[[str], Any] | None = None,
        required: bool = False,
        store: StoreArg = None,
        default: list[Any] | None = None,
        delimiter: str | None = None,
    ) -> list[Any] | None:
        """Return a query parameter's values, as a ``list``.

        A parameter given more than once (``?t=1&t=2``), or split on commas
        by ``auto_parse_qs_csv``, gives all its values; a single value gives
        a one-item list, unless `delimiter` splits it.

        Args:
            name: The parameter's name (case-sensitive).
            transform: A function to convert each item (``int``, say); its
                ``ValueError`` becomes ``HTTPInvalidParam``.
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the list in, under `name`.
            default: The value to return when the parameter is absent.
            delimiter: Split a single value on this delimiter: ``','``,
                ``'|'``, ``' '``, or the OpenAPI names ``'pipeDelimited'``
                and ``'spaceDelimited'``.

        Returns:
            The list, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: `transform` rejected an item.
            ValueError: `delimiter` is not supported.
        """
        try:
            raw = self._params[name]
        except KeyError:
            if required:
                raise HTTPMissingParam(name) from None
            return default

        items: list[str]
        if isinstance(raw, list):
            items = raw
        elif delimiter is not None:
            try:
                separator = _LIST_DELIMITERS[delimiter]
            except KeyError:
                raise ValueError(
                    f'Unsupported delimiter value: {delimiter!r}; '
                    f'supported: {tuple(_LIST_DELIMITERS)}'
                ) from None
            items = raw.split(separator)
        else:
            items = [raw]

        result: list[Any] = items
        if transform is not None:
            try:
                result = [transform(item) for item in items]
            except ValueError:
                raise HTTPInvalidParam(
                    'The value is not formatted correctly.', name
                ) from None
        _save(store, name, result)
        return result

    def get_param_as_datetime(
        self,
        name: str,
        format_string: str = '%Y-%m-%dT%H:%M:%S%z',
        required: bool = False,
        store: StoreArg = None,
        default: datetime | None = None,
        allow_multiple: bool = True,
    ) -> datetime | None:
        """Return a query parameter's value, as a ``datetime``.

        Args:
            name: The parameter's name (case-sensitive).
            format_string: The ``strptime()`` format of the value (default
                ``'%Y-%m-%dT%H:%M:%S%z'``, ISO 8601 with an offset).
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value does not match the format.
        """
        raw = self._param_value(name, required, allow_multiple)
        if raw is None:
            return default
        try:
            value = datetime.strptime(raw, format_string)
        except ValueError:
            raise HTTPInvalidParam(
                'The date value does not match the required format.', name
            ) from None
        _save(store, name, value)
        return value

    def get_param_as_date(
        self,
        name: str,
        format_string: str = '%Y-%m-%d',
        required: bool = False,
        store: StoreArg = None,
        default: date | None = None,
        allow_multiple: bool = True,
    ) -> date | None:
        """Return a query parameter's value, as a ``date``.

        Args:
            name: The parameter's name (case-sensitive).
            format_string: The ``strptime()`` format of the value (default
                ``'%Y-%m-%d'``).
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value does not match the format.
        """
        moment = self.get_param_as_datetime(
            name, format_string, required, allow_multiple=allow_multiple
        )
        if moment is None:
            return default
        value = moment.date()
        _save(store, name, value)
        return value

    def get_param_as_json(
        self,
        name: str,
        required: bool = False,
        store: StoreArg = None,
        default: Any | None = None,
        allow_multiple: bool = True,
    ) -> Any:
        """Return a query parameter's value, parsed as JSON.

        The JSON handler registered in ``req_options.media_handlers`` is
        used, or the default one.

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The parsed value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The value is not valid JSON.
        """
        raw = self._param_value(name, required, allow_multiple)
        if raw is None:
            return default
        handler = self.options.media_handlers._resolve(
            MEDIA_JSON, MEDIA_JSON, raise_not_found=False
        )[0]
        return self._parse_param(
            name, raw, MEDIA_JSON, handler or _DEFAULT_JSON_HANDLER, store
        )

    def get_param_as_media(
        self,
        name: str,
        media_type: str | None = None,
        required: bool = False,
        store: StoreArg = None,
        default: Any | None = None,
        allow_multiple: bool = True,
    ) -> Any:
        """Return a query parameter's value, parsed by a media handler.

        Args:
            name: The parameter's name (case-sensitive).
            media_type: The media type to parse it as (default:
                ``req_options.default_media_type``).
            required: Raise ``HTTPMissingParam`` when it is absent.
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: Accept a parameter given more than once, and
                use its last value (default ``True``).

        Returns:
            The parsed value, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The handler could not parse the value.
            ValueError: No handler is registered for `media_type`.
        """
        raw = self._param_value(name, required, allow_multiple)
        if raw is None:
            return default
        media_type = media_type or self.options.default_media_type
        handler = self._handler_for(media_type)
        return self._parse_param(name, raw, media_type, handler, store)

    def _handler_for(self, media_type: str) -> BaseHandler:
        handler = self.options.media_handlers._resolve(
            media_type, self.options.default_media_type, raise_not_found=False
        )[0]
        if handler is None:
            raise ValueError(
                f'No media handler is configured for {media_type!r}. Please '
                'ensure the media type is registered in '
                'RequestOptions.media_handlers.'
            )
        return handler

    def _parse_param(
        self,
        name: str,
        raw: str,
        media_type: str,
        handler: BaseHandler,
        store: StoreArg,
    ) -> Any:
        data = raw.encode()
        try:
            value = handler.deserialize(BytesIO(data), media_type, len(data))
        except HTTPBadRequest:
            raise HTTPInvalidParam(
                f'It could not be deserialized as {media_type!r}.', name
            ) from None
        _save(store, name, value)
        return value

    def get_param_as_dict(
        self,
        name: str,
        required: bool = False,
        deep_object: bool = False,
        delimiter: str | None = None,
        store: StoreArg = None,
        default: dict[str, str] | None = None,
        allow_multiple: bool = True,
    ) -> dict[str, str] | None:
        """Return a query parameter's value, as a ``dict``.

        Two encodings are understood (both from OpenAPI): by default, a list
        of alternating keys and values (``?f=a,1,b,2`` with
        ``auto_parse_qs_csv``, or a `delimiter`); with `deep_object`, one
        parameter per key (``?f[a]=1&f[b]=2``).

        Args:
            name: The parameter's name (case-sensitive).
            required: Raise ``HTTPMissingParam`` when it is absent.
            deep_object: Read the ``name[key]=value`` form.
            delimiter: For the list form, the delimiter to split a single
                value on (see ``get_param_as_list()``).
            store: A mapping to save the value in, under `name`.
            default: The value to return when the parameter is absent.
            allow_multiple: In the `deep_object` form, accept a key given
                more than once, and use its first value (default ``True``).

        Returns:
            The ``dict``, or `default` when the parameter is absent.

        Raises:
            HTTPMissingParam: The parameter is required but absent.
            HTTPInvalidParam: The list has an odd number of items, or a key
                occurs more than once without `allow_multiple`.
        """
        result: dict[str, str] | None
        if deep_object:
            result = self._deep_object(name, allow_multiple)
            if not result:
                if required:
                    raise HTTPMissingParam(name)
                result = default
        else:
            items = self.get_param_as_list(name, required=required, delimiter=delimiter)
            if items is None:
                result = default
            elif len(items) % 2:
                raise HTTPInvalidParam(
                    'The number of list elements must be even.', name
                )
            else:
                result = dict(zip(items[::2], items[1::2], strict=True))
        if result is not None:
            _save(store, name, result)
        return result

    def _deep_object(self, name: str, allow_multiple: bool) -> dict[str, str]:
        prefix = f'{name}['
        found: dict[str, str] = {}
        for key, value in self._params.items():
            if not (key.startswith(prefix) and key.endswith(']')):
                continue
            if isinstance(value, list):
                if not allow_multiple and len(value) > 1:
                    raise HTTPInvalidParam(
                        f'The "{key}" key may not have multiple values.', name
                    )
                value = value[0] if value else ''
            found[key[len(prefix) : -1]] = value
        return found
