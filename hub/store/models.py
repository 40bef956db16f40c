"""Every domain's models, imported in one place so that metadata and Alembic see them all."""

from hub.audit.models import AuditEntry
from hub.clients.models import Client, InstanceSecret
from hub.connections.models import Connection, ConnectionStateEntry
from hub.deadletters.models import DeadLetter
from hub.deliveries.models import Delivery, DeliveryAttempt
from hub.inbound.models import InboundReceipt
from hub.jobs.models import Job
from hub.messages.models import Message
from hub.routes.models import Route
from hub.store.base import Base
from hub.usage.models import ContractUsage

__all__ = [
    "AuditEntry",
    "Base",
    "Client",
    "Connection",
    "ConnectionStateEntry",
    "ContractUsage",
    "DeadLetter",
    "Delivery",
    "DeliveryAttempt",
    "InboundReceipt",
    "InstanceSecret",
    "Job",
    "Message",
    "Route",
]
