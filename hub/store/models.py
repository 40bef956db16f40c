"""Every domain's models, imported in one place so that metadata and Alembic see them all."""

from hub.clients.models import Client, InstanceSecret
from hub.messages.models import Message
from hub.store.base import Base

__all__ = ["Base", "Client", "InstanceSecret", "Message"]
