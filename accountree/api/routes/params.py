"""Query parameters shared by list endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PageSize = Annotated[int, Query(ge=1, le=500, description="Rows per page (at most 500).")]
Text = Annotated[str | None, Query(max_length=200)]
