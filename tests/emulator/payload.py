"""Read a Bot API request body: query string, form-encoded, multipart or JSON."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.emulator.spec import UploadedFile


async def read_payload(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Raw parameters (form values still strings) and the file parts of ``request``."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(key, value.filename, value.content_type,
                                      value.file.read())
        else:
            params[key] = value
    return params, files
