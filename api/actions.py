"""Endpoints being written for issue [3/9]."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
