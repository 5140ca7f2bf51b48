"""Every table module, imported once so `Base.metadata` is complete (for create_all and
Alembic)."""

from parley.storage import access_models as access_models
from parley.storage import analysis_models as analysis_models
from parley.storage import consultation_models as consultation_models
from parley.storage import glossary_models as glossary_models
from parley.storage import lease_models as lease_models
from parley.storage import media_node_models as media_node_models
from parley.storage import meeting_models as meeting_models
from parley.storage import models as models
from parley.storage.models import Base as Base

__all__ = ["Base", "consultation_models", "models"]
