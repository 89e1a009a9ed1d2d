"""Files attached to the email that announces a document (an invoice, say).

The document belongs to an app above sessions (billing), which sessions cannot import. The
outbox row names the file instead (`document_issued_remind(attachment="invoice:41")`), and the
message is composed when it is sent, outside the transaction that issued the document: the
owning app registers a *file source* for the name's prefix at app ready
(`billing.apps.BillingConfig.ready`), and composing asks `attachment_for("invoice:41")`.
A file is made at every send, never stored: the document never changes once issued.
"""

from __future__ import annotations

from collections.abc import Callable

from sessions.reminders.channels import Attachment

# Given the part of the name after the prefix: the file, or None when it is gone.
FileSource = Callable[[str], Attachment | None]

_sources: dict[str, FileSource] = {}


def attachment_source_register(prefix: str, source: FileSource) -> None:
    _sources[prefix] = source


def attachment_for(name: str) -> Attachment | None:
    """The file `name` ("<prefix>:<key>") stands for, or None without a source for it."""
    prefix, _colon, key = name.partition(":")
    source = _sources.get(prefix)
    return source(key) if source is not None else None
