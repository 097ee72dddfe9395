"""The ActionsQueue message: a pointer to a request recorded on the case, never the authority itself.

The actions function trusts nothing in it but the ids: what to do and whether it is still allowed
are read from the case at execution time.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from moderato.models import ActionKind

ACTION_SCHEMA = "moderato.action/v1"


class ActionMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(default=ACTION_SCHEMA, alias="schema")
    case_id: str
    action_id: str
    kind: ActionKind
    requested_by: str
    requested_at: datetime

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)
