"""Thin aiogram routers: turn updates into calls of the bot services and render the results.

:mod:`handlers.dispatcher` builds the dispatcher from the routers of :mod:`handlers.citizen`
and :mod:`handlers.operator`.
"""
