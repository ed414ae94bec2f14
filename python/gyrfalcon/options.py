"""Per-app options of the request and response objects.

``app.req_options`` is a ``RequestOptions`` and ``app.resp_options`` a
``ResponseOptions``; the app passes them to every ``Request`` and
``Response`` it creates, so changing an option affects later requests.
"""

from __future__ import annotations

import mimetypes
import warnings

from .constants import _DEFAULT_STATIC_MEDIA_TYPES, DEFAULT_MEDIA_TYPE
from .media.handlers import Handlers
from .util.deprecation import DeprecatedWarning

__all__ = ('RequestOptions', 'ResponseOptions')


class RequestOptions:
    """Options that tune how requests are parsed.

    Attributes:
        keep_blank_qs_values: Keep query parameters without a value
            (``?flag`` or ``?a=``) as empty strings (default ``True``).
        auto_parse_qs_csv: Split query parameter values on commas, so that
            ``?t=1,2`` gives ``['1', '2']`` (default ``False``). An encoded
            comma (``%2C``) never splits.
        strip_url_path_trailing_slash: Remove a trailing ``/`` from the
            path before routing, so ``/things/`` routes as ``/things``
            (default ``False``).
        default_media_type: The media type assumed when a request has no
            ``Content-Type`` (default ``'application/json'``).
        media_handlers: The handlers ``req.get_media()`` chooses from, by
            ``Content-Type`` (default: JSON, multipart and URL-encoded forms).
    """

    __slots__ = (
        '_auto_parse_form_urlencoded',
        'auto_parse_qs_csv',
        'default_media_type',
        'keep_blank_qs_values',
        'media_handlers',
        'strip_url_path_trailing_slash',
    )

    keep_blank_qs_values: bool
    auto_parse_qs_csv: bool
    strip_url_path_trailing_slash: bool
    default_media_type: str
    media_handlers: Handlers

    def __init__(self) -> None:
        self.keep_blank_qs_values = True
        self._auto_parse_form_urlencoded = False
        self.auto_parse_qs_csv = False
        self.strip_url_path_trailing_slash = False
        self.default_media_type = DEFAULT_MEDIA_TYPE
        self.media_handlers = Handlers()

    @property
    def auto_parse_form_urlencoded(self) -> bool:
        """Merge URL-encoded form fields into the query params (deprecated).

        This WSGI-era option is not supported by ASGI apps, which refuse to
        start when it is set; use ``await req.get_media()`` to read a form.
        Setting it to ``True`` warns with ``DeprecatedWarning``.
        """
        return self._auto_parse_form_urlencoded

    @auto_parse_form_urlencoded.setter
    def auto_parse_form_urlencoded(self, value: bool) -> None:
        if value:
            warnings.warn(
                'The RequestOptions.auto_parse_form_urlencoded option is '
                'deprecated. Please use Request.get_media() to consume the '
                'submitted URL-encoded form instead.',
                category=DeprecatedWarning,
                stacklevel=2,
            )
        self._auto_parse_form_urlencoded = value


class ResponseOptions:
    """Options that tune how responses are rendered.

    Attributes:
        secure_cookies_by_default: Give cookies the ``Secure`` attribute
            unless ``set_cookie()`` says otherwise (default ``True``). Set it
            to ``False`` for local development over plain HTTP.
        default_media_type: The ``Content-Type`` of responses that set no
            other, and the media type ``resp.media`` is serialized to
            (default ``'application/json'``).
        media_handlers: The handlers that serialize ``resp.media``, by
            ``Content-Type`` (default: JSON, multipart and URL-encoded forms;
            the multipart handler cannot serialize).
        static_media_types: File extensions (``'.html'``) mapped to the
            media types of static files: the ``mimetypes`` table, with a few
            common types fixed.
        xml_error_serialization: Let the default error serializer answer
            with XML when the client prefers it (default ``True``).
    """

    __slots__ = (
        'default_media_type',
        'media_handlers',
        'secure_cookies_by_default',
        'static_media_types',
        'xml_error_serialization',
    )

    secure_cookies_by_default: bool
    default_media_type: str
    media_handlers: Handlers
    static_media_types: dict[str, str]
    xml_error_serialization: bool

    def __init__(self) -> None:
        self.secure_cookies_by_default = True
        self.default_media_type = DEFAULT_MEDIA_TYPE
        self.media_handlers = Handlers()
        self.xml_error_serialization = True
        if not mimetypes.inited:
            mimetypes.init()
        self.static_media_types = dict(mimetypes.types_map)
        self.static_media_types.update(_DEFAULT_STATIC_MEDIA_TYPES)
